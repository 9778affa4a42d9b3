"""Consistency models, the anomalies each forbids, and which anomalies imply which, as in Elle.

Sources are those Elle cites (Adya, Bailis et al., Cerone et al., Daudjee and Salem, Hermitage).
An edge ``a -> b`` in ``IMPLIED_ANOMALIES`` means a history with ``a`` also exhibits ``b``;
in ``MODELS`` it means a history satisfying ``a`` also satisfies ``b``.
"""

from __future__ import annotations

from collections.abc import Iterable

from splitbrain.checkers.hierarchy import closure as _closure
from splitbrain.harness.base import verdict

IMPLIED_ANOMALIES: dict[str, list[str]] = {
    "G0": ["G1c", "G0-process"],
    "G0-process": ["G1c-process", "G0-realtime"],
    "G0-realtime": ["G1c-realtime"],
    "G1a": ["G1"],
    "G1b": ["G1"],
    "G1c": ["G1", "G1c-process"],
    "G1c-process": ["G1c-realtime", "G1-process"],
    "G1c-realtime": ["G1-realtime"],
    "G1": ["G1-process"],
    "G1-process": ["G1-realtime"],
    "G-single-item": ["G-single", "G-single-item-process", "G-nonadjacent-item"],
    "G-single-item-process": [
        "G-single-process",
        "G-single-item-realtime",
        "G-nonadjacent-item-process",
    ],
    "G-single-item-realtime": ["G-single-realtime", "G-nonadjacent-item-realtime"],
    "G-single": ["G-nonadjacent", "GSIb", "G-single-process"],
    "G-single-process": ["G-nonadjacent-process", "G-single-realtime"],
    "G-single-realtime": ["G-nonadjacent-realtime"],
    "G-nonadjacent-item": ["G-nonadjacent", "G2-item", "G-nonadjacent-item-process"],
    "G-nonadjacent-item-process": [
        "G-nonadjacent-process",
        "G2-item-process",
        "G-nonadjacent-item-realtime",
    ],
    "G-nonadjacent-item-realtime": ["G2-item-realtime", "G-nonadjacent-realtime"],
    "G-nonadjacent": ["G2", "G-nonadjacent-process"],
    "G-nonadjacent-process": ["G2-process", "G-nonadjacent-realtime"],
    "G-nonadjacent-realtime": ["G2-realtime"],
    "G2": ["G2-process"],
    "G2-item": ["G2", "G2-item-process"],
    "G2-item-process": ["G2-process", "G2-item-realtime"],
    "G2-item-realtime": ["G2-realtime"],
    "G2-process": ["G2-realtime"],
    "GSIa": ["GSI"],
    "GSIb": ["GSI"],
    "incompatible-order": ["G1a"],
    "future-read": ["G1c"],
    "dirty-update": ["G1a"],
    "lost-update": ["write-skew", "G2-item"],
    "write-skew": ["G2"],
}

CANONICAL_NAMES: dict[str, str] = {
    "consistent-view": "PL-2+",
    "conflict-serializable": "PL-3",
    "cursor-stability": "PL-CS",
    "forward-consistent-view": "PL-FCV",
    "monotonic-snapshot-read": "PL-MSR",
    "monotonic-view": "PL-2L",
    "read-committed": "PL-2",
    "read-uncommitted": "PL-1",
    "repeatable-read": "PL-2.99",
    "serializable": "PL-3",
    "snapshot-isolation": "PL-SI",
    "strict-serializable": "PL-SS",
    "strong-serializable": "PL-SS",
    "update-serializable": "PL-3U",
    "strong-session-read-uncommitted": "strong-session-PL-1",
    "strong-session-read-committed": "strong-session-PL-2",
    "strong-read-uncommitted": "strong-PL-1",
    "strong-read-committed": "strong-PL-2",
}

FRIENDLY_NAMES: dict[str, str] = {
    canon: friendly
    for friendly, canon in CANONICAL_NAMES.items()
    if friendly not in ("conflict-serializable", "strong-serializable")
}

