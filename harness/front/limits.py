"""Limits a claim sets on what a run measured: the Gossip Glomers thresholds.

Two claim keys (in a claims file, the pytest marker and the fixture), named as
Maelstrom's checker options are (Maelstrom's third, ``availability``, is the gate's
``availability`` key, measured on the run's CAP profile for every target):

- ``msgs_per_op: 30``: the servers' messages per operation stay below 30 (the maelstrom
  target counts them; ``-o msgs-per-op``);
- ``stable_latency: {median: 400, max: 600}`` (or ``median:400,max:600``): broadcast and
  g-set's stable-latency quantiles, in ms, stay below their limits (``-w stable-latency``);

Each is checked when the claims are read (one line naming file, claim and key, exit 254),
becomes the option that the run's checkers take, and is reported by the gate beside the
value the run measured (``report_lines``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from splitbrain.harness.base.values import Limits, Number, Problem
from splitbrain.harness.base.verdict import vacuous_words, verdict_word

STABLE_LATENCY_QUANTILES = ("median", "p99", "max")


@dataclass(frozen=True)
class Limit:
    """One claim key: its kind, and the option of the run it becomes."""

    parse: Any
    flag: str
    """``-o`` (a target option) or ``-w`` (a workload option)."""
    option: str
    to_text: Any


KINDS: dict[str, Limit] = {
    "msgs_per_op": Limit(
        Number(0, 1e9, above=True).from_value, "-o", "msgs-per-op", Number(0, 1e9).to_text
    ),
    "stable_latency": Limit(
        Limits(STABLE_LATENCY_QUANTILES, unit="ms").from_value,
        "-w",
        "stable-latency",
        Limits(STABLE_LATENCY_QUANTILES).to_text,
    ),
}
"""The claim keys, in the order the gate reports them."""
SPEC_FIELD = {"-o": "options", "-w": "workload_options"}


def apply(spec: dict[str, Any], limits: Mapping[str, Any]) -> dict[str, Any]:
    """The claim's TestSpec fields with each limit written as the option it stands for; a
    limit also given as that option is refused (say it once)."""
    out = dict(spec)
    for key, value in limits.items():
        limit = KINDS[key]
        field = SPEC_FIELD[limit.flag]
        given = dict(out.get(field) or {})
        if limit.option in given:
            raise Problem(
                f"key {key!r} and {field} {limit.option!r} say the same thing; give it once"
            )
        given[limit.option] = limit.to_text(value)
        out[field] = given
    return out


def report_lines(limits: Mapping[str, Any], results: Mapping[str, Any] | None) -> list[str]:
    """Each limit a claim set, the value the run measured, and whether it was met."""
    checkers = (results or {}).get("checkers", {})
    lines = []
    for key in KINDS:
        if key in limits:
            lines.append(f"{key}: {_measured(key, limits[key], checkers)}")
    return lines


def _met(valid: Any) -> str:
    return {True: "met", False: "NOT met"}.get(valid, verdict_word(valid))


def _measured(key: str, limit: Any, checkers: Mapping[str, Any]) -> str:
    if key == "msgs_per_op":
        r = checkers.get("msgs-per-op", {})
        if r.get("vacuous"):
            return vacuous_words(r["vacuous"])
        return f"{r.get('servers_msgs_per_op')} server msgs/op, limit below {limit:g}: {_met(r.get('valid'))}"
    if key == "stable_latency":
        r = checkers.get("set-full", {})
        measured = r.get("stable_latency_ms") or {}
        over = r.get("stable_latency_over") or {}
        parts = [f"{q} {measured.get(q)} ms (limit {v:g})" for q, v in limit.items()]
        return f"{', '.join(parts)}: {'NOT met' if over else 'met' if r else 'not measured'}"
    raise KeyError(key)
