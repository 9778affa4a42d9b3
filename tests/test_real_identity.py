"""Run identities are unique on the machine whatever the seed and the clock: two etcd runs
with the same seed and a forced same-millisecond stamp both succeed and leave nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from real_helpers import leftovers

from conftest import REPO
from splitbrain.harness.control import identity
from splitbrain.harness.control.journal import JOURNAL_DIR_ENV
from splitbrain.harness.control.netns import run_tag

FIXED_CLOCK = """
import datetime, sys
from splitbrain.harness.base import store
from splitbrain.harness.front.cli import main

class Frozen(datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return cls(2026, 1, 2, 3, 4, 5, 678000)

store.datetime = Frozen
sys.exit(main(sys.argv[1:]))
"""


def test_a_claimed_tag_is_skipped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(JOURNAL_DIR_ENV, str(tmp_path))
    draws = iter(["00000001", "00000001", "00000002"])
    monkeypatch.setattr(identity.secrets, "token_hex", lambda n: next(draws))
    first = identity.claim("7-20260102T030405.678")
    second = identity.claim("7-20260102T030405.678")
    assert first.run_id.endswith("-00000001") and second.run_id.endswith("-00000002")
    assert first.tag != second.tag
    first.release()
    second.release()
    assert list((tmp_path / "ids").iterdir()) == []


def test_a_tag_with_a_leftover_journal_is_skipped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(JOURNAL_DIR_ENV, str(tmp_path))
    (tmp_path / f"{run_tag('7-x-00000001')}.journal").write_text("")
    draws = iter(["00000001", "00000002"])
    monkeypatch.setattr(identity.secrets, "token_hex", lambda n: next(draws))
    claimed = identity.claim("7-x")
    assert claimed.run_id == "7-x-00000002"
    claimed.release()


@pytest.mark.real
def test_same_seed_same_millisecond_runs_both_succeed_and_clean_up(tmp_path: Path) -> None:
    env = os.environ | {JOURNAL_DIR_ENV: str(tmp_path / "journals")}
    procs = []
    for store in ("a", "b"):
        argv = [sys.executable, "-c", FIXED_CLOCK, "test", "--target", "etcd", "--seed", "7"]
        argv += ["--time-limit", "3", "--concurrency", "2", "--store", str(tmp_path / store)]
        procs.append(
            subprocess.Popen(
                argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        )
    outputs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, out.decode() + err.decode()
    run_dirs = [(tmp_path / s / "latest").resolve() for s in ("a", "b")]
    assert run_dirs[0].name == run_dirs[1].name == "20260102T030405.678"
    ids = [json.loads((d / "test.json").read_text())["identity"] for d in run_dirs]
    assert ids[0] != ids[1] and run_tag(ids[0]) != run_tag(ids[1])
    for run_dir, run_id in zip(run_dirs, ids, strict=True):
        assert leftovers(run_id, str(run_dir)) == []
        assert not (run_dir / "nodes").exists()
    assert list((tmp_path / "journals").glob("*.journal")) == []
