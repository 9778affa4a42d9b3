"""What the PostgreSQL and MariaDB targets share: isolation levels, transactions, the
classification of client errors, the workloads' SQL, and the servers' life as an
unprivileged user.

Every operation is one explicit transaction at the run's isolation level (``-o isolation=``),
recorded on the completion as ``"isolation"``. The connection is in autocommit mode, so
nothing commits without the client's own ``COMMIT``: an error before it means the
transaction certainly did not happen. Errors are classified as Jepsen does:

- the server states an error (serialization failure, deadlock, lock or statement timeout,
  a unique violation...): ``fail``, also when it answers ``COMMIT`` with it;
- no connection could be made (refused, timed out): ``fail``;
- the connection is lost, or times out, before ``COMMIT`` is sent: ``fail``; during
  ``COMMIT``: ``info`` (it may have committed);
- a read-only transaction changes nothing: any error of it is ``fail``.

Tables, one per data type: ``la`` (list-append: one row per key, the list as text
``"1,2,3"`` appended in place, as Jepsen's SQL tests do), ``reg`` (register), ``elements``
(set: one row per element), ``rw`` (rw-register: one row per key), ``accounts`` (bank: a
transfer reads both balances and writes the values computed from them, as Jepsen's does;
the accounts open, as ``checkers.bank.initial_balances`` says, before clients start).
Replicas (``-o replicas=N``) copy the primary; ``-o reads=replica`` sends read-only
transactions to them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from splitbrain.checkers.bank import DEFAULT_ACCOUNTS, DEFAULT_TOTAL, initial_balances
from splitbrain.harness.base.history import Op
from splitbrain.harness.base.options import option_choice, option_int
from splitbrain.harness.base.protocols import HarnessInputError, data_type
from splitbrain.harness.control.node import Node, NodeError
from splitbrain.targets.server import ClientContext, ServerNode, ServerTarget

ISOLATIONS = {
    "read-uncommitted": "READ UNCOMMITTED",
    "read-committed": "READ COMMITTED",
    "repeatable-read": "REPEATABLE READ",
    "serializable": "SERIALIZABLE",
}
READS = ("primary", "replica")
MAX_REPLICAS = 8
SCHEMA_TIMEOUT = 5.0
CONNECT_SHARE = 0.5
"""The share of an op's time a new connection may take."""
MIN_DEADLINE = 0.2
ROLLBACK_DEADLINE = 1.0
CONNECT_BACKOFF = 0.05
"""Seconds a client waits after a failed connect, so a down server is not hammered."""
OPERATIONS = frozenset(
    {"read", "write", "cas", "set.add", "set.read", "txn", "rw.txn", "bank.transfer", "bank.read"}
)


class Phase:
    """Where a transaction was when it failed, which decides what the failure means."""

    CONNECT = "connect"
    TXN = "txn"
    COMMIT = "commit"


def classify(phase: str, read_only: bool, stated: str | None, text: str) -> tuple[str, str]:
    """(type, error) of a failed transaction; ``stated`` is the server's own error, if any."""
    if phase == Phase.CONNECT:
        return "fail", f"not connected: {text}"
    if stated is not None:
        return "fail", stated
    if read_only:
        return "fail", f"read-only: {text}"
    if phase != Phase.COMMIT:
        return "fail", f"before commit: {text}"
    return "info", f"during commit: {text}"


class Driver(Protocol):
    """A DB-API driver as the client needs it (psycopg, PyMySQL)."""

    def connect(self, host: str, port: int, timeout: float) -> Any:
        """A connection in autocommit mode with the server-side timeouts set."""

    def stated(self, e: Exception) -> str | None:
        """The error as the server stated it (the transaction certainly aborted), else None."""

    def socket_of(self, conn: Any) -> int | None:
        """The connection's socket descriptor, to cut it when an op overruns."""


@dataclass(frozen=True)
class Dialect:
    """The SQL one database speaks for the workloads (parameters as ``%s``)."""

    begin: Callable[[str], list[str]]
    """Statements that start a transaction at an isolation level (ISOLATIONS key)."""
    schema: tuple[str, ...]
    probe: str
    """A statement that succeeds once every table exists (on a replica: once replicated)."""
    append: str
    """Appends ``%s`` (text) to key ``%s``'s list, creating the row if need be: (k, v)."""
    read_list: str
    read_register: str
    write_register: str
    """Upsert (k, v)."""
    cas_register: str
    """UPDATE ... SET v = new WHERE k = ... AND v = old: (new, k, old)."""
    create_register: str
    """Insert (k, v) unless k exists."""
    add_element: str
    read_elements: str
    read_rw: str
    write_rw: str
    """Upsert (k, v)."""
    read_balance: str
    write_balance: str
    """(balance, id)."""
    read_balances: str
    create_account: str


