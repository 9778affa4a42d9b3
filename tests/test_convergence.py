"""Convergence checker: after healing, every node must return the same state."""

from __future__ import annotations

from typing import Any

from splitbrain.checkers import convergence
from splitbrain.harness.base.history import Op


def final_reads(*reads: tuple[str, str, Any]) -> list[Op]:
    ops: list[Op] = []
    for i, (node, outcome, value) in enumerate(reads):
        ops.append(Op("invoke", "final-read", i, None, index=len(ops), node=node))
        ops.append(Op(outcome, "final-read", i, value, index=len(ops), node=node))
    return ops


def test_converged_nodes_are_valid_sets_compare_unordered() -> None:
    h = final_reads(("n1", "ok", [1, 2, 3]), ("n2", "ok", [3, 2, 1]), ("n3", "ok", [2, 1, 3]))
    r = convergence.check(h)
    assert r["valid"] is True
    assert r["distinct_states"] == 1 and r["nodes"] == ["n1", "n2", "n3"]
    assert convergence.check(h, as_set=False)["valid"] is False


def test_divergence_names_nodes_and_missing_elements() -> None:
    h = final_reads(("n1", "ok", [1, 2, 3]), ("n2", "ok", [1, 2, 3]), ("n3", "ok", [1, 2]))
    r = convergence.check(h)
    assert r["valid"] is False
    assert r["distinct_states"] == 2
    assert r["states"][0] == {"nodes": ["n1", "n2"], "value": [1, 2, 3]}
    assert r["divergence"]["n3"]["missing"] == [3]
    assert r["divergence"]["n1"]["missing_count"] == 0


def test_unreachable_node_has_not_converged() -> None:
    h = final_reads(("n1", "ok", [1]), ("n2", "info", None))
    r = convergence.check(h)
    assert r["valid"] is False and r["unread_nodes"] == ["n2"]
    r = convergence.check(final_reads(("n1", "ok", [1])), nodes=["n1", "n2"])
    assert r["valid"] is False and r["unread_nodes"] == ["n2"]


def test_a_later_retry_counts_and_a_node_never_read_did_not_converge() -> None:
    h = final_reads(("n1", "ok", {"a": 1}), ("n2", "fail", None), ("n2", "ok", {"a": 1}))
    assert convergence.check(h)["valid"] is True
    # unknown is only for time and memory: a node whose final read never succeeded is not
    # shown to have converged; a history with no final reads at all has nothing to judge
    unread = convergence.check(final_reads(("n1", "info", None)))
    assert unread["valid"] is False and unread["unread_nodes"] == ["n1"]
    assert convergence.check([]) == {
        "valid": True,
        "unread_nodes": [],
        "vacuous": "no final-read ops in the history",
    }


def _node_read(node: str, state: dict, index: int) -> list[Op]:
    return [
        Op("invoke", "read-node", 0, node, index=index),
        Op("ok", "read-node", 0, state, node=node, index=index + 1),
    ]


def test_map_states_compare_key_by_key() -> None:
    agree = (
        _node_read("n1", {"a": 1, "b": 2}, 0)
        + _node_read("n2", {"a": 1}, 2)
        + _node_read("n3", {"b": 2}, 4)
    )
    result = convergence.check(agree, final_f="read-node", as_set=False, by_key=True)
    assert result["valid"] is True
    assert result["keys_not_on_every_node"] == {"a": ["n1", "n2"], "b": ["n1", "n3"]}
    split = _node_read("n1", {"a": 1, "b": 2}, 0) + _node_read("n2", {"a": 3}, 2)
    result = convergence.check(split, final_f="read-node", as_set=False, by_key=True)
    assert result["valid"] is False
    assert result["diverged_count"] == 1
    assert {tuple(g["nodes"]) for g in result["diverged_keys"]["a"]} == {("n1",), ("n2",)}
