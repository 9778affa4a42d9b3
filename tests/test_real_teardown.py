"""A teardown that cannot remove what the run made exits 255 and says what is left; the
journal stays, and `splitbrain cleanup` removes the rest once the obstacle is gone.

The obstacle is real: an immutable file (chattr +i) inside a node's data directory, which
even root cannot delete."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, eventually
from splitbrain.harness.control.journal import JOURNAL_DIR_ENV

pytestmark = pytest.mark.real


def _chattr(flag: str, path: Path) -> bool:
    return subprocess.run(["chattr", flag, str(path)], capture_output=True).returncode == 0


def test_failed_teardown_exits_255_naming_what_is_left(tmp_path: Path) -> None:
    store, journals = tmp_path / "store", tmp_path / "journals"
    env = os.environ | {JOURNAL_DIR_ENV: str(journals)}
    argv = [sys.executable, "-m", "splitbrain.harness.front.cli", "test", "--target", "etcd"]
    argv += ["--time-limit", "4", "--concurrency", "2", "--store", str(store)]
    proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stuck = None
    try:
        assert eventually(lambda: (store / "latest" / "nodes" / "n1" / "data").is_dir(), 60)
        stuck = (store / "latest").resolve() / "nodes" / "n1" / "stuck"
        stuck.write_text("cannot be removed\n")
        if not _chattr("+i", stuck):
            pytest.skip("this file system has no immutable flag")
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stdout, stderr = out.decode(), err.decode()
    nodes = stuck.parent.parent
    try:
        assert proc.returncode == 255, stdout + stderr
        assert "verdict: valid" in stdout
        (line,) = [x for x in stderr.splitlines() if x.startswith("splitbrain: teardown:")]
        assert f"left behind: directory {nodes}" in line and "kept for `splitbrain cleanup`" in line
        assert "Traceback" not in stderr
        assert len(list(journals.glob("*.journal"))) == 1
    finally:
        _chattr("-i", stuck)
    cleaned = subprocess.run(
        [sys.executable, "-m", "splitbrain.harness.front.cli", "cleanup"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert cleaned.returncode == 0, cleaned.stderr
    assert not nodes.exists()
    assert (nodes.parent / "logs" / "n1" / "etcd.log").exists()
    assert list(journals.glob("*.journal")) == []
