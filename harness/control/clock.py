"""Real clock faults on remote nodes, as Jepsen does them: a small C helper compiled on each
node steps the system clock (bump by an offset, strobe back and forth, reset), NTP is
stopped for the test, and ``check-clock-offsets`` measures every node's clock against this
machine's and records the offsets in the history.

This machine's clock is never changed: a node whose clock is this machine's clock (a
local address, or the same kernel boot id, as for network-namespace nodes reached over
SSH) only ever gets offsets of 0 ms, which the helper implements without touching the clock.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from splitbrain.harness.control.netns import run_tag
from splitbrain.harness.control.node import Node, NodeError, undo_later, undone

log = logging.getLogger("splitbrain.clock")

HELPER_SOURCE = Path(__file__).with_name("clockhelper.c")
LOCAL_CLOCK_ENV = "SPLITBRAIN_TEST_ONLY_ALLOW_CHANGING_THIS_MACHINES_CLOCK"
"""Set to 1 only to let a test change this machine's clock. Nothing in splitbrain sets it."""
NTP_SERVICES = ("chrony", "chronyd", "ntp", "ntpsec", "openntpd", "systemd-timesyncd")
"""The (start, stop) fault pairs of the clock nemesis, for the nemesis registry."""


class LocalClockRefused(NodeError):
    """A nonzero clock change was asked of a node whose clock is this machine's."""


@functools.cache
def local_boot_id() -> str:
    return Path("/proc/sys/kernel/random/boot_id").read_text().strip()


def local_addresses() -> set[str]:
    proc = subprocess.run(["ip", "-o", "addr", "show"], capture_output=True, text=True, timeout=10)
    found = set()
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[2] in ("inet", "inet6"):
            found.add(parts[3].split("/")[0])
    return found


def is_local_address(address: str) -> bool:
    try:
        if ipaddress.ip_address(address).is_loopback:
            return True
    except ValueError:
        return False
    return address in local_addresses()


@dataclass
class Offset:
    """A node's clock minus this machine's, measured over the round trip with the least delay."""

    node: str
    offset_ms: float
    rtt_ms: float


