"""Every checker's result in prose: what failed, the first example, and how many more.

Results are recognised by their shape, not their checker's name, so a result nested in a
gate claim, a pytest failure or a foreign ``results.json`` reads the same everywhere.
Values are written in the history's own notation (``harness.notation``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from splitbrain.harness.base.notation import mop_text, op_text, plural, value_text
from splitbrain.harness.base.verdict import GAVE_UP, MARKERS

Result = dict[str, Any]
LISTED = 5


def explain(result: Any) -> list[str]:
    """Lines saying why ``result`` is not valid; [] when it is valid or says nothing more."""
    if not isinstance(result, dict) or result.get("valid") is True:
        return []
    for recognises, explainer in _EXPLAINERS:
        if recognises(result):
            lines = explainer(result)
            if lines:
                return lines
    return _generic(result)


def model_reason(result: Any, limit: int) -> list[str]:
    """Why one model of a spectrum fails, in at most ``limit`` lines: for transactions only
    the anomaly names (every model of the ladder sees the same cycles), else the explanation."""
    lines = explain(result)
    if isinstance(result, dict) and result.get("anomalies"):
        return lines[:1]
    return lines[:limit]


def _generic(r: Result) -> list[str]:
    lines = []
    if r.get("error"):
        lines.append(str(r["error"]))
    reason = r.get("unknown_reason")
    if reason == "timeout":
        lines.append("the checker ran out of time (--check-timeout): no verdict, not a guess")
    elif reason == "memory":
        lines.append("the checker ran out of memory: no verdict, not a guess")
    elif reason:
        lines.append(f"unknown: {reason}")
    return lines


# ---------------------------------------------------------------- linearizability


def _linearizable(r: Result) -> list[str]:
    failures = [f for f in r.get("failures") or [] if isinstance(f, dict)]
    first = r.get("counterexample") if isinstance(r.get("counterexample"), dict) else None
    first = first or (failures[0] if failures else None)
    lines = _generic(r)
    if first is None:
        return lines
    lines += str(first.get("text") or "").splitlines()
    total = r.get("failures_total", len(failures))
    keys = r.get("keys")
    if isinstance(total, int) and total > 1:
        others = [value_text(f.get("key")) for f in failures[1:] if f.get("key") is not None]
        listed = f" (keys {', '.join(others[:LISTED])}{', …' if len(others) > LISTED else ''})"
        of = f" of {keys}" if isinstance(keys, int) else ""
        lines.append(
            f"{plural(total - 1, 'more key')}{of} failed{listed if others else ''}; each is in the report"
        )
    return lines


# ---------------------------------------------------------------- session guarantees, causal


def _violations(r: Result) -> list[str]:
    """Session guarantees and causal consistency: the first violation's text, and how many more."""
    lines = _generic(r)
    first = r.get("violation")
    if not isinstance(first, dict):
        return lines
    name = r.get("guarantee") or r.get("consistency") or "the model"
    kind = first.get("kind") or first.get("pattern")
    lines.append(f"{name} is violated{f' ({kind})' if kind else ''}:")
    lines += ["  " + line for line in str(first.get("text") or "").splitlines()]
    total = r.get("violations_total")
    if isinstance(total, int) and total > 1:
        lines.append(f"{plural(total - 1, 'more violation')}; each is in the result")
    return lines


# ---------------------------------------------------------------- Elle's list-append


def _elle(r: Result) -> list[str]:
    anomalies = r.get("anomalies") or {}
    counts = r.get("anomaly_counts") or {}
    if not isinstance(anomalies, dict) or not anomalies:
        return _generic(r)
    names = [
        f"{n} ({counts.get(n, len(c) if isinstance(c, list) else 1)})" for n, c in anomalies.items()
    ]
    model = r.get("model")
    lines = _generic(r)
    head = f"{model} is violated" if model and r.get("valid") is False else "anomalies found"
    lines.append(f"{head}: {', '.join(names)}")
    nots = r.get("not") or []
    if nots:
        lines.append(f"so the history is not even {' or '.join(map(str, nots))}")
    name, cases = _first_anomaly(anomalies)
    case = cases[0] if cases else None
    if case is not None:
        lines.append(f"{name}, first example:")
        lines += ["  " + line for line in anomaly_case_text(name, case)]
    return lines


