"""Real runs and the simulator go through one phase sequence and one fault schedule: the same
spec gives the same nemesis ops, in the same order, at the same run times (virtual in the
simulator, monotonic on threads)."""

from __future__ import annotations

from pathlib import Path

from splitbrain.harness.base.history import NEMESIS
from splitbrain.harness.engine import core


def _faults(target: str, tmp_path: Path) -> list[tuple[str, float]]:
    spec = core.TestSpec(
        target=target,
        nemesis=["kill", "pause"],
        time_limit=2.0,
        nemesis_interval=0.4,
        rate=50,
        seed=11,
        store=str(tmp_path / target),
    )
    result = core.run(spec)
    assert result.valid is True, result.results
    return [
        (op.f, op.time / 1e9)
        for op in result.history
        if op.process == NEMESIS and op.type == "invoke" and op.time is not None
    ]


def test_the_same_spec_gives_the_same_fault_schedule_on_threads_and_in_virtual_time(
    tmp_path: Path,
) -> None:
    real, simulated = _faults("memory", tmp_path), _faults("sim", tmp_path)
    assert (
        [f for f, _ in real]
        == [f for f, _ in simulated]
        == [
            "kill",
            "start",
            "pause",
            "resume",
            "start",
            "resume",
        ]
    )
    scheduled = [t for _, t in simulated[:4]]
    assert scheduled == [0.4, 0.8, 1.2, 1.6]
    assert all(abs(r - s) < 0.25 for (_, r), s in zip(real, scheduled, strict=False))
