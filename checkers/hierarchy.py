"""The consistency models splitbrain knows, the data types each applies to, and which implies which.

One table (``MODELS``). An arrow ``a -> b`` in ``implies`` means every history satisfying ``a``
satisfies ``b`` too. The arrows are those of Jepsen's consistency map (jepsen.io/consistency,
adapted there from Bailis, Davidson, Fekete et al. VLDB 2014 and Viotti and Vukolić, ACM CSUR
2016), and only those:

- strict serializable implies serializable and linearizable;
- serializable implies repeatable read and snapshot isolation (the generalized, time-free
  definition of snapshot isolation, as Elle and Cerone et al. use);
- snapshot isolation and repeatable read imply monotonic atomic view; repeatable read implies
  cursor stability; cursor stability and monotonic atomic view imply read committed, which
  implies read uncommitted;
- linearizable implies sequential (Herlihy and Wing 1990), which implies causal (Ahamad et al.
  1995); causal implies writes follow reads and PRAM; PRAM implies monotonic reads, monotonic
  writes and read your writes (Brzeziński, Sobaniec and Wawrzyniak 2004; Terry et al. 1994).

``eventual`` (every node holds the same state once faults heal and the system settles) is on
no arrow: linearizable client operations say nothing about what each replica holds.

``availability`` is the map's colour: ``unavailable`` (no model at or above cursor stability,
snapshot isolation or sequential is available during partitions), ``sticky`` (available to
clients that stay on one node), ``total``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SINGLE_OBJECT = ("register", "cas-register", "kv", "set", "queue", "mutex", "multi-register")
"""Data types of the linearizability checker's sequential models (``checkers.models``)."""
UNIQUE_WRITES = ("register", "cas-register")
"""Data types whose histories write each value at most once per key (the workload's register)."""
TRANSACTIONAL = ("list-append", "rw-register")
DATA_TYPES: tuple[str, ...] = (*SINGLE_OBJECT, *TRANSACTIONAL)

HOLDS, FAILS, UNKNOWN, UNCHECKED = "holds", "fails", "unknown", "unchecked"


@dataclass(frozen=True)
class ConsistencyModel:
    name: str
    data_types: tuple[str, ...]
    implies: tuple[str, ...]
    """The models this one implies directly (the map's arrows out of it)."""
    availability: str
    summary: str


def _model(
    name: str,
    data_types: tuple[str, ...],
    implies: tuple[str, ...],
    availability: str,
    summary: str,
) -> ConsistencyModel:
    return ConsistencyModel(name, data_types, implies, availability, summary)


MODELS: Mapping[str, ConsistencyModel] = {
    m.name: m
    for m in (
        _model(
            "strict-serializable",
            TRANSACTIONAL,
            ("serializable", "linearizable"),
            "unavailable",
            "transactions in one total order that respects real time",
        ),
        _model(
            "serializable",
            TRANSACTIONAL,
            ("repeatable-read", "snapshot-isolation"),
            "unavailable",
            "transactions in one total order",
        ),
        _model(
            "snapshot-isolation",
            TRANSACTIONAL,
            ("monotonic-atomic-view",),
            "unavailable",
            "each transaction reads one snapshot; no two concurrent ones write the same key",
        ),
        _model(
            "repeatable-read",
            TRANSACTIONAL,
            ("cursor-stability", "monotonic-atomic-view"),
            "unavailable",
            "serializable on each key (no G1, G2-item)",
        ),
        _model(
            "cursor-stability",
            TRANSACTIONAL,
            ("read-committed",),
            "unavailable",
            "read committed, and no lost updates",
        ),
        _model(
            "monotonic-atomic-view",
            TRANSACTIONAL,
            ("read-committed",),
            "total",
            "once one of a transaction's writes is seen, all are",
        ),
        _model(
            "read-committed",
            TRANSACTIONAL,
            ("read-uncommitted",),
            "total",
            "no aborted, intermediate or circular reads (no G1)",
        ),
        _model(
            "read-uncommitted",
            TRANSACTIONAL,
            (),
            "total",
            "no write cycles (no G0)",
        ),
        _model(
            "linearizable",
            SINGLE_OBJECT,
            ("sequential",),
            "unavailable",
            "one total order that respects real time and the data type",
        ),
        _model(
            "sequential",
            SINGLE_OBJECT,
            ("causal",),
            "unavailable",
            "one total order that respects each process's order and the data type",
        ),
        _model(
            "causal",
            UNIQUE_WRITES,
            ("writes-follow-reads", "PRAM"),
            "sticky",
            "every process sees causally related writes in their causal order",
        ),
        _model(
            "PRAM",
            UNIQUE_WRITES,
            ("monotonic-reads", "monotonic-writes", "read-your-writes"),
            "sticky",
            "every process sees each process's writes in the order they were made",
        ),
        _model(
            "writes-follow-reads",
            UNIQUE_WRITES,
            (),
            "total",
            "a write follows the writes its process read before it",
        ),
        _model(
            "monotonic-reads",
            UNIQUE_WRITES,
            (),
            "total",
            "a process never reads an older state than one it read before",
        ),
        _model(
            "monotonic-writes",
            UNIQUE_WRITES,
            (),
            "total",
            "a process's writes take effect in the order it made them",
        ),
        _model(
            "read-your-writes",
            UNIQUE_WRITES,
            (),
            "sticky",
            "a process reads its own writes, or later ones",
        ),
        _model(
            "eventual",
            ("register", "cas-register", "set"),
            (),
            "total",
            "once faults heal and the system settles, every node holds the same state",
        ),
    )
}