def _first_anomaly(anomalies: dict[str, Any]) -> tuple[str, list[Any]]:
    """A cycle first (it shows the most), else the first name; the markers (a search that
    gave up, a graph with nothing to judge) only when nothing else was found."""
    items = [(n, c if isinstance(c, list) else [c]) for n, c in anomalies.items()]
    found = [(n, c) for n, c in items if n not in MARKERS]
    items = found or items
    for n, c in items:
        if c and isinstance(c[0], dict) and c[0].get("cycle"):
            return n, c
    return items[0]


def anomaly_case_text(name: str, case: Any) -> list[str]:
    """One Elle anomaly in prose: a cycle's own text, or a sentence built from its fields."""
    if not isinstance(case, dict):
        return [value_text(case)]
    if case.get("text"):
        return str(case["text"]).splitlines()
    op = op_text(case["op"]) if isinstance(case.get("op"), dict) else None
    mop = mop_text(case.get("mop")) if case.get("mop") is not None else None
    if name == "internal" and op:
        return [
            f"{op}",
            f"its read {mop} contradicts its own earlier micro-ops, by which it "
            f"{_expected_text(case.get('expected'))}",
        ]
    registers = _registers(case)
    appended_to, element = ("wrote", "value") if registers else ("appended to", "element")
    if name in ("G1a", "G1b") and op:
        writer = op_text(case["writer"]) if isinstance(case.get("writer"), dict) else "a writer"
        why = (
            "which was written by a transaction that failed (aborted read)"
            if name == "G1a"
            else f"an intermediate version: its writer {appended_to} that key again later in "
            "the same transaction (intermediate read)"
        )
        return [
            op,
            f"its read {mop} saw {element} {value_text(case.get('element'))}, {why}:",
            f"  {writer}",
        ]
    if name == "future-read" and op:
        return [
            op,
            f"its read {mop} saw {value_text(case.get('element'))} before "
            f"{'writing' if registers else 'appending'} it",
        ]
    if name == "duplicate-elements" and op:
        return [
            op,
            f"its read {mop} holds duplicates (element: times) {value_text(case.get('duplicates'))}",
        ]
    if name == "garbage-read" and op:
        return [
            op,
            f"its read {mop} saw {value_text(case.get('elements'))}, never appended by anyone",
        ]
    if name == "incompatible-order":
        a, b = (case.get("values") or [None, None])[:2]
        return [
            f"key {value_text(case.get('key'))} was read as {value_text(a)} and as {value_text(b)}: "
            "neither is a prefix of the other, so no single order of appends explains both"
        ]
    if name in ("lost-update", "dirty-update"):
        txns = [op_text(t) if isinstance(t, dict) else str(t) for t in case.get("txns") or []]
        what = (
            f"these transactions all read key {value_text(case.get('key'))} as "
            f"{value_text(case.get('value'))} and all {appended_to} it: only one can be first"
            if name == "lost-update"
            else f"key {value_text(case.get('key'))} versions {value_text(case.get('values'))}: "
            f"a committed {'write' if registers else 'append'} follows a failed one"
        )
        return [what + ":", *("  " + t for t in txns)]
    if name == "cyclic-versions":
        sources = [str(x) for x in case.get("sources") or []]
        return [
            f"key {value_text(case.get('key'))}: versions {value_text(case.get('scc'))} are "
            f"ordered in a cycle by {', '.join(sources)}; no version order explains them, so "
            f"the last of these ({sources[-1] if sources else '?'}) was not used"
        ]
    kafka = _kafka_case_text(name, case)
    if kafka is not None:
        return [kafka]
    if name == GAVE_UP:
        return [
            f"the search for {case.get('anomaly_spec_type')} cycles ran out of budget in a "
            f"component of {case.get('scc_size')} transactions: unknown, not absent"
        ]
    if case.get("message"):
        return [str(case["message"])]
    return [value_text(case, 300)]


def _kafka_case_text(name: str, case: dict[str, Any]) -> str | None:
    """A Kafka log anomaly (``checkers.kafka``) in a sentence; None for other names."""
    key = f"key {value_text(case.get('key'))}"
    at = f" (history {case['index']})" if isinstance(case.get("index"), int) else ""
    offsets = case.get("offsets") or [None, None]
    if name == "duplicates":
        where = ", ".join(map(value_text, offsets))
        return f"message {value_text(case.get('msg'))} is in {key} at more than one offset: {where}"
    if name == "inconsistent-offsets":
        msgs = " and ".join(map(value_text, case.get("msgs") or []))
        return f"offset {value_text(case.get('offset'))} of {key} was read as {msgs}{at}"
    if name == "lost-writes":
        return (
            f"message {value_text(case.get('msg'))}, acknowledged at offset "
            f"{value_text(case.get('offset'))} of {key} (history {case.get('send_index')}), was "
            "never polled, although a higher offset of that key was"
        )
    if name.endswith("poll-skip"):
        skipped = ", ".join(map(value_text, case.get("skipped") or []))
        return (
            f"a poll of {key} went from offset {value_text(case.get('from'))} to "
            f"{value_text(case.get('to'))}{at}, skipping offsets {skipped} that exist"
        )
    if name.endswith("nonmonotonic-poll") or name == "nonmonotonic-send":
        what = "its sends" if name == "nonmonotonic-send" else "its polls"
        a, b = offsets[:2]
        return (
            f"a process saw {key} go from offset {value_text(a)} back to {value_text(b)} in "
            f"{what}{at}"
        )
    return None


