"""Limits a claim sets on what a run measured: the Gossip Glomers thresholds.

Three claim keys (in a claims file, the pytest marker and the fixture), named as
Maelstrom's checker options are:

- ``msgs_per_op: 30``: the servers' messages per operation stay below 30 (the maelstrom
  target counts them; ``-o msgs-per-op``);
- ``stable_latency: {median: 400, max: 600}`` (or ``median:400,max:600``): broadcast and
  g-set's stable-latency quantiles, in ms, stay below their limits (``-w stable-latency``);
- ``availability: total`` or a fraction, or ``{during: run, min_ok: 0.99}``: that share of
  the client operations succeeded (``-w availability``, Maelstrom's ``--availability``).
  The mapping is the general form; a bare ``total`` or fraction is the case of the whole
  run (``during: run``), so there is one key with one meaning.

Each is checked when the claims are read (one line naming file, claim and key, exit 254),
becomes the option that the run's checkers take, and is reported by the gate beside the
value the run measured (``report_lines``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from splitbrain.harness.bounds import brief
from splitbrain.harness.values import Fraction, Limits, Number, Problem

STABLE_LATENCY_QUANTILES = ("median", "p99", "max")
WHOLE_RUN = "run"
AVAILABILITY_KEYS = ("during", "min_ok", "ops")
ALL_OPS = ("all", [], ())


@dataclass(frozen=True)
class Availability:
    """``total``, a fraction, or ``{during: run, min_ok: F, ops: all}``: the share of client
    ops that must succeed over the whole run (the keys of branch cap's ``availability``,
    whose ``during: run`` this is)."""

    fraction: Fraction = Fraction()
    describe: str = "'total', a fraction from 0 to 1, or {during: run, min_ok: FRACTION}"

    def from_value(self, value: Any) -> float:
        if not isinstance(value, Mapping):
            return self.fraction.from_value(value)
        unknown = [k for k in value if k not in AVAILABILITY_KEYS]
        if unknown:
            raise Problem(f"unknown key {brief(unknown[0])}; known: {', '.join(AVAILABILITY_KEYS)}")
        during = value.get("during", WHOLE_RUN)
        if during != WHOLE_RUN:
            raise Problem(
                f"during {brief(during)}: only {WHOLE_RUN!r} (the whole run) is judged here"
            )
        if value.get("ops", "all") not in ALL_OPS:
            raise Problem(f"ops {brief(value['ops'])}: only all client ops are judged here")
        if "min_ok" not in value:
            raise Problem("needs min_ok, the fraction of client ops that must succeed")
        try:
            return self.fraction.from_value(value["min_ok"])
        except Problem as e:
            raise Problem(f"min_ok {e}") from None


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
    "availability": Limit(Availability().from_value, "-w", "availability", Fraction().to_text),
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
    return {True: "met", False: "NOT met"}.get(valid, "unknown")


def _measured(key: str, limit: Any, checkers: Mapping[str, Any]) -> str:
    if key == "msgs_per_op":
        r = checkers.get("msgs-per-op", {})
        return f"{r.get('servers_msgs_per_op')} server msgs/op, limit below {limit:g}: {_met(r.get('valid'))}"
    if key == "stable_latency":
        r = checkers.get("set-full", {})
        measured = r.get("stable_latency_ms") or {}
        over = r.get("stable_latency_over") or {}
        parts = [f"{q} {measured.get(q)} ms (limit {v:g})" for q, v in limit.items()]
        return f"{', '.join(parts)}: {'NOT met' if over else 'met' if r else 'unknown'}"
    r = checkers.get("availability", {})
    return (
        f"{r.get('ok_fraction')} of client ops ok, required {Fraction().to_text(limit)}: "
        f"{_met(r.get('valid'))}"
    )
