"""What the front ends (cli, gate, pytest plugin) print: verdicts, tables and explanations.

One place renders a run, a set of checked files or a gate's claims as ``text`` (a terminal),
``markdown`` (a CI step summary, a pull request) or ``json``. Tables go through tabulate.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from tabulate import tabulate

from splitbrain.checkers import hierarchy
from splitbrain.harness.base.explain import explain, model_reason
from splitbrain.harness.base.verdict import is_crashed, vacuous_words, verdict_word
from splitbrain.harness.front.maelstrom_summary import net_lines

FORMATS = ("text", "markdown", "json")
MAX_EXPLAIN_LINES = 40
LADDER_REASON_LINES = 3
"""Lines of why under each model the spectrum itself found failing (the rest: --format json)."""
_TABLE_FORMATS = {"text": "simple", "markdown": "github"}


def table(rows: Iterable[Sequence[Any]], headers: Sequence[str], fmt: str = "text") -> str:
    return tabulate(
        list(rows),
        headers=list(headers),
        tablefmt=_TABLE_FORMATS.get(fmt, "simple"),
        floatfmt=".2f",
    )


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, default=str)


# ---------------------------------------------------------------- one run


def _ms(v: Any) -> str:
    return "-" if v is None else f"{v:.2f}"


def ops_table(stats: dict[str, Any], fmt: str = "text") -> str:
    """Client ops by function and outcome, with latency median and p99."""
    rows = []
    lat_by_f = stats.get("latency_by_f", {})
    for f, c in stats.get("by_f", {}).items():
        lat = lat_by_f.get(f, {})
        rows.append(
            (f, c["ok"], c["fail"], c["info"], _ms(lat.get("median_ms")), _ms(lat.get("p99_ms")))
        )
    total = stats.get("by_outcome", {"ok": 0, "fail": 0, "info": 0})
    lat = stats.get("latency", {})
    rows.append(
        (
            "all",
            total["ok"],
            total["fail"],
            total["info"],
            _ms(lat.get("median_ms")),
            _ms(lat.get("p99_ms")),
        )
    )
    return table(rows, ("f", "ok", "fail", "info", "median ms", "p99 ms"), fmt)


def _share(v: Any) -> str:
    return "-" if v is None else f"{v * 100:.1f}"


def cap_table(cap: dict[str, Any], fmt: str = "text") -> str:
    """Availability while quiet and during each kind of fault, per function and in all."""
    rows = []
    during = cap.get("during") or {}
    kinds = [k for k in during if k not in ("quiet", "faulted")]
    for key, part in during.items():
        if key == "faulted" and len(kinds) == 1:
            continue
        for f, a in [*part.get("by_f", {}).items(), ("all", part.get("all", {}))]:
            lat = a.get("latency") or {}
            rows.append(
                (
                    key,
                    f,
                    _share(a.get("ok_fraction")),
                    _share(a.get("fail_fraction")),
                    _share(a.get("info_fraction")),
                    "-" if a.get("throughput") is None else f"{a['throughput']:.1f}",
                    _ms(lat.get("median_ms")),
                    _ms(lat.get("p99_ms")),
                )
            )
    headers = ("during", "f", "ok %", "fail %", "info %", "ok/s", "median ms", "p99 ms")
    return table(rows, headers, fmt)


def cap_lines(results: dict[str, Any], fmt: str = "text") -> list[str]:
    """The CAP profile: the table (when the run had faults), the faulted share, the one line."""
    cap = results.get("cap")
    if not isinstance(cap, dict) or "during" not in cap:
        return []
    line = (cap.get("classification") or {}).get("text")
    by_kind = cap.get("faulted_share_by_kind") or {}
    if not by_kind:
        return [f"cap: {line}", ""] if line else []
    shares = ", ".join(f"{k} {_share(v)}%" for k, v in by_kind.items() if v is not None)
    out = [cap_table(cap, fmt), ""]
    faulted = f"faulted: {_share(cap.get('faulted_share'))}% of the run ({shares})"
    out.append(faulted + ("  " if fmt == "markdown" and line else ""))  # a markdown line break
    if line:
        out.append(f"cap: {line}")
    return [*out, ""]


def checker_lines(name: str, part: Any, limit: int = MAX_EXPLAIN_LINES) -> list[str]:
    """``NAME: VERDICT`` and, when not valid, why (indented, at most ``limit`` lines)."""
    valid = part.get("valid") if isinstance(part, dict) else None
    lines = [f"{name}: {verdict_word(valid)}"]
    if valid is True and isinstance(part, dict) and part.get("vacuous"):
        lines[0] = f"{name}: {vacuous_words(part['vacuous'])}"
    body = explain(part)
    if len(body) > limit:
        body = body[:limit] + [f"… {len(body) - limit} more lines: see the report or --format json"]
    return lines + ["  " + line for line in body]


def verdict_lines(results: dict[str, Any]) -> list[str]:
    """Each checker's verdict with its explanation; ``stats`` only when it votes against."""
    lines: list[str] = []
    for name, part in (results.get("checkers") or {}).items():
        if name == "stats" and isinstance(part, dict) and part.get("valid") is True:
            continue
        lines += checker_lines(str(name), part)
    return lines


