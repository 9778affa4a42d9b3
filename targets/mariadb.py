"""A real MariaDB (Debian's mariadb-server 10.11), started by splitbrain in the run directory.

Node n1 runs the primary: ``mariadb-install-db`` makes its data directory inside the run
directory, and ``mariadbd`` runs as the unprivileged ``db-user`` (``mysql``), listening only
on the node's address with its socket in the data directory, never the system service.
There are no accounts to manage (``--skip-grant-tables``; only the namespaces' own network
reaches it). ``-o replicas=N`` adds N replicas on n2.. (asynchronous binlog replication
with GTIDs, each starting from a copy of the primary's fresh data directory); ``-o
reads=replica`` sends read-only transactions to them.

Durability stays InnoDB's default (``innodb_flush_log_at_trx_commit=1``, and ``sync_binlog=1``
when there is a binlog), so a SIGKILLed server keeps every acknowledged transaction. The
client is PyMySQL with explicit connect, read and write timeouts, and lock-wait and
statement timeouts on the server; see ``targets.sql`` for the transactions and the errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pymysql
from pymysql.constants import CLIENT

from splitbrain.harness.base.protocols import HarnessInputError
from splitbrain.harness.base.values import has_control
from splitbrain.harness.control.node import Node
from splitbrain.targets.server import Server, ServerNode
from splitbrain.targets.sql import ISOLATIONS, Dialect, SqlTarget, first_line

PORT = 3306
DB = "splitbrain"
LOCK_WAIT_TIMEOUT_S = 1
STATEMENT_TIMEOUT_S = 2
AMBIGUOUS_CODES = frozenset({1053, 1152, 1158, 1159, 1160, 1161, 1927})
"""Server error codes that say the connection or server broke (shutdown, network errors,
a killed connection), not that the transaction aborted. Codes from 2000 are the client's."""

INNODB = (
    "--innodb-buffer-pool-size=16M",
    "--innodb-log-file-size=8M",
)
COMMAND = (
    "setpriv", "--reuid={db-user}", "--regid={db-user}", "--clear-groups",
    "{mariadbd}", "--no-defaults",
    "--datadir={data_dir}", "--socket=mysqld.sock", "--pid-file=mysqld.pid",
    "--bind-address={address}", "--port={port}",
    "--skip-grant-tables", "--skip-name-resolve", "--skip-symbolic-links",
    *INNODB,
    "--innodb-flush-log-at-trx-commit=1",
    "--server-id={server_id}",
    "--log-bin={data_dir}/binlog", "--sync-binlog=1", "--binlog-format=ROW",
    "--relay-log={data_dir}/relay",
    "--log-warnings=1",
)  # fmt: skip
PRIMARY = Server(name="mariadb", command=COMMAND, port=PORT, package="mariadb-server")
REPLICA = Server(
    name="mariadb", command=(*COMMAND, "--read-only"), port=PORT, package="mariadb-server"
)

DIALECT = Dialect(
    begin=lambda isolation: [
        f"SET TRANSACTION ISOLATION LEVEL {ISOLATIONS[isolation]}",
        "START TRANSACTION",
    ],
    schema=(
        f"CREATE DATABASE IF NOT EXISTS {DB}",
        f"CREATE TABLE IF NOT EXISTS {DB}.la (k BIGINT PRIMARY KEY, v TEXT NOT NULL) ENGINE=InnoDB",
        f"CREATE TABLE IF NOT EXISTS {DB}.reg (k BIGINT PRIMARY KEY, v BIGINT NOT NULL) ENGINE=InnoDB",
        f"CREATE TABLE IF NOT EXISTS {DB}.elements (e BIGINT PRIMARY KEY) ENGINE=InnoDB",
        f"CREATE TABLE IF NOT EXISTS {DB}.rw (k BIGINT PRIMARY KEY, v BIGINT NOT NULL) ENGINE=InnoDB",
        f"CREATE TABLE IF NOT EXISTS {DB}.accounts (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL) "
        "ENGINE=InnoDB",
    ),
    probe=f"SELECT 1 FROM {DB}.la, {DB}.reg, {DB}.elements, {DB}.rw, {DB}.accounts LIMIT 1",
    append=(
        f"INSERT INTO {DB}.la (k, v) VALUES (%s, %s) "
        "ON DUPLICATE KEY UPDATE v = CONCAT(v, ',', VALUES(v))"
    ),
    read_list=f"SELECT v FROM {DB}.la WHERE k = %s",
    read_register=f"SELECT v FROM {DB}.reg WHERE k = %s",
    write_register=(
        f"INSERT INTO {DB}.reg (k, v) VALUES (%s, %s) ON DUPLICATE KEY UPDATE v = VALUES(v)"
    ),
    cas_register=f"UPDATE {DB}.reg SET v = %s WHERE k = %s AND v = %s",
    create_register=f"INSERT IGNORE INTO {DB}.reg (k, v) VALUES (%s, %s)",
    add_element=f"INSERT INTO {DB}.elements (e) VALUES (%s)",
    read_elements=f"SELECT e FROM {DB}.elements ORDER BY e",
    read_rw=f"SELECT v FROM {DB}.rw WHERE k = %s",
    write_rw=f"INSERT INTO {DB}.rw (k, v) VALUES (%s, %s) ON DUPLICATE KEY UPDATE v = VALUES(v)",
    read_balance=f"SELECT balance FROM {DB}.accounts WHERE id = %s",
    write_balance=f"UPDATE {DB}.accounts SET balance = %s WHERE id = %s",
    read_balances=f"SELECT id, balance FROM {DB}.accounts ORDER BY id",
    create_account=f"INSERT INTO {DB}.accounts (id, balance) VALUES (%s, %s)",
)


