"""Counts and latencies by function and outcome; valid unless some function never succeeded,
as Jepsen's stats checker: a read that always failed leaves the other checkers nothing to
judge, so their verdicts would be vacuous."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from splitbrain.harness.base.history import Op, pairs


def quantile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank quantile of an already sorted list."""
    if not sorted_values:
        return None
    i = min(len(sorted_values) - 1, max(0, int(round(q * (len(sorted_values) - 1)))))
    return sorted_values[i]


def latency_summary(latencies_ns: list[int]) -> dict[str, float | int | None]:
    ms = sorted(x / 1e6 for x in latencies_ns)
    return {
        "count": len(ms),
        "median_ms": quantile(ms, 0.5),
        "p99_ms": quantile(ms, 0.99),
        "max_ms": ms[-1] if ms else None,
    }


def check(history: list[Op]) -> dict[str, Any]:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"ok": 0, "fail": 0, "info": 0})
    latencies: dict[str, list[int]] = defaultdict(list)
    all_latencies: list[int] = []
    for p in pairs(history):
        counts[p.invoke.f][p.outcome] += 1
        done = p.complete
        if done is not None and done.time is not None and p.invoke.time is not None:
            lat = done.time - p.invoke.time
            latencies[p.invoke.f].append(lat)
            all_latencies.append(lat)
    total = {t: sum(c[t] for c in counts.values()) for t in ("ok", "fail", "info")}
    never_ok = sorted(f for f, c in counts.items() if c["ok"] == 0)
    return {
        "valid": not never_ok,
        "never_ok": never_ok,
        "count": sum(total.values()),
        "by_outcome": total,
        "by_f": {f: dict(c) for f, c in sorted(counts.items())},
        "latency": latency_summary(all_latencies),
        "latency_by_f": {f: latency_summary(v) for f, v in sorted(latencies.items())},
    }