def run_text(
    results: dict[str, Any],
    run_dir: Path,
    command: str | None,
    interrupted: bool = False,
    fmt: str = "text",
) -> str:
    """A run's summary: the ops table, each checker's verdict and reason, where it is."""
    if fmt == "json":
        return to_json(results)
    stats = (results.get("checkers") or {}).get("stats", {})
    verdict = verdict_line(results, stats, interrupted)
    if fmt == "markdown":
        out = [f"### splitbrain: {run_dir.parent.name}: **{verdict}**", ""]
        out += [ops_table(stats, fmt), "", *cap_lines(results, fmt), "```", *verdict_lines(results)]
        out += [*ladder_lines(results.get("spectrum")), "```", ""]
        out.append(f"run: `{run_dir}`  ")
        if command:
            out.append(f"replay: `{command}`")
        return "\n".join(out)
    out = [ops_table(stats, fmt), "", *cap_lines(results, fmt)]
    out += [*verdict_lines(results), *net_lines(results)]
    out += ladder_lines(results.get("spectrum"))
    out.append(f"verdict: {verdict}")
    out.append(f"run: {run_dir}")
    if command:
        out.append(f"replay: {command}")
    return "\n".join(out)


def verdict_line(results: dict[str, Any], stats: dict[str, Any], interrupted: bool) -> str:
    """The verdict, and for an interrupted run by what and over how much of the history."""
    word = verdict_word(results.get("valid"))
    if not interrupted:
        return word
    by = results.get("interrupted")
    by = f" by {by}" if isinstance(by, str) else ""
    ops = sum((stats.get("by_outcome") or {}).values())
    if ops == 0:
        return f"interrupted{by} before any operation completed"
    return f"interrupted{by}; {word} over the {ops} operations recorded so far"


def explanation(results: dict[str, Any], report: Path | str, command: str | None) -> str:
    """A run's verdict and reasons, for a gate's failure or a pytest failure message."""
    lines = [f"verdict: {verdict_word(results.get('valid'))}", *verdict_lines(results)]
    line = ((results.get("cap") or {}).get("classification") or {}).get("text")
    if line:
        lines.append(f"cap: {line}")
    if results.get("interrupted"):
        lines.append("interrupted: only the history recorded so far was checked")
    lines.append(f"report: {report}")
    if command:
        lines.append(f"replay: {command}")
    return "\n".join(lines)


# ---------------------------------------------------------------- the spectrum


def ladder_lines(spec: Any) -> list[str]:
    """The spectrum as a few lines of text: each model, its verdict and how it was reached."""
    if not isinstance(spec, dict):
        return []
    if is_crashed(spec):
        return [f"spectrum ({spec.get('data_type')}): failed: {spec.get('error')}"]
    models: dict[str, Any] = spec.get("models") or {}
    if not models:
        return []
    marks = {
        hierarchy.HOLDS: "+",
        hierarchy.FAILS: "x",
        hierarchy.UNKNOWN: "?",
        hierarchy.UNCHECKED: "-",
    }
    out = [f"spectrum ({spec.get('data_type')}):"]
    width = max(len(m) for m in models)
    for name, e in models.items():
        verdict = e.get("verdict", hierarchy.UNCHECKED)
        how = e.get("by") or ""
        if e.get("checked_as"):
            how = f"{how} ({e['checked_as']})"
        if verdict in (hierarchy.UNKNOWN, hierarchy.UNCHECKED) and e.get("reason"):
            how = f"{how}: {e['reason']}" if how else e["reason"]
        out.append(f"  {marks.get(verdict, '?')} {name:<{width}}  {verdict:<9} {how}".rstrip())
        if verdict == hierarchy.FAILS:
            out += ["      " + line for line in model_reason(e.get("result"), LADDER_REASON_LINES)]
    strongest = ", ".join(spec.get("strongest_holding") or []) or "none"
    weakest = ", ".join(spec.get("weakest_failing") or []) or "none"
    out.append(f"  strongest holding: {strongest}; weakest failing: {weakest}")
    return out


# ---------------------------------------------------------------- splitbrain check


def check_text(verdicts: Sequence[Any], fmt: str = "text") -> str:
    """One row per history, then why each invalid or unknown one is so."""
    if fmt == "json":
        return "\n".join(json.dumps(check_record(v), default=str) for v in verdicts)
    rows = [
        (v.path, "error" if v.error else verdict_word(v.valid), v.ops, f"{v.seconds:.3f}")
        for v in verdicts
    ]
    out = [table(rows, ("history", "verdict", "ops", "seconds"), fmt)]
    for v in verdicts:
        if v.error:
            out += ["", f"{v.path}: {v.error}"]
            continue
        if v.valid is not True:
            body = _model_lines(v.path, v.result)
        elif isinstance(v.result, dict) and v.result.get("vacuous"):
            body = checker_lines(v.path, v.result)
        else:
            body = []
        body += ladder_lines(v.result.get("spectrum"))
        if body:
            out += ["", *(["```", *body, "```"] if fmt == "markdown" else body)]
    return "\n".join(out)


def _model_lines(path: str, result: dict[str, Any]) -> list[str]:
    """Each claimed model's verdict and reason, when a history was checked for several."""
    parts = result.get("checkers")
    if len(result.get("claimed") or []) > 1 and isinstance(parts, dict):
        return [
            line
            for m, part in parts.items()
            if not (m == "stats" and isinstance(part, dict) and part.get("valid") is True)
            for line in checker_lines(f"{path}: {m}", part)
        ]
    return checker_lines(path, result)


def check_record(v: Any) -> dict[str, Any]:
    return {
        "file": v.path,
        "valid": v.valid,
        "error": v.error,
        "ops": v.ops,
        "seconds": round(v.seconds, 4),
        "result": v.result,
    }


# ---------------------------------------------------------------- CI


def append_step_summary(markdown: str) -> Path | None:
    """Append to ``$GITHUB_STEP_SUMMARY`` when GitHub Actions set it; returns the file written."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    path = Path(target)
    with path.open("a", encoding="utf-8") as f:
        f.write(markdown.rstrip("\n") + "\n\n")
    return path