@contextlib.contextmanager
def deadline(fd: int | None, seconds: float) -> Iterator[None]:
    """Cut the connection's socket if the block overruns ``seconds``, so a paused or
    partitioned server cannot hold a client past the op timeout (libpq has no read timeout)."""
    if fd is None or fd < 0:
        yield
        return
    timer = threading.Timer(max(seconds, MIN_DEADLINE), _cut, (fd,))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _cut(fd: int) -> None:
    with contextlib.suppress(OSError):
        s = socket.socket(fileno=fd)
        try:
            s.shutdown(socket.SHUT_RDWR)
        finally:
            s.detach()


def first_line(e: object) -> str:
    return (str(e).strip().splitlines() or [""])[0]


class Failed(Exception):
    """A transaction failed; carries the phase it failed in."""

    def __init__(self, phase: str, cause: Exception) -> None:
        super().__init__(f"{type(cause).__name__}: {first_line(cause)}")
        self.phase = phase
        self.cause = cause


class Session:
    """One connection to one node, opened lazily and dropped after a broken transaction."""

    def __init__(
        self, driver: Driver, dialect: Dialect, host: str, port: int, name: str, timeout: float
    ) -> None:
        self.driver, self.dialect = driver, dialect
        self.host, self.port, self.name = host, port, name
        self.timeout = timeout
        """Seconds one op may take, connecting included."""
        self.conn: Any = None

    def _connection(self) -> Any:
        if self.conn is None:
            try:
                self.conn = self.driver.connect(self.host, self.port, self.timeout * CONNECT_SHARE)
            except Exception as e:
                time.sleep(CONNECT_BACKOFF)
                raise Failed(Phase.CONNECT, e) from e
        return self.conn

    def transaction(self, isolation: str, body: Callable[[Txn], Any]) -> Any:
        """Run ``body`` in one transaction and commit; Failed on any error, Refused (after a
        rollback) when the body refuses. A broken connection is closed only once its
        deadline is off, so the deadline never cuts a descriptor reused meanwhile."""
        started = time.monotonic()
        conn = self._connection()
        phase = Phase.TXN
        left = self.timeout - (time.monotonic() - started)
        try:
            with deadline(self.driver.socket_of(conn), left):
                txn = Txn(conn.cursor())
                for statement in self.dialect.begin(isolation):
                    txn.rows(statement)
                result = body(txn)
                phase = Phase.COMMIT
                txn.rows("COMMIT")
                return result
        except Refused:
            self._rollback()
            raise
        except Exception as e:
            if self.driver.stated(e) is None:
                self.close()
            else:
                self._rollback()
            raise Failed(phase, e) from e

    def _rollback(self) -> None:
        """Roll back on a connection that still works (under a deadline too); drop it if
        that fails."""
        try:
            with deadline(self.driver.socket_of(self.conn), ROLLBACK_DEADLINE):
                self.conn.cursor().execute("ROLLBACK")
        except Exception:
            self.close()

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
            self.conn = None


class Txn:
    """The statements of one transaction, on one cursor."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor
        self.rowcount = -1

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Execute ``sql``; its rows (none for a statement that returns none)."""
        self.cursor.execute(sql, params or None)
        self.rowcount = self.cursor.rowcount
        return list(self.cursor.fetchall()) if self.cursor.description else []


def decode_list(text: str | None) -> list[int]:
    return [int(x) for x in text.split(",")] if text else []


