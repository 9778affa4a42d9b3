"""The live status line on a terminal, the periodic line without one, and splitbrain.log."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

from conftest import REPO, run_cli, stderr_on_a_terminal
from splitbrain.harness.engine import core
from splitbrain.harness.front import progress

ARGS = [
    "test",
    "--time-limit",
    "6",
    "--rate",
    "100",
    "--nemesis",
    "kill",
    "--nemesis-interval",
    "2",
]


def test_without_a_terminal_a_line_every_few_seconds_and_the_log_records_the_run(
    tmp_path: Path,
) -> None:
    r = run_cli(*ARGS, "--store", str(tmp_path))
    assert r.returncode == 0, r.stderr
    lines = [line for line in r.stderr.splitlines() if line.startswith("splitbrain: ")]
    assert any(
        re.match(r"splitbrain: \d+/6 s  ok \d+  fail \d+  info \d+  \d+ ops/s  fault: ", line)
        for line in lines
    ), r.stderr
    assert "\r" not in r.stderr
    log = (tmp_path / "latest" / "splitbrain.log").read_text()
    assert re.search(r"fault kill: info \[\"n1\"\]", log), log
    assert re.search(r"fault start: info \[\"n1\"\]", log), log
    assert "checking: linearizable (" in log and "verdict: True" in log
    assert "checking: linearizable 8/8 keys (" in log, log


def test_the_checking_line_says_how_many_keys_are_decided(tmp_path: Path) -> None:
    """The engine's per-key callback reaches the status line through the log."""
    watch = progress.Progress(10, io.StringIO(), live=False)
    watch.start(tmp_path)
    with core._run_log(tmp_path):
        report = core._key_progress("linearizable", 2084)
        report(1, 8)
        assert watch.line().startswith("checking: linearizable 1/8 keys (2084 ops) ("), watch.line()
        report(3, 8)  # within a second of the last: not logged again
        assert watch.line().startswith("checking: linearizable 1/8 keys"), watch.line()
        report(8, 8)  # the last key always is
        assert watch.line().startswith("checking: linearizable 8/8 keys"), watch.line()
    watch.stop()


def test_on_a_terminal_the_status_line_is_redrawn_in_place(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "splitbrain.harness.front.cli", *ARGS, "--store", str(tmp_path)]
    code, text = stderr_on_a_terminal(argv, REPO)
    assert code == 0
    redraws = re.findall(r"\r\d+/6 s  ok \d+  fail \d+  info \d+  \d+ ops/s  fault: [^\r]*", text)
    assert len(redraws) >= 5, text
    assert any("fault: kill" in line for line in redraws), text
