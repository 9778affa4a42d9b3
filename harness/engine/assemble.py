"""From a test's names and objects to a checked target, workload and nemeses, before setup.

Each part may be given as a registered name, a ``module:attr`` path, or the object
itself. Every problem (an unknown name, a plugin that will not import, an object that
breaks its protocol, a target that cannot run the workload's operations) is a
``PluginError`` or ``HarnessInputError``: one line, exit 254, and nothing set up.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from splitbrain.checkers import hierarchy, spectrum
from splitbrain.harness.base import plugins
from splitbrain.harness.base.errors import HarnessInputError, PluginError
from splitbrain.harness.base.protocols import (
    Configurable,
    LimitsNemeses,
    Model,
    Nemesis,
    NemesisKind,
    OwnsNemeses,
    OwnsTime,
    Target,
    Workload,
    bare_f,
    conformance_problem,
)
from splitbrain.harness.nemesis import NONE
from splitbrain.workloads import WorkloadSpec, declared_options, with_options

READ_NODE = "read-node"


def label(part: Any) -> str:
    """How a part is named in messages and run names: its name, or its object's ``name``."""
    if isinstance(part, str):
        return part
    name = getattr(part, "name", None)
    return name if isinstance(name, str) else getattr(part, "__name__", type(part).__name__)


def _require(obj: Any, protocol: type, what: str) -> Any:
    problem = conformance_problem(obj, protocol)
    if problem is not None:
        raise PluginError(f"{what}: {problem}")
    return obj


def _call(factory: Any, what: str, *args: Any) -> Any:
    try:
        return factory(*args)
    except HarnessInputError:
        raise
    except ValueError as e:
        raise HarnessInputError(f"{what}: {e}") from None
    except Exception as e:
        raise PluginError(f"{what}: building it failed: {type(e).__name__}: {e}") from None


def _build(made: Any, protocol: type, what: str, *args: Any) -> Any:
    """``made`` itself if it follows ``protocol``; else, a class or factory, what it builds."""
    if isinstance(made, type) or (conformance_problem(made, protocol) and callable(made)):
        made = _call(made, what, *args)
    return _require(made, protocol, what)


def target(part: Any) -> Target:
    """A new, not yet set up, target from a name, path, class, factory or instance."""
    made = plugins.load("target", part) if isinstance(part, str) else part
    return _build(made, Target, f"target {label(part)!r}")


def workload(part: Any, spec: WorkloadSpec) -> Workload:
    """The workload from a name, a path or object of a factory taking ``spec``, or a workload.
    A factory gets the ``-w`` options its module declares, parsed; a workload given already
    built takes none (they would be silently ignored)."""
    return workload_with_options(part, spec)[0]


def workload_with_options(part: Any, spec: WorkloadSpec) -> tuple[Workload, dict[str, Any]]:
    """``workload(part, spec)``, and the ``-w`` options it was made with, parsed."""
    made = plugins.load("workload", part) if isinstance(part, str) else part
    what = f"workload {label(part)!r}"
    if not isinstance(made, type) and conformance_problem(made, Workload) is None:
        if spec.options:
            raise HarnessInputError(f"{what} is given built, so it takes no -w options")
        return made, {}
    try:
        spec = with_options(spec, declared_options(made), label(part))
    except ValueError as e:
        raise HarnessInputError(f"{what}: {e}") from None
    return _build(made, Workload, what, spec), dict(spec.options)


def nemesis_kind(part: Any) -> NemesisKind:
    what = f"nemesis {label(part)!r}"
    made = plugins.load("nemesis", part) if isinstance(part, str) else part
    return _require(made, NemesisKind, what)


def model(part: Any, init: Any = None) -> Model | Any:
    """A model from a name, path, class, factory (of ``init``, or of nothing) or instance."""
    made = plugins.load("model", part) if isinstance(part, str) else part
    what = f"model {label(part)!r}"
    if isinstance(made, type) or init is None:
        return _build(made, Model, what)
    return _build(made, Model, what, init)