class SqlClient:
    """Performs each op as one transaction on the primary, or a read-only one on a replica."""

    def __init__(
        self,
        driver: Driver,
        writer: Session,
        reader: Session | None,
        isolation: str,
        replica_isolation: str,
        data: str,
        negative_balances: bool = False,
    ) -> None:
        self.driver = driver
        self.writer = writer
        self.reader = reader
        self.isolation = isolation
        self.replica_isolation = replica_isolation
        self.dialect = writer.dialect
        self._perform: dict[str, Callable[[Op, Txn], Any]] = {
            "register": self._register,
            "set": self._set,
            "list-append": self._list_append,
            "rw-register": self._rw_register,
            "bank": self._bank,
        }
        if data not in self._perform:
            raise HarnessInputError(f"the SQL targets run no {data} workload")
        self.data = data
        self.negative_balances = negative_balances

    def invoke(self, op: Op) -> Op:
        read_only = is_read_only(op)
        session = self.reader if read_only and self.reader is not None else self.writer
        isolation = self.replica_isolation if session is self.reader else self.isolation
        perform = self._perform[self.data]
        try:
            value = session.transaction(isolation, lambda txn: perform(op, txn))
        except Failed as e:
            typ, error = classify(e.phase, read_only, self.driver.stated(e.cause), str(e))
            done = op.completion(typ, op.value, node=session.name, error=error)
        except Refused as e:
            done = op.completion("fail", op.value, node=session.name, error=str(e))
        else:
            done = op.completion("ok", value, node=session.name)
        return done.replace(extra={"isolation": isolation})

    def _register(self, op: Op, txn: Txn) -> Any:
        d = self.dialect
        key = int(op.key if op.key is not None else 0)
        if op.f == "read":
            rows = txn.rows(d.read_register, key)
            return rows[0][0] if rows else None
        if op.f == "write":
            txn.rows(d.write_register, key, int(op.value))
            return op.value
        if op.f == "cas":
            old, new = op.value
            if old is None:
                txn.rows(d.create_register, key, int(new))
            else:
                txn.rows(d.cas_register, int(new), key, int(old))
            if txn.rowcount != 1:
                raise Refused(f"cas: the register does not hold {old!r}")
            return op.value
        raise Refused(f"unsupported op {op.f!r}")

    def _set(self, op: Op, txn: Txn) -> Any:
        if op.f == "add":
            txn.rows(self.dialect.add_element, int(op.value))
            return op.value
        if op.f == "read":
            return [int(r[0]) for r in txn.rows(self.dialect.read_elements)]
        raise Refused(f"unsupported op {op.f!r}")

    def _list_append(self, op: Op, txn: Txn) -> Any:
        if op.f != "txn":
            raise Refused(f"unsupported op {op.f!r}")
        done: list[list[Any]] = []
        for f, k, v in op.value:
            if f == "append":
                txn.rows(self.dialect.append, int(k), str(int(v)))
                done.append([f, k, v])
            else:
                rows = txn.rows(self.dialect.read_list, int(k))
                done.append([f, k, decode_list(rows[0][0] if rows else None)])
        return done

    def _rw_register(self, op: Op, txn: Txn) -> Any:
        if op.f != "txn":
            raise Refused(f"unsupported op {op.f!r}")
        done: list[list[Any]] = []
        for f, k, v in op.value:
            if f == "w":
                txn.rows(self.dialect.write_rw, int(k), int(v))
                done.append([f, k, v])
            else:
                rows = txn.rows(self.dialect.read_rw, int(k))
                done.append([f, k, rows[0][0] if rows else None])
        return done

    def _bank(self, op: Op, txn: Txn) -> Any:
        """Jepsen's transfer: read both balances, then write the values computed from them
        (so an isolation level that loses updates shows in the totals)."""
        d = self.dialect
        if op.f == "read":
            return {int(a): int(b) for a, b in txn.rows(d.read_balances)}
        if op.f != "transfer":
            raise Refused(f"unsupported op {op.f!r}")
        source, dest, amount = int(op.value["from"]), int(op.value["to"]), int(op.value["amount"])
        balances = {}
        for account in (source, dest):
            rows = txn.rows(d.read_balance, account)
            if not rows:
                raise Refused(f"no account {account}")
            balances[account] = int(rows[0][0])
        if balances[source] < amount and not self.negative_balances:
            raise Refused(f"account {source} holds {balances[source]} < {amount}")
        txn.rows(d.write_balance, balances[source] - amount, source)
        txn.rows(d.write_balance, balances[dest] + amount, dest)
        return op.value

    def close(self) -> None:
        self.writer.close()
        if self.reader is not None:
            self.reader.close()


class Refused(Exception):
    """The transaction rolled back by the client's own decision (a CAS that did not match)."""


def is_read_only(op: Op) -> bool:
    if op.f == "txn":
        return isinstance(op.value, list) and all(m[0] == "r" for m in op.value)
    return op.f == "read"


