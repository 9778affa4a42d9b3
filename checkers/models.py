"""Sequential specifications for the linearizability checker.

A model turns each completed or indeterminate operation into a compact, hashable ``arg``
once (``prepare``), and the search then calls ``step(state, arg)`` millions of times, so
``step`` works on plain tuples and returns either the next state or ``ILLEGAL``.

For an indeterminate op (``info``, or an invoke that never completed) ``prepare`` gets
``status="info"`` and must return an arg whose step never fails: it applies the effect
when the effect is possible and otherwise leaves the state alone (the op did not happen).
An indeterminate op may also be linearized at the very end, which stands for "never".
``prepare`` returns ``DROP`` for ops that constrain nothing (failed ops, indeterminate reads).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from splitbrain.harness.base import plugins
from splitbrain.harness.base.errors import HarnessInputError
from splitbrain.harness.base.protocols import HashesStates

ILLEGAL: Any = object()
DROP: Any = object()


class ModelInputError(HarnessInputError):
    """An op the model does not understand (bad f or value shape)."""


_SCALARS = frozenset({int, str, float, bool, type(None)})


def freeze(value: Any) -> Hashable:
    """Make JSON/EDN data hashable: lists become tuples, dicts sorted item tuples, sets frozensets."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted(((freeze(k), freeze(v)) for k, v in value.items()), key=repr))
    if isinstance(value, set | frozenset):
        return frozenset(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """JSON-able form of a frozen value (tuples become lists, frozensets sorted lists)."""
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    if isinstance(value, frozenset):
        return sorted((thaw(v) for v in value), key=repr)
    return value


@dataclass(frozen=True)
class Model:
    """A sequential object: initial state, op preparation and the step function."""

    name: str
    init: Hashable
    prepare: Callable[[str, Any, Any, str], Any]
    """(f, invoke value, completion value, status "ok"|"fail"|"info") -> arg or DROP."""
    step: Callable[[Any, Any], Any]
    describe: Callable[[Any], Any] = thaw
    """JSON-able form of a state, for counterexamples."""
    unique_register: bool = False
    """Register semantics (read/write/cas on one value): the unique-values fast path applies."""
    readonly: Callable[[Any], bool] | None = None
    """True for an arg whose step never changes the state (lets the search commit to it)."""


# ---------------------------------------------------------------- register / cas-register

R_READ, R_WRITE, R_CAS, R_CAS_INFO, R_CAS_NOT_APPLIED = range(5)


def _register_step(state: Any, arg: tuple[int, Any, Any]) -> Any:
    code, a, b = arg
    if code == R_READ:
        return state if state == a else ILLEGAL
    if code == R_WRITE:
        return a
    if code == R_CAS:
        return b if state == a else ILLEGAL
    if code == R_CAS_INFO:
        return b if state == a else state
    return state if state != a else ILLEGAL


def _register_readonly(arg: tuple[int, Any, Any]) -> bool:
    return arg[0] == R_READ or arg[0] == R_CAS_NOT_APPLIED


def _cas_pair(value: Any) -> tuple[Any, Any]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ModelInputError(f"cas value must be [old, new], got {value!r}")
    return freeze(value[0]), freeze(value[1])


def _register_prepare(
    failed_cas_no_op: bool, null_read_unknown: bool
) -> Callable[[str, Any, Any, str], Any]:
    def prepare(f: str, value: Any, result: Any, status: str) -> Any:
        if f == "read":
            if status != "ok" or (result is None and null_read_unknown):
                return DROP
            return (R_READ, freeze(result), None)
        if f == "write":
            return DROP if status == "fail" else (R_WRITE, freeze(value), None)
        if f == "cas":
            old, new = _cas_pair(value)
            if status == "ok":
                return (R_CAS, old, new)
            if status == "info":
                return (R_CAS_INFO, old, new)
            return (R_CAS_NOT_APPLIED, old, None) if failed_cas_no_op else DROP
        raise ModelInputError(f"register ops are read, write and cas; got {f!r}")

    return prepare


def register(init: Any = None, *, failed_cas: str = "did-not-happen") -> Model:
    """A read/write/compare-and-set register.

    ``failed_cas``: "did-not-happen" (Jepsen's meaning of fail: drop the op) or "no-op"
    (porcupine's etcd reading: the CAS completed, found a value other than ``old``).
    When ``init`` is not null, a read that returned null is a read of an unknown value, as in
    Knossos' cas-register (its memstress histories rely on it); with a null init, null is the
    register's value until the first write and such reads are checked.
    """
    if failed_cas not in ("did-not-happen", "no-op"):
        raise ValueError(f"failed_cas must be 'did-not-happen' or 'no-op', got {failed_cas!r}")
    return Model(
        name="cas-register",
        init=freeze(init),
        prepare=_register_prepare(failed_cas == "no-op", init is not None),
        step=_register_step,
        unique_register=True,
        readonly=_register_readonly,
    )


def plain_register(init: Any = None) -> Model:
    m = register(init)
    return Model("register", m.init, m.prepare, m.step, unique_register=True, readonly=m.readonly)


# ---------------------------------------------------------------- kv (porcupine: get/put/append)

KV_GET, KV_PUT, KV_APPEND = range(3)


def _kv_prepare(f: str, value: Any, result: Any, status: str) -> Any:
    if status == "fail":
        return DROP
    if f == "get":
        return DROP if status != "ok" else (KV_GET, "" if result is None else result)
    if f == "put":
        return (KV_PUT, value)
    if f == "append":
        return (KV_APPEND, value)
    raise ModelInputError(f"kv ops are get, put and append; got {f!r}")


def _kv_step(state: str, arg: tuple[int, Any]) -> Any:
    code, v = arg
    if code == KV_GET:
        return state if state == v else ILLEGAL
    if code == KV_PUT:
        return v
    return state + v


def _kv_readonly(arg: tuple[int, Any]) -> bool:
    return arg[0] == KV_GET


def kv(init: Any = "") -> Model:
    return Model(
        "kv",
        "" if init is None else init,
        _kv_prepare,
        _kv_step,
        readonly=_kv_readonly,
    )


# ---------------------------------------------------------------- set (add/read)


def _set_prepare(f: str, value: Any, result: Any, status: str) -> Any:
    if status == "fail":
        return DROP
    if f == "add":
        return (0, freeze(value))
    if f == "read":
        if status != "ok":
            return DROP
        if not isinstance(result, list | tuple | set | frozenset):
            raise ModelInputError(f"set read must return a collection, got {result!r}")
        return (1, frozenset(freeze(v) for v in result))
    raise ModelInputError(f"set ops are add and read; got {f!r}")


def _set_step(state: frozenset, arg: tuple[int, Any]) -> Any:
    code, v = arg
    if code == 0:
        return state | {v}
    return state if state == v else ILLEGAL


def _set_readonly(arg: tuple[int, Any]) -> bool:
    return arg[0] == 1


def set_model(init: Any = None) -> Model:
    return Model(
        "set",
        frozenset(freeze(v) for v in (init or ())),
        _set_prepare,
        _set_step,
        readonly=_set_readonly,
    )


# ---------------------------------------------------------------- queue (FIFO)

Q_ENQ, Q_DEQ, Q_DEQ_INFO = range(3)


def _queue_prepare(f: str, value: Any, result: Any, status: str) -> Any:
    if status == "fail":
        return DROP
    if f == "enqueue":
        return (Q_ENQ, freeze(value))
    if f == "dequeue":
        return (Q_DEQ, freeze(result)) if status == "ok" else (Q_DEQ_INFO, None)
    raise ModelInputError(f"queue ops are enqueue and dequeue; got {f!r}")


def _queue_step(state: tuple, arg: tuple[int, Any]) -> Any:
    code, v = arg
    if code == Q_ENQ:
        return (*state, v)
    if code == Q_DEQ:
        if not state:
            return state if v is None else ILLEGAL
        return state[1:] if state[0] == v else ILLEGAL
    return state[1:]


def queue(init: Any = None) -> Model:
    return Model("queue", tuple(freeze(v) for v in (init or ())), _queue_prepare, _queue_step)


# ---------------------------------------------------------------- mutex

M_ACQ, M_REL, M_ACQ_INFO, M_REL_INFO = range(4)


def _mutex_prepare(f: str, value: Any, result: Any, status: str) -> Any:
    if status == "fail":
        return DROP
    known = status == "ok"
    if f == "acquire":
        return M_ACQ if known else M_ACQ_INFO
    if f == "release":
        return M_REL if known else M_REL_INFO
    raise ModelInputError(f"mutex ops are acquire and release; got {f!r}")


def _mutex_step(held: bool, arg: int) -> Any:
    if arg == M_ACQ:
        return True if not held else ILLEGAL
    if arg == M_REL:
        return False if held else ILLEGAL
    return arg == M_ACQ_INFO


def _mutex_init(init: Any) -> bool:
    if init in (None, False, "released", "unlocked", "free"):
        return False
    if init in (True, "acquired", "locked", "held"):
        return True
    raise ModelInputError(f"mutex init must be 'released' or 'acquired', got {init!r}")


def mutex(init: Any = "released") -> Model:
    return Model(
        "mutex",
        _mutex_init(init),
        _mutex_prepare,
        _mutex_step,
        describe=lambda held: "acquired" if held else "released",
    )


# ---------------------------------------------------------------- multi-register (Knossos txn)


def _micro_ops(value: Any) -> list[tuple[str, Any, Any]]:
    if not isinstance(value, list | tuple):
        raise ModelInputError(f"txn value must be a list of [f, key, value], got {value!r}")
    out = []
    for mop in value:
        if not isinstance(mop, list | tuple) or len(mop) != 3 or mop[0] not in ("read", "write"):
            raise ModelInputError(f"txn micro-op must be [read|write, key, value], got {mop!r}")
        out.append((mop[0], freeze(mop[1]), freeze(mop[2])))
    return out


def _multi_prepare(f: str, value: Any, result: Any, status: str) -> Any:
    if f != "txn":
        raise ModelInputError(f"multi-register ops are txn; got {f!r}")
    if status == "fail":
        return DROP
    if status == "ok":
        return tuple(_micro_ops(result if result is not None else value))
    writes = tuple(m for m in _micro_ops(value) if m[0] == "write")
    return writes or DROP


def _multi_step(state: tuple, arg: tuple) -> Any:
    regs = dict(state)
    for f, k, v in arg:
        if f == "read":
            if regs.get(k) != v:
                return ILLEGAL
        else:
            regs[k] = v
    return tuple(sorted(regs.items(), key=repr))


def _multi_readonly(arg: tuple) -> bool:
    return all(m[0] == "read" for m in arg)


def multi_register(init: Any = None) -> Model:
    regs = {freeze(k): freeze(v) for k, v in (init or {}).items()}
    return Model(
        "multi-register",
        tuple(sorted(regs.items(), key=repr)),
        _multi_prepare,
        _multi_step,
        describe=lambda st: {str(k): thaw(v) for k, v in st},
        readonly=_multi_readonly,
    )


# ---------------------------------------------------------------- adapter for protocol models


class _State:
    """A user model's state as the search's cache needs it: hashable and comparable, by the
    model's own ``hash``/``equal`` (porcupine's ``Equal``) or else by its frozen form."""

    __slots__ = ("value", "_key", "_equal")

    def __init__(self, value: Any, key: Hashable, equal: Callable[[Any, Any], bool] | None):
        self.value = value
        self._key = key
        self._equal = equal

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _State):
            return NotImplemented
        if self._equal is not None:
            return self._equal(self.value, other.value)
        return self._key == other._key


