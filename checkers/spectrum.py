"""Where a history sits among the consistency models of its data type: the spectrum.

Each model of ``checkers.hierarchy`` that applies to the data type is checked, strongest first,
and the implications do the rest: a model implied by one that holds holds, a model that implies
one that fails fails, so a correct run costs one check. A model whose checker says ``unknown``
stays unknown unless a decided model settles it through an arrow; nothing is inferred from an
``unknown``. ``exhaustive=True`` checks every model that has a checker, skipping nothing (the
tests use it to show that no checker ever contradicts the arrows).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from splitbrain.checkers import (
    causal,
    convergence,
    linearizable,
    sequential,
    session,
    transactional,
)
from splitbrain.checkers import hierarchy as h
from splitbrain.checkers.models import ModelInputError
from splitbrain.checkers.txn import models as cm
from splitbrain.harness.base.history import NEMESIS, Op

Result = dict[str, Any]
CheckFn = Callable[[list[Op], str, Any, float | None], Result]
"""(history, data type, init, timeout) -> one model's result, with ``valid``."""
Decider = Callable[[list[Op], str, Any, float | None], dict[str, Result]]
"""Like CheckFn, but deciding several models at once: results by model name."""

NO_CHECKER = "no checker of its own here: settled only through the arrows"


NOT_THE_OBJECT = frozenset({"read-node", "final-read"})
"""Client ops that read one node or drain the system, not the object's own operations."""


def object_ops(history: list[Op]) -> list[Op]:
    """``history`` without the ops of ``NOT_THE_OBJECT`` (``f`` tested first: it is rarely one)."""
    return [o for o in history if o.f not in NOT_THE_OBJECT or o.process == NEMESIS]


def _linearizable(history: list[Op], data_type: str, init: Any, timeout: float | None) -> Result:
    return linearizable.check(object_ops(history), data_type, init=init, timeout=timeout)


def _sequential(history: list[Op], data_type: str, init: Any, timeout: float | None) -> Result:
    return sequential.check(object_ops(history), data_type, init=init, timeout=timeout)


def _causal(history: list[Op], data_type: str, init: Any, timeout: float | None) -> Result:
    return causal.check(object_ops(history), data_type, init=init, timeout=timeout)


def _session(guarantee: str) -> CheckFn:
    def check(history: list[Op], data_type: str, init: Any, timeout: float | None) -> Result:
        return session.check(object_ops(history), guarantee, data_type, init=init, timeout=timeout)

    return check


def _eventual(history: list[Op], data_type: str, init: Any, timeout: float | None) -> Result:
    if not any(o.f == "read-node" for o in history):
        return {"valid": "unknown", "unchecked": "the history reads no node on its own (read-node)"}
    as_set = data_type == "set"
    return convergence.check(history, final_f="read-node", as_set=as_set, by_key=not as_set)


ELLE_MODELS = (
    "strict-serializable",
    "serializable",
    "snapshot-isolation",
    "repeatable-read",
    "cursor-stability",
    "read-committed",
    "read-uncommitted",
)
"""The models Elle's list-append and rw-register checkers decide by the anomalies each proscribes.
Monotonic atomic view is not among them: Elle names no anomaly of its own for it, so it is
settled only through the arrows."""


def _elle_one(model: str) -> CheckFn:
    def check(history: list[Op], data_type: str, init: Any, timeout: float | None) -> Result:
        return transactional.check(history, consistency_models=[model], given_type=data_type)

    return check


def _elle_all(
    history: list[Op], data_type: str, init: Any, timeout: float | None
) -> dict[str, Result]:
    """Every Elle model from one search: each fails on a found anomaly it proscribes, and is
    unknown when a search gave up and nothing it proscribes was found."""
    whole = transactional.check(history, consistency_models=list(ELLE_MODELS), given_type=data_type)
    found = whole.get("anomaly_types", [])
    gave_up = [a for a in found if a in cm.UNKNOWN_ANOMALIES]
    out: dict[str, Result] = {}
    for model in ELLE_MODELS:
        prohibited = cm.anomalies_prohibited_by([model])
        bad = [a for a in found if cm.item(a) in prohibited]
        valid: Any = False if bad else ("unknown" if gave_up else True)
        shown = bad or gave_up
        out[model] = {
            "valid": valid,
            "model": model,
            "anomaly_types": shown,
            "anomalies": {a: whole["anomalies"][a] for a in shown if a in whole["anomalies"]},
            "anomaly_counts": {a: whole["anomaly_counts"][a] for a in shown},
            "not": whole.get("not", []),
            "also_not": whole.get("also_not", []),
        }
    return out


