"""The maelstrom target's pure parts: services, the seeded network, reply classification,
topologies and the CLI's option forms."""

from __future__ import annotations

import random
import subprocess
import sys

import networkx as nx
import pytest

from splitbrain.checkers import kafka
from splitbrain.harness.base.history import Op
from splitbrain.harness.base.values import Fraction, Problem
from splitbrain.harness.front.maelstrom_cli import concurrency, mistyped
from splitbrain.targets.maelstrom.client import OPERATIONS, complete
from splitbrain.targets.maelstrom.network import Network, latency_sampler
from splitbrain.targets.maelstrom.routerd import scheduling
from splitbrain.targets.maelstrom.services import SEQ_KV_WINDOW, LinKV, LinTSO, LwwKV, SeqKV
from splitbrain.targets.maelstrom.topology import TOPOLOGIES
from splitbrain.workloads.maelstrom import OPTIONS, within_latency


def test_lin_kv_read_write_cas_and_error_codes() -> None:
    kv = LinKV(random.Random(0))
    assert kv.handle("n0", {"type": "read", "key": 1}, 0)["code"] == 20
    assert kv.handle("n0", {"type": "cas", "key": 1, "from": 0, "to": 1}, 0)["code"] == 20
    create = {"type": "cas", "key": 1, "from": 0, "to": 1, "create_if_not_exists": True}
    assert kv.handle("n0", create, 0) == {"type": "cas_ok"}
    assert kv.handle("n1", {"type": "cas", "key": 1, "from": 5, "to": 6}, 0)["code"] == 22
    assert kv.handle("n1", {"type": "write", "key": 1, "value": 9}, 0) == {"type": "write_ok"}
    assert kv.handle("n2", {"type": "read", "key": 1}, 0) == {"type": "read_ok", "value": 9}
    assert kv.handle("n2", {"type": "frob"}, 0)["code"] == 10
    assert kv.handle("n2", {"type": "write", "key": 1}, 0)["code"] == 12


def test_seq_kv_is_stale_whenever_it_may_but_each_node_moves_forward_and_sees_its_own_writes() -> (
    None
):
    for seed in range(20):
        kv = SeqKV(random.Random(seed))
        read = {"type": "read", "key": "x"}
        for v in range(1, 50):
            kv.handle("n0", {"type": "write", "key": "x", "value": v}, 0)
        reads = [kv.handle("n1", read, 0).get("value", 0) for _ in range(30)]
        # the first read is as stale as Maelstrom's 32-state buffer allows, whatever the seed
        assert reads[0] == 49 - SEQ_KV_WINDOW + 1
        assert reads == sorted(reads) and reads[-1] == 49  # monotonic, and catching up
        assert kv.handle("n0", read, 0)["value"] == 49  # its own write
        kv.handle("n0", {"type": "write", "key": "x", "value": 50}, 0)
        assert kv.handle("n1", read, 0)["value"] == 49  # stale again after another's write
        kv.handle("n1", {"type": "write", "key": "y", "value": 0}, 0)
        assert kv.handle("n1", read, 0)["value"] == 50  # an update of its own catches it up
        # a client's write through one node, then a read through another: always stale,
        # so a lin-kv proxy to seq-kv is caught by any such pair of its clients' ops
        kv.handle("n2", {"type": "write", "key": "z", "value": 1}, 0)
        assert kv.handle("n3", {"type": "read", "key": "z"}, 0)["code"] == 20


def test_lww_kv_may_lose_a_write_to_another_replica() -> None:
    kv = LwwKV(random.Random(3))
    kv.handle("n0", {"type": "write", "key": "x", "value": 1}, 10**9)
    answers = [kv.handle("n1", {"type": "read", "key": "x"}, 10**9) for _ in range(20)]
    assert any(a.get("code") == 20 for a in answers) and any(a.get("value") == 1 for a in answers)


def test_lin_tso_is_strictly_increasing() -> None:
    tso = LinTSO(random.Random(0))
    ts = [tso.handle("n0", {"type": "ts"}, 0)["ts"] for _ in range(5)]
    assert ts == sorted(set(ts))


