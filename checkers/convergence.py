"""Convergence (the "eventual" check): after faults heal, every node must report the same state.

Reads the final per-node reads of a history: ok ops with ``f`` = ``final_f`` (default
``final-read``) naming the node read in ``node`` (or ``key`` / ``extra["node"]``); the last one
per node counts. Nodes listed in ``nodes`` that returned no final read did not converge in the
time the workload allowed. With ``as_set`` (default) list values compare as sets, and the
divergence report says which elements each node misses or has beyond the others.
"""

from __future__ import annotations

import json
from typing import Any

from splitbrain.harness.base.history import Op, pairs
from splitbrain.harness.base.verdict import vacuous

MAX_LISTED = 100


def _node(op: Op) -> Any:
    return op.node if op.node is not None else op.extra.get("node", op.key)


def _canon(v: Any, as_set: bool) -> Any:
    if isinstance(v, (list, tuple, set, frozenset)):
        items = [_canon(i, as_set) for i in v]
        return frozenset(items) if as_set else tuple(items)
    if isinstance(v, dict):
        return tuple(sorted((str(k), _canon(x, as_set)) for k, x in v.items()))
    return v


def _show(v: Any) -> Any:
    if isinstance(v, frozenset):
        return sorted((_show(i) for i in v), key=lambda x: json.dumps(x, default=str))
    if isinstance(v, tuple):
        return [_show(i) for i in v]
    return v


def check(
    history: list[Op],
    nodes: list[str] | None = None,
    final_f: str = "final-read",
    as_set: bool = True,
    by_key: bool = False,
) -> dict[str, Any]:
    finals: dict[Any, tuple[Any, int]] = {}
    failed: dict[Any, str] = {}
    for p in pairs(history):
        if p.invoke.f != final_f:
            continue
        node = (
            _node(p.complete)
            if p.complete is not None and _node(p.complete) is not None
            else _node(p.invoke)
        )
        if p.outcome == "ok" and p.complete is not None:
            finals[node] = (_canon(p.complete.value, as_set), p.complete.index)
            failed.pop(node, None)
        elif node not in finals:
            failed[node] = p.outcome
    expected = list(nodes) if nodes is not None else sorted(set(finals) | set(failed), key=str)
    missing = [n for n in expected if n not in finals]
    if not finals:
        return {
            "valid": not missing,
            "unread_nodes": missing,
            **vacuous(len(missing), f"no {final_f} ops in the history"),
        }
    if by_key and all(
        isinstance(v, tuple) and all(isinstance(x, tuple) and len(x) == 2 for x in v)
        for v, _ in finals.values()
    ):
        return _per_key(finals, missing)
    groups: dict[Any, list[Any]] = {}
    for node, (value, _) in finals.items():
        groups.setdefault(value, []).append(node)
    converged = len(groups) == 1 and not missing
    result: dict[str, Any] = {
        "valid": converged,
        "nodes": sorted(finals, key=str),
        "unread_nodes": missing,
        "distinct_states": len(groups),
        "states": [
            {"nodes": sorted(ns, key=str), "value": _show(v)}
            for v, ns in sorted(groups.items(), key=lambda g: -len(g[1]))
        ],
    }
    if len(groups) > 1 and as_set and all(isinstance(v, frozenset) for v in groups):
        result["divergence"] = _set_divergence(finals)
    return result


def _set_divergence(finals: dict[Any, tuple[Any, int]]) -> dict[str, Any]:
    union: frozenset[Any] = frozenset().union(*(v for v, _ in finals.values()))
    common: frozenset[Any] = frozenset.intersection(*(v for v, _ in finals.values()))
    out: dict[str, Any] = {}
    for node, (v, _) in sorted(finals.items(), key=lambda x: str(x[0])):
        missing = union - v
        extra = v - common
        out[str(node)] = {
            "missing_count": len(missing),
            "missing": _show(frozenset(list(missing)[:MAX_LISTED])),
            "not_on_every_node": _show(frozenset(list(extra)[:MAX_LISTED])),
        }
    return out


def _per_key(finals: dict[Any, tuple[Any, int]], unread: list[Any]) -> dict[str, Any]:
    """Node states that are maps converge when every key has one value on the nodes holding it.

    A store that replicates each key on some nodes only (leaderless, N < nodes) reports only
    the keys a node holds, so a key absent from a node is listed, not counted as divergence.
    """
    values: dict[Any, dict[Any, list[Any]]] = {}
    for node, (state, _) in finals.items():
        for key, value in state:
            values.setdefault(key, {}).setdefault(value, []).append(node)
    nodes = sorted(finals, key=str)
    diverged = {
        str(key): [{"nodes": sorted(ns, key=str), "value": _show(v)} for v, ns in by_value.items()]
        for key, by_value in sorted(values.items(), key=lambda kv: str(kv[0]))
        if len(by_value) > 1
    }
    partial = {
        str(key): sorted((n for ns in by_value.values() for n in ns), key=str)
        for key, by_value in sorted(values.items(), key=lambda kv: str(kv[0]))
        if sum(len(ns) for ns in by_value.values()) < len(nodes)
    }
    return {
        "valid": not diverged and not unread,
        "nodes": nodes,
        "unread_nodes": unread,
        "keys": len(values),
        "diverged_keys": dict(list(diverged.items())[:MAX_LISTED]),
        "diverged_count": len(diverged),
        "keys_not_on_every_node": dict(list(partial.items())[:MAX_LISTED]),
    }
