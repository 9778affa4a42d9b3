"""Helpers for the real-cluster tests: run contexts, leftover checks, connectivity probes."""

from __future__ import annotations

import contextlib
import json
import logging
import random
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from splitbrain.harness.base.protocols import RunContext
from splitbrain.harness.control.netns import LocalNetnsCluster, LocalNode, run_tag

LISTEN_PORT = 7700
LISTENER = (
    "import socket,time\n"
    "s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
    f"s.bind(('0.0.0.0',{LISTEN_PORT}));s.listen(64);s.settimeout(1)\n"
    "end=time.time()+120\n"
    "while time.time()<end:\n"
    "  try: s.accept()[0].close()\n"
    "  except OSError: pass\n"
)
PROBE = (
    "import json,socket,sys\n"
    "out={}\n"
    "for a in sys.argv[1:]:\n"
    f"  try: socket.create_connection((a,{LISTEN_PORT}),timeout=0.5).close(); out[a]=True\n"
    "  except OSError: out[a]=False\n"
    "print(json.dumps(out))\n"
)


def new_ctx(tmp_path: Path, **options: str) -> RunContext:
    run_id = f"test-{uuid.uuid4().hex[:12]}"
    return RunContext(
        run_id=run_id, run_dir=tmp_path, seed=7, rng=random.Random(7),
        log=logging.getLogger("test"), options=dict(options),
    )  # fmt: skip


@dataclass
class NodesTarget:
    """The smallest thing a nemesis can run against: a cluster's nodes, and no servers."""

    cluster: LocalNetnsCluster
    name: str = "bare"

    def nodes(self) -> list[str]:
        return [n.name for n in self.cluster.nodes]

    def node(self, name: str) -> LocalNode:
        return self.cluster.node(name)


def leftovers(run_id: str, *patterns: str) -> list[str]:
    """Namespaces, links and processes of a run that still exist (empty when all is gone).

    Processes are found by the run id, its tag, or any of ``patterns`` (e.g. the run dir)
    in their command line.
    """
    tag = run_tag(run_id)
    found = []
    for ns in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split(
        "\n"
    ):
        if ns.startswith(f"sb-{tag}-"):
            found.append(f"netns {ns.split()[0]}")
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    for line in links.splitlines():
        name = line.split(":")[1].strip().split("@")[0]
        if name.startswith(f"sb{tag}-"):
            found.append(f"link {name}")
    for pattern in (run_id, tag, *patterns):
        procs = subprocess.run(["pgrep", "-af", pattern], capture_output=True, text=True).stdout
        found += [f"process {p}" for p in procs.splitlines() if "pgrep" not in p]
    return found


def start_listeners(nodes: list[LocalNode], log_dir: Path) -> None:
    for node in nodes:
        node.spawn("listener", ["python3", "-c", LISTENER], log_dir / f"{node.name}-listener.log")


def reachability(nodes: list[LocalNode]) -> dict[tuple[str, str], bool]:
    """(from, to) -> can ``from`` open a TCP connection to ``to``, for every ordered pair."""
    by_address = {n.address: n.name for n in nodes}
    result = {}
    for node in nodes:
        others = [n.address for n in nodes if n is not node]
        out = node.run(["python3", "-c", PROBE, *others], timeout=20).check()
        for address, ok in json.loads(out.stdout).items():
            result[(node.name, by_address[address])] = ok
    return result


def wait_listening(nodes: list[LocalNode], timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not all(reachability(nodes).values()):
        if time.monotonic() > deadline:
            raise AssertionError("listeners did not come up")
        time.sleep(0.1)


@contextlib.contextmanager
def traversable_store() -> Iterator[Path]:
    """A store directory unprivileged database users can reach (pytest's tmp_path, under a
    0700 ``/tmp/pytest-of-root``, is closed to them); removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="splitbrain-sql-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def namespaces_of_runs_in(store: Path) -> list[str]:
    """The namespaces still there of the runs stored under ``store`` (other runs may share
    the machine)."""
    tags = [run_tag(json.loads(p.read_text())["identity"]) for p in store.glob("**/test.json")]
    assert tags, f"no run in {store}"
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if any(f"sb-{t}-" in line for t in tags)]