def _registers(case: dict[str, Any]) -> bool:
    """Whether a case's transactions write registers (rw-register) rather than append."""
    txns = [case.get("op"), case.get("writer"), *(case.get("txns") or [])]
    return any(
        isinstance(t, dict)
        and isinstance(t.get("value"), list)
        and any(isinstance(m, list) and m[:1] == ["w"] for m in t["value"])
        for t in txns
    )


def _expected_text(expected: Any) -> str:
    if isinstance(expected, list) and expected[:1] == ["..."]:
        return "should end with " + ", ".join(value_text(e) for e in expected[1:])
    return f"should be {value_text(expected)}"


# ---------------------------------------------------------------- set, counter, queue


def _set_full(r: Result) -> list[str]:
    lines = _generic(r)
    lost = r.get("lost") or []
    if lost:
        e = lost[0]
        seen = e.get("last_seen_index")
        lines.append(
            f"lost: {plural(r.get('lost_count', len(lost)), 'element')} of "
            f"{r.get('acknowledged_count')} acknowledged; e.g. {value_text(e.get('element'))}, "
            f"added at history {e.get('add_index')} ({e.get('add_outcome')}), "
            + (f"last read at history {seen}, " if seen is not None else "never read, ")
            + f"missing from the read at history {e.get('last_absent_index')} and every later one"
        )
        lines += _more(
            r.get("lost_count", len(lost)), [value_text(x.get("element")) for x in lost], "lost"
        )
    for field, why in (
        ("unexpected", "read but never added"),
        ("duplicated", "read more than once in a single read"),
    ):
        items = r.get(field) or []
        if items:
            lines.append(
                f"{field}: {plural(r.get(field + '_count', len(items)), 'element')} {why}; e.g. "
                f"{value_text(items[0].get('element'))} in the read at history {items[0].get('read_index')}"
            )
    stale = r.get("stale") or []
    if stale and r.get("valid") is not True:
        lines.append(
            f"stale: {plural(r.get('stale_count', len(stale)), 'element')} missing from some read "
            f"after it was known to be added, e.g. {value_text(stale[0])}"
        )
    return lines


def _counter(r: Result) -> list[str]:
    lines = _generic(r)
    errors = r.get("errors") or []
    if errors:
        e = errors[0]
        lines.append(
            f"{plural(r.get('error_count', len(errors)), 'read')} out of bounds; first: process "
            f"{e.get('process')} read {value_text(e.get('value'))} at history {e.get('index')}, "
            f"but the counter was between {value_text(e.get('lower'))} (acknowledged adds) and "
            f"{value_text(e.get('upper'))} (attempted adds)"
        )
        lines += _more(r.get("error_count", len(errors)), [], "out-of-bounds reads")
    return lines


def _total_queue(r: Result) -> list[str]:
    lines = _generic(r)
    lost = r.get("lost") or []
    if lost:
        n = r.get("lost_count", len(lost))
        m = lost[0]
        lines.append(
            f"lost: {plural(n, 'message')} acknowledged and never dequeued; e.g. "
            f"{value_text(m.get('message'))}, enqueued at history {m.get('enqueue_index')}"
        )
        lines += _more(n, [value_text(x.get("message")) for x in lost], "lost")
        lines.append(_timed_out_dequeues(r, n))
    for field, why, show in (
        (
            "duplicated",
            "dequeued more than once",
            lambda x: f"{value_text(x.get('message'))} ({x.get('times')} times)",
        ),
        (
            "unexpected",
            "dequeued but never enqueued",
            lambda x: f"{value_text(x.get('message'))} at history {x.get('dequeue_index')}",
        ),
    ):
        items = r.get(field) or []
        if items:
            lines.append(
                f"{field}: {plural(r.get(field + '_count', len(items)), 'message')} {why}; e.g. {show(items[0])}"
            )
    fifo = r.get("fifo_violations") or []
    if fifo:
        v = fifo[0]
        lines.append(
            f"order: {plural(r.get('fifo_violation_count') or len(fifo), 'pair')} out of FIFO order; "
            f"e.g. {value_text(v.get('earlier'))} was acknowledged before {value_text(v.get('later'))} "
            f"was enqueued, yet came out after it (dequeues at history "
            f"{v.get('later_dequeue_index')} and {v.get('earlier_dequeue_index')})"
        )
    return lines