_MODELS_FRIENDLY: dict[str, list[str]] = {
    "causal-cerone": ["read-atomic"],
    "consistent-view": ["cursor-stability", "monotonic-view"],
    "conflict-serializable": ["view-serializable"],
    "cursor-stability": ["read-committed", "PL-2"],
    "forward-consistent-view": ["consistent-view"],
    "PL-2": ["PL-1"],
    "PL-3": ["repeatable-read", "update-serializable"],
    "update-serializable": ["forward-consistent-view"],
    "monotonic-atomic-view": ["read-committed"],
    "monotonic-view": ["PL-2"],
    "monotonic-snapshot-read": ["PL-2"],
    "parallel-snapshot-isolation": ["causal-cerone", "ROLA"],
    "prefix": ["causal-cerone"],
    "read-atomic": ["monotonic-atomic-view"],
    "read-committed": ["read-uncommitted"],
    "repeatable-read": ["cursor-stability", "monotonic-atomic-view"],
    "ROLA": ["read-atomic"],
    "serializable": ["repeatable-read", "snapshot-isolation", "view-serializable"],
    "session-serializable": ["1SR"],
    "snapshot-isolation": [
        "forward-consistent-view",
        "monotonic-atomic-view",
        "monotonic-snapshot-read",
        "parallel-snapshot-isolation",
        "prefix",
    ],
    "strict-serializable": [
        "PL-3",
        "serializable",
        "linearizable",
        "snapshot-isolation",
        "strong-snapshot-isolation",
        "strong-session-serializable",
    ],
    "strong-session-PL-1": ["PL-1"],
    "strong-session-PL-2": ["PL-2", "strong-session-PL-1"],
    "strong-PL-1": ["strong-session-PL-1"],
    "strong-PL-2": ["strong-session-PL-2", "strong-PL-1"],
    "strong-session-serializable": ["serializable", "strong-session-snapshot-isolation"],
    "strong-session-snapshot-isolation": ["snapshot-isolation", "strong-session-PL-2"],
    "strong-serializable": ["session-serializable"],
    "strong-snapshot-isolation": ["strong-session-snapshot-isolation", "strong-PL-2"],
    "linearizable": ["sequential"],
    "sequential": ["causal"],
    "causal": ["writes-follow-reads", "PRAM"],
    "PRAM": ["monotonic-reads", "monotonic-writes", "read-your-writes"],
}

_PROSCRIBED_FRIENDLY: dict[str, list[str]] = {
    "causal-cerone": ["internal", "G1a"],
    "cursor-stability": ["G1", "G-cursor", "lost-update"],
    "monotonic-view": ["G1", "G-monotonic"],
    "monotonic-snapshot-read": ["G1", "G-MSR"],
    "consistent-view": ["G1", "G-single"],
    "forward-consistent-view": ["G1", "G-SIb"],
    "parallel-snapshot-isolation": ["internal", "G1a"],
    "PL-3": ["G1", "G2", "predicate-read-miss", "PL-3-cycle-exists"],
    "PL-2": ["G1", "PL-2-cycle-exists"],
    "PL-1": ["G0", "duplicate-elements", "garbage-read", "cyclic-versions", "PL-1-cycle-exists"],
    "prefix": ["internal", "G1a"],
    "serializable": ["internal"],
    "snapshot-isolation": ["internal", "G1", "G-SI", "G-nonadjacent", "PL-SI-cycle-exists"],
    "read-atomic": ["internal", "G1a", "future-read"],
    "repeatable-read": ["G1", "G2-item", "PL-2.99-cycle-exists", "lost-update"],
    "ROLA": ["lost-update"],
    "strict-serializable": ["G1", "G1c-realtime", "G2-realtime", "PL-SS-cycle-exists"],
    "strong-session-PL-1": ["strong-session-PL-1-cycle-exists", "G0-process"],
    "strong-session-PL-2": ["strong-session-PL-2-cycle-exists", "G1c-process"],
    "strong-PL-1": ["strong-PL-1-cycle-exists", "G0-realtime"],
    "strong-PL-2": ["strong-PL-2-cycle-exists", "G1c-realtime"],
    "strong-session-snapshot-isolation": [
        "internal",
        "G1-process",
        "G-nonadjacent-process",
        "strong-session-snapshot-isolation-cycle-exists",
    ],
    "strong-snapshot-isolation": [
        "internal",
        "G1-realtime",
        "G-nonadjacent-realtime",
        "strong-snapshot-isolation-cycle-exists",
    ],
    "strong-session-serializable": [
        "G1-process",
        "G2-process",
        "strong-session-serializable-cycle-exists",
    ],
    "update-serializable": ["G1", "G-update"],
}

