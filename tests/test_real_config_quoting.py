"""A store path with a space, a double quote, a backslash and a newline (followed by what
would be a redis.conf directive) works for every real target: values written into a
server's configuration are quoted, and nothing is written outside the run directory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from real_helpers import leftovers

pytestmark = pytest.mark.real

WEIRD = 'st ore "quoted" back\\slash\nlogfile injected.log\nsave 1 1'


@pytest.mark.parametrize("target", ["etcd", "redis"])
def test_store_path_with_space_quote_and_newline(tmp_path: Path, target: str) -> None:
    store = tmp_path / WEIRD
    argv = [sys.executable, "-m", "splitbrain.harness.front.cli", "test", "--target", target]
    argv += ["--time-limit", "2", "--concurrency", "2", "--store", str(store)]
    r = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "verdict: valid" in r.stdout
    run_dir = (store / "latest").resolve()
    assert (run_dir / "logs" / "n1" / f"{target}.log").stat().st_size > 0
    assert not list(tmp_path.rglob("injected.log"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [WEIRD]
    identity = json.loads((run_dir / "test.json").read_text())["identity"]
    assert leftovers(identity, str(run_dir)) == []