CHECKS: dict[str, dict[str, CheckFn]] = {
    "linearizable": {t: _linearizable for t in h.SINGLE_OBJECT},
    "sequential": {t: _sequential for t in h.SINGLE_OBJECT},
    "causal": {t: _causal for t in h.UNIQUE_WRITES},
    **{g: {t: _session(g) for t in h.UNIQUE_WRITES} for g in session.GUARANTEES},
    "eventual": {t: _eventual for t in h.MODELS["eventual"].data_types},
    **{m: {t: _elle_one(m) for t in h.TRANSACTIONAL} for m in ELLE_MODELS},
}
"""One model's checker by model and data type: what ``splitbrain check --consistency`` runs."""

DECIDERS: dict[str, dict[str, Decider]] = {
    m: {t: _elle_all for t in h.TRANSACTIONAL} for m in ELLE_MODELS
}
"""Checkers that settle several models at once, preferred by ``spectrum``."""


ELLE_ONLY: tuple[str, ...] = tuple(
    m
    for m in sorted({*cm.FRIENDLY_MODEL_NAMES, *cm.ALL_MODELS})
    if m not in h.MODELS and cm.anomalies_prohibited_by([m])
)
"""Elle's other transactional models (strong-snapshot-isolation, PL-2, ...): checked on demand,
not on the ladder."""


UNTIMED_MAX_OPS = {"causal": 100_000}
"""Checkers that take no deadline (polynomial, but slow on long histories): within a time
budget the spectrum leaves them unchecked beyond this many ops."""


def checker(model: str, data_type: str) -> CheckFn | None:
    """The checker of ``model`` over ``data_type``; None when there is none (yet).
    Raises ``hierarchy.NotApplicable`` when the model does not apply to the data type."""
    if model in ELLE_ONLY:
        if data_type not in h.TRANSACTIONAL:
            raise h.NotApplicable(
                f"consistency model {model} does not apply to data type {data_type} "
                f"(it applies to {', '.join(h.TRANSACTIONAL)})"
            )
        return _elle_one(model)
    h.refuse_inapplicable(model, data_type)
    return CHECKS.get(model, {}).get(data_type)


def _decider(model: str, data_type: str) -> Decider | None:
    batch = DECIDERS.get(model, {}).get(data_type)
    if batch is not None:
        return batch
    one = CHECKS.get(model, {}).get(data_type)
    if one is None:
        return None

    def decide(history: list[Op], dt: str, init: Any, timeout: float | None) -> dict[str, Result]:
        try:
            return {model: one(history, dt, init, timeout)}
        except ModelInputError as e:  # e.g. causal over values written twice: not a verdict
            return {model: {"valid": "unknown", "unchecked": str(e)}}

    return decide


def _over_budget(model: str, ops: int, left: float, budget: float | None) -> str | None:
    if left <= 0:
        return f"not checked: the spectrum's {budget:g} s were spent"
    limit = UNTIMED_MAX_OPS.get(model)
    if limit is not None and ops > limit:
        return (
            f"not checked within the spectrum's {budget:g} s: {ops} ops, over {limit} "
            f"(splitbrain check --consistency {model} checks it)"
        )
    return None


def _verdict(valid: Any) -> str:
    return {True: h.HOLDS, False: h.FAILS}.get(valid, h.UNKNOWN)