def test_each_link_has_its_own_seeded_stream() -> None:
    a, b = Network(5, 100, "exponential"), Network(5, 100, "exponential")
    for _ in range(10):
        a.decide("n0", "n2")  # other traffic does not shift n1 -> n2's decisions
    seq_a = [a.decide("n1", "n2").delays_ms for _ in range(50)]
    seq_b = [b.decide("n1", "n2").delays_ms for _ in range(50)]
    assert seq_a == seq_b and len(set(seq_a)) > 40
    assert Network(6, 100, "exponential").decide("n1", "n2") != a.decide("n1", "n2")
    assert a.decide("c3", "n1").delays_ms == (0.0,) and a.decide("n1", "c3").delays_ms == (0.0,)


def test_faults_partition_loss_duplicate() -> None:
    net = Network(1, 10, "constant")
    net.faults.drops = {"n1": frozenset({"n0"})}
    assert net.decide("n0", "n1").dropped == "partition"
    assert net.decide("n1", "n0").dropped is None  # one-way
    assert net.decide("n0", "lin-kv").dropped is None  # services are never cut off
    net.faults.drops, net.faults.loss = {}, 1.0
    assert net.decide("n0", "n1").dropped == "loss"
    net.faults.loss, net.faults.duplicate = 0.0, 1.0
    assert len(net.decide("n0", "n1").delays_ms) == 2


@pytest.mark.parametrize(
    "dist,mean", [("constant", 10.0), ("uniform", 10.0), ("exponential", 10.0)]
)
def test_latency_distributions_have_the_given_mean(dist: str, mean: float) -> None:
    rng = random.Random(0)
    sample = latency_sampler(mean, dist)
    values = [sample(rng.random()) for _ in range(20000)]
    assert abs(sum(values) / len(values) - mean) < 0.5


def _op(f: str, value=None, key=None) -> Op:
    return Op(type="invoke", f=f, process=0, value=value, key=key)


@pytest.mark.parametrize(
    "operation,op,body,outcome",
    [
        ("echo", _op("echo", "hi"), {"type": "echo_ok", "echo": "hi", "in_reply_to": 1}, "ok"),
        ("echo", _op("echo", "hi"), {"type": "echo_ok", "in_reply_to": 1}, "info"),
        ("echo", _op("echo", "hi"), {"type": "echo_ok", "echo": 1, "msg_id": "x"}, "info"),
        ("counter.add", _op("add", 1), {"type": "error", "code": 11}, "fail"),
        ("counter.add", _op("add", 1), {"type": "error", "code": 13}, "info"),
        ("counter.add", _op("add", 1), {"type": "error", "code": 1000}, "info"),
        ("counter.read", _op("read"), {"type": "error", "code": 0}, "fail"),  # idempotent
        ("counter.read", _op("read"), {"type": "read_ok", "value": "3"}, "fail"),
        ("counter.add", _op("add", 1), {"type": "error"}, "info"),
        ("read", _op("read", key=1), {"type": "error", "code": 20}, "ok"),
        ("counter.read", _op("read"), {"type": "error", "code": 20}, "fail"),
        ("cas", _op("cas", [1, 2], 1), {"type": "error", "code": 22}, "fail"),
        ("broadcast.read", _op("read"), {"type": "read_ok", "messages": 3}, "fail"),
        (
            "txn",
            _op("txn", [["r", 1, None], ["append", 1, 2]]),
            {"type": "txn_ok", "txn": [["r", 1, [1]], ["append", 1, 3]]},
            "info",
        ),
        ("txn", _op("txn", [["append", 1, 2]]), {"type": "error", "code": 30}, "fail"),
    ],
)
def test_replies_are_classified_as_maelstrom_does(operation, op, body, outcome) -> None:
    assert complete(OPERATIONS[operation], op, body, "n0").type == outcome


def test_topologies() -> None:
    nodes = [f"n{i}" for i in range(9)]
    grid = TOPOLOGIES["grid"](nodes)
    assert sorted(grid["n4"]) == ["n1", "n3", "n5", "n7"] and sorted(grid["n0"]) == ["n1", "n3"]
    assert TOPOLOGIES["line"](nodes)["n0"] == ["n1"]
    assert len(TOPOLOGIES["total"](nodes)["n3"]) == 8
    tree = TOPOLOGIES["tree3"](nodes)
    assert tree["n0"] == ["n1", "n2", "n3"] and tree["n4"] == ["n1"]
    for name, build in TOPOLOGIES.items():  # every topology is symmetric and connected
        t = build(nodes)
        assert all(a in t[b] for a in t for b in t[a]), name
        assert nx.is_connected(nx.Graph([(a, b) for a in t for b in t[a]])), name


