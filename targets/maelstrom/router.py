"""The router: one process of its own that owns every node's pipes, the services and the
message heap.

Nodes are processes speaking Maelstrom's protocol (one JSON message a line on stdin and
stdout, stderr to the node's log). A line a node writes is parsed, checked for the
envelope ``{src, dest, body}``, journaled, given its fate by the ``Network`` (from the
seed) and put on the heap at its due time; due messages are written to their destination
(a node's stdin, a client, a service). A line that is not a message, or a message to an
unknown destination, is logged with the node and the line, and the node's stream goes on.
Routing uses the node that wrote the line, so a node may put another id in ``src``
(forwarding); statistics and the journal use the ``src`` it wrote.

The router runs in its own process (``routerd``), so the harness's client threads never
hold the interpreter lock it needs to deliver a message on time. The harness talks to it
over one socket (``RouterProcess``): clients' messages and commands (spawn, kill, faults)
go in, in order; replies to clients come out, batched per turn of the loop. The router's
state has one owner and needs no locks.
"""

from __future__ import annotations

import contextlib
import ctypes
import heapq
import logging
import os
import random
import resource
import selectors
import signal
import subprocess
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import orjson

from splitbrain.targets.maelstrom.network import Faults, Network, is_client
from splitbrain.targets.maelstrom.services import SERVICES, Service

log = logging.getLogger("splitbrain.maelstrom")
READ_CHUNK = 1 << 16
MAX_LINE = 16 << 20
"""The longest line a node may write on stdout: a longer one ends the node, so a node that
floods stdout without a newline cannot grow the router without bound."""
STDERR_PARTIAL = 1 << 16
"""Of an unfinished stderr line, only this much of its end is kept for the tail."""
STDERR_TAIL = 20
STDERR_LOG_HEAD = 16 << 20
STDERR_LOG_TAIL = 1 << 20
"""A node's stderr.log keeps its first 16 MiB and its last 1 MiB, with a line between them
saying how much was cut: a node writing stderr forever cannot fill the disk."""
PR_SET_PDEATHSIG = 1
EPOLL_RESOLUTION_S = 0.001
LATENESS_BUCKET_NS = 10_000
LATENESS_BUCKETS = 10_000
"""Delivery lateness histogram: 10 µs buckets up to 100 ms, then one overflow bucket."""


def _read_some(fd: int) -> bytes | None:
    """What a pipe has (b"" at its end), or None when it has nothing yet."""
    try:
        return os.read(fd, READ_CHUNK)
    except BlockingIOError:
        return None


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the thread that started it goes away, so a
    node outlives no harness, even a SIGKILLed one."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class CappedLog:
    """An append-only log that keeps the first ``head`` bytes written to it (counting what
    the file already holds, from the node's earlier lives), then only the last ``tail``:
    those are kept in memory and written at ``close``, after a line saying what was cut."""

    def __init__(self, path: Path, head: int = STDERR_LOG_HEAD, tail: int = STDERR_LOG_TAIL):
        self.file = open(path, "ab", buffering=0)  # noqa: SIM115 - closed by close()
        self.room = max(0, head - os.fstat(self.file.fileno()).st_size)
        self.tail = tail
        self.last = bytearray()
        self.cut = 0

    @property
    def closed(self) -> bool:
        return self.file.closed

    def write(self, data: bytes) -> None:
        if self.room:
            kept = data[: self.room]
            self.file.write(kept)
            self.room -= len(kept)
            data = data[len(kept) :]
        if data:
            self.cut += len(data)
            self.last += data
            if len(self.last) > 2 * self.tail:  # trimmed now and then: amortised O(1)
                del self.last[: -self.tail]

    def close(self) -> None:
        if self.file.closed:
            return
        try:
            if self.cut:
                last = self.last[-self.tail :]
                dropped = self.cut - len(last)
                if dropped:
                    note = (
                        f"\n[splitbrain: {dropped} bytes cut here; the last {len(last)} follow]\n"
                    )
                    self.file.write(note.encode())
                self.file.write(last)
        finally:
            self.file.close()


