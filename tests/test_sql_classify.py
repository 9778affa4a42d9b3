"""How the SQL targets classify a failed transaction (no server needed): the server's own
errors (from the drivers' real exception classes) and the phase the transaction was in."""

from __future__ import annotations

import psycopg
import pymysql
import pytest

from splitbrain.targets.mariadb import PyMySQL
from splitbrain.targets.postgres import Psycopg
from splitbrain.targets.sql import Phase, classify


@pytest.mark.parametrize(
    ("phase", "read_only", "stated", "expected"),
    [
        (Phase.CONNECT, False, None, ("fail", "not connected: refused")),
        (Phase.TXN, False, "40001 could not serialize", ("fail", "40001 could not serialize")),
        (Phase.COMMIT, False, "40001 could not serialize", ("fail", "40001 could not serialize")),
        (Phase.TXN, False, None, ("fail", "before commit: refused")),
        (Phase.COMMIT, True, None, ("fail", "read-only: refused")),
        (Phase.COMMIT, False, None, ("info", "during commit: refused")),
    ],
)
def test_classify(phase: str, read_only: bool, stated: str | None, expected: tuple) -> None:
    assert classify(phase, read_only, stated, "refused") == expected


@pytest.mark.parametrize(
    ("error", "stated"),
    [
        (psycopg.errors.SerializationFailure("could not serialize access"), "40001"),
        (psycopg.errors.DeadlockDetected("deadlock detected"), "40P01"),
        (psycopg.errors.LockNotAvailable("canceling statement due to lock timeout"), "55P03"),
        (psycopg.errors.QueryCanceled("canceling statement due to statement timeout"), "57014"),
        (psycopg.errors.UniqueViolation("duplicate key"), "23505"),
        (psycopg.errors.AdminShutdown("terminating connection"), None),
        (psycopg.errors.ConnectionFailure("connection failure"), None),
        (psycopg.OperationalError("server closed the connection unexpectedly"), None),
        (OSError("unrelated"), None),
    ],
)
def test_postgres_errors_the_server_states(error: Exception, stated: str | None) -> None:
    found = Psycopg().stated(error)
    assert (found.split()[0] if found else None) == stated


@pytest.mark.parametrize(
    ("error", "stated"),
    [
        (pymysql.err.OperationalError(1213, "Deadlock found"), "1213"),
        (pymysql.err.OperationalError(1205, "Lock wait timeout exceeded"), "1205"),
        (pymysql.err.IntegrityError(1062, "Duplicate entry"), "1062"),
        (pymysql.err.OperationalError(1927, "Connection was killed"), None),
        (pymysql.err.OperationalError(1053, "Server shutdown in progress"), None),
        (pymysql.err.OperationalError(2013, "Lost connection to server during query"), None),
        (pymysql.err.OperationalError(2003, "Can't connect"), None),
        (OSError("unrelated"), None),
    ],
)
def test_mariadb_errors_the_server_states(error: Exception, stated: str | None) -> None:
    found = PyMySQL().stated(error)
    assert (found.split()[0] if found else None) == stated
