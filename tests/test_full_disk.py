"""A store on a small, real tmpfs that fills up: one line "no space left on STORE", the run
still tears down, checks the history it holds in memory and prints the verdict, saves what
fits, and exits 255."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from real_helpers import traversable_store

from conftest import run_cli

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")


@pytest.fixture
def small_store(tmp_path: Path) -> Iterator[Path]:
    store = tmp_path / "store"
    store.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(store)], check=True)
    try:
        yield store
    finally:
        subprocess.run(["umount", "-l", str(store)], check=True)


def _problem_lines(stderr: str) -> list[str]:
    """stderr without the run directory and the progress lines of a long check."""
    return [
        x
        for x in stderr.splitlines()
        if x.strip() and not x.startswith(("run directory:", "splitbrain: checking: "))
    ]


def test_store_filling_up_mid_run(small_store: Path) -> None:
    r = run_cli("test", "--time-limit", "3", "--store", str(small_store), "--rate", "20000")
    assert r.returncode == 255, r.stdout + r.stderr
    lines = _problem_lines(r.stderr)
    assert len(lines) == 1, lines
    (line,) = lines
    assert line.startswith(f"splitbrain: no space left on {small_store}: history.jsonl holds ")
    assert "verdict: valid" in r.stdout
    held, total = (int(w) for w in line.split("holds ")[1].split(" ops")[0].split(" of "))
    assert 0 < held < total
    saved = (small_store / "latest" / "history.jsonl").read_text().splitlines()
    assert len(saved) >= held
    assert all(json.loads(x)["type"] for x in saved[:held])


def test_store_full_before_the_run(small_store: Path) -> None:
    fd = os.open(small_store / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    r = run_cli("test", "--time-limit", "1", "--store", str(small_store))
    assert r.returncode == 255, r.stdout + r.stderr
    assert _problem_lines(r.stderr) == [f"splitbrain: no space left on {small_store}"]


def test_gate_claim_on_a_store_filling_up_is_an_error(small_store: Path, tmp_path: Path) -> None:
    claims = tmp_path / "claims.yaml"
    claims.write_text(
        "defaults: {target: memory, workload: register, time_limit: 3, rate: 20000}\n"
        "claims:\n  - name: fills-the-store\n    expect: holds\n"
    )
    r = run_cli("gate", str(claims), "--store", str(small_store))
    assert r.returncode == 255, r.stdout + r.stderr
    assert f"no space left on {small_store}: history.jsonl holds " in r.stdout
    assert "Traceback" not in r.stdout + r.stderr


def test_pytest_fixture_on_a_store_filling_up_fails(small_store: Path, tmp_path: Path) -> None:
    (tmp_path / "test_fills.py").write_text(
        "def test_fills(splitbrain):\n"
        "    splitbrain.run(target='memory', workload='register', time_limit=3, rate=20000)\n"
    )
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "test_fills.py"),
         f"--splitbrain-store={small_store}"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"splitbrain: no space left on {small_store}: history.jsonl holds " in r.stdout


@pytest.mark.real
def test_maelstrom_run_on_a_store_filling_up(small_store: Path) -> None:
    """The router's message journal fills the store first: the journal ends there, routing
    goes on (it used to crash the router with a traceback, then the run with a second one
    reading back an empty net-stats.json), the verdict is printed, one line, 255."""
    node = str(Path(__file__).parent / "maelstrom_nodes" / "broadcast.py")
    r = run_cli(
        "maelstrom", "test", "-w", "broadcast", "--bin", node, "--node-count", "5",
        "--time-limit", "3", "--rate", "200", "--recovery-time", "0", "--store", str(small_store),
    )  # fmt: skip
    assert r.returncode == 255, r.stdout + r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    assert "verdict: valid" in r.stdout
    (line,) = _problem_lines(r.stderr)
    assert line.startswith(f"splitbrain: no space left on {small_store}: history.jsonl holds ")
    log = (small_store / "latest" / "splitbrain.log").read_text()
    assert "the router process ended" not in log


@pytest.mark.real
@pytest.mark.parametrize("target", ["postgres", "mariadb"])
def test_database_on_a_full_store_names_the_reason(target: str) -> None:
    """initdb and mariadb-install-db fail on a full disk with a last line that does not say
    why; the one line names the line that does."""
    with traversable_store() as base:
        store = base / "store"
        store.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=755", "tmpfs", str(store)])
        try:
            r = run_cli("test", "--target", target, "--time-limit", "1", "--store", str(store))
            assert r.returncode == 255, r.stdout + r.stderr
            (line,) = _problem_lines(r.stderr)
            assert "no space left on device" in line.lower() or "out of disk space" in line
            assert not list(store.rglob("nodes"))
        finally:
            subprocess.run(["umount", "-l", str(store)], check=True)
