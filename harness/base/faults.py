"""Fault windows: the spans of a history during which a nemesis fault was active.

A window opens at the completion of a fault's start op and closes at the completion of its
stop op (a start never stopped lasts to the end). The report shades them; the CAP profile
(``checkers.cap``) measures availability inside and outside them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from splitbrain.harness.base.history import Op

OPENERS = {
    "kill": "start",
    "pause": "resume",
    "bump-clock": "reset-clock",
    "strobe-clock": "reset-clock",
}
"""Faults whose opening and closing op names do not follow "start-X"/"stop-X"."""

KINDS = {"bump-clock": "clock", "strobe-clock": "clock", "start": "fault"}
"""The kind of fault an opening op starts, where it is not the op's own family name. Bare
``start``/``stop`` (Jepsen's classic nemeses) say nothing of what they break: ``fault``."""


@dataclass(slots=True)
class FaultWindow:
    """The time a fault was active, from the completion of its start to that of its stop.

    ``start_pos``/``end_pos`` are the positions of those completions in the list of ops the
    windows were found in (``end_pos`` is that list's length when the fault never stopped)."""

    name: str
    start: int
    end: int
    detail: Any
    open_ended: bool = False
    kind: str = "fault"
    start_pos: int = 0
    end_pos: int = 0


def closer_of(f: str) -> str | None:
    if f.startswith("start-"):
        return "stop-" + f[len("start-") :]
    return OPENERS.get(f)


def family(f: str) -> str:
    return f[len("start-") :] if f.startswith("start-") else f


def kind_of(f: str) -> str:
    """``partition``, ``packet``, ``kill``, ``pause``, ``clock``, or ``fault`` (unnamed)."""
    return KINDS.get(f, family(f))


def fault_windows(ops: list[Op], end_time: int) -> list[FaultWindow]:
    """Pair nemesis start/stop ops into windows (client ops are passed over); a start never
    stopped lasts to the end.

    "start" closes an open "kill"; otherwise it opens a generic window that "stop" closes
    (Jepsen's classic nemeses use bare :start and :stop). An op that changed nothing (its
    completion is an empty list or map) opens no window.
    """
    windows: list[FaultWindow] = []
    open_by_closer: dict[str, list[FaultWindow]] = {}
    pending: dict[Any, tuple[Op, int]] = {}
    for pos, op in enumerate(ops):
        if op.is_client:
            continue
        if op.type == "invoke":
            pending[op.process] = (op, pos)
            continue
        invoke = pending.pop(op.process, (None, pos))[0]
        f = invoke.f if invoke is not None else op.f
        if op.type == "fail":
            continue
        t = op.time or 0
        if open_by_closer.get(f):
            for w in open_by_closer.pop(f):
                w.end, w.end_pos, w.open_ended = t, pos, False
            continue
        closer = closer_of(f) or ("stop" if f == "start" else None)
        if closer is None or _changed_nothing(op.value):
            continue
        value = invoke.value if invoke is not None else None
        w = FaultWindow(
            family(f),
            t,
            end_time,
            {"value": value, "result": op.value},
            True,
            kind_of(f),
            pos,
            len(ops),
        )
        label = _short(value)
        if label:
            w.name = f"{w.name} {label}"
        windows.append(w)
        open_by_closer.setdefault(closer, []).append(w)
    for op, pos in pending.values():
        if closer_of(op.f) is not None:
            windows.append(
                FaultWindow(
                    family(op.f),
                    op.time or 0,
                    end_time,
                    {"value": op.value},
                    True,
                    kind_of(op.f),
                    pos,
                    len(ops),
                )
            )
    return windows


def _changed_nothing(result: Any) -> bool:
    """A fault op whose completion names no node or rule (``[]``, ``{}``): it did nothing, as
    the teardown's final restart after a kill that was already healed."""
    return isinstance(result, (list, dict)) and not result


def _short(value: Any, limit: int = 40) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