NAMES: tuple[str, ...] = tuple(MODELS)
"""Every model, strongest first along each arrow (the table is written in that order)."""


class NotApplicable(ValueError):
    """A consistency model that does not apply to the history's data type."""


def closure(starts: Iterable[str], graph: Mapping[str, Iterable[str]]) -> set[str]:
    seen = set(starts)
    todo = list(seen)
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


IMPLIES: dict[str, tuple[str, ...]] = {m.name: m.implies for m in MODELS.values()}
IMPLIED_BY: dict[str, tuple[str, ...]] = {
    name: tuple(a for a, bs in IMPLIES.items() if name in bs) for name in MODELS
}


def weaker(model: str) -> set[str]:
    """Every model ``model`` implies, itself excluded."""
    return closure([model], IMPLIES) - {model}


def stronger(model: str) -> set[str]:
    """Every model that implies ``model``, itself excluded."""
    return closure([model], IMPLIED_BY) - {model}


def applicable(data_type: str) -> list[str]:
    """The models that apply to ``data_type``, strongest first."""
    return [m.name for m in MODELS.values() if data_type in m.data_types]


def edges(models: Iterable[str]) -> list[tuple[str, str]]:
    """The arrows among ``models``: the direct ones, and a shortcut over any model left out."""
    keep = set(models)
    out = []
    for a in NAMES:
        if a not in keep:
            continue
        reach: set[str] = set()
        todo = list(IMPLIES[a])
        while todo:
            b = todo.pop()
            if b in keep:
                reach.add(b)
            else:
                todo.extend(IMPLIES[b])
        out += [(a, b) for b in NAMES if b in reach]
    return out


def unknown_model(model: str, known: Iterable[str] = NAMES) -> str:
    """The one line for a ``--consistency`` name that is not a model; a ``module:attr``
    path is told where it belongs instead."""
    if ":" in model:
        return (
            f"--consistency {model}: takes a model of the consistency hierarchy, not a "
            f"module:attr path; your own model goes to --model, your own checker to --checker"
        )
    return f"unknown consistency model {model!r}; known: {', '.join(known)}"


def refuse_inapplicable(model: str, data_type: str) -> None:
    """Raises NotApplicable (one line naming both) unless ``model`` applies to ``data_type``."""
    if model not in MODELS:
        raise NotApplicable(unknown_model(model))
    types = MODELS[model].data_types
    if data_type not in types:
        raise NotApplicable(
            f"consistency model {model} does not apply to data type {data_type} "
            f"(it applies to {', '.join(types)}; {data_type} has {', '.join(applicable(data_type)) or 'none'})"
        )


def contradictions(verdicts: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Pairs (stronger, weaker) where the stronger model holds and a model it implies fails."""
    holding = [m for m, v in verdicts.items() if v is True]
    return [
        (a, b) for a in holding for b in sorted(weaker(a)) if b in verdicts and verdicts[b] is False
    ]
