"""The CAP profile of a run: what the system paid in availability while faults were active,
and a one-line account of what it did (refused requests, lied, both or neither).

The history is cut into windows at every fault's start and stop (``harness.faults``): each
window has one set of active fault kinds, none for a quiet window. A client operation
belongs to the first fault window its execution overlaps (from its invocation to its
completion, or to the end when it never completed: an op stuck when a partition began is the
partition's), else to the quiet window it was invoked in. Per window, per kind
of fault (every window where that kind was active), and for the quiet windows together:
for each operation ``f`` and for all of them, the ``ok`` / ``fail`` / ``info`` counts and
fractions (an invocation never completed counts as ``info``), throughput (``ok`` ops per
second of window time) and latency quantiles of the completed ops; per node too (the node
that answered). The final phase's ``read-node`` probes are not requests and are left out.

A pure function of the history, like every checker; ``classify`` reads the checkers'
verdicts (and the spectrum of models, where the run has one) besides the profile.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from splitbrain.checkers.stats import latency_summary
from splitbrain.harness.base.faults import fault_windows
from splitbrain.harness.base.history import Op, Pair, pairs
from splitbrain.harness.base.verdict import is_crashed

QUIET = "quiet"
FAULTED = "faulted"
"""The ``during`` key of every window with any fault active."""
KIND_ORDER = ("partition", "packet", "kill", "pause", "clock", "fault")
KIND_WORDS = {
    "partition": "partitions",
    "packet": "packet faults",
    "kill": "kills",
    "pause": "pauses",
    "clock": "clock faults",
    "fault": "faults",
    FAULTED: "faults",
}
PROBE = "read-node"
"""The final phase's read of each node on its own: the harness's probe, not a request."""
MAX_WINDOWS_LISTED = 1000
"""Windows listed one by one in the profile; the aggregates (``during``) always cover all."""
REFUSAL_MARGIN = 0.05
"""How much more often requests must fail during faults than when quiet (5 points) for the
run to count as having refused them; less is noise (an op caught by the fault's onset)."""
NODE_REFUSAL = 0.5
"""A node refused requests during a fault window when it served at least half of its requests
fewer than when quiet. Its clients hang on timeouts, so it completes few ops and the totals
hide it; it is judged window by window because each partition cuts off other nodes."""
NOT_CONSISTENCY = frozenset({"stats", "availability"})
"""Checker results that say nothing about consistency."""


@dataclass(frozen=True, slots=True)
class Window:
    """A stretch of the history with one set of active fault kinds (none: quiet)."""

    start_pos: int
    end_pos: int
    start_ns: int
    end_ns: int
    kinds: tuple[str, ...]
    names: tuple[str, ...]

    @property
    def seconds(self) -> float:
        return max(self.end_ns - self.start_ns, 0) / 1e9


def windows(history: list[Op]) -> list[Window]:
    """The history cut at every fault's start and stop, in order, covering all of it."""
    if not history:
        return []
    times = [op.time for op in history]
    first = next((t for t in times if t is not None), 0)
    end = max((t for t in times if t is not None), default=0)
    faults = fault_windows(history, end)
    cuts = sorted({0, len(history), *(w.start_pos for w in faults), *(w.end_pos for w in faults)})
    out: list[Window] = []
    for lo, hi in zip(cuts, cuts[1:], strict=False):
        active = [w for w in faults if w.start_pos <= lo < w.end_pos]
        kinds = tuple(sorted({w.kind for w in active}, key=_kind_key))
        t0 = first if lo == 0 else _time_at(times, lo, first)
        t1 = end if hi == len(history) else _time_at(times, hi, first)
        out.append(Window(lo, hi, t0, max(t1, t0), kinds, tuple(w.name for w in active)))
    return out


def _time_at(times: list[int | None], pos: int, default: int) -> int:
    """The time of the op at ``pos``, or of the nearest one before it that has one."""
    for i in range(pos, -1, -1):
        t = times[i]
        if t is not None:
            return t
    return default


def _kind_key(kind: str) -> tuple[int, str]:
    return (KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER), kind)


def _window_of(p: Pair, cut: list[Window], starts: list[int]) -> int:
    """The first fault window ``p`` overlaps, else the window it was invoked in."""
    first = bisect.bisect_right(starts, p.invoke_pos) - 1
    last = p.complete_pos if p.complete_pos is not None else starts[-1]
    i = first
    while i < len(cut) and cut[i].start_pos <= last:
        if cut[i].kinds:
            return i
        i += 1
    return first