class PyMySQL:
    """PyMySQL, autocommit (the client writes START TRANSACTION and COMMIT)."""

    def connect(self, host: str, port: int, timeout: float) -> pymysql.connections.Connection:
        return pymysql.connect(
            host=host,
            port=port,
            user="root",
            connect_timeout=timeout,
            read_timeout=timeout,
            write_timeout=timeout,
            autocommit=True,
            client_flag=CLIENT.FOUND_ROWS,
            init_command=(
                f"SET SESSION innodb_lock_wait_timeout={LOCK_WAIT_TIMEOUT_S}, "
                f"lock_wait_timeout={LOCK_WAIT_TIMEOUT_S}, "
                f"max_statement_time={STATEMENT_TIMEOUT_S}"
            ),
        )

    def stated(self, e: Exception) -> str | None:
        if not isinstance(e, pymysql.MySQLError) or not e.args:
            return None
        code = e.args[0]
        if not isinstance(code, int) or code >= 2000 or code in AMBIGUOUS_CODES:
            return None
        return f"{code} {first_line(e.args[1] if len(e.args) > 1 else '')}"

    def socket_of(self, conn: pymysql.connections.Connection) -> int | None:
        sock: Any = getattr(conn, "_sock", None)
        return sock.fileno() if sock is not None else None


class MariaDBTarget(SqlTarget):
    name = "mariadb"
    options = SqlTarget.options | {
        "mariadbd": "/usr/sbin/mariadbd",
        "install-db": "/usr/bin/mariadb-install-db",
        "db-user": "mysql",
    }
    driver = PyMySQL()
    dialect = DIALECT

    def servers(self, node: ServerNode) -> list[Server]:
        return [PRIMARY if node.index == 0 else REPLICA]

    def placeholders(
        self, node: ServerNode, server: Server, cluster: Sequence[ServerNode]
    ) -> dict[str, str]:
        return {"server_id": str(node.index + 1)}

    def initialize(self, node: Node, data: str) -> None:
        if has_control(data):
            raise HarnessInputError(
                f"mariadb: the data directory {data!r} holds a control character, which "
                "mariadb-install-db (a shell script) cannot take; use a --store without one"
            )
        install = [self.settings["install-db"], "--no-defaults", f"--datadir={data}"]
        install += ["--auth-root-authentication-method=normal", "--skip-test-db", *INNODB]
        node.run(self.as_db_user(install), timeout=180).check()

    def start_replication(self, primary: ServerNode, replica: ServerNode) -> None:
        conn = self.driver.connect(replica.address, replica.port, 5.0)
        try:
            cur = conn.cursor()
            cur.execute(
                "CHANGE MASTER TO MASTER_HOST=%s, MASTER_PORT=%s, MASTER_USER='root', "
                "MASTER_CONNECT_RETRY=1, MASTER_HEARTBEAT_PERIOD=1, MASTER_USE_GTID=slave_pos",
                (primary.address, primary.port),
            )
            cur.execute("START SLAVE")
        finally:
            conn.close()