class _Ladder:
    """The models of one data type and what is known of each."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.entries: dict[str, dict[str, Any]] = {}
        self.checked: dict[str, Any] = {}
        self.per_key: set[str] = set()
        """Models checked key by key only: their holding says nothing of the whole history."""

    def record(self, model: str, result: Result, seconds: float | None, seeded: str | None) -> None:
        if model in self.checked or model not in self.names:
            return
        valid = result.get("valid", "unknown")
        entry: dict[str, Any] = {"verdict": _verdict(valid), "valid": valid, "by": "checked"}
        if result.get("unchecked"):
            entry = {"verdict": h.UNCHECKED, "valid": None, "by": None}
            entry["reason"] = result["unchecked"]
        elif valid not in (True, False):
            entry["reason"] = _unknown_reason(result)
        scope = result.get("consistency")
        if isinstance(scope, str) and scope != model:
            entry["checked_as"] = scope
            if scope.startswith("per-key"):
                self.per_key.add(model)
        if seeded:
            entry["checker"] = seeded
        elif valid is not True:
            entry["result"] = result
        if seconds is not None:
            entry["seconds"] = round(seconds, 4)
        self.entries[model] = entry
        if entry["verdict"] != h.UNCHECKED:
            self.checked[model] = valid
        self._propagate()

    def _propagate(self) -> None:
        for model, valid in self.checked.items():
            if valid is True and model not in self.per_key:
                for w in h.weaker(model):
                    self._infer(w, True, f"implied: {model} holds")
            elif valid is False:
                for s in h.stronger(model):
                    self._infer(s, False, f"implied: {model} fails")

    def _infer(self, model: str, valid: bool, why: str) -> None:
        if model not in self.names or self.checked.get(model) in (True, False):
            return
        current = self.entries.get(model)
        if current is not None and current.get("valid") in (True, False):
            return
        entry = {"verdict": _verdict(valid), "valid": valid, "by": why}
        if current is not None and current.get("by") == "checked":
            entry["checker_said"] = current["verdict"]
            entry["reason"] = current.get("reason")
        self.entries[model] = entry

    def settled(self, model: str) -> bool:
        return self.entries.get(model, {}).get("valid") in (True, False)

    def finish(self, data_type: str) -> dict[str, Any]:
        models = {}
        for m in self.names:
            models[m] = self.entries.get(m) or {
                "verdict": h.UNCHECKED,
                "valid": None,
                "by": None,
                "reason": NO_CHECKER,
            }
            models[m]["availability"] = h.MODELS[m].availability
        holding = {m for m in self.names if models[m]["valid"] is True}
        failing = {m for m in self.names if models[m]["valid"] is False}
        return {
            "data_type": data_type,
            "models": models,
            "edges": [list(e) for e in h.edges(self.names)],
            "strongest_holding": [
                m for m in self.names if m in holding and not h.stronger(m) & holding
            ],
            "weakest_failing": [
                m for m in self.names if m in failing and not h.weaker(m) & failing
            ],
            "contradictions": [
                list(c)
                for c in h.contradictions(
                    {
                        m: v
                        for m, v in self.checked.items()
                        if m not in self.per_key or v is not True
                    }
                )
            ],
        }


def _unknown_reason(result: Result) -> str:
    for key in ("unknown_reason", "error", "unchecked"):
        if result.get(key):
            return str(result[key])
    shown = [a for a in result.get("anomaly_types") or [] if a in cm.UNKNOWN_ANOMALIES]
    return ", ".join(shown) or "the checker could not decide"


def spectrum(
    history: list[Op],
    data_type: str,
    *,
    init: Any = None,
    timeout: float | None = None,
    decided: Mapping[str, tuple[str, Result]] | None = None,
    exhaustive: bool = False,
    models: Iterable[str] | None = None,
    budget: float | None = None,
) -> dict[str, Any]:
    """Each applicable model's verdict (``models``: a subset of them), how it was reached, the
    strongest models that hold and the weakest that fail.

    ``decided``: results already at hand, by model: (the checker that gave it, its result),
    e.g. the run's own linearizability check, so it is not done twice. ``budget``: seconds
    for all the checks together; a model left when it is spent is unchecked, with the reason.
    """
    names = h.applicable(data_type)
    if models is not None:
        wanted = set(models)
        names = [m for m in names if m in wanted]
    ladder = _Ladder(names)
    for model, (name, result) in (decided or {}).items():
        ladder.record(model, result, None, seeded=name)
    deadline = None if budget is None else time.monotonic() + budget
    for model in names:
        if model in ladder.checked or (ladder.settled(model) and not exhaustive):
            continue
        decide = _decider(model, data_type)
        if decide is None:
            continue
        left = timeout
        if deadline is not None:
            reason = _over_budget(model, len(history), deadline - time.monotonic(), budget)
            if reason:
                ladder.record(model, {"valid": "unknown", "unchecked": reason}, None, None)
                continue
            left = min(timeout or math.inf, (deadline - time.monotonic()) / 2)
        started = time.perf_counter()
        results = decide(history, data_type, init, left)
        seconds = time.perf_counter() - started
        for name, result in results.items():
            ladder.record(name, result, seconds if len(results) == 1 else None, seeded=None)
    return ladder.finish(data_type)