SIGNAL_ROUNDS = 5
"""Scans for server processes to signal: a child forked while the first scan ran is
found by the next (the postmaster, signalled first as the daemon, forks no more)."""
SIGNAL_BY_CWD = (
    'd=$(readlink -f -- "$1") || exit 0; '
    'for c in $(find /proc -mindepth 2 -maxdepth 2 -name cwd -lname "$d" 2>/dev/null); do '
    'p=${c#/proc/}; kill -s "$2" "${p%/cwd}" 2>/dev/null; '
    "done; exit 0"
)
"""Signals every process whose working directory is the data directory: a PostgreSQL
server's backends each run in a session of their own (so a process-group signal misses
them), but every one of them works in the data directory."""


def working_in(directory: Path) -> list[int]:
    """Pids of this machine's processes whose working directory is ``directory``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if os.readlink(entry / "cwd") == str(directory):
                    found.append(int(entry.name))
    return found


def wait_for(ready: Callable[[], bool], seconds: float, failure: str) -> None:
    """Ask ``ready`` (an exception counts as not yet) until it says True; else NodeError."""
    until = time.monotonic() + seconds
    while True:
        with contextlib.suppress(Exception):
            if ready():
                return
        if time.monotonic() > until:
            raise NodeError(failure)
        time.sleep(0.2)


class SqlTarget(ServerTarget):
    """A primary on n1 and ``replicas`` copies of it on n2..; the servers run as ``db-user``."""

    options: dict[str, str] = {
        "nodes": "1",
        "replicas": "0",
        "reads": "primary",
        "isolation": "serializable",
    }
    operations = OPERATIONS
    driver: Driver
    dialect: Dialect
    db_user = ""

    def configure(self, options: dict[str, str]) -> None:
        if "nodes" in options and "replicas" not in options:
            options = options | {"replicas": str(int(options["nodes"]) - 1)}
        merged = self.options | options
        self.replicas = option_int(merged, "replicas", 0, MAX_REPLICAS)
        if "nodes" in options and int(options["nodes"]) != self.replicas + 1:
            raise HarnessInputError(
                f"-o nodes={options['nodes']} and -o replicas={self.replicas} disagree: "
                "a primary and its replicas are replicas+1 nodes"
            )
        super().configure(options | {"nodes": str(self.replicas + 1)})
        self.isolation = option_choice(self.settings, "isolation", tuple(ISOLATIONS))
        self.reads = option_choice(self.settings, "reads", READS)
        if self.reads == "replica" and self.replicas == 0:
            raise HarnessInputError("-o reads=replica needs -o replicas=1 or more")
        self.db_user = self.settings["db-user"]

    def as_db_user(self, argv: Sequence[str]) -> list[str]:
        """``argv`` run as the unprivileged database user (the servers refuse root)."""
        user = self.db_user
        return ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *argv]

    def own_data_dir(self, node: Node) -> None:
        """An empty data directory owned by the database user, which must reach it."""
        data = str(self.data_dir(node))
        node.mkdir(self.data_dir(node))
        node.run(["chown", f"{self.db_user}:", data]).check()
        if not node.run(self.as_db_user(["test", "-w", data])).ok:
            raise HarnessInputError(
                f"{self.name}: user {self.db_user} cannot reach {data} (a parent directory "
                "is closed to it): choose a --store under a directory others may traverse"
            )

    def signal_all(self, node: Node, sig: str) -> None:
        """Send ``sig`` to every process of the node's server, backends included (on a
        namespace node, whose processes are this machine's, without a shell)."""
        data = self.data_dir(node)
        if node.kind != "netns":
            node.run(["sh", "-c", SIGNAL_BY_CWD, "sh", str(data), sig])
            return
        signalled: set[int] = set()
        for _ in range(SIGNAL_ROUNDS):
            fresh = set(working_in(data.resolve())) - signalled
            if not fresh:
                return
            for pid in fresh:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.Signals[f"SIG{sig}"])
            signalled |= fresh

    def kill(self, node: str) -> None:
        super().kill(node)
        self.signal_all(self.node(node), "KILL")

    def pause(self, node: str) -> None:
        super().pause(node)
        self.signal_all(self.node(node), "STOP")

    def resume(self, node: str) -> None:
        self.signal_all(self.node(node), "CONT")
        super().resume(node)

    def teardown(self) -> None:
        for node in self._nodes:
            with contextlib.suppress(NodeError):
                self.signal_all(node, "KILL")
                self.signal_all(node, "CONT")
        super().teardown()

    def node_index(self, node: Node) -> int:
        return [n.name for n in self._nodes].index(node.name)

    # Hooks of a database.

    def initialize(self, node: Node, data: str) -> None:
        """Make the primary's fresh data directory ``data`` (initdb and the like)."""
        raise NotImplementedError

    def make_replica(self, node: Node, data: str) -> None:
        """Turn ``data``, a copy of the primary's fresh data directory, into a replica's."""

    def start_replication(self, primary: ServerNode, replica: ServerNode) -> None:
        """Point a running replica at the primary, if the database needs it done live."""

    # The life of primary and replicas.

    def check(self) -> None:
        super().check()
        if self.replicas and any(n.kind != "netns" for n in self._nodes):
            raise HarnessInputError(
                f"{self.name}: -o replicas= runs on local namespace nodes only (replicas start "
                "from a copy of the primary's fresh data directory)"
            )

    def prepare(self, node: Node, service: str) -> None:
        """The primary's data directory is initialized; each replica's is a copy of it, made
        before any server starts (nodes are prepared in order, n1 first)."""
        self.own_data_dir(node)
        data = str(self.data_dir(node))
        if self.node_index(node) == 0:
            self.initialize(node, data)
        else:
            primary = str(self.data_dir(self._nodes[0]))
            node.run(self.as_db_user(["cp", "-a", "--", f"{primary}/.", data])).check()
            self.make_replica(node, data)
        super().prepare(node, service)

    def after_start(self) -> None:
        primary, *replicas = self.cluster()
        self.create_schema(primary)
        if self.ctx is not None and data_type(self.ctx.operations) == "bank":
            self.open_accounts(primary, self.ctx.workload_options)
        for replica in replicas:
            self.start_replication(primary, replica)
        for replica in replicas:
            wait_for(
                lambda r=replica: self.sees_schema(r),
                30,
                f"{self.name}: replica {replica.name} did not replicate the tables within 30s; "
                f"logs in {self.log_dir}",
            )

    def _statements(self, node: ServerNode, statements: Sequence[str]) -> None:
        conn = self.driver.connect(node.address, node.port, SCHEMA_TIMEOUT)
        try:
            cur = conn.cursor()
            for statement in statements:
                cur.execute(statement)
        finally:
            conn.close()

    def create_schema(self, node: ServerNode) -> None:
        """Create the workloads' tables on the primary, once it takes connections."""

        def created() -> bool:
            self._statements(node, self.dialect.schema)
            return True

        wait_for(created, 30, f"{self.name}: could not create the tables on {node.name}")

    def open_accounts(self, node: ServerNode, workload_options: Mapping[str, Any]) -> None:
        """The bank's starting balances (``checkers.bank.initial_balances``) on the primary."""
        balances = initial_balances(
            int(workload_options.get("accounts", DEFAULT_ACCOUNTS)),
            int(workload_options.get("total", DEFAULT_TOTAL)),
        )
        conn = self.driver.connect(node.address, node.port, SCHEMA_TIMEOUT)
        try:
            cur = conn.cursor()
            for account, balance in balances.items():
                cur.execute(self.dialect.create_account, (account, balance))
        finally:
            conn.close()

    def sees_schema(self, node: ServerNode) -> bool:
        """True when ``node`` (a replica) has every table the primary created."""
        self._statements(node, [self.dialect.probe])
        return True

    def replica_isolation(self) -> str:
        """The isolation read-only transactions on a replica run at."""
        return self.isolation

    def new_client(self, ctx: ClientContext) -> SqlClient:
        primary = ctx.nodes[0]
        timeout = max(1.0, ctx.op_timeout * 0.8)
        writer = Session(
            self.driver, self.dialect, primary.address, primary.port, primary.name, timeout
        )
        reader = None
        if self.reads == "replica":
            replicas = ctx.nodes[1:]
            node = replicas[ctx.worker % len(replicas)]
            reader = Session(self.driver, self.dialect, node.address, node.port, node.name, timeout)
        return SqlClient(
            self.driver,
            writer,
            reader,
            self.isolation,
            self.replica_isolation(),
            data_type(ctx.operations),
            self.ctx is not None
            and bool(self.ctx.workload_options.get("negative-balances", False)),
        )
