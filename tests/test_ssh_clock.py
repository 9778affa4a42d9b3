"""The clock helper compiled and run on SSH nodes, offsets measured and recorded.

These nodes are namespaces on this machine, so they share its clock: every test uses an
offset of 0 ms, and the guard refusing nonzero offsets on this machine is itself tested.
"""

from __future__ import annotations

import os
import random
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest
import ssh_fixtures

from splitbrain.harness.base.history import HistoryWriter, Op, read_history
from splitbrain.harness.base.protocols import RunContext
from splitbrain.harness.control import clock as clockmod
from splitbrain.harness.control.clock import LocalClockRefused, NodeClock
from splitbrain.harness.control.ssh import SshCluster, SshNode
from splitbrain.harness.nemesis.clock import RemoteClockNemesis
from splitbrain.harness.nemesis.errors import NemesisUnsupported

pytestmark = [pytest.mark.ssh, pytest.mark.real, pytest.mark.timeout(180)]


@pytest.fixture(autouse=True)
def never_allow_local_clock_changes() -> None:
    assert os.environ.get(clockmod.LOCAL_CLOCK_ENV) is None


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[SshNode]]:
    sshd = ssh_fixtures.start(tmp_path_factory.mktemp("sshd"), count=2)
    cluster = SshCluster(sshd.options())
    try:
        yield cluster.setup()
    finally:
        cluster.teardown()
        ssh_fixtures.stop(sshd)


@pytest.fixture
def clocks(nodes: list[SshNode]) -> Iterator[list[NodeClock]]:
    directory = PurePosixPath(f"/tmp/sbssh-clock-{uuid.uuid4().hex[:8]}")
    made = [NodeClock(n, directory) for n in nodes]
    yield made
    for c in made:
        c.remove()


class NodesOnly:
    """A target as far as a nemesis needs it: node names and Node objects."""

    name = "ssh-nodes"

    def __init__(self, nodes: list[SshNode]) -> None:
        self._nodes = {n.name: n for n in nodes}

    def nodes(self) -> list[str]:
        return list(self._nodes)

    def node(self, name: str) -> SshNode:
        return self._nodes[name]


def _ctx(tmp_path: Path) -> RunContext:
    import logging

    return RunContext(
        run_id=f"sbssh-{uuid.uuid4().hex[:8]}",
        run_dir=tmp_path,
        seed=7,
        rng=random.Random(7),
        log=logging.getLogger("test"),
    )


def test_helper_compiles_on_the_node_and_runs_with_zero_offset(clocks: list[NodeClock]) -> None:
    c = clocks[0]
    c.install()
    assert c.node.run(["test", "-x", str(c.binary)]).ok
    before = c.now_ns()
    c.bump(0)
    assert c.applied_ms == 0
    assert c.strobe(0, 10, 1) >= 10
    assert c.now_ns() > before
    usage = c.node.run([str(c.binary), "bump", "12x"])
    assert (usage.returncode, usage.stderr.strip()) == (2, "bad milliseconds: 12x")


def test_offsets_are_measured_against_this_machine(clocks: list[NodeClock]) -> None:
    for c in clocks:
        c.install()
    for c in clocks:
        offset = c.measure(samples=5)
        assert offset.node == c.node.name and offset.rtt_ms > 0
        assert abs(offset.offset_ms) <= offset.rtt_ms / 2 + 1, (
            "the same clock must measure ~0 offset"
        )
    assert set(clockmod.check_offsets(clocks)) == {"10.77.0.201", "10.77.0.202"}


def test_nonzero_offsets_are_refused_on_this_machine(clocks: list[NodeClock]) -> None:
    c = clocks[0]
    assert c.shares_this_machines_clock()
    for attempt in (lambda: c.bump(5), lambda: c.bump(-1), lambda: c.strobe(100, 10, 1)):
        with pytest.raises(
            LocalClockRefused, match=r"10\.77\.0\.201: refusing to change the clock"
        ):
            attempt()
    assert c.applied_ms == 0
    assert not c.node.run(["test", "-e", str(c.directory)]).ok, "refused before anything ran"


def test_loopback_is_this_machine() -> None:
    assert clockmod.is_local_address("127.0.0.1")
    assert not clockmod.is_local_address("10.77.0.219")


def test_clock_nemesis_refuses_real_offsets_on_this_machine(
    nodes: list[SshNode], tmp_path: Path
) -> None:
    nemesis = RemoteClockNemesis()
    ctx = _ctx(tmp_path)
    with pytest.raises(NemesisUnsupported, match="never changes this machine's clock"):
        nemesis.setup(NodesOnly(nodes), ctx)
    directory = str(clockmod.helper_directory(ctx.run_id))
    assert not any(n.run(["test", "-e", directory]).ok for n in nodes), "refused before installing"


def test_clock_nemesis_records_offsets_in_the_history(nodes: list[SshNode], tmp_path: Path) -> None:
    nemesis = RemoteClockNemesis(magnitudes_ms=(0,), strobe_period_ms=20, strobe_seconds=1)
    ctx = _ctx(tmp_path)
    nemesis.setup(NodesOnly(nodes), ctx)
    directory = nemesis.clocks[0].directory
    history = tmp_path / "history.jsonl"
    writer = HistoryWriter(history)
    try:
        for f in ("check-clock-offsets", "bump-clock", "strobe-clock", "reset-clock"):
            invoke = writer.append(Op("invoke", f, "nemesis"), lambda: 0)
            writer.append(nemesis.invoke(invoke), lambda: 0)
    finally:
        writer.close()
        nemesis.teardown()
    ops = read_history(history, "jsonl").ops
    done = [o for o in ops if o.type != "invoke"]
    assert [o.f for o in done] == [
        "check-clock-offsets",
        "bump-clock",
        "strobe-clock",
        "reset-clock",
    ]
    assert all(o.error is None for o in done), [o.error for o in done]
    for o in done:
        offsets = o.value["clock-offsets"]
        assert set(offsets) == {"10.77.0.201", "10.77.0.202"}
        assert all(isinstance(v, float) for v in offsets.values())
    assert set(done[1].value["bumps"].values()) == {0}
    assert all(n >= 10 for n in done[2].value["flips"].values())
    assert not any(n.run(["test", "-e", str(directory)]).ok for n in nodes), "helper left on a node"


def test_the_helper_source_compiles_cleanly_here(tmp_path: Path) -> None:
    out = tmp_path / "clockhelper"
    proc = subprocess.run(
        ["cc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(out), str(clockmod.HELPER_SOURCE)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    served = subprocess.run([str(out), "serve"], input="a\nb\n", capture_output=True, text=True)
    assert len(served.stdout.split()) == 2 and all(t.isdigit() for t in served.stdout.split())
