"""The simulated cluster: each replication mode under each nemesis gives the verdict its claim
predicts (found by the real linearizability checker), runs are deterministic, and the
simulation itself never lets a message cross a partition or a dead node act.

Seeds are fixed; the rates quoted in the matrix comments come from 10 seeds (0-9) of the
same configuration.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from splitbrain import workloads
from splitbrain.checkers import linearizable
from splitbrain.harness.base.history import HistoryWriter, Op, pairs, read_history
from splitbrain.harness.base.protocols import HarnessInputError
from splitbrain.harness.engine import assemble, core
from splitbrain.harness.engine.core import TestSpec
from splitbrain.targets.sim import SimTarget, analysis
from splitbrain.targets.sim.cluster import Cluster, parse_config
from splitbrain.targets.sim.driver import SimRuntime


def sim_run(
    tmp_path: Path,
    mode: str,
    nemesis: str = "none",
    seed: int = 0,
    time_limit: float = 20.0,
    audit: bool = False,
    **options: str,
) -> tuple[list[Op], Cluster]:
    spec = TestSpec(
        target="sim",
        nemesis=[] if nemesis == "none" else nemesis.split(","),
        time_limit=time_limit,
        seed=seed,
    )
    workload = assemble.workload("register", workloads.WorkloadSpec(keys=spec.keys, seed=seed))
    opts = {"replication": mode, "node-reads": "true"} | options
    writer = HistoryWriter(tmp_path / f"{mode}-{nemesis}-{seed}.jsonl")
    runtime = SimRuntime(
        parse_config(opts), seed, "register", writer, spec.concurrency, spec.op_timeout, audit
    )
    core.interpret(spec, workload, runtime)
    writer.close()
    return list(writer.ops), runtime.cluster


def linearizable_verdict(history: list[Op]) -> Any:
    client = [op for op in history if op.f != "read-node"]
    return linearizable.check(client, "cas-register", init=None, timeout=60)["valid"]


def assert_converged(history: list[Op], cluster: Cluster) -> None:
    states = analysis.node_states(history)
    assert sorted(states) == cluster.names, "every node answers read-node after heal"
    assert analysis.divergent_keys(states) == []
    assert any(states.values()), "the nodes hold data"


# mode, nemesis, options, seed, expected linearizability; the verdict as expected in
# 10/10 seeds (0-9) of each row, except leader-async under partition and under kill: 9/10.
# Convergence: 10/10, except leader-async with no fault (5/10): with no fault there is no
# settle before the node reads, so a follower may still lag by one 10 ms shipping round.
MATRIX = [
    ("leader-sync", "none", {}, 0, True),
    ("leader-sync", "partition", {}, 0, True),
    ("leader-sync", "kill", {}, 0, True),
    ("leader-sync", "pause", {}, 0, True),
    ("leader-sync", "clock", {}, 0, True),
    ("leader-sync", "packet", {}, 0, True),
    ("leader-sync", "partition,kill,clock", {}, 1, True),
    ("leader-async", "none", {}, 0, True),
    ("leader-async", "partition", {}, 0, False),
    ("leader-async", "kill", {}, 0, False),
    ("multi-leader", "clock", {}, 0, False),
    ("leaderless", "none", {}, 0, True),
    ("leaderless", "partition", {}, 0, True),
    ("leaderless", "partition", {"sloppy": "true"}, 0, False),
]


@pytest.mark.parametrize(
    "mode,nemesis,options,seed,expected",
    MATRIX,
    ids=[f"{m}-{n}-{'-'.join(o.values()) or 'strict'}" for m, n, o, _, _ in MATRIX],
)
def test_mode_under_nemesis_gives_claimed_verdict_and_converges(
    tmp_path: Path, mode: str, nemesis: str, options: dict[str, str], seed: int, expected: bool
) -> None:
    history, cluster = sim_run(tmp_path, mode, nemesis, seed, **options)
    assert sum(1 for op in history if op.type == "ok") > 1000
    if nemesis != "none":
        assert any(op.process == "nemesis" for op in history)
    assert linearizable_verdict(history) is expected
    assert_converged(history, cluster)


def test_leader_async_loses_acknowledged_writes_on_leader_kill(tmp_path: Path) -> None:
    # killing the leader, the final state shows a lost write in 9/20 seeds (later writes
    # usually hide it; 5/20 when kill picks any node); the matrix's linearizability
    # checker finds leader-async under kill invalid far more often
    history, _ = sim_run(tmp_path, "leader-async", "kill", seed=2, kill="leader")
    assert analysis.lost_writes(history).count > 0


def test_multi_leader_loses_updates_only_under_clock_skew(tmp_path: Path) -> None:
    skewed, _ = sim_run(tmp_path, "multi-leader", "clock", seed=0, clock="bump")
    assert analysis.lost_writes(skewed).count > 0
    in_sync, _ = sim_run(tmp_path, "multi-leader", "none", seed=0)
    assert analysis.lost_writes(in_sync).count == 0
    # stale local reads still make it non-linearizable without any fault
    assert linearizable_verdict(in_sync) is False


def test_leader_sync_never_loses_acknowledged_writes(tmp_path: Path) -> None:
    history, _ = sim_run(tmp_path, "leader-sync", "kill,partition", seed=2, kill="leader")
    assert analysis.lost_writes(history).count == 0


# ---------------------------------------------------------------- determinism


def _cli_history(tmp_path: Path, name: str, seed: int, hashseed: str) -> bytes:
    store = tmp_path / name
    argv = [sys.executable, "-m", "splitbrain.harness.front.cli", "test", "--target", "sim"]
    argv += ["--nemesis", "partition,clock,kill", "--time-limit", "8", "--seed", str(seed)]
    argv += ["--store", str(store), "-o", "replication=leaderless", "-o", "sloppy=true"]
    argv += ["--model", "register"]
    env = os.environ | {"PYTHONHASHSEED": hashseed}
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr
    return (store / "latest" / "history.jsonl").read_bytes()


def test_same_seed_gives_byte_identical_history_across_hash_seeds(tmp_path: Path) -> None:
    a = _cli_history(tmp_path, "a", 7, "1")
    b = _cli_history(tmp_path, "b", 7, "2")
    assert a == b
    assert a.count(b"\n") > 1000


def test_different_seeds_give_different_histories(tmp_path: Path) -> None:
    h1, _ = sim_run(tmp_path, "leader-sync", "partition", seed=1, time_limit=5)
    h2, _ = sim_run(tmp_path, "leader-sync", "partition", seed=2, time_limit=5)
    assert [op.to_json() for op in h1] != [op.to_json() for op in h2]


def test_run_through_core_records_virtual_times_and_the_replay_command(tmp_path: Path) -> None:
    spec = TestSpec(
        target="sim",
        nemesis=["partition"],
        time_limit=10,
        seed=3,
        store=str(tmp_path),
        options={"replication": "leader-sync"},
    )
    result = core.run(spec)
    assert result.valid is True
    loaded = read_history(result.run_dir / "history.jsonl").ops
    assert [op.to_json() for op in loaded] == [op.to_json() for op in result.history]
    times = [op.time for op in loaded]
    assert times == sorted(times) and times[-1] < 20e9
    nemesis = [op for op in loaded if op.process == "nemesis" and op.type == "info"]
    assert nemesis[0].f == "start-partition" and "grudge" in nemesis[0].value
    assert nemesis[0].time == 3_000_000_000
    assert "--target sim" in spec.command() and "--seed 3" in spec.command()


# ---------------------------------------------------------------- safety of the simulation


def _replay_audit(cluster: Cluster) -> dict[str, int]:
    """Walk the audit log in order; fail on a delivery across the grudge or by a dead/paused node."""
    assert cluster.audit is not None
    grudge: dict[str, list[str]] = {}
    dead: set[str] = set()
    paused: set[str] = set()
    seen = {"deliver": 0, "blocked_pairs": 0, "while_dead": 0}
    for _, what, *rest in cluster.audit:
        if what == "grudge":
            grudge = rest[0]
            seen["blocked_pairs"] += sum(len(v) for v in grudge.values())
        elif what == "kill":
            dead.add(rest[0])
            paused.discard(rest[0])
        elif what == "start":
            dead.discard(rest[0])
        elif what == "pause":
            paused.add(rest[0])
        elif what == "resume":
            paused.discard(rest[0])
        else:
            src, dst = rest
            assert dst not in dead, f"{dst} acted while killed"
            assert dst not in paused, f"{dst} acted while paused"
            if what == "deliver" and src != "client":
                assert src not in grudge.get(dst, []), f"{src}->{dst} crossed a partition"
                seen["deliver"] += 1
    return seen


@pytest.mark.parametrize("mode", ["leader-sync", "leaderless"])
def test_no_message_crosses_a_partition_and_no_killed_or_paused_node_acts(
    tmp_path: Path, mode: str
) -> None:
    history, cluster = sim_run(
        tmp_path, mode, "partition,kill,pause,packet", seed=4, time_limit=30, audit=True
    )
    seen = _replay_audit(cluster)
    assert seen["deliver"] > 10_000 and seen["blocked_pairs"] > 0
    assert cluster.net.dropped > 0
    kills = [op for op in history if op.f == "kill" and op.type == "info" and op.value]
    assert kills, "the schedule killed some node"


def test_killed_node_refuses_clients_until_restarted(tmp_path: Path) -> None:
    history, _ = sim_run(tmp_path, "leader-sync", "kill", seed=5, time_limit=10, kill="one")
    dead_at: list[set[str]] = []
    dead: set[str] = set()
    for op in history:
        if op.process == "nemesis" and op.type == "info" and op.f == "kill":
            dead = dead | set(op.value)
        elif op.process == "nemesis" and op.type == "info" and op.f == "start":
            dead = dead - set(op.value)
        dead_at.append(dead)
    refused = 0
    for p in pairs(history):
        if p.complete is None or p.complete.node not in dead_at[p.invoke_pos]:
            continue
        assert p.complete.type != "ok", f"{p.complete.node} took a request while killed"
        refused += p.complete.error == "connection refused"
    assert refused > 0


# ---------------------------------------------------------------- input


@pytest.mark.parametrize(
    "options,message",
    [
        ({"replication": "paxos"}, "-o replication=paxos: must be one of"),
        ({"nodes": "0"}, "-o nodes=0: must be between 1 and"),
        ({"nodes": "three"}, "-o nodes=three: not an integer"),
        ({"r": "4"}, "-o r=4: more than the 3 replicas"),
        ({"sloppy": "maybe"}, "-o sloppy=maybe: use true or false"),
        ({"partition": "thirds"}, "-o partition=thirds: must be one of"),
        ({"latency": "-1"}, "-o latency=-1: must be above 0"),
        ({"colour": "red"}, "unknown -o key 'colour'"),
    ],
)
def test_bad_options_are_one_clear_line(options: dict[str, str], message: str) -> None:
    with pytest.raises(HarnessInputError) as e:
        parse_config(options)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_cli_refuses_a_bad_option_with_254(tmp_path: Path) -> None:
    argv = [
        sys.executable,
        "-m",
        "splitbrain.harness.front.cli",
        "test",
        "--target",
        "sim",
        "--store",
        str(tmp_path),
    ]
    proc = subprocess.run(argv + ["-o", "replication=raft"], capture_output=True, text=True)
    assert proc.returncode == 254
    assert "-o replication=raft" in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr


def test_every_accepted_option_is_declared() -> None:
    assert set(parse_config({}).__dict__) and "replication" in SimTarget.options
    parse_config(dict(SimTarget.options))
