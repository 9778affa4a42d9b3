"""``pip install splitbrain`` without extras: the memory and sim targets run and
``splitbrain check`` checks, with none of the server drivers importable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DRIVERS = ("redis", "requests", "paramiko", "networkx")

BLOCK = f"""
import importlib.abc, sys
class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {DRIVERS!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Absent())
from splitbrain.harness.front.cli import main
rc = main(sys.argv[1:])
assert not set(sys.modules) & set({DRIVERS!r}), sorted(set(sys.modules) & set({DRIVERS!r}))
sys.exit(rc)
"""


def run_without_drivers(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCK, *argv], capture_output=True, text=True, timeout=120
    )


def test_test_and_check_need_no_server_driver(tmp_path: Path) -> None:
    store = tmp_path / "store"
    ran = run_without_drivers("test", "--time-limit", "0.5", "--seed", "1", "--store", str(store))
    assert ran.returncode == 0, ran.stderr
    history = store / "latest" / "history.jsonl"
    checked = run_without_drivers("check", "--model", "cas-register", str(history))
    assert checked.returncode == 0, checked.stderr + checked.stdout
    sim = run_without_drivers(
        "test", "--target", "sim", "--time-limit", "2", "--seed", "1", "--store", str(store)
    )
    assert sim.returncode == 0, sim.stderr


def test_a_driver_target_says_what_is_missing(tmp_path: Path) -> None:
    ran = run_without_drivers("test", "--target", "redis", "--store", str(tmp_path))
    assert ran.returncode == 254, ran.stderr
    (line,) = ran.stderr.strip().splitlines()
    assert "'redis'" in line and "needs the redis package: pip install 'splitbrain[redis]'" in line