def test_concurrency_forms_and_mistyped_options() -> None:
    assert concurrency("2n", 5) == 10 and concurrency("n", 3) == 3 and concurrency("4", 5) == 4
    assert mistyped(["\u2013-nemesis", "--ok", "\u2014x", "plain"]) == ["\u2013-nemesis", "\u2014x"]


def _kafka(*ops: tuple) -> list[Op]:
    """(process, f, invoke value, ok value) -> an invoke and its ok, in order."""
    out = []
    for process, f, value, ok in ops:
        out.append(Op(type="invoke", f=f, process=process, value=value, index=len(out)))
        out.append(Op(type="ok", f=f, process=process, value=ok, index=len(out)))
    return out


def test_kafka_checker_finds_each_anomaly() -> None:
    sends = [(0, "send", ["a", m], ["a", m, o]) for o, m in enumerate([10, 11, 12, 13])]
    good = _kafka(
        *sends,
        (1, "poll", None, {"a": [[0, 10], [1, 11]]}),
        (1, "poll", None, {"a": [[2, 12], [3, 13]]}),
    )
    assert kafka.check(good)["valid"] is True
    lost = _kafka(*sends, (1, "poll", None, {"a": [[0, 10], [2, 12]]}))
    r = kafka.check(lost)
    assert r["anomaly_counts"] == {"lost-writes": 1, "internal-poll-skip": 1}
    back = _kafka(
        *sends, (1, "poll", None, {"a": [[1, 11], [2, 12]]}), (1, "poll", None, {"a": [[1, 11]]})
    )
    assert "external-nonmonotonic-poll" in kafka.check(back)["anomaly_counts"]
    assigned = _kafka(
        *sends,
        (1, "poll", None, {"a": [[1, 11]]}),
        (1, "assign", ["a"], {}),
        (1, "poll", None, {"a": [[0, 10]]}),
    )
    assert "external-nonmonotonic-poll" not in kafka.check(assigned)["anomaly_counts"]
    clash = _kafka(
        *sends, (1, "poll", None, {"a": [[0, 99]]}), (2, "send", ["a", 10], ["a", 10, 7])
    )
    counts = kafka.check(clash)["anomaly_counts"]
    assert counts["inconsistent-offsets"] == 1 and counts["duplicates"] == 1
    backwards = _kafka((0, "send", ["b", 1], ["b", 1, 5]), (0, "send", ["b", 2], ["b", 2, 3]))
    assert kafka.check(backwards)["anomaly_counts"] == {"nonmonotonic-send": 1}


def test_stable_latency_limits() -> None:
    kind = OPTIONS["stable-latency"].kind
    assert kind.from_text("median:400, max=600") == {"median": 400.0, "max": 600.0}
    assert kind.from_value({"median": 400, "max": 600}) == {"median": 400.0, "max": 600.0}
    assert kind.to_text({"median": 400.0, "max": 600.5}) == "median:400,max:600.5"
    with pytest.raises(Problem, match="NAME one of median, p99, max, got the name 'mean'"):
        kind.from_text("mean:3")
    with pytest.raises(Problem, match="limit max must be a finite number from 0, got 'inf'"):
        kind.from_value({"max": "inf"})
    measured = {"valid": True, "stable_latency_ms": {"median": 10.0, "p99": 700.0, "max": 900.0}}
    assert within_latency(measured, {"median": 400})["valid"] is True
    over = within_latency(measured, {"median": 400, "max": 600})
    assert over["valid"] is False and over["stable_latency_over"] == {
        "max": {"ms": 900.0, "limit": 600}
    }


def test_availability_is_total_or_a_fraction() -> None:
    kind = Fraction()
    assert kind.from_text("total") == 1.0 and kind.from_text(" 0.9 ") == 0.9
    assert kind.from_value(0.5) == 0.5 and kind.from_value("TOTAL") == 1.0
    assert kind.to_text(1.0) == "total" and kind.to_text(0.25) == "0.25"
    for bad in ("most", "1.5", "-0.1", "nan", True, [1]):
        with pytest.raises(Problem, match="must be 'total' or a fraction from 0 to 1"):
            kind.from_value(bad)


def test_real_time_scheduling_refused_is_said_not_fatal() -> None:
    """Without the privilege (here: as nobody), the router says it runs normally."""
    code = (
        "import os; from splitbrain.targets.maelstrom.routerd import scheduling\n"
        "if os.geteuid() == 0: os.setuid(65534)\n"
        "print(scheduling(True))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "normal (real-time refused: Operation not permitted)", done.stderr
    assert scheduling(False) == "normal"
