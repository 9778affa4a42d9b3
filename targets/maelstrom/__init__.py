"""Maelstrom-protocol nodes as a target: any program that speaks Maelstrom's JSON-lines
protocol, run as N processes whose whole network is splitbrain's router.

``splitbrain test --target maelstrom --workload broadcast -o bin=./node -o node-count=5``
(or ``splitbrain maelstrom test -w broadcast --bin ./node``, with Maelstrom's options).
Node ids are ``n0..n{N-1}``, client ids ``c0, c1, ...`` (the init and topology clients
first, then one per worker process: a process retired after an ``info`` gets a fresh id).
Every node is started and registered before any ``init``; a node that does not answer
``init_ok`` within ``init-timeout`` seconds ends the run with an error naming it and its
last stderr lines. Each node's stderr goes to ``logs/NODE/stderr.log``, every message to
``net-journal.jsonl``; the network statistics go into ``results.json`` under ``net``.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shlex
import shutil
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from queue import Empty
from typing import Any

from splitbrain.harness.base.errors import HarnessFailure
from splitbrain.harness.base.options import option_bool
from splitbrain.harness.base.protocols import HarnessInputError, RunContext
from splitbrain.harness.base.verdict import vacuous
from splitbrain.targets.maelstrom import lamport
from splitbrain.targets.maelstrom import nemesis as router_nemesis
from splitbrain.targets.maelstrom.client import (
    ALL_OPERATIONS,
    KAFKA_OPERATIONS,
    ClientIds,
    MaelstromClient,
    codec,
    rpc,
)
from splitbrain.targets.maelstrom.kafka import KafkaSession
from splitbrain.targets.maelstrom.network import LATENCY_DISTS, Faults, is_client
from splitbrain.targets.maelstrom.remote import RouterGone, RouterProcess
from splitbrain.targets.maelstrom.services import SERVICES
from splitbrain.targets.maelstrom.topology import TOPOLOGIES

JOURNAL = "net-journal.jsonl"
NET_STATS = "net-stats.json"
LAMPORT = "lamport.json"

OPTIONS: dict[str, str] = {
    "bin": "",
    "args": "",
    "node-count": "5",
    "nodes": "",
    "latency": "0",
    "latency-dist": "constant",
    "topology": "grid",
    "log-stderr": "false",
    "init-timeout": "10",
    "msgs-per-op": "",
    "router-realtime": "true",
}
"""``-o`` keys. ``nodes`` names the nodes (comma-separated, as Maelstrom's ``--nodes``) instead
of ``n0 .. n{node-count - 1}``; ``msgs-per-op`` is a limit on the servers' messages per operation, judged by
the target; ``router-realtime`` runs the router process under real-time round-robin
scheduling where the system allows it (root), so a busy machine does not make deliveries
late (the nodes keep normal scheduling); the workloads' own settings (availability, recovery time, ...) are their ``-w``
options (``splitbrain.workloads.maelstrom.OPTIONS``)."""


class MaelstromNodeError(HarnessFailure):
    """A node that would not start or initialise: the environment failed (exit 255)."""


MAXIMA = {"node-count": 1000, "latency": 60_000, "init-timeout": 3600, "msgs-per-op": 1e9}
"""The largest value each numeric ``-o`` key takes (nodes; ms; seconds; messages per op)."""


def _number(options: dict[str, str], key: str, minimum: float = 0.0) -> float:
    raw = options.get(key, OPTIONS[key])
    try:
        value = float(raw)
    except ValueError:
        raise HarnessInputError(f"-o {key}: not a number: {raw!r}") from None
    if not minimum <= value <= MAXIMA[key]:
        raise HarnessInputError(
            f"-o {key}: must be a finite number from {minimum:g} to {MAXIMA[key]:g}, got {raw!r}"
        )
    return value


NODE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def node_names(text: str) -> list[str]:
    """``-o nodes``: comma-separated node ids, each one a safe file name that is neither a
    client's id (``c`` and digits) nor a service's name; empty means none given."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    for name in names:
        if not NODE_NAME.fullmatch(name) or name in (".", ".."):
            raise HarnessInputError(
                f"-o nodes: {name!r} is not a node id (letters, digits, '_', '.', '-'; up to 64)"
            )
        if is_client(name) or name in SERVICES:
            raise HarnessInputError(f"-o nodes: {name!r} is a client's or a service's id")
    if len(set(names)) != len(names):
        raise HarnessInputError(f"-o nodes: a node id given twice in {text!r}")
    return names


def resolve_bin(path: str) -> str:
    """The node program as an absolute path; refuses a missing or non-executable one."""
    if not path:
        raise HarnessInputError("the maelstrom target needs the node program: -o bin=PATH")
    found = shutil.which(path) if os.sep not in path else path
    if found is None or not os.path.isfile(found):
        raise HarnessInputError(f"-o bin: no such program: {path!r}")
    if not os.access(found, os.X_OK):
        raise HarnessInputError(f"-o bin: {path!r} is not executable (chmod +x?)")
    problem = not_a_program(found)
    if problem:
        raise HarnessInputError(f"-o bin: {path!r} {problem}")
    return os.path.abspath(found)


NOT_RUNNABLE = frozenset({errno.ENOEXEC, errno.EACCES, errno.ENOENT})
"""What starting the node program fails with when the program itself is wrong."""
BINFMT_MISC = Path("/proc/sys/fs/binfmt_misc")
ELF_MAGIC = b"\x7fELF"


def not_a_program(path: str) -> str | None:
    """Why the kernel would refuse to run ``path`` (ENOEXEC, or an interpreter that is not
    there), or None: a program is an ELF binary or a script whose ``#!`` line names an
    executable file. With other formats registered (binfmt_misc) anything may run."""
    try:
        with open(path, "rb") as f:
            head = f.read(256)
    except OSError:
        return None  # executable but not readable: only the kernel can tell
    if head.startswith(b"#!"):
        words = head[2:].split(b"\n", 1)[0].split()
        interpreter = os.fsdecode(words[0]) if words else ""
        if not interpreter or not os.path.isfile(interpreter):
            return f"is a script whose #! interpreter {interpreter!r} does not exist"
        if not os.access(interpreter, os.X_OK):
            return f"is a script whose #! interpreter {interpreter!r} is not executable"
        return None
    if head.startswith(ELF_MAGIC) or _other_formats():
        return None
    return "is not a program: neither a binary nor a script with a #! line"


def _other_formats() -> bool:
    try:
        return any(e.name not in ("register", "status") for e in BINFMT_MISC.iterdir())
    except OSError:
        return False


def msgs_per_op(stats: dict[str, Any], limit: float) -> dict[str, Any]:
    """The servers' messages per operation must stay below ``limit`` (Gossip Glomers' 30);
    with no operation invoked there is nothing to judge (valid, and ``vacuous`` says so:
    ``unknown`` is only for time and memory, and ``stats`` votes against such a run)."""
    measured = stats.get("servers", {}).get("msgs-per-op")
    return {
        "valid": measured is None or measured < limit,
        "servers_msgs_per_op": measured,
        "limit": limit,
        **vacuous(measured is not None, "no operation was invoked"),
    }


class MaelstromTarget:
    name = "maelstrom"
    options = dict(OPTIONS)
    operations = ALL_OPERATIONS
    supported_nemeses = frozenset({*router_nemesis.NAMES, "kill", "pause"})

    def __init__(self) -> None:
        self.opts = dict(OPTIONS)
        self.argv: list[str] = []
        self.node_ids: list[str] = []
        self.router: RouterProcess | None = None
        self.ctx: RunContext | None = None
        self.client_ids = ClientIds()
        self.invocations = 0
        self._count_lock = threading.Lock()
        self._faults_lock = threading.Lock()
        self.logs_dir = Path(".")
        self.net: dict[str, Any] | None = None
        """The network statistics, taken from the router as it shuts down."""

    # ------------------------------------------------------------ configuration

    def configure(self, options: dict[str, str]) -> None:
        opts = OPTIONS | options
        try:
            args = shlex.split(opts["args"])
        except ValueError as e:
            raise HarnessInputError(f"-o args: {e} in {opts['args']!r}") from None
        self.argv = [resolve_bin(opts["bin"]), *args]
        count = _number(opts, "node-count", 1)
        if not count.is_integer():
            raise HarnessInputError(f"-o node-count: must be a whole number, got {count:g}")
        _number(opts, "latency")
        _number(opts, "init-timeout", 0.1)
        if opts["latency-dist"] not in LATENCY_DISTS:
            raise HarnessInputError(
                f"-o latency-dist: unknown {opts['latency-dist']!r}; known: {', '.join(LATENCY_DISTS)}"
            )
        if opts["topology"] not in TOPOLOGIES:
            raise HarnessInputError(
                f"-o topology: unknown {opts['topology']!r}; known: {', '.join(TOPOLOGIES)}"
            )
        if opts["msgs-per-op"]:
            _number(opts, "msgs-per-op")
        option_bool(opts, "log-stderr")
        option_bool(opts, "router-realtime")
        self.opts = opts
        self.node_ids = node_names(opts["nodes"]) or [f"n{i}" for i in range(int(count))]

    # ------------------------------------------------------------ lifecycle

    def setup(self, ctx: RunContext) -> None:
        if not self.argv:
            self.configure(ctx.options)
        self.ctx = ctx
        opts = self.opts
        self.logs_dir = ctx.run_dir / "logs"
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self.router = router = RouterProcess(
            ctx.seed,
            _number(opts, "latency"),
            opts["latency-dist"],
            ctx.run_dir / JOURNAL,
            log_stderr=option_bool(opts, "log-stderr"),
            realtime=option_bool(opts, "router-realtime"),
        )
        try:
            router.start()
        except RouterGone as e:
            raise MaelstromNodeError(f"the maelstrom router did not start: {e}") from None
        ctx.log.info(
            "maelstrom: %d nodes of %s; latency %s ms %s; routing decisions from seed %d",
            len(self.node_ids),
            shlex.join(self.argv),
            opts["latency"],
            opts["latency-dist"],
            ctx.seed,
        )
        for node in self.node_ids:
            self._spawn(node, first=True)
        self._init(self.node_ids)
        if "broadcast.add" in ctx.operations:
            self._send_topology()

    def _spawn(self, node: str, first: bool = False) -> None:
        """Start ``node``; a program the kernel will not run is the user's input (254) when
        the run starts, the environment's (255) when a node restarts."""
        assert self.router is not None and self.ctx is not None
        node_dir = self.logs_dir / node
        node_dir.mkdir(exist_ok=True)
        log_path = node_dir / "stderr.log"
        try:
            self.router.call("spawn", node, self.argv, log_path, self.ctx.run_dir)
        except OSError as e:
            if first and e.errno in NOT_RUNNABLE:
                raise HarnessInputError(
                    f"-o bin: {self.argv[0]!r} cannot be run: {e.strerror}"
                ) from None
            raise MaelstromNodeError(f"node {node}: cannot start {self.argv[0]}: {e}") from None

    def _init(self, nodes: list[str]) -> None:
        """Send ``init`` to every node in ``nodes`` at once; wait for every ``init_ok``."""
        router = self._router()
        timeout = _number(self.opts, "init-timeout", 0.1)
        waiting = {}
        for node in nodes:
            client = router.new_client(self.client_ids())
            body = {"type": "init", "msg_id": 1, "node_id": node, "node_ids": list(self.node_ids)}
            router.client_send(client, node, body)
            waiting[node] = client
        deadline = time.monotonic() + timeout
        try:
            for node, client in waiting.items():
                while True:
                    code = router.call("exit_code", node)
                    if code is not None:
                        self._init_failed(node, f"exited with code {code} before init_ok")
                    left = deadline - time.monotonic()
                    if left <= 0:
                        self._init_failed(
                            node, f"did not answer init with init_ok in {timeout:g} s"
                        )
                    reply = self._reply(client, min(left, 0.05))
                    if reply is None:
                        continue
                    if reply.get("type") != "init_ok":
                        self._init_failed(node, f"answered init with {json.dumps(reply)[:200]}")
                    break
        finally:
            for client in waiting.values():
                router.drop_client(client)

    @staticmethod
    def _reply(client: Any, timeout: float) -> dict[str, Any] | None:
        try:
            return client.replies.get(timeout=timeout)
        except Empty:
            return None

    def _init_failed(self, node: str, why: str) -> None:
        router = self._router()
        time.sleep(0.05)
        tail = router.call("stderr_tail", node)
        last = " | ".join(tail[-5:]) if tail else "(nothing on stderr)"
        raise MaelstromNodeError(f"node {node} {why}; last stderr lines: {last}")

    def _send_topology(self) -> None:
        router = self._router()
        topology = TOPOLOGIES[self.opts["topology"]](list(self.node_ids))
        for node in self.node_ids:
            client = router.new_client(self.client_ids())
            body = {"type": "topology", "msg_id": 1, "topology": topology}
            reply = rpc(router, client, node, body, _number(self.opts, "init-timeout", 0.1))
            router.drop_client(client)
            if reply is None or reply.get("type") != "topology_ok":
                self._init_failed(node, f"did not answer topology with topology_ok: {reply}")

    def teardown(self) -> None:
        router, self.router = self.router, None
        if router is None:
            return
        router.close()
        assert self.ctx is not None
        journal = self.ctx.run_dir / JOURNAL
        try:
            lamport.write(journal, self.ctx.run_dir / LAMPORT)
        except (OSError, ValueError, KeyError) as e:
            self.ctx.log.error("maelstrom: writing %s failed: %s", LAMPORT, e)

    def collect_logs(self, dest: Path) -> None:
        if self.router is None:
            return
        self.net = self.net_stats()
        dest.mkdir(parents=True, exist_ok=True)
        (dest / NET_STATS).write_text(json.dumps(self.net, indent=2) + "\n")

    # ------------------------------------------------------------ nodes and clients

    def nodes(self) -> list[str]:
        return list(self.node_ids)

    def client(self, process: int) -> MaelstromClient:
        assert self.ctx is not None
        node = self.node_ids[self.ctx.worker_of(process) % len(self.node_ids)]
        return MaelstromClient(
            self._router(),
            self.client_ids(),
            node,
            codec(self.ctx.operations),
            self.ctx.op_timeout,
            self._count_invocation,
            KafkaSession() if self.ctx.operations & KAFKA_OPERATIONS else None,
        )

    def _count_invocation(self) -> None:
        with self._count_lock:
            self.invocations += 1

    def kill(self, node: str) -> None:
        self._router().call("kill", node)

    def start(self, node: str) -> None:
        """Restart a killed node (state lost) and ``init`` it again."""
        if self._router().call("exit_code", node) is None:
            return
        self._spawn(node)
        self._init([node])

    def pause(self, node: str) -> None:
        self._router().call("signal", node, signal.SIGSTOP)

    def resume(self, node: str) -> None:
        self._router().call("signal", node, signal.SIGCONT)

    def nemesis(self, name: str) -> Any:
        return router_nemesis.build(name)

    def change_faults(self, change: Callable[[Faults], Any]) -> None:
        router = self._router()
        with self._faults_lock:
            faults = replace(router.faults)
            change(faults)
            router.set_faults(faults)

    def _router(self) -> RouterProcess:
        if self.router is None:
            raise MaelstromNodeError("the maelstrom router is not running")
        if self.router.error is not None:
            raise MaelstromNodeError(f"the maelstrom router failed: {self.router.error}")
        return self.router

    # ------------------------------------------------------------ results

    def net_stats(self) -> dict[str, Any]:
        assert self.router is not None
        return self.router.call("summary", self.invocations)

    def extra_results(self) -> dict[str, Any]:
        """Merged into results.json by the run: Maelstrom's network statistics."""
        if self.ctx is None or self.net is None:
            return {}
        stats = dict(self.net)
        stats["journal"] = JOURNAL
        stats["diagram"] = LAMPORT
        stats["seed"] = self.ctx.seed
        stats["note"] = "every routing decision came from the seed"
        extra: dict[str, Any] = {"net": stats}
        if self.opts["msgs-per-op"]:
            extra["checkers"] = {
                "msgs-per-op": msgs_per_op(stats, _number(self.opts, "msgs-per-op"))
            }
        return extra