def faults(nemeses: list[Any]) -> list[Any]:
    """The nemeses that inject something (``none`` is a placeholder for no faults)."""
    return [n for n in nemeses if n != NONE]


def build_nemesis(kind: NemesisKind, name: Any, target: Any = None) -> Nemesis:
    """A new nemesis of ``kind`` for real nodes, checked against the protocol; the
    target's own implementation of a registered name if it has one."""
    if _owns(target, name):
        return _require(target.nemesis(name), Nemesis, f"nemesis {label(name)!r}")
    return _require(kind.build(), Nemesis, f"nemesis {label(name)!r}")


def check_name(kind: str, part: Any) -> None:
    """Refuse an unknown name early (objects are checked when built)."""
    if isinstance(part, str) and not (kind == "nemesis" and part == NONE):
        plugins.check_name(kind, part)


@dataclass(frozen=True)
class Parts:
    """A test's parts, built and checked against each other; nothing is set up yet."""

    target: Target
    workload: Workload
    nemeses: tuple[tuple[Any, NemesisKind], ...]
    """(what the spec named, its kind) for every fault."""
    operations: frozenset[str]
    """The operations the run issues: the workload's, and ``read-node`` if it reads every node."""
    workload_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    """The workload's ``-w`` options, parsed (``RunContext.workload_options``)."""


def needed_operations(workload: Workload) -> frozenset[str]:
    needed = frozenset(workload.operations)
    return needed | {READ_NODE} if workload.read_every_node else needed


def check_operations(target: Target, workload: Workload, target_label: str) -> frozenset[str]:
    """The operations the run needs, once the target is known to implement all of them."""
    needed = needed_operations(workload)
    by_f: dict[str, str] = {}
    for op in sorted(needed):
        other = by_f.setdefault(bare_f(op), op)
        if other != op:
            raise PluginError(
                f"workload {label(workload)!r} declares both {other!r} and {op!r}, two meanings of f {bare_f(op)!r}"
            )
    for op in sorted(needed):
        if op not in target.operations:
            raise HarnessInputError(
                f"target {target_label!r} does not implement {op!r}, which workload {label(workload)!r} needs"
            )
    return needed


def _check_options(target: Target, options: dict[str, str], target_label: str) -> None:
    accepted = target.options if isinstance(target, Configurable) else {}
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise HarnessInputError(
            f"unknown -o key {unknown[0]!r} for target {target_label!r}; known: {', '.join(sorted(accepted)) or 'none'}"
        )
    if isinstance(target, Configurable):
        target.configure(dict(options))


def _owns(target: Any, name: Any) -> bool:
    """The target brings its own implementation of this nemesis (the maelstrom router's
    partitions), so the registry kind's requirements do not apply."""
    return (
        isinstance(name, str)
        and isinstance(target, OwnsNemeses)
        and target.nemesis(name) is not None
    )


def nemesis_refusal(target: Target, name: Any, kind: NemesisKind) -> str | None:
    """Why ``target`` cannot take a nemesis, or None: a registered name not in its list, or
    lacking an ability the kind requires. A target in its own time (the simulator) implements
    faults itself: only its list counts."""
    registered = isinstance(name, str) and not plugins.is_path(name)
    if registered and isinstance(target, LimitsNemeses) and name not in target.supported_nemeses:
        return f"; it supports: {', '.join(sorted(target.supported_nemeses)) or 'none'}"
    if isinstance(target, OwnsTime) or _owns(target, name):
        return None
    lacking = [p.__name__ for p in kind.requires if not isinstance(target, p)]
    return f": it is not {', '.join(lacking)}" if lacking else None


def _check_nemeses(
    target: Target, kinds: tuple[tuple[Any, NemesisKind], ...], target_label: str
) -> None:
    for name, kind in kinds:
        why = nemesis_refusal(target, name, kind)
        if why is not None:
            raise HarnessInputError(
                f"target {target_label!r} cannot take nemesis {label(name)!r}{why}"
            )