@dataclass
class NodeProcess:
    """One running (or killed) instance of the node program."""

    id: str
    proc: subprocess.Popen[bytes]
    stderr_log: CappedLog
    out: bytearray = field(default_factory=bytearray)
    partial: bytearray = field(default_factory=bytearray)
    err_partial: bytearray = field(default_factory=bytearray)
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=STDERR_TAIL))
    alive: bool = True
    writing: bool = False


class Stats:
    """Maelstrom's network statistics: sends, receives and distinct messages, for all
    messages, those with a client at either end, and those between servers."""

    def __init__(self) -> None:
        self.counts = {
            part: {"send-count": 0, "recv-count": 0, "msg-count": 0}
            for part in ("all", "clients", "servers")
        }
        self.dropped: dict[str, int] = {}
        self.duplicated = 0
        self.unknown_dest = 0
        self.bad_lines = 0
        self.lateness = [0] * (LATENESS_BUCKETS + 1)
        self.wakeups = [0] * (LATENESS_BUCKETS + 1)
        """How late the loop ran after sleeping until a message was due: the time the
        operating system kept it waiting, as opposed to the time it was busy."""

    def part(self, src: str, dest: str) -> str:
        return "clients" if is_client(src) or is_client(dest) else "servers"

    def sent(self, part: str) -> None:
        for p in ("all", part):
            c = self.counts[p]
            c["send-count"] += 1
            c["msg-count"] += 1

    def received(self, part: str, late_ns: int) -> None:
        self.counts["all"]["recv-count"] += 1
        self.counts[part]["recv-count"] += 1
        self.lateness[min(LATENESS_BUCKETS, max(0, late_ns) // LATENESS_BUCKET_NS)] += 1

    def woke(self, late_ns: int) -> None:
        self.wakeups[min(LATENESS_BUCKETS, max(0, late_ns) // LATENESS_BUCKET_NS)] += 1

    @staticmethod
    def quantile_ms(histogram: list[int], q: float) -> float | None:
        total = sum(histogram)
        if not total:
            return None
        rank, seen = q * (total - 1), 0
        for i, n in enumerate(histogram):
            seen += n
            if seen > rank:
                return round((i + 1) * LATENESS_BUCKET_NS / 1e6, 3)
        return None

    def summary(self, invocations: int) -> dict[str, Any]:
        out: dict[str, Any] = {p: dict(c) for p, c in self.counts.items()}
        if invocations:
            for p in ("all", "servers"):
                out[p]["msgs-per-op"] = round(out[p]["msg-count"] / invocations, 3)
        out["dropped"] = dict(sorted(self.dropped.items()))
        out["duplicated"] = self.duplicated
        out["unknown-destination"] = self.unknown_dest
        out["unparsable-lines"] = self.bad_lines
        out["delivery-lateness-ms"] = {
            "median": self.quantile_ms(self.lateness, 0.5),
            "p99": self.quantile_ms(self.lateness, 0.99),
        }
        out["wakeup-lateness-ms"] = {
            "median": self.quantile_ms(self.wakeups, 0.5),
            "p99": self.quantile_ms(self.wakeups, 0.99),
        }
        return out


COMMANDS = frozenset(
    {"spawn", "kill", "signal", "exit_code", "stderr_tail", "set_faults", "summary", "shutdown"}
)
"""The router methods the harness may call (``RouterProcess.call``)."""


class ForwardLog(logging.Handler):
    """The router process's log records, sent to the harness, which writes its log."""

    def __init__(self, conn: Connection) -> None:
        super().__init__()
        self.conn = conn

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.conn.send(("log", record.levelno, record.getMessage()))
        except OSError:
            pass


class Journal:
    """The message journal's file. A write the disk refuses (full, over quota) ends the
    journal there with one warning, and routing goes on: the journal records the run, it
    is not the run."""

    def __init__(self, path: Path) -> None:
        self._file = open(path, "wb", buffering=1 << 20)  # noqa: SIM115
        self.cut: str | None = None
        """Why the journal ends early, if it does."""

    @property
    def closed(self) -> bool:
        return self._file.closed

    def write(self, data: bytes) -> None:
        if self.cut is None:
            try:
                self._file.write(data)
            except OSError as e:
                self._cut_short(e)

    def flush(self) -> None:
        if self.cut is None:
            try:
                self._file.flush()
            except OSError as e:
                self._cut_short(e)

    def close(self) -> None:
        try:
            self._file.close()
        except OSError as e:
            self._cut_short(e)

    def _cut_short(self, e: OSError) -> None:
        if self.cut is None:
            self.cut = e.strerror or type(e).__name__
            log.warning("the message journal ends here: %s", self.cut)
        with contextlib.suppress(OSError):
            self._file.close()


class Router:
    def __init__(
        self,
        network: Network,
        journal_path: Path,
        services_seed: int,
        log_stderr: bool = False,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.network = network
        self.clock = clock
        self.t0 = clock()
        self.log_stderr = log_stderr
        self.nodes: dict[str, NodeProcess] = {}
        self.clients: set[str] = set()
        self.services: dict[str, Service] = {
            name: make(random.Random(f"{services_seed}:{name}")) for name, make in SERVICES.items()
        }
        self.known_nodes: set[str] = set()
        self.stats = Stats()
        self.heap: list[tuple[int, int, str, bytes, str, int]] = []
        self.seq = 0
        self.next_msg = 0
        self.journal = Journal(journal_path)
        self.last_flush = 0
        self.selector = selectors.DefaultSelector()
        self.running = True
        self.dirty: set[str] = set()
        self.scheduling = "normal"
        """What the router process runs under (``routerd.scheduling``)."""
        self.outbox: list[tuple[str, bytes]] = []
        """Messages delivered to clients this turn of the loop: (client id, line)."""

    # ------------------------------------------------------------ the harness's commands

    def command(self, conn: Connection, message: tuple[Any, ...]) -> None:
        """One message from the harness: a client's message, a client coming or going,
        or a call of one of ``COMMANDS``, answered with its result or its exception."""
        kind = message[0]
        if kind == "send":
            _, client_id, dest, line = message
            self._route(client_id, client_id, dest, line)
        elif kind == "client":
            _, client_id, present = message
            if present:
                self.clients.add(client_id)
            else:
                self.clients.discard(client_id)
        elif kind == "call":
            _, call_id, name, args = message
            if name not in COMMANDS:
                raise ValueError(f"the router has no command {name!r}")
            try:
                result = (True, getattr(self, name)(*args))
            except Exception as e:
                result = (False, e)
            conn.send(("result", call_id, *result))
        else:
            raise ValueError(f"the router got an unknown message {kind!r}")

    def set_faults(self, faults: Faults) -> None:
        self.network.faults = faults
        self.faults_changed()

    def summary(self, invocations: int) -> dict[str, Any]:
        """The statistics, and what the router process itself cost: CPU seconds, and how
        often the operating system took the CPU from it while it had work (preemptions)."""
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return self.stats.summary(invocations) | {
            "router-cpu-s": round(usage.ru_utime + usage.ru_stime, 3),
            "router-preempted": usage.ru_nivcsw,
            "router-scheduling": self.scheduling,
        }

    def shutdown(self) -> None:
        """Kill every node, close the journal, and end the loop."""
        self.running = False
        self.close()

    # ------------------------------------------------------------ node processes

    def spawn(self, node_id: str, argv: list[str], stderr_log: Path, cwd: Path) -> None:
        """Start (or restart) a node's process and register its pipes."""
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=0,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        assert proc.stdin and proc.stdout and proc.stderr
        for f in (proc.stdin, proc.stdout, proc.stderr):
            os.set_blocking(f.fileno(), False)
        node = NodeProcess(node_id, proc, CappedLog(stderr_log))
        self.nodes[node_id] = node
        self.known_nodes.add(node_id)
        self.selector.register(proc.stdout.fileno(), selectors.EVENT_READ, ("out", node))
        self.selector.register(proc.stderr.fileno(), selectors.EVENT_READ, ("err", node))
        self.journal_event({"type": "node", "node": node_id, "event": "start"})

    def kill(self, node_id: str) -> None:
        node = self.nodes.get(node_id)
        if node is None or not node.alive:
            return
        try:
            os.killpg(node.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        node.proc.wait(10)
        self._drain_stderr(node)
        self._forget(node, "killed")

    def signal(self, node_id: str, sig: int) -> None:
        node = self.nodes.get(node_id)
        if node is not None and node.alive:
            event = {signal.SIGSTOP: "pause", signal.SIGCONT: "resume"}.get(sig, str(sig))
            self.journal_event({"type": "node", "node": node_id, "event": event})
            try:
                os.killpg(node.proc.pid, sig)
            except ProcessLookupError:
                pass

    def stderr_tail(self, node_id: str) -> list[str]:
        node = self.nodes.get(node_id)
        return list(node.tail) if node else []

    def exit_code(self, node_id: str) -> int | None:
        node = self.nodes.get(node_id)
        return None if node is None or node.alive else node.proc.returncode

    def _forget(self, node: NodeProcess, why: str) -> None:
        if not node.alive:
            return
        node.alive = False
        node.out.clear()
        proc = node.proc
        for f in (proc.stdout, proc.stderr):
            assert f is not None
            self._unregister(f.fileno())
            f.close()
        assert proc.stdin is not None
        if node.writing:
            node.writing = False
            self._unregister(proc.stdin.fileno())
        try:
            proc.stdin.close()
        except OSError:
            pass
        node.stderr_log.close()
        if not self.journal.closed:
            self.journal_event({"type": "node", "node": node.id, "event": "down", "why": why})
        log.info("node %s is down (%s)", node.id, why)

    # ------------------------------------------------------------ the loop

    def serve(self, conn: Connection) -> None:
        """Route until the harness says ``shutdown`` or goes away (its end of ``conn``
        closes: then every node is killed too)."""
        self.selector.register(conn.fileno(), selectors.EVENT_READ, ("conn", None))
        try:
            self._loop(conn)
        finally:
            if self.running:  # the harness went away without a shutdown
                self.close()

    def _loop(self, conn: Connection) -> None:
        select, heap, clock = self.selector.select, self.heap, self.clock
        while self.running:
            timeout, due = 0.1, None
            if heap:
                timeout = max(0.0, min(timeout, (heap[0][0] - clock()) / 1e9))
                if timeout > 0:
                    due = heap[0][0]  # the loop sleeps until then, unless woken earlier
                if timeout < EPOLL_RESOLUTION_S:
                    time.sleep(timeout)  # epoll would round this up to a whole millisecond
                    timeout = 0.0
            events = select(timeout)
            if due is not None and not events:
                self.stats.woke(clock() - due)
            for key, mask in events:
                kind, node = key.data
                if kind == "out":
                    if mask & selectors.EVENT_READ:
                        self._read(node)
                        if heap and heap[0][0] <= clock():
                            self._deliver_due()  # not after every node's lines: on time
                    if mask & selectors.EVENT_WRITE:
                        self._flush(node)
                elif kind == "err":
                    self._read_stderr(node)
                elif kind == "in":
                    self._flush(node)
                else:
                    self._commands(conn)
                    if not self.running:
                        return
            self._deliver_due()
            if self.dirty:
                for node_id in self.dirty:
                    node = self.nodes.get(node_id)
                    if node is not None and node.alive:
                        self._flush(node)
                self.dirty.clear()
            if self.outbox:
                conn.send(("replies", self.outbox))
                self.outbox = []
            now = clock()
            if now - self.last_flush > 100_000_000:
                self.journal.flush()
                self.last_flush = now

    def _commands(self, conn: Connection) -> None:
        """Every message the harness has sent so far; its end closing ends the loop."""
        try:
            while self.running and conn.poll():
                self.command(conn, conn.recv())
        except EOFError:
            self.running = False

    def _read(self, node: NodeProcess) -> None:
        assert node.proc.stdout is not None
        chunk = _read_some(node.proc.stdout.fileno())
        if chunk is None:
            return
        if not chunk:
            self._exited(node)
            return
        buf = node.partial
        end = chunk.rfind(b"\n")
        if end < 0:
            buf += chunk
            if len(buf) > MAX_LINE:
                self._overlong(node)
            return
        lines = (bytes(buf) + chunk[:end]).split(b"\n")
        buf[:] = chunk[end + 1 :]
        for line in lines:
            if line.strip():
                self._from_node(node, line)

    def _overlong(self, node: NodeProcess) -> None:
        why = f"wrote more than {MAX_LINE >> 20} MiB on stdout without a newline; killed"
        log.warning("node %s %s", node.id, why)
        node.tail.append(f"(splitbrain: {why})")
        node.partial.clear()
        self.kill(node.id)

    def _exited(self, node: NodeProcess) -> None:
        self._drain_stderr(node)
        code = node.proc.wait(10)
        log.warning(
            "node %s exited with code %s; last stderr lines: %s", node.id, code, list(node.tail)
        )
        self._forget(node, f"exited with code {code}")

    def _read_stderr(self, node: NodeProcess) -> None:
        assert node.proc.stderr is not None
        chunk = _read_some(node.proc.stderr.fileno())
        if chunk == b"":
            self._unregister(node.proc.stderr.fileno())
        elif chunk:
            self._stderr_bytes(node, chunk)

    def _unregister(self, fd: int) -> None:
        try:
            self.selector.unregister(fd)
        except (KeyError, ValueError):
            pass

    def _drain_stderr(self, node: NodeProcess) -> None:
        assert node.proc.stderr is not None
        while not node.proc.stderr.closed:
            try:
                chunk = os.read(node.proc.stderr.fileno(), READ_CHUNK)
            except (BlockingIOError, OSError):
                return
            if not chunk:
                return
            self._stderr_bytes(node, chunk)

    def _stderr_bytes(self, node: NodeProcess, chunk: bytes) -> None:
        if not node.stderr_log.closed:
            node.stderr_log.write(chunk)
        buf = node.err_partial
        buf += chunk
        *lines, rest = bytes(buf).split(b"\n")
        buf[:] = rest[-STDERR_PARTIAL:]
        for line in lines:
            text = line.decode("utf-8", "replace")
            node.tail.append(text)
            if self.log_stderr:
                log.info("%s stderr: %s", node.id, text)

    def _from_node(self, node: NodeProcess, line: bytes) -> None:
        try:
            msg = orjson.loads(line)
        except orjson.JSONDecodeError:
            self.stats.bad_lines += 1
            log.warning("node %s wrote a line that is not JSON: %.300r", node.id, line)
            return
        if (
            not isinstance(msg, dict)
            or not isinstance(msg.get("src"), str)
            or not isinstance(msg.get("dest"), str)
            or not isinstance(msg.get("body"), dict)
        ):
            self.stats.bad_lines += 1
            log.warning(
                "node %s wrote a line that is not a Maelstrom message {src, dest, body}: %.300r",
                node.id,
                line,
            )
            return
        self._route(node.id, msg["src"], msg["dest"], line)

    def _route(self, sender: str, src: str, dest: str, line: bytes) -> None:
        now = self.clock()
        stats = self.stats
        if dest not in self.known_nodes and dest not in self.services and dest not in self.clients:
            stats.unknown_dest += 1
            log.warning("%s sent a message to unknown destination %r: %.300r", sender, dest, line)
            return
        self.next_msg += 1
        msg_id = self.next_msg
        part = stats.part(src, dest)
        stats.sent(part)
        decision = self.network.decide(sender, dest)
        delays = decision.delays_ms
        if decision.dropped:
            fate = b'"dropped":"%s"' % decision.dropped.encode()
        elif len(delays) == 1:
            fate = b'"delays_ms":[%.3f]' % delays[0]
        else:
            fate = b'"delays_ms":[%s]' % b",".join(b"%.3f" % d for d in delays)
        self.journal.write(
            b'{"time":%d,"type":"send","id":%d,"from":"%s",%s,"message":%s}\n'
            % (now - self.t0, msg_id, sender.encode(), fate, line)
        )
        if decision.dropped:
            stats.dropped[decision.dropped] = stats.dropped.get(decision.dropped, 0) + 1
            return
        if len(delays) > 1:
            stats.duplicated += 1
        elif not delays[0]:
            self._deliver(dest, line, part, msg_id, now, now)  # due now: no trip through the heap
            return
        for delay in delays:
            due = now + int(delay * 1_000_000)
            self.seq += 1
            heapq.heappush(self.heap, (due, self.seq, dest, line, part, msg_id))

    def journal_event(self, event: dict[str, Any]) -> None:
        """A fault or node event (``{"type": "faults", ...}``, ``{"type": "node", ...}``),
        in the journal's time line."""
        record = {"time": self.clock() - self.t0} | event
        self.journal.write(orjson.dumps(record) + b"\n")

    def faults_changed(self) -> None:
        f = self.network.faults
        drops = {n: sorted(d) for n, d in sorted(f.drops.items()) if d}
        packet = {
            "loss": f.loss,
            "duplicate": f.duplicate,
            "reorder": f.reorder,
            "delay_ms": f.delay_ms,
        }
        self.journal_event({"type": "faults", "drops": drops, "packet": packet})

    def _journal_drop(self, now: int, msg_id: int, reason: str) -> None:
        self.journal.write(
            b'{"time":%d,"type":"drop","id":%d,"reason":"%s"}\n'
            % (now - self.t0, msg_id, reason.encode())
        )

    def _deliver_due(self) -> None:
        heap, clock = self.heap, self.clock
        now = clock()
        while heap and heap[0][0] <= now:
            due, _, dest, line, part, msg_id = heapq.heappop(heap)
            self._deliver(dest, line, part, msg_id, now, due)

    def _deliver(self, dest: str, line: bytes, part: str, msg_id: int, now: int, due: int) -> None:
        node = self.nodes.get(dest)
        if node is not None:
            if not node.alive:
                self.stats.dropped["down"] = self.stats.dropped.get("down", 0) + 1
                self._journal_drop(now, msg_id, "down")
                return
            node.out += line
            node.out += b"\n"
            self.dirty.add(dest)
        else:
            client = dest in self.clients
            service = self.services.get(dest)
            if not client and service is None:
                self.stats.dropped["gone"] = self.stats.dropped.get("gone", 0) + 1
                self._journal_drop(now, msg_id, "gone")
                return
            if client:
                self.outbox.append((dest, line))
            else:
                assert service is not None
                self._serve(dest, service, orjson.loads(line), now)
        self.stats.received(part, now - due)
        self.journal.write(b'{"time":%d,"type":"recv","id":%d}\n' % (now - self.t0, msg_id))

    def _serve(self, name: str, service: Service, msg: dict[str, Any], now: int) -> None:
        body = msg["body"]
        reply = service.handle(msg["src"], body, now - self.t0)
        reply["in_reply_to"] = body.get("msg_id")
        line = orjson.dumps({"src": name, "dest": msg["src"], "body": reply})
        self._route(name, name, msg["src"], line)

    def _flush(self, node: NodeProcess) -> None:
        proc = node.proc
        assert proc.stdin is not None
        if not node.alive:
            return
        fd = proc.stdin.fileno()
        try:
            n = os.write(fd, node.out) if node.out else 0
        except BlockingIOError:
            n = 0
        except (BrokenPipeError, OSError):
            node.out.clear()
            return
        del node.out[:n]
        if node.out and not node.writing:
            node.writing = True
            self.selector.register(fd, selectors.EVENT_WRITE, ("in", node))
        elif not node.out and node.writing:
            node.writing = False
            self.selector.unregister(fd)

    def close(self) -> None:
        """Kill every node and close the journal."""
        for node in list(self.nodes.values()):
            if node.alive:
                try:
                    os.killpg(node.proc.pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
                self.kill(node.id)
        self.journal.close()
