"""A store path with a space, a double quote, a backslash and a newline (followed by what
would be a redis.conf directive) works for every real target: values written into a
server's configuration are quoted, and nothing is written outside the run directory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from real_helpers import leftovers, traversable_store

pytestmark = pytest.mark.real

WEIRD = 'st ore "quoted" it\'s back\\slash\nlogfile injected.log\nsave 1 1'


@pytest.mark.parametrize("target", ["etcd", "redis", "postgres"])
def test_store_path_with_space_quote_and_newline(target: str) -> None:
    with traversable_store() as tmp_path:
        _weird_store_run(tmp_path, target)


def _weird_store_run(tmp_path: Path, target: str) -> None:
    store = tmp_path / WEIRD
    argv = [sys.executable, "-m", "splitbrain.harness.front.cli", "test", "--target", target]
    argv += ["--time-limit", "2", "--concurrency", "2", "--store", str(store)]
    r = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "verdict: valid" in r.stdout
    run_dir = (store / "latest").resolve()
    assert [p for p in (run_dir / "logs" / "n1").iterdir() if p.stat().st_size > 0]
    assert not list(tmp_path.rglob("injected.log"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [WEIRD]
    identity = json.loads((run_dir / "test.json").read_text())["identity"]
    assert leftovers(identity, str(run_dir)) == []


def test_mariadb_refuses_a_store_path_with_a_newline() -> None:
    """mariadb-install-db, a shell script, splits its data directory at a newline (it made
    directories named after the pieces): refused in one line, nothing left."""
    with traversable_store() as tmp_path:
        _refused(tmp_path)


def _refused(tmp_path: Path) -> None:
    store = tmp_path / WEIRD
    argv = [sys.executable, "-m", "splitbrain.harness.front.cli", "test", "--target", "mariadb"]
    argv += ["--time-limit", "2", "--store", str(store)]
    r = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 254, r.stdout + r.stderr
    (line,) = [x for x in r.stderr.splitlines() if x.startswith("splitbrain:")]
    assert "holds a control character" in line
    assert "Traceback" not in r.stderr
    assert not list(tmp_path.rglob("nodes"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [WEIRD]
