"""Values, micro-ops and operations as text, in the history's own notation (JSON values).

Every explanation a checker or front end prints goes through here, so ``None`` reads
``null``, a string key reads ``"k7"`` and an append reads ``append 3 7``, never a Python repr.
"""

from __future__ import annotations

import json
from typing import Any

LIST_HEAD, LIST_TAIL = 3, 6


def value_text(value: Any, limit: int | None = None) -> str:
    """A value as JSON; a list longer than ``LIST_HEAD + LIST_TAIL`` keeps its ends and counts the rest.

    The tail is kept longer than the head because the last elements of a read are what an
    anomaly is usually about.
    """
    text = _value(value)
    if limit is not None and len(text) > limit:
        return text[: limit - 1] + "…"
    return text


def _value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        items = list(value)
        if len(items) > LIST_HEAD + LIST_TAIL + 1:
            hidden = len(items) - LIST_HEAD - LIST_TAIL
            parts = [*map(_value, items[:LIST_HEAD]), f"…{hidden} more…"]
            parts += map(_value, items[-LIST_TAIL:])
        else:
            parts = [_value(i) for i in items]
        return "[" + ", ".join(parts) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_value(k)}: {_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (set, frozenset)):
        return _value(sorted(value, key=str))
    try:
        return json.dumps(value, ensure_ascii=False)
    except TypeError:
        return str(value)


def listing_order(value: Any) -> tuple[bool, float, str]:
    """A sort key that lists numbers in numeric order (7 before 26) and everything else after
    them by its text, so elements of any mix of types can be listed."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (False, float(value), "")
    return (True, 0.0, str(value))


def is_mop(m: Any) -> bool:
    return isinstance(m, (list, tuple)) and len(m) == 3 and isinstance(m[0], str)


def mop_text(m: Any) -> str:
    """``append 3 7`` (append 7 to key 3), ``r 3 [1, 2]`` (read key 3, saw [1, 2])."""
    if not is_mop(m):
        return value_text(m)
    f, k, v = m
    return f"{f} {value_text(k)} {value_text(v)}"


def txn_text(value: Any) -> str:
    """A transaction's micro-ops, ``[append 3 7, r 0 [1, 2]]``."""
    if isinstance(value, list) and all(is_mop(m) for m in value):
        return "[" + ", ".join(mop_text(m) for m in value) + "]"
    return value_text(value)


def op_text(op: dict[str, Any]) -> str:
    """An op map as ``process 3 txn [...] (history 57)``; ``type`` shown unless ``ok``."""
    value = op.get("value")
    what = txn_text(value) if isinstance(value, list) and value and is_mop(value[0]) else None
    f = op.get("f") or ("txn" if what is not None else "op")
    body = f"{f} {what if what is not None else value_text(value)}"
    process = op.get("process")
    head = f"process {value_text(process) if isinstance(process, str) else process} "
    if process is None:
        head = ""
    status = "" if op.get("type") in (None, "ok") else f" ({op.get('type')})"
    where = f" (history {op['index']})" if isinstance(op.get("index"), int) else ""
    return f"{head}{body}{status}{where}"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def fault_text(detail: Any) -> str:
    """What a fault op did, in words: ``n1, n5``; ``majorities-ring: n1 cannot reach n4, n5; ...``."""
    if isinstance(detail, dict) and set(detail) <= {"value", "result"}:
        asked, did = detail.get("value"), detail.get("result")
        words = fault_text(did) if did is not None else ""
        if asked is not None:
            words = f"{fault_text(asked)}: {words}" if words else fault_text(asked)
        return words
    if isinstance(detail, list) and all(isinstance(n, str) for n in detail):
        return ", ".join(detail) or "nothing"
    if isinstance(detail, dict) and isinstance(detail.get("grudge"), dict):
        kind = detail.get("kind")
        cut = "; ".join(
            f"{node} cannot reach {', '.join(map(str, peers))}"
            for node, peers in detail["grudge"].items()
            if peers
        )
        return f"{kind}: {cut}" if kind else cut
    if isinstance(detail, str):
        return detail
    return value_text(detail, 300)
