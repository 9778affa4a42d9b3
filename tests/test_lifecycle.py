"""One object owns a run's lifecycle: the run's log goes to the ``splitbrain`` logger only
and is unhooked after errors too; the target is torn down; the history is closed to
appends and handed to the checkers as an immutable snapshot."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from splitbrain.harness.base.history import NEMESIS, HistoryClosed, HistoryWriter, Op
from splitbrain.harness.base.protocols import HarnessInputError, RunContext
from splitbrain.harness.engine import core
from splitbrain.targets.memory import MemoryTarget


class RefusesMidRun(MemoryTarget):
    """Sets up, then refuses its own option once the run is under way."""

    name = "refuses"
    torn_down = 0

    def setup(self, ctx: RunContext) -> None:
        super().setup(ctx)
        ctx.log.info("set up; refusing now")
        raise HarnessInputError("-o colour=red: not a colour this target knows")

    def teardown(self) -> None:
        RefusesMidRun.torn_down += 1
        super().teardown()


def _handlers() -> tuple[list[logging.Handler], list[logging.Handler], int, int]:
    root, ours = logging.getLogger(), logging.getLogger("splitbrain")
    return list(root.handlers), list(ours.handlers), root.level, ours.level


def test_a_run_leaves_the_loggers_as_it_found_them(tmp_path: Path) -> None:
    before = _handlers()
    result = core.run(core.TestSpec(time_limit=0.3, seed=1, store=str(tmp_path)))
    assert _handlers() == before
    log = (result.run_dir / "splitbrain.log").read_text()
    assert "main phase" in log and "splitbrain" in log


def test_input_refused_mid_run_tears_down_and_unhooks_the_log(tmp_path: Path) -> None:
    RefusesMidRun.torn_down = 0
    before = _handlers()
    with pytest.raises(HarnessInputError, match="colour=red"):
        core.run(core.TestSpec(target=RefusesMidRun(), time_limit=0.3, seed=1, store=str(tmp_path)))
    assert _handlers() == before
    assert RefusesMidRun.torn_down == 1
    (log,) = tmp_path.glob("*/*/splitbrain.log")
    assert "set up; refusing now" in log.read_text()


def test_checkers_get_a_snapshot_and_the_closed_history_takes_no_more(tmp_path: Path) -> None:
    result = core.run(core.TestSpec(time_limit=0.3, seed=2, store=str(tmp_path)))
    assert isinstance(result.history, tuple) and result.history
    writer = HistoryWriter(tmp_path / "h.jsonl")
    writer.append(Op(type="invoke", f="start", process=NEMESIS))
    snapshot = writer.snapshot()
    writer.close()
    with pytest.raises(HistoryClosed):
        writer.append(Op(type="info", f="start", process=NEMESIS))
    assert writer.snapshot() == snapshot and len(snapshot) == 1
    assert (tmp_path / "h.jsonl").read_text().count("\n") == 1
