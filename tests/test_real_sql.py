"""Real PostgreSQL and MariaDB, started by splitbrain: the claims in claims/postgres.yaml and
claims/mariadb.yaml, each run once at a short time limit, with more asserted than the
verdict (the anomalies found, how errors were classified, the isolation recorded, that
faults happened and the database recovered, that nothing of the run is left).

The lifecycle test drives a target directly: the servers run as the unprivileged database
user with their data directory inside the run directory; SIGKILL reaches every server
process (PostgreSQL's backends run in sessions of their own) and a restart on the same
data directory keeps every acknowledged insert; a pause stops every process.

Rates observed when these were written (shared 2-core machine, 5 s runs, 10 workers, 3
keys, 5 seeds each): PostgreSQL repeatable read G2-item 5 of 5 (47 to 67 cases, nothing
else); read committed G-single and lost update 5 of 5; MariaDB repeatable read G-single and
lost update 5 of 5; every other claim met in every run (3 full runs of this file). Elle's
rw-register found G2-item at PostgreSQL repeatable read in only 4 of 5 runs, so no claim
rests on that.
"""

from __future__ import annotations

import dataclasses
import json
import pwd
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from real_helpers import leftovers, new_ctx, traversable_store

from splitbrain.harness.base.history import Op
from splitbrain.harness.engine import core
from splitbrain.harness.front import gate
from splitbrain.harness.front.cli import main
from splitbrain.targets.mariadb import MariaDBTarget
from splitbrain.targets.postgres import PostgresTarget
from splitbrain.targets.sql import SqlTarget, working_in

pytestmark = [pytest.mark.real, pytest.mark.timeout(180)]

CLAIMS = Path(__file__).resolve().parent.parent / "claims"
TIME_LIMIT = 4.0
KILL_TIME_LIMIT, KILL_INTERVAL = 6.0, 2.0
"""A restarted server replays its WAL and checkpoints before it serves again (about a
second on a busy machine): each restart gets two seconds to serve before the next kill."""


@pytest.fixture
def store() -> Iterator[Path]:
    with traversable_store() as path:
        yield path


def claims_of(name: str) -> list[gate.Claim]:
    return gate.parse_claims(CLAIMS / f"{name}.yaml")


def claim_params() -> list[object]:
    return [pytest.param(c, id=c.name) for db in ("postgres", "mariadb") for c in claims_of(db)]


def client_ops(result: core.RunResult) -> list[Op]:
    return [op for op in result.history if op.is_client and op.type != "invoke"]


def elle_anomalies(result: core.RunResult) -> set[str]:
    """The anomalies list-append's or rw-register's checker found (none for other workloads)."""
    found: set[str] = set()
    for name, checked in result.results["checkers"].items():
        if name.startswith("elle"):
            found |= set(checked.get("anomaly_types") or [])
    return found


def nemesis_done(result: core.RunResult, f: str) -> list[Op]:
    return [op for op in result.history if not op.is_client and op.f == f and op.type != "invoke"]


@pytest.mark.parametrize("claim", claim_params())
def test_claim_holds_as_written(claim: gate.Claim, store: Path) -> None:
    spec = claim.build_spec(store=store, time_limit=TIME_LIMIT)
    if spec.nemesis == ["kill"]:
        spec.time_limit, spec.nemesis_interval = KILL_TIME_LIMIT, KILL_INTERVAL
        spec.settle = 1.0
    result = core.run(spec)
    test = json.loads((result.run_dir / "test.json").read_text())
    assert gate.expectation_met(claim, result.valid), result.run_dir
    assert not result.teardown_errors
    assert leftovers(test["identity"], str(result.run_dir)) == []
    assert not (result.run_dir / "nodes").exists()

    done = client_ops(result)
    assert sum(op.type == "ok" for op in done) >= 50
    isolation = spec.options.get("isolation", "serializable")
    replica = "repeatable-read" if spec.target == "postgres" else isolation
    assert {op.extra["isolation"] for op in done} <= {isolation, replica}
    for op in done:
        if op.type == "info":
            assert op.error is None or op.error.startswith("during commit"), op
    if "kill" in spec.nemesis:
        kills, starts = nemesis_done(result, "kill"), nemesis_done(result, "start")
        assert kills and starts
        restarted = min(op.time or 0 for op in starts if op.value)
        assert any(op.type == "ok" and (op.time or 0) > restarted for op in done)

    anomalies = elle_anomalies(result)
    if claim.name.endswith("repeatable-read-allows-write-skew"):
        assert "G2-item" in anomalies
        assert not anomalies & {"G-single", "lost-update", "G0", "G1a", "G1b", "G1c"}
    if claim.name.endswith("read-committed-allows-read-skew-and-lost-update"):
        assert anomalies & {"G-single", "lost-update"}
        assert not anomalies & {"G0", "G1a", "G1b", "G1c"}
    if claim.name == "mariadb-repeatable-read-loses-updates":
        assert anomalies & {"G-single", "lost-update"}
    if spec.workload == "bank" and claim.expect == "violated":
        assert result.results["checkers"]["bank"]["problem_counts"].get("wrong-total", 0) > 0
    if (
        isolation == "serializable"
        and spec.target == "postgres"
        and spec.workload in ("list-append", "rw-register")
    ):
        assert any(op.type == "fail" and op.error.startswith("40001") for op in done)