class NodeClock:
    """The clock helper on one node."""

    def __init__(self, node: Node, directory: PurePosixPath) -> None:
        self.node = node
        self.directory = directory
        self.binary = directory / "clockhelper"
        self.applied_ms = 0
        """Net milliseconds this run has stepped the node's clock by; reset() undoes it."""
        self.stopped_ntp: list[tuple[str, int | None]] = []
        self.bump_undo: list[int | None] = []
        self.dir_undo: int | None = None
        self._shares_clock: bool | None = None

    def install(self) -> None:
        """Upload the helper's source and compile it on the node with cc."""
        self.dir_undo = undo_later(
            self.node, f"directory {self.directory}", ["rm", "-rf", "--", str(self.directory)]
        )
        self.node.mkdir(self.directory)
        source = self.directory / "clockhelper.c"
        self.node.upload(HELPER_SOURCE, Path(source))
        result = self.node.run(["cc", "-O2", "-o", str(self.binary), str(source)], timeout=120)
        if result.returncode == 127:
            raise NodeError(f"{self.node.name}: no C compiler `cc` on the node (install gcc)")
        result.check()

    def shares_this_machines_clock(self) -> bool:
        """True if the node's clock is this machine's: a local address or the same kernel."""
        if self._shares_clock is None:
            remote = self.node.run(["cat", "/proc/sys/kernel/random/boot_id"], timeout=15)
            same_kernel = remote.ok and remote.stdout.strip() == local_boot_id()
            self._shares_clock = same_kernel or is_local_address(self.node.address)
        return self._shares_clock

    def guard(self, offset_ms: int) -> None:
        """Refuse to change this machine's clock, whatever the caller asked."""
        if offset_ms == 0 or not self.shares_this_machines_clock():
            return
        if os.environ.get(LOCAL_CLOCK_ENV) == "1":
            log.warning(
                "%s: changing THIS machine's clock by %d ms (%s=1)",
                self.node.name,
                offset_ms,
                LOCAL_CLOCK_ENV,
            )
            return
        raise LocalClockRefused(
            f"{self.node.name}: refusing to change the clock by {offset_ms} ms: the node "
            f"({self.node.address}) runs on this machine's kernel, so its clock is this machine's clock"
        )

    def _helper(self, *args: str, timeout: float = 30.0) -> str:
        return self.node.run([str(self.binary), *args], timeout=timeout).check().stdout.strip()

    def now_ns(self) -> int:
        return int(self._helper("now"))

    def bump(self, offset_ms: int) -> None:
        self.guard(offset_ms)
        if offset_ms:
            self.bump_undo.append(
                undo_later(
                    self.node,
                    f"clock stepped by {int(offset_ms)} ms",
                    [str(self.binary), "bump", str(-int(offset_ms))],
                )
            )
        self._helper("bump", str(int(offset_ms)))
        self.applied_ms += int(offset_ms)

    def strobe(self, delta_ms: int, period_ms: int, seconds: int) -> int:
        """Flip the clock between true time and +delta every period, for ``seconds``; returns flips."""
        self.guard(delta_ms)
        out = self._helper(
            "strobe",
            str(int(delta_ms)),
            str(int(period_ms)),
            str(int(seconds)),
            timeout=seconds + 30,
        )
        return int(out)

    def reset(self) -> None:
        """Undo every bump this run made (strobes end on true time by themselves)."""
        if self.applied_ms:
            self.guard(-self.applied_ms)
            self._helper("bump", str(-self.applied_ms))
            self.applied_ms = 0
        for step in self.bump_undo:
            undone(self.node, step)
        self.bump_undo = []

    def measure(self, samples: int = 5) -> Offset:
        """This node's clock minus ours; over SSH one open helper answers every sample."""
        open_stream = getattr(self.node, "stream", None)
        stream = (
            open_stream([str(self.binary), "serve"], timeout=30) if callable(open_stream) else None
        )
        best: tuple[float, float] | None = None
        try:
            for _ in range(samples):
                before = time.time_ns()
                remote = int(stream.exchange("t") if stream is not None else self._helper("now"))
                after = time.time_ns()
                rtt = after - before
                if best is None or rtt < best[1]:
                    best = (remote - (before + after) / 2, rtt)
        finally:
            if stream is not None:
                stream.close()
        assert best is not None
        return Offset(self.node.name, round(best[0] / 1e6, 3), round(best[1] / 1e6, 3))

    def stop_ntp(self) -> None:
        """Stop whichever NTP service runs, to restart it at teardown; never on this machine."""
        if self.shares_this_machines_clock():
            log.info("%s: shares this machine's clock; leaving its NTP alone", self.node.name)
            return
        for service in NTP_SERVICES:
            if self.node.run(["systemctl", "is-active", "--quiet", service], timeout=15).ok:
                step = undo_later(
                    self.node, f"NTP service {service} stopped", ["systemctl", "start", service]
                )
                self.stopped_ntp.append((service, step))
                self.node.run(["systemctl", "stop", service], timeout=60).check()
                log.info("%s: stopped %s for the test", self.node.name, service)

    def restore_ntp(self) -> None:
        for service, step in self.stopped_ntp:
            if self.node.run(["systemctl", "start", service], timeout=60).ok:
                undone(self.node, step)
        self.stopped_ntp = []

    def remove(self) -> None:
        self.node.remove_tree(self.directory)
        undone(self.node, self.dir_undo)
        self.dir_undo = None


def helper_directory(run_id: str) -> PurePosixPath:
    return PurePosixPath(f"/tmp/splitbrain-clock-{run_tag(run_id)}")


def check_offsets(clocks: list[NodeClock]) -> dict[str, float]:
    """Each node's clock offset from this machine's, in milliseconds (Jepsen's clock-offsets)."""
    return {c.node.name: c.measure().offset_ms for c in clocks}
