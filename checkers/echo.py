"""Echo: every acknowledged echo returns exactly the payload it was sent."""

from __future__ import annotations

from typing import Any

from splitbrain.harness.base.history import Op, pairs
from splitbrain.harness.base.verdict import vacuous

MAX_LISTED = 100


def check(history: list[Op]) -> dict[str, Any]:
    wrong: list[dict[str, Any]] = []
    ok = 0
    for p in pairs(history):
        if p.invoke.f != "echo" or p.outcome != "ok" or p.complete is None:
            continue
        ok += 1
        if p.complete.value != p.invoke.value:
            wrong.append(
                {"index": p.complete.index, "sent": p.invoke.value, "got": p.complete.value}
            )
    return {
        "valid": not wrong,
        **vacuous(ok, "no echo was acknowledged"),
        "ok_count": ok,
        "wrong_count": len(wrong),
        "wrong": wrong[:MAX_LISTED],
    }