def _timed_out_dequeues(r: Result, lost: int) -> str:
    k = r.get("indeterminate_dequeue_count")
    if k is None:
        return "(this result does not say whether any dequeue timed out)"
    if k == 0:
        return "no dequeue timed out, so none can have taken a lost message unseen"
    where = ", ".join(map(str, (r.get("indeterminate_dequeues") or [])[:LISTED]))
    covers = "each lost message" if k >= lost else f"at most {k} of the {lost} lost messages"
    return (
        f"{plural(k, 'dequeue')} timed out (history {where}{', …' if k > LISTED else ''}) and may "
        f"have taken {covers} unseen"
    )


def _more(total: int, shown: list[str], what: str) -> list[str]:
    rest = total - 1
    if rest <= 0:
        return []
    listed = shown[1 : 1 + LISTED]
    tail = f": {', '.join(listed)}{', …' if rest > len(listed) else ''}" if listed else ""
    return [f"{rest} more {what}{tail}"]


# ---------------------------------------------------------------- bank

BANK_READS_NAMED = 3
BANK_PROBLEM_WORDS = {
    "wrong-total": ("wrong total", "wrong totals"),
    "missing": ("read missing accounts", "reads missing accounts"),
    "unexpected": ("read with unknown accounts", "reads with unknown accounts"),
    "negative": ("read with a negative balance", "reads with negative balances"),
}


def _bank(r: Result) -> list[str]:
    lines = _generic(r)
    bad = r.get("bad_read_count") or 0
    if not bad:
        return lines
    rule = f"{value_text(r.get('total'))} in total over {plural(r.get('accounts') or 0, 'account')}"
    if r.get("negative_balances") is False:
        rule += ", none below zero"
    lines.append(
        f"{bad} of {plural(r.get('read_count') or 0, 'read')} {'is' if bad == 1 else 'are'} bad: "
        f"each must show {rule}"
    )
    counts = r.get("problem_counts") or {}
    kinds = [
        plural(n, *BANK_PROBLEM_WORDS[k])
        for k, n in counts.items()
        if n and k in BANK_PROBLEM_WORDS
    ]
    if kinds:
        lines.append("by problem: " + ", ".join(kinds))
    reads = [x for x in r.get("bad_reads") or [] if isinstance(x, dict)]
    lines += ["  " + bank_read_text(x, r.get("total")) for x in reads[:BANK_READS_NAMED]]
    rest = bad - min(len(reads), BANK_READS_NAMED)
    if rest > 0:
        lines.append(f"{plural(rest, 'more bad read')}; each is in the report")
    return lines


def bank_read_text(read: dict[str, Any], total: Any) -> str:
    """One bad read in words: when, who, what it saw and what is wrong with it."""
    t = read.get("time")
    when = f"at {t / 1e9:.3f} s" if isinstance(t, (int, float)) else "at an unknown time"
    got = read.get("total")
    what = []
    if "wrong-total" in (read.get("problems") or []):
        what.append(f"a total of {value_text(got)}")
        if isinstance(got, (int, float)) and isinstance(total, (int, float)):
            diff = got - total
            what[0] += f" ({value_text(abs(diff))} {'short' if diff < 0 else 'too much'})"
    if read.get("missing"):
        what.append(f"no balance for account {', '.join(map(value_text, read['missing']))}")
    if read.get("unexpected"):
        what.append(f"unknown account {', '.join(map(value_text, read['unexpected']))}")
    negative = read.get("negative")
    if isinstance(negative, dict) and negative:
        what.append(
            ", ".join(f"account {k} at {value_text(v)}" for k, v in negative.items())
            + " (below zero)"
        )
    what = what or [f"a total of {value_text(got)}"]
    where = f" (history {read['index']})" if isinstance(read.get("index"), int) else ""
    return f"{when}, process {read.get('process')} read {'; '.join(what)}{where}"