def from_protocol(obj: Any) -> Model:
    """Wrap an object with ``init()`` and ``step(state, f, invoke_value, ok_value) -> (ok, state)``.

    States need not be hashable: a model with ``hash(state)`` and ``equal(a, b)`` is asked,
    otherwise states are frozen (lists to tuples, dicts to sorted items) for the cache.
    The model's ``step`` always sees its own state values, never the frozen form.
    """
    own = isinstance(obj, HashesStates)

    def wrap(value: Any) -> _State:
        if own:
            return _State(value, obj.hash(value), obj.equal)
        return _State(value, freeze(value), None)

    def prepare(f: str, value: Any, result: Any, status: str) -> Any:
        if status == "fail":
            return DROP
        return (f, value, result if status == "ok" else None, status == "ok")

    def step(state: _State, arg: tuple) -> Any:
        f, value, result, known = arg
        ok, new = obj.step(state.value, f, value, result)
        if ok:
            return wrap(new)
        return ILLEGAL if known else state

    return Model(
        getattr(obj, "name", type(obj).__name__),
        wrap(obj.init()),
        prepare,
        step,
        describe=lambda state: state.value,
    )


MODELS: Mapping[str, Callable[..., Model]] = plugins.View("model")
"""Model factories by name: the registry's ``splitbrain.models`` group (pyproject.toml)."""
