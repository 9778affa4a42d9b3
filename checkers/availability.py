"""Availability, as Maelstrom's ``--availability``: the fraction of client operations
that succeeded must reach the one required (``total`` is 1.0)."""

from __future__ import annotations

from typing import Any

from splitbrain.harness.history import Op


def parse(text: str) -> float | None:
    """``total`` -> 1.0, a fraction in [0, 1] -> itself, empty or ``none`` -> None."""
    text = text.strip().lower()
    if text in ("", "none"):
        return None
    if text == "total":
        return 1.0
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"availability must be 'total' or a fraction in [0, 1], got {text!r}")
    return value


def check(history: list[Op], required: float | None) -> dict[str, Any]:
    done = [o for o in history if o.is_client and o.type != "invoke"]
    ok = sum(o.type == "ok" for o in done)
    fraction = ok / len(done) if done else None
    valid: Any = True
    if required is not None:
        valid = "unknown" if fraction is None else fraction >= required
    return {
        "valid": valid,
        "ok_fraction": None if fraction is None else round(fraction, 6),
        "required": required,
        "completed": len(done),
        "ok": ok,
    }