# ---------------------------------------------------------------- convergence, stats


def _convergence(r: Result) -> list[str]:
    lines = _generic(r)
    unread = r.get("unread_nodes") or []
    if unread:
        lines.append(
            f"no final read from {', '.join(map(str, unread))}: they did not converge in time"
        )
    diverged = r.get("diverged_keys") or {}
    if diverged:
        key, states = next(iter(diverged.items()))
        held = "; ".join(
            f"{', '.join(map(str, s.get('nodes', [])))} hold {value_text(s.get('value'))}"
            for s in states
        )
        lines.append(
            f"{plural(r.get('diverged_count', len(diverged)), 'key')} diverged; e.g. key {key}: {held}"
        )
    states = r.get("states") or []
    if len(states) > 1:
        held = "; ".join(
            f"{', '.join(map(str, s.get('nodes', [])))} hold {value_text(s.get('value'), 120)}"
            for s in states[:3]
        )
        lines.append(f"{len(states)} different final states: {held}")
    return lines


def _stats(r: Result) -> list[str]:
    if r.get("valid") is not False:
        return []
    total = r.get("by_outcome") or {}
    if not total.get("ok"):
        return [
            f"no client operation succeeded ({total.get('ok', 0)} ok, {total.get('fail', 0)} fail, "
            f"{total.get('info', 0)} info): the test exercised nothing"
        ]
    by_f = r.get("by_f") or {}
    never = [
        f"{f} ({by_f.get(f, {}).get('fail', 0)} fail, {by_f.get(f, {}).get('info', 0)} info)"
        for f in r.get("never_ok") or []
    ]
    return [
        f"no {' and no '.join(never)} ever succeeded: the checkers could judge nothing that "
        "needs one"
    ]


# ---------------------------------------------------------------- Maelstrom's echo, unique-ids, availability


def _echo(r: Result) -> list[str]:
    lines = _generic(r)
    wrong = [w for w in r.get("wrong") or [] if isinstance(w, dict)]
    if wrong:
        w = wrong[0]
        lines.append(
            f"{plural(r.get('wrong_count', len(wrong)), 'echo', 'echoes')} of "
            f"{r.get('ok_count')} came back changed; e.g. sent {value_text(w.get('sent'), 120)}, "
            f"got {value_text(w.get('got'), 120)} (history {w.get('index')})"
        )
    return lines


def _unique_ids(r: Result) -> list[str]:
    lines = _generic(r)
    dups = [d for d in r.get("duplicated") or [] if isinstance(d, dict)]
    if dups:
        d = dups[0]
        indexes = list(d.get("indexes") or [])
        where = ", ".join(map(str, indexes[:LISTED])) + (", …" if len(indexes) > LISTED else "")
        lines.append(
            f"{plural(r.get('duplicated_count', len(dups)), 'id')} handed out more than once, of "
            f"{r.get('acknowledged_count')} acknowledged; e.g. {value_text(d.get('id'))} "
            f"(history {where})"
        )
    return lines


def _availability(r: Result) -> list[str]:
    fraction, required = r.get("ok_fraction"), r.get("required")
    if fraction is None:
        return ["no operation completed, so none was available: the claim is not met"]
    return [
        f"{fraction * 100:.1f}% of {r.get('completed')} completed operations succeeded "
        f"({r.get('ok')}); {required * 100:g}% were required"
        if isinstance(required, (int, float))
        else f"{fraction * 100:.1f}% of operations succeeded"
    ]


_EXPLAINERS: list[tuple[Callable[[Result], bool], Callable[[Result], list[str]]]] = [
    (lambda r: "wrong_count" in r and "ok_count" in r, _echo),
    (lambda r: "duplicated_count" in r and "attempted_count" in r, _unique_ids),
    (lambda r: "ok_fraction" in r and "required" in r, _availability),
    (lambda r: "violations" in r and ("guarantee" in r or "bad_patterns" in r), _violations),
    (lambda r: "counterexample" in r or "failures" in r, _linearizable),
    (lambda r: "anomalies" in r, _elle),
    (lambda r: "bad_read_count" in r, _bank),
    (lambda r: "stable_count" in r or "never_read_count" in r, _set_full),
    (lambda r: "acknowledged_sum" in r or "error_count" in r and "errors" in r, _counter),
    (lambda r: "dequeued_count" in r, _total_queue),
    (lambda r: "diverged_keys" in r or "distinct_states" in r or "unread_nodes" in r, _convergence),
    (lambda r: "by_outcome" in r, _stats),
]
