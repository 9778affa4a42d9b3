"""A real PostgreSQL (Debian's postgresql 15), started by splitbrain in the run directory.

Node n1 runs the primary: its data directory is made by ``initdb`` inside the run
directory and the server runs as the unprivileged ``db-user`` (``postgres`` by default;
PostgreSQL refuses root), listening only on the node's address, never the system
service. ``-o replicas=N`` adds N asynchronous streaming-replication hot standbys on
n2.., each starting from a copy of the primary's fresh data directory (local namespace
nodes only); ``-o reads=replica`` sends read-only transactions to them, at repeatable
read when the run's isolation is serializable (a hot standby refuses serializable).

Durability stays PostgreSQL's default (``fsync=on``, ``synchronous_commit=on``), so a
SIGKILLed server restarted on the same data directory keeps every acknowledged
transaction. Crash recovery first syncs the data directory with one ``syncfs`` rather than
an fsync per file (``recovery_init_sync_method=syncfs``): as durable, and on a busy
machine it serves again in a fraction of a second instead of several. The client is psycopg 3 with explicit connect, statement, lock and
idle-in-transaction timeouts; see ``targets.sql`` for the transactions and the errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from splitbrain.harness.control.node import Node
from splitbrain.targets.server import (
    ConfigFile,
    ReadyCommand,
    Server,
    ServerNode,
    bare,
)
from splitbrain.targets.sql import ISOLATIONS, Dialect, SqlTarget, first_line

PORT = 5432
STATEMENT_TIMEOUT_MS = 2000
LOCK_TIMEOUT_MS = 1000
IDLE_IN_TRANSACTION_MS = 10000
AMBIGUOUS_CLASSES = ("08", "58", "XX", "57P")
"""SQLSTATEs that say the connection or server broke, not that the transaction aborted:
connection exceptions, system errors, internal errors, and shutdowns (57P01..)."""

SETTINGS = (
    "listen_addresses={address}",
    "port={port}",
    "unix_socket_directories=",
    "hba_file={dir}/pg_hba.conf",
    "shared_buffers=16MB",
    "fsync=on",
    "recovery_init_sync_method=syncfs",
    "synchronous_commit=on",
    "wal_level=replica",
    "wal_keep_size=256MB",
    "max_wal_senders=10",
    "hot_standby=on",
    "log_min_messages=warning",
    "log_checkpoints=off",
    "log_min_error_statement=panic",
    "deadlock_timeout=100ms",
)
STANDBY_SETTINGS = ("primary_conninfo={primary_conninfo}",)

PG_HBA = """\
host all all samenet trust
host replication all samenet trust
"""
"""Clients and standbys come from the nodes' own network (the namespaces' /24)."""


def server(settings: Sequence[str]) -> Server:
    command = ["setpriv", "--reuid={db-user}", "--regid={db-user}", "--clear-groups"]
    command += ["{pg-bin}/postgres", "-D", "{data_dir}"]
    for setting in settings:
        command += ["-c", setting]
    return Server(
        name="postgres",
        command=tuple(command),
        port=PORT,
        ready=ReadyCommand(
            ("{pg-bin}/pg_isready", "-q", "-h", "{address}", "-p", "{port}", "-U", "postgres")
        ),
        config=(ConfigFile("pg_hba.conf", PG_HBA),),
        package="postgresql",
    )


PRIMARY = server(SETTINGS)
STANDBY = server(SETTINGS + STANDBY_SETTINGS)

DIALECT = Dialect(
    begin=lambda isolation: [f"BEGIN ISOLATION LEVEL {ISOLATIONS[isolation]}"],
    schema=(
        "CREATE TABLE IF NOT EXISTS la (k BIGINT PRIMARY KEY, v TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS reg (k BIGINT PRIMARY KEY, v BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS elements (e BIGINT PRIMARY KEY)",
        "CREATE TABLE IF NOT EXISTS rw (k BIGINT PRIMARY KEY, v BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS accounts (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL)",
    ),
    probe="SELECT 1 FROM la, reg, elements, rw, accounts LIMIT 1",
    append=(
        "INSERT INTO la AS t (k, v) VALUES (%s, %s) "
        "ON CONFLICT (k) DO UPDATE SET v = t.v || ',' || excluded.v"
    ),
    read_list="SELECT v FROM la WHERE k = %s",
    read_register="SELECT v FROM reg WHERE k = %s",
    write_register=(
        "INSERT INTO reg AS t (k, v) VALUES (%s, %s) ON CONFLICT (k) DO UPDATE SET v = excluded.v"
    ),
    cas_register="UPDATE reg SET v = %s WHERE k = %s AND v = %s",
    create_register="INSERT INTO reg (k, v) VALUES (%s, %s) ON CONFLICT (k) DO NOTHING",
    add_element="INSERT INTO elements (e) VALUES (%s)",
    read_elements="SELECT e FROM elements ORDER BY e",
    read_rw="SELECT v FROM rw WHERE k = %s",
    write_rw="INSERT INTO rw AS t (k, v) VALUES (%s, %s) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
    read_balance="SELECT balance FROM accounts WHERE id = %s",
    write_balance="UPDATE accounts SET balance = %s WHERE id = %s",
    read_balances="SELECT id, balance FROM accounts ORDER BY id",
    create_account="INSERT INTO accounts (id, balance) VALUES (%s, %s)",
)


class Psycopg:
    """psycopg 3, autocommit (the client writes BEGIN and COMMIT), timeouts on both sides."""

    def connect(self, host: str, port: int, timeout: float) -> psycopg.Connection[Any]:
        options = (
            f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c lock_timeout={LOCK_TIMEOUT_MS} "
            f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_MS}"
        )
        return psycopg.connect(
            host=host,
            port=port,
            user="postgres",
            dbname="postgres",
            connect_timeout=max(2, round(timeout)),
            options=options,
            autocommit=True,
            application_name="splitbrain",
        )

    def stated(self, e: Exception) -> str | None:
        state = getattr(e, "sqlstate", None)
        if not isinstance(e, psycopg.Error) or not state or state.startswith(AMBIGUOUS_CLASSES):
            return None
        return f"{state} {first_line(e)}"

    def socket_of(self, conn: psycopg.Connection[Any]) -> int | None:
        try:
            return conn.pgconn.socket
        except psycopg.Error:
            return None


class PostgresTarget(SqlTarget):
    name = "postgres"
    options = SqlTarget.options | {
        "pg-bin": "/usr/lib/postgresql/15/bin",
        "db-user": "postgres",
    }
    driver = Psycopg()
    dialect = DIALECT

    def servers(self, node: ServerNode) -> list[Server]:
        return [PRIMARY if node.index == 0 else STANDBY]

    def placeholders(
        self, node: ServerNode, server: Server, cluster: Sequence[ServerNode]
    ) -> dict[str, str]:
        primary = bare(cluster[0].address)
        return {
            "primary_conninfo": (
                f"host={primary} port={PORT} user=postgres application_name={bare(node.name)}"
            )
        }

    def initialize(self, node: Node, data: str) -> None:
        initdb = [f"{self.settings['pg-bin']}/initdb", "-D", data, "-N", "-A", "trust"]
        initdb += ["-U", "postgres", "-E", "UTF8", "--locale=C", "--no-instructions"]
        node.run(self.as_db_user(initdb), timeout=120).check()

    def make_replica(self, node: Node, data: str) -> None:
        node.run(self.as_db_user(["touch", "--", f"{data}/standby.signal"])).check()

    def replica_isolation(self) -> str:
        return "repeatable-read" if self.isolation == "serializable" else self.isolation
