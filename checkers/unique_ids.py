"""Unique ids: no two acknowledged ``generate`` ops return the same id (as Maelstrom's)."""

from __future__ import annotations

import json
from typing import Any

from splitbrain.harness.base.history import Op, pairs
from splitbrain.harness.base.verdict import vacuous

MAX_LISTED = 100


def _canon(v: Any) -> str:
    """Ids compare by their JSON form, so 1 and "1" are different ids, as on the wire."""
    return json.dumps(v, sort_keys=True)


def check(history: list[Op]) -> dict[str, Any]:
    first: dict[str, int] = {}
    duplicated: dict[str, list[int]] = {}
    attempted = ok = 0
    for p in pairs(history):
        if p.invoke.f != "generate":
            continue
        attempted += 1
        if p.outcome != "ok" or p.complete is None:
            continue
        ok += 1
        key = _canon(p.complete.value)
        if key in first:
            duplicated.setdefault(key, [first[key]]).append(p.complete.index)
        else:
            first[key] = p.complete.index
    return {
        "valid": not duplicated,
        **vacuous(ok, "no id was acknowledged"),
        "attempted_count": attempted,
        "acknowledged_count": ok,
        "duplicated_count": len(duplicated),
        "duplicated": [
            {"id": json.loads(k), "indexes": v} for k, v in list(duplicated.items())[:MAX_LISTED]
        ],
    }