def prepare(spec: Any) -> Parts:
    """Build and cross-check a ``TestSpec``'s parts; raises before anything is set up."""
    kinds = tuple((n, nemesis_kind(n)) for n in faults(spec.nemesis))
    if spec.model is not None and not (
        isinstance(spec.model, str) and not plugins.is_path(spec.model)
    ):
        model(spec.model)
    built = target(spec.target)
    target_label = label(spec.target)
    if spec.ssh:
        from splitbrain.harness.control.ssh import attach  # paramiko only for remote nodes

        built = attach(built, spec.ssh)
    _check_options(built, spec.options, target_label)
    _check_nemeses(built, kinds, target_label)
    wspec = WorkloadSpec(
        keys=spec.keys,
        concurrency=spec.concurrency,
        seed=spec.seed or 0,
        model=spec.model,
        consistency=tuple(getattr(spec, "consistency", ()) or ()),
        check_timeout=spec.check_timeout,
        assume=tuple(spec.assume),
        options=dict(spec.workload_options),
    )
    made, options = claimed_workload(spec.workload, wspec)
    refused = [a for a in spec.assume if a not in made.assumptions]
    if refused:
        raise HarnessInputError(
            f"--assume {refused[0]}: workload {label(spec.workload)!r} makes no use of it"
            + (f" (it takes {', '.join(sorted(made.assumptions))})" if made.assumptions else "")
        )
    operations = check_operations(built, made, target_label)
    return Parts(built, made, kinds, operations, options)


def _claimed_check(model: str, data_type: str, timeout: float | None) -> Any:
    fn = spectrum.checker(model, data_type)
    if fn is None:
        raise HarnessInputError(
            f"consistency model {model} has no checker for data type {data_type} yet"
        )

    def check(history: list[Any]) -> dict[str, Any]:
        return fn(history, data_type, None, timeout)

    return check


def claimed_workload(part: Any, spec: WorkloadSpec) -> tuple[Any, dict[str, Any]]:
    """The workload ``spec`` makes, checking the consistency models it claims
    (``with_consistency``), and the ``-w`` options it was made with."""
    made, options = workload_with_options(part, spec)
    return with_consistency(made, spec.consistency, label(part), spec.check_timeout), options


def with_consistency(made: Any, claimed: tuple[str, ...], name: str, timeout: float | None) -> Any:
    """The workload checking the consistency models claimed: its own checkers that decide only
    claimed models stay, one checker is added for each claimed model left, and its checkers
    of models not claimed go. A model that does not apply to its data type is refused."""
    if not claimed:
        return made
    data_type = getattr(made, "data_type", None)
    if data_type is None:
        raise HarnessInputError(
            f"workload {name!r} names no data type, so it takes no --consistency "
            f"(got {', '.join(claimed)})"
        )
    added = {}
    for model in claimed:
        try:
            added[model] = _claimed_check(model, data_type, timeout)
        except hierarchy.NotApplicable as e:
            raise HarnessInputError(f"workload {name!r}: {e}") from None
    decides = dict(getattr(made, "decides", {}))
    checkers: dict[str, Any] = {}
    for checker, fn in made.checkers.items():
        models = decides.get(checker)
        if models is None or set(models) <= set(claimed):
            checkers[checker] = fn
            for model in models or ():
                added.pop(model, None)
        else:
            decides.pop(checker)
    checkers.update(added)
    decides.update({model: (model,) for model in added})
    return dataclasses.replace(made, checkers=checkers, decides=decides)


def described(spec: Any) -> Any:
    """The spec with every object replaced by its label, for test.json and replay."""
    return dataclasses.replace(
        spec,
        target=label(spec.target),
        workload=label(spec.workload),
        nemesis=[label(n) for n in spec.nemesis],
        model=None if spec.model is None else label(spec.model),
    )
