"""Availability, as Maelstrom's ``--availability``: the fraction of client operations
that succeeded must reach the one required (``total`` is 1.0; ``harness.values.Fraction``)."""

from __future__ import annotations

from typing import Any

from splitbrain.harness.base.history import Op


def check(history: list[Op], required: float | None) -> dict[str, Any]:
    done = [o for o in history if o.is_client and o.type != "invoke"]
    ok = sum(o.type == "ok" for o in done)
    fraction = ok / len(done) if done else None
    valid: Any = True
    if required is not None:
        valid = fraction is not None and fraction >= required
    return {
        "valid": valid,
        "ok_fraction": None if fraction is None else round(fraction, 6),
        "required": required,
        "completed": len(done),
        "ok": ok,
    }
