"""Maelstrom's network statistics as summary lines (front ends print them after a run)."""

from __future__ import annotations

from typing import Any


def net_lines(results: dict[str, Any]) -> list[str]:
    """Maelstrom's network statistics, for the summary."""
    net = results.get("net")
    if not net:
        return []
    lines = ["net:"]
    for part in ("all", "clients", "servers"):
        c = net.get(part, {})
        per_op = f", msgs-per-op {c['msgs-per-op']}" if "msgs-per-op" in c else ""
        lines.append(
            f"  {part}: send {c.get('send-count')}, recv {c.get('recv-count')}, msgs {c.get('msg-count')}{per_op}"
        )
    if net.get("dropped"):
        lines.append(f"  dropped: {net['dropped']}")
    checkers = results.get("checkers", {})
    stable = checkers.get("set-full", {}).get("stable_latency_ms")
    if stable:
        lines.append(
            f"stable latency ms: median {stable['median']}, p99 {stable['p99']}, max {stable['max']}"
        )
    avail = checkers.get("availability", {})
    if avail.get("ok_fraction") is not None:
        required = avail.get("required")
        lines.append(
            f"ops ok: {avail['ok_fraction']:.4f}"
            + (f" (required {required:g})" if required is not None else "")
        )
    return lines
