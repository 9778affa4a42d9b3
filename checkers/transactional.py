"""Elle's transactional checkers behind one call: a history's micro-ops say which data type it
is (``append`` for list-append, ``w`` for rw-register), so a user names only the consistency
model, as with Elle."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from splitbrain.checkers import elle
from splitbrain.checkers.txn import rw_register
from splitbrain.checkers.txn.core import BadHistory
from splitbrain.harness.base.history import Op

LIST_APPEND = "list-append"
RW_REGISTER = "rw-register"


def data_type(history: list[Op]) -> str:
    """``list-append`` or ``rw-register``, from the first write (or non-nil read) of a client op.

    A history holding both appends and register writes is refused (``BadHistory``, naming
    the op that mixes them in); a history with nothing but nil reads is list-append's.
    """
    found: str | None = None
    first = 0
    for op in history:
        if not op.is_client or not isinstance(op.value, list):
            continue
        for m in op.value:
            kind = _kind(m)
            if kind is None:
                continue
            if found is None:
                found, first = kind, op.index
            elif kind != found:
                raise BadHistory(
                    op.index,
                    f"micro-ops of {kind} in a history of {found} (as at index {first}); "
                    "one history holds one data type",
                )
    return found or LIST_APPEND


def _kind(m: Any) -> str | None:
    if not isinstance(m, list | tuple) or len(m) != 3:
        return None
    f = getattr(m[0], "name", m[0])
    if f == "append":
        return LIST_APPEND
    if f == "w":
        return RW_REGISTER
    if f == "r" and m[2] is not None:
        return LIST_APPEND if isinstance(m[2], list) else RW_REGISTER
    return None


def check(
    history: list[Op],
    consistency_models: Iterable[str] | None = None,
    assume: Iterable[str] = (),
    given_type: str | None = None,
    **options: Any,
) -> dict[str, Any]:
    """The checker of the history's data type (``given_type`` when the user named it, else
    read off the micro-ops: a history of reads alone could be either); ``assume`` is for
    rw-register only (ValueError for a list-append history: there every read shows the whole
    version order)."""
    assumed = list(assume)
    kind = given_type if given_type in (LIST_APPEND, RW_REGISTER) else data_type(history)
    if kind == RW_REGISTER:
        return rw_register.check(history, consistency_models, assume=assumed, **options)
    if assumed:
        raise ValueError(
            f"--assume {assumed[0]} is for rw-register histories; this one is list-append, "
            "whose reads show each key's whole version order"
        )
    return elle.check(history, consistency_models, **options)