ITEM_ANOMALIES: dict[str, str] = {
    f"{base}{suffix}": f"{base}-item{suffix}"
    for base in ("G-single", "G-nonadjacent")
    for suffix in ("", "-process", "-realtime")
}
"""Cycles over single items (all list-append cycles are) are the -item forms of these anomalies."""

DEFAULT_MODELS = ("strict-serializable",)
UNKNOWN_ANOMALIES = frozenset({verdict.GAVE_UP})
"""Markers of a search that gave up (out of its budget): the only source of ``unknown``."""
EMPTY_GRAPH = verdict.EMPTY_GRAPH
"""Elle's marker for a history with no dependencies between transactions. Elle calls such a
history unknown; here it is valid (no cycle can exist, and every other anomaly was looked
for) and says so as ``vacuous``: ``unknown`` is kept for time and memory."""


def canonical(model: str) -> str:
    return CANONICAL_NAMES.get(model, model)


def friendly(model: str) -> str:
    return FRIENDLY_NAMES.get(model, model)


def _canonical_graph(graph: dict[str, list[str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for a, bs in graph.items():
        out.setdefault(canonical(a), set()).update(canonical(b) for b in bs)
    return out


def _reverse(graph: dict[str, set[str]] | dict[str, list[str]]) -> dict[str, set[str]]:
    rev: dict[str, set[str]] = {}
    for a, bs in graph.items():
        for b in bs:
            rev.setdefault(b, set()).add(a)
    return rev


MODELS = _canonical_graph(_MODELS_FRIENDLY)
PROSCRIBED = _canonical_graph(_PROSCRIBED_FRIENDLY)
_MODELS_IN = _reverse(MODELS)
_PROSCRIBED_IN = _reverse(PROSCRIBED)
_ANOMALIES_IN = _reverse(IMPLIED_ANOMALIES)

ALL_MODELS: frozenset[str] = frozenset(
    set(MODELS)
    | {m for bs in MODELS.values() for m in bs}
    | set(CANONICAL_NAMES)
    | set(CANONICAL_NAMES.values())
)
FRIENDLY_MODEL_NAMES: tuple[str, ...] = tuple(
    sorted({friendly(m) for m in ALL_MODELS} | set(CANONICAL_NAMES))
)


def validate_models(models: Iterable[str]) -> list[str]:
    """Returns the models, or raises ValueError naming the unknown ones."""
    ms = list(models)
    unknown = [m for m in ms if m not in ALL_MODELS]
    if unknown:
        raise ValueError(
            f"unknown consistency model(s) {', '.join(unknown)}; known: {', '.join(FRIENDLY_MODEL_NAMES)}"
        )
    return ms


def item(anomaly: str) -> str:
    return ITEM_ANOMALIES.get(anomaly, anomaly)


def implied_anomalies(anomalies: Iterable[str]) -> set[str]:
    return _closure(anomalies, IMPLIED_ANOMALIES)


def anomalies_implying(anomalies: Iterable[str]) -> set[str]:
    return _closure(anomalies, _ANOMALIES_IN)


def anomalies_prohibited_by(models: Iterable[str]) -> set[str]:
    """Every anomaly that cannot occur if all of ``models`` hold."""
    ms = _closure((canonical(m) for m in validate_models(models)), MODELS)
    direct = {a for m in ms for a in PROSCRIBED.get(m, ())}
    return anomalies_implying(direct)


def impossible_models(anomalies: Iterable[str]) -> set[str]:
    """Canonical names of every model ruled out by the presence of ``anomalies``."""
    direct = {m for a in implied_anomalies(anomalies) for m in _PROSCRIBED_IN.get(a, ())}
    return _closure(direct, _MODELS_IN)


def weakest_models(models: Iterable[str]) -> set[str]:
    """Drops every model that implies another model of the set."""
    ms = {canonical(m) for m in models}
    return {m for m in ms if not (_closure([m], MODELS) - {m}) & ms}


def boundary(anomalies: Iterable[str]) -> dict[str, list[str]]:
    """``not``: the weakest models these anomalies rule out; ``also_not``: the stronger ones."""
    impossible = impossible_models(anomalies)
    weakest = weakest_models(impossible)
    return {
        "not": sorted({friendly(m) for m in weakest}),
        "also_not": sorted({friendly(m) for m in impossible - weakest}),
    }