def availability(group: Iterable[Pair], seconds: float | None) -> dict[str, Any]:
    """Counts, fractions, throughput and latency of some client ops, over ``seconds``."""
    counts = {"ok": 0, "fail": 0, "info": 0}
    latencies: list[int] = []
    for p in group:
        counts[p.outcome] += 1
        done = p.complete
        if done is not None and done.time is not None and p.invoke.time is not None:
            latencies.append(done.time - p.invoke.time)
    total = sum(counts.values())
    out: dict[str, Any] = dict(counts, total=total)
    for outcome in ("ok", "fail", "info"):
        out[f"{outcome}_fraction"] = round(counts[outcome] / total, 6) if total else None
    out["throughput"] = round(counts["ok"] / seconds, 3) if seconds else None
    out["latency"] = latency_summary(latencies)
    return out


def _by_f(group: list[Pair], seconds: float | None) -> dict[str, Any]:
    split: dict[str, list[Pair]] = defaultdict(list)
    for p in group:
        split[p.invoke.f].append(p)
    return {
        "all": availability(group, seconds),
        "by_f": {f: availability(ps, seconds) for f, ps in sorted(split.items())},
    }


def _by_node(group: list[Pair]) -> dict[str, Any]:
    """Counts per node that answered (the completion's ``node``; ops without one are left
    out): CAP's availability is every live node's, and a node whose clients wait out their
    timeouts completes few ops, which the totals hide."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"ok": 0, "fail": 0, "info": 0})
    for p in group:
        node = p.complete.node if p.complete is not None else None
        if node is not None:
            counts[str(node)][p.outcome] += 1
    out = {}
    for node, c in sorted(counts.items()):
        total = sum(c.values())
        out[node] = dict(c, total=total, ok_fraction=round(c["ok"] / total, 6))
    return out


def profile(history: list[Op]) -> dict[str, Any]:
    """The CAP profile (see the module's doc); ``timed`` is false when the history has no
    times (a hand-written one): then windows are cut by position and have no durations."""
    cut = windows(history)
    timed = any(op.time for op in history)
    starts = [w.start_pos for w in cut]
    members: list[list[Pair]] = [[] for _ in cut]
    for p in pairs(history):
        if p.invoke.f != PROBE:
            members[_window_of(p, cut, starts)].append(p)
    span = sum(w.seconds for w in cut) if timed else None
    during: dict[str, tuple[list[Pair], list[float]]] = {}
    for w, group in zip(cut, members, strict=True):
        for key in (*w.kinds, FAULTED) if w.kinds else (QUIET,):
            ps, secs = during.setdefault(key, ([], []))
            ps.extend(group)
            secs.append(w.seconds)
    listed = [
        {
            "start_s": round(w.start_ns / 1e9, 6),
            "end_s": round(w.end_ns / 1e9, 6),
            "faults": list(w.kinds),
            "label": ", ".join(w.names) or QUIET,
            **_by_f(group, w.seconds if timed else None),
            "by_node": _by_node(group),
        }
        for w, group in list(zip(cut, members, strict=True))[:MAX_WINDOWS_LISTED]
    ]
    seconds = {key: sum(secs) for key, (_, secs) in during.items()}
    faulted_s = seconds.get(FAULTED, 0.0) if timed else None
    return {
        "timed": timed,
        "span_s": None if span is None else round(span, 6),
        "faulted_s": None if faulted_s is None else round(faulted_s, 6),
        "faulted_share": _share(faulted_s, span),
        "faulted_share_by_kind": {
            k: _share(seconds[k], span) for k in sorted(during, key=_kind_key) if k in KIND_ORDER
        }
        if timed
        else {},
        "during": {
            key: {"windows": len(secs), "seconds": round(seconds[key], 6) if timed else None}
            | _by_f(ps, seconds[key] if timed else None)
            | {"by_node": _by_node(ps)}
            for key, (ps, secs) in sorted(during.items(), key=lambda kv: _during_key(kv[0]))
        },
        "windows": listed,
        "windows_total": len(cut),
    }


def _during_key(key: str) -> tuple[int, tuple[int, str]]:
    return (0, (0, "")) if key == QUIET else (1 if key == FAULTED else 2, _kind_key(key))


def _share(part: float | None, whole: float | None) -> float | None:
    if part is None or not whole:
        return None
    return round(part / whole, 6)


# ---------------------------------------------------------------- classification


def consistency(
    checkers: Mapping[str, Any], spectrum: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Whether the run was consistent: its own (claimed) checkers' verdicts, merged. What held
    and what failed: the spectrum's strongest models holding and weakest failing (and the
    first that failed, its strongest) when the run has one, else each checker's verdict."""
    parts = {
        str(name): part.get("valid")
        for name, part in checkers.items()
        if name not in NOT_CONSISTENCY and isinstance(part, Mapping)
    }
    held = [n for n, v in parts.items() if v is True]
    failed = [n for n, v in parts.items() if v is False]
    crashed = [str(n) for n, part in checkers.items() if is_crashed(part)]
    unknown = [n for n, v in parts.items() if v not in (True, False) and n not in crashed]
    valid: Any = False if failed else ("unknown" if unknown or not held else True)
    if crashed:
        valid = None  # a checker that raised: no verdict, not unknown
    first = failed[:1]
    if spectrum and isinstance(spectrum.get("models"), Mapping):
        models = spectrum["models"]
        held = _names(spectrum.get("strongest_holding"))
        failed = _names(spectrum.get("weakest_failing"))
        first = [
            m for m, e in models.items() if isinstance(e, Mapping) and e.get("valid") is False
        ][:1]
        unknown = [
            m for m, e in models.items() if isinstance(e, Mapping) and e.get("verdict") == "unknown"
        ]
    return {
        "valid": valid,
        "held": held,
        "failed": failed,
        "first_failed": first,
        "unknown": unknown,
        "crashed": crashed,
    }


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _not(name: str) -> str:
    return f"not {name}" if name.endswith(("able", "ent", "al")) else f"{name} violated"


def consistency_text(c: Mapping[str, Any]) -> str:
    """``linearizable``; ``not linearizable (eventual held)``; ``not linearizable; even
    monotonic-reads, read-your-writes fail (eventual held)``."""
    failed, held = c["failed"], c["held"]
    if c.get("crashed"):
        return f"no verdict ({', '.join(c['crashed'])} failed)"
    if failed:
        first = [m for m in c.get("first_failed", []) if m not in failed]
        if first:
            verb = "fails" if len(failed) == 1 else "fail"
            words = f"{_not(first[0])}; even {', '.join(failed)} {verb}"
        else:
            words = ", ".join(_not(n) for n in failed)
        return f"{words} ({', '.join(held)} held)" if held else words
    if c["unknown"] and not held:
        return "consistency unknown (" + ", ".join(c["unknown"]) + ")"
    return ", ".join(held) if held else "no consistency checked"


def classify(
    prof: Mapping[str, Any], checkers: Mapping[str, Any], spectrum: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``behaved``: ``CP`` (refused requests during faults, consistent), ``AP`` (served them,
    not consistent), ``neither`` (refused requests AND not consistent: the worst of both),
    ``unforced`` (served and consistent: the faults forced no choice), ``no-faults``,
    ``unknown`` (a checker could not decide) or ``no-verdict`` (a checker raised);
    ``text``: what happened, in one line."""
    during = prof.get("during", {})
    c = consistency(checkers, spectrum)
    said = consistency_text(c)
    kinds = [k for k in during if k in KIND_ORDER]
    key = "partition" if "partition" in kinds else (kinds[0] if len(kinds) == 1 else FAULTED)
    fault = during.get(key)
    quiet = during.get(QUIET)
    if not fault or not fault["all"]["total"]:
        share = quiet["all"]["ok_fraction"] if quiet else None
        served = "served no requests" if share is None else f"served {pct(share)} of requests"
        return {"behaved": "no-faults", "during": None, "text": f"no faults: {served}; {said}"}
    refusing, served = _served(prof, key, quiet, KIND_WORDS.get(key, key))
    if c["valid"] is None:
        behaved, tail = "no-verdict", ""
    elif c["valid"] == "unknown":
        behaved, tail = "unknown", ""
    elif c["valid"]:
        behaved, tail = ("CP", ": behaved CP") if refusing else ("unforced", ": forced no choice")
    elif refusing:
        return {
            "behaved": "neither",
            "during": key,
            "text": f"{served} AND {said}: the worst of both",
        }
    else:
        behaved, tail = "AP", ": behaved AP"
    return {"behaved": behaved, "during": key, "text": f"{served}; {said}{tail}"}


def _served(
    prof: Mapping[str, Any], key: str, quiet: Mapping[str, Any] | None, words: str
) -> tuple[bool, str]:
    """Whether requests were refused during the fault (in all, beyond the quiet rate; or at
    some node, most of its requests in some window of the fault), and what was, in words."""
    fault = prof["during"][key]
    has_quiet = quiet is not None and quiet["all"]["total"]
    baseline = 1 - quiet["all"]["ok_fraction"] if has_quiet else 0.0
    if 1 - fault["all"]["ok_fraction"] - baseline >= REFUSAL_MARGIN:
        by_f = ", ".join(
            f"{pct(1 - a['ok_fraction'])} of {_plural(f)}"
            for f, a in fault["by_f"].items()
            if a["total"]
        )
        return True, f"refused {by_f} during {words} (quiet: {pct(baseline)})"
    served = f"served {pct(fault['all']['ok_fraction'])} of requests during {words}"
    quiet_nodes = quiet.get("by_node", {}) if quiet else {}
    windows = fault_windows_of(prof, key)
    refusing: dict[str, None] = {}
    hit = 0
    for w in windows:
        nodes = [n for n, a in w.get("by_node", {}).items() if _refused_at(a, quiet_nodes.get(n))]
        refusing.update(dict.fromkeys(nodes))
        hit += bool(nodes)
    if not refusing:
        return False, served
    names = ", ".join(sorted(refusing))
    theirs = "their" if len(refusing) > 1 else "its"
    return True, (
        f"{served}, but {names} refused most of {theirs} requests in {hit} of {len(windows)} "
        f"{KIND_WORDS.get(key, key)}"
    )


def fault_windows_of(prof: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    """The profile's listed windows where ``key`` (a kind, or ``faulted``) was active."""
    return [
        w
        for w in prof.get("windows", [])
        if (key in w["faults"]) or (key == FAULTED and w["faults"])
    ]


def worst_node(prof: Mapping[str, Any], key: str) -> float | None:
    """The lowest share of its requests any node served in any window of ``key``."""
    shares = [
        a["ok_fraction"] for w in fault_windows_of(prof, key) for a in w.get("by_node", {}).values()
    ]
    return min(shares) if shares else None


def _refused_at(fault: Mapping[str, Any], quiet: Mapping[str, Any] | None) -> bool:
    base = quiet["ok_fraction"] if quiet else 1.0
    return base - fault["ok_fraction"] >= NODE_REFUSAL


def _plural(f: str) -> str:
    return {"read": "reads", "write": "writes", "txn": "transactions"}.get(f, f"{f} ops")


def pct(x: float) -> str:
    """A share as a percentage that never rounds a loss away: 0.996 is 99.6%, not 100%."""
    if x <= 0:
        return "0%"
    if x >= 1:
        return "100%"
    if x < 0.01:
        return f"{max(x * 100, 0.1):.1f}%"
    if x > 0.99:
        return f"{int(x * 1000) / 10:.1f}%"
    return f"{x * 100:.0f}%"


def of_run(history: list[Op], results: Mapping[str, Any]) -> dict[str, Any]:
    """A run's ``cap`` key of ``results.json``: the profile and its classification."""
    prof = profile(history)
    spectrum = results.get("spectrum")
    prof["classification"] = classify(
        prof, results.get("checkers") or {}, spectrum if isinstance(spectrum, Mapping) else None
    )
    return prof


# ---------------------------------------------------------------- availability claims

DURING = (QUIET, FAULTED, *KIND_ORDER, "run")
"""What a requirement may be about: quiet windows, any fault, one kind of fault, the run."""


@dataclass(frozen=True, slots=True)
class Requirement:
    """At least ``min_ok`` of the ``ops`` (every function when empty) invoked ``during``
    must be answered ``ok``, as Maelstrom's ``--availability``."""

    during: str
    min_ok: float
    ops: tuple[str, ...] = ()

    def describe(self) -> str:
        ops = f"{', '.join(self.ops)} ops" if self.ops else "ops"
        return f"ok >= {pct(self.min_ok)} of {ops} during {self.during}"


def requirement_met(prof: Mapping[str, Any], req: Requirement) -> tuple[bool, str]:
    """Whether the profile meets ``req``, and the measured share in words. No op of those
    functions in those windows (the run had no such fault) does not meet it."""
    during = prof.get("during") or {}
    keys = (QUIET, FAULTED) if req.during == "run" else (req.during,)
    parts = [during.get(k) for k in keys]
    ok = total = 0
    for part in parts:
        if not part:
            continue
        for f, a in (part.get("by_f") or {}).items():
            if not req.ops or f in req.ops:
                ok += a["ok"]
                total += a["total"]
    ops = f"{', '.join(req.ops)} ops" if req.ops else "ops"
    if not total:
        return False, f"no {ops} ops were invoked during {req.during}: nothing to measure"
    share = ok / total
    met = share >= req.min_ok
    word = "at least" if met else "below"
    return met, (
        f"{pct(share)} of {total} {ops} ok during {req.during}, "
        f"{word} the {pct(req.min_ok)} required"
    )