def owners_and_states(data: Path) -> dict[int, tuple[int, str]]:
    """(uid, state letter) of each process working in ``data``; one that exits meanwhile is
    left out (PostgreSQL starts and ends autovacuum workers on its own)."""
    found = {}
    for pid in working_in(data):
        try:
            status = Path(f"/proc/{pid}/status").read_text().splitlines()
        except OSError:
            continue
        fields = {line.split(":")[0]: line.split(":", 1)[1].split() for line in status}
        found[pid] = (int(fields["Uid"][0]), fields["State"][0])
    return found


@pytest.mark.parametrize(("cls", "user"), [(PostgresTarget, "postgres"), (MariaDBTarget, "mysql")])
def test_server_runs_unprivileged_in_the_run_dir_and_keeps_acknowledged_writes(
    cls: type[SqlTarget], user: str, store: Path
) -> None:
    ctx = dataclasses.replace(
        new_ctx(store), operations=frozenset({"set.add", "set.read"}), concurrency=1
    )
    target = cls()
    target.setup(ctx)
    try:
        node = target.node("n1")
        data = target.data_dir(node).resolve()
        assert data.is_relative_to(store)
        uids = {uid for uid, _state in owners_and_states(data).values()}
        assert uids == {pwd.getpwnam(user).pw_uid}
        client = target.client(0)
        added = [client.invoke(Op("invoke", "add", 0, value=v)) for v in range(20)]
        assert [op.type for op in added] == ["ok"] * 20
        assert added[0].extra == {"isolation": "serializable"}

        target.pause("n1")
        states = {state for _uid, state in owners_and_states(data).values()}
        for _ in range(20):
            if states == {"T"}:
                break
            time.sleep(0.1)
            states = {state for _uid, state in owners_and_states(data).values()}
        assert states == {"T"}
        target.resume("n1")

        target.kill("n1")
        time.sleep(0.3)
        assert working_in(data) == []
        broken = client.invoke(Op("invoke", "add", 0, value=99))
        assert broken.type == "fail" and broken.error.startswith("before commit"), broken
        refused = client.invoke(Op("invoke", "add", 0, value=99))
        assert refused.type == "fail" and refused.error.startswith("not connected"), refused
        target.start("n1")
        deadline = time.monotonic() + 30
        read = client.invoke(Op("invoke", "read", 0))
        while read.type != "ok" and time.monotonic() < deadline:
            time.sleep(0.2)
            read = client.invoke(Op("invoke", "read", 0))
        assert read.type == "ok" and read.value == list(range(20)), read
        client.close()
    finally:
        target.teardown()
    assert not (store / "nodes").exists()
    assert working_in(data) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["-o", "isolation=snapshot"], "-o isolation=snapshot: must be one of read-uncommitted"),
        (["-o", "reads=replica"], "-o reads=replica needs -o replicas=1 or more"),
        (["-o", "replicas=2", "-o", "nodes=2"], "disagree"),
    ],
)
def test_bad_options_are_refused_in_one_line(
    options: list[str], message: str, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["test", "--target", "postgres", "--workload", "register", "--time-limit", "1"]
    assert main([*argv, "--store", str(store), *options]) == 254
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
