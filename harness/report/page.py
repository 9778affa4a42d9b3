"""The self-contained report.html of one run."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from splitbrain.harness.base import store
from splitbrain.harness.base.history import Op
from splitbrain.harness.base.notation import fault_text
from splitbrain.harness.base.verdict import run_failures
from splitbrain.harness.report import assets, lamport
from splitbrain.harness.report.charts import availability_svg, bank_svg, latency_svg, throughput_svg
from splitbrain.harness.report.markup import (
    embed_json,
    esc,
    href,
    short,
    value_html,
    verdict_class,
    verdict_text,
)
from splitbrain.harness.report.results import checkers_html
from splitbrain.harness.report.run import OpSpan, RunData, load_run, run_data
from splitbrain.harness.report.spectrum import spectrum_html
from splitbrain.harness.report.timeline import timeline_data

OUTCOMES = ("ok", "fail", "info")
ARROW_DEFS = (
    '<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>'
    '<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7"'
    ' orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#444"/></marker></defs></svg>'
)


def write_report(run_dir: Path, ops: list[Op] | None = None) -> Path:
    """Write RUN_DIR/report.html and return its path; ``ops`` saves re-reading the history."""
    run = load_run(Path(run_dir), ops)
    out = Path(run_dir) / "report.html"
    tmp = out.with_name(".report.html.tmp")
    tmp.write_text(render_report(run), encoding="utf-8")
    tmp.replace(out)
    return out


def write_history_report(
    history: Path, ops: list[Op], out: Path, results: dict[str, Any] | None = None
) -> Path:
    """A report of a history brought from elsewhere: no test.json, results only if checked."""
    run = run_data(history.parent, ops, test={"name": history.name}, results=results)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(render_report(run), encoding="utf-8")
    tmp.replace(out)
    return out


def render_report(run: RunData) -> str:
    valid = run.results.get("valid") if run.results else None
    fs = list(dict.fromkeys(s.f for s in run.spans))
    crashed = bool(run_failures(run.results or {}))
    title = f"{verdict_text(valid, crashed)} · {run.test.get('name') or run.run_dir.parent.name} · {run.run_dir.name}"
    body = [
        _header(run, valid, crashed),
        "<main>",
        _problems(run),
        _section("Operations", _ops_table(run.spans, fs)),
        _section("Checkers", checkers_html(run.results, _bank_charts(run))),
        _section("Consistency spectrum", spectrum_html(run.results), "spectrum"),
        _timeline_section(run, fs),
        _lamport_section(run),
        _section(
            "Latency and throughput",
            latency_svg(run.spans, run.faults, run.end_time, fs)
            + throughput_svg(run.spans, run.faults, run.end_time, fs),
        ),
        _section("Availability (CAP profile)", _cap_html(run, fs), sid="cap"),
        _section("Faults", _faults_table(run)),
        _section(
            "Test",
            value_html({k: v for k, v in run.test.items() if v is not None})
            if run.test
            else '<p class="empty">No test.json.</p>',
        ),
        "</main>",
    ]
    return document(title, "".join(body), script=True, data=timeline_data(run, fs))


def document(title: str, body: str, script: bool = False, data: Any = None) -> str:
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{esc(assets.CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{assets.CSS}</style></head><body>",
        ARROW_DEFS,
        body,
    ]
    if data is not None:
        parts.append(
            f'<script type="application/json" id="timeline-data">{embed_json(data)}</script>'
        )
    if script:
        parts.append(f"<script>{assets.JS}</script>")
    parts.append("</body></html>")
    return "".join(parts)


def _section(title: str, content: str, sid: str = "") -> str:
    ident = f' id="{esc(sid)}"' if sid else ""
    return f"<section{ident}><h2>{esc(title)}</h2>{content}</section>"


def _header(run: RunData, valid: Any, crashed: bool) -> str:
    t = run.test
    name = t.get("name") or run.run_dir.parent.name
    nemeses = t.get("nemesis")
    if isinstance(nemeses, list):
        nemeses = ", ".join(str(n) for n in nemeses) or "none"
    counts = Counter(s.outcome for s in run.spans)
    ops_text = f"{len(run.spans)} ops: " + ", ".join(f"{counts.get(o, 0)} {o}" for o in OUTCOMES)
    if len(run.nemesis_ops):
        ops_text += f"; {len(run.nemesis_ops)} nemesis events"
    duration = t.get("duration_s")
    facts = [
        ("target", t.get("target")),
        ("workload", t.get("workload")),
        ("nemeses", nemeses),
        ("seed", t.get("seed")),
        ("concurrency", t.get("concurrency")),
        ("started", t.get("started")),
        ("duration", f"{duration:.2f} s" if isinstance(duration, (int, float)) else None),
        ("operations", ops_text),
    ]
    if run.results and run.results.get("interrupted"):
        facts.append(
            ("interrupted", "yes: the run was stopped early; the history so far was checked")
        )
    rows = "".join(
        f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in facts if v is not None
    )
    command = t.get("command")
    replay = (
        f'<div>replay:</div><pre class="command" id="replay">{esc(command)}</pre>'
        if command
        else ""
    )
    return (
        f'<header class="top {verdict_class(valid)}"><div class="verdict" id="verdict">{verdict_text(valid, crashed)}</div>'
        f"<h1>{esc(name)} <small>{esc(run.run_dir.name)}</small></h1>"
        f'<table class="facts">{rows}</table>{replay}{_links(run)}</header>'
    )


def _links(run: RunData) -> str:
    files = [
        n
        for n in (
            *store.HISTORIES,
            store.RESULTS,
            store.TEST,
            store.LOG,
            lamport.DATA_FILE,
            "net-journal.jsonl",
        )
        if (run.run_dir / n).is_file()
    ]
    links = [f'<a href="{href(n)}">{esc(n)}</a>' for n in files]
    for log in run.node_logs:
        rel = log.relative_to(run.run_dir).as_posix()
        links.append(f'<a href="{href(rel)}">{esc(log.parent.name)}/{esc(log.name)}</a>')
    return f'<p class="links">files: {" · ".join(links)}</p>' if links else ""


def _problems(run: RunData) -> str:
    if not run.problems:
        return ""
    items = "".join(f"<li>{esc(p)}</li>" for p in run.problems)
    return f'<section class="problems"><h2>Problems reading this run</h2><ul>{items}</ul></section>'


def _ops_table(spans: list[OpSpan], fs: list[str]) -> str:
    if not spans:
        return '<p class="empty">No client operations.</p>'
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    latencies: dict[str, list[int]] = defaultdict(list)
    for s in spans:
        counts[s.f][s.outcome] += 1
        if s.outcome == "ok" and s.end is not None:
            latencies[s.f].append(s.end - s.start)
    head = "".join(f"<th>{o}</th>" for o in OUTCOMES)
    rows = []
    for f in fs:
        lat = sorted(latencies[f])
        cells = "".join(f"<td>{counts[f].get(o, 0)}</td>" for o in OUTCOMES)
        rows.append(
            f"<tr><th>{esc(f)}</th>{cells}<td>{sum(counts[f].values())}</td>"
            f"<td>{_ms(lat, 0.5)}</td><td>{_ms(lat, 0.99)}</td></tr>"
        )
    return (
        f'<table class="grid ops"><tr><th>f</th>{head}<th>total</th><th>ok latency p50</th>'
        f"<th>p99</th></tr>{''.join(rows)}</table>"
    )


def _ms(sorted_ns: list[int], q: float) -> str:
    if not sorted_ns:
        return ""
    i = min(len(sorted_ns) - 1, max(0, math.ceil(q * len(sorted_ns)) - 1))
    return f"{sorted_ns[i] / 1e6:.3f} ms"


def _timeline_section(run: RunData, fs: list[str]) -> str:
    if not run.spans and not run.nemesis_ops:
        return _section("Timeline", '<p class="empty">No operations.</p>')
    controls = (
        '<form class="controls" id="tl-form">'
        '<label>from <input id="tl-from" inputmode="decimal"> s</label>'
        '<label>to <input id="tl-to" inputmode="decimal"> s</label>'
        '<button type="submit">show</button>'
        '<button type="button" id="tl-in">zoom in</button><button type="button" id="tl-out">zoom out</button>'
        '<button type="button" id="tl-left">◀</button><button type="button" id="tl-right">▶</button>'
        '<button type="button" id="tl-all">whole run</button>'
        "</form>"
    )
    legend = (
        '<div class="legend"><span><i class="swatch" style="background:#2ca02c"></i>ok</span>'
        '<span><i class="swatch" style="background:#d62728"></i>fail</span>'
        '<span><i class="swatch" style="background:#ff7f0e"></i>info</span>'
        '<span><i class="swatch" style="background:#f9c38f"></i>never completed</span>'
        '<span><i class="swatch" style="background:#7b4ea3"></i>nemesis op</span>'
        "<span>shaded: fault active</span></div>"
    )
    content = (
        f'{controls}<canvas id="tl-overview" height="36"></canvas>'
        f'<div><canvas id="tl-main" height="100"></canvas></div>{legend}'
        '<div id="tl-status"></div><div id="tl-tip"></div>'
        "<noscript>The timeline needs JavaScript.</noscript>"
    )
    return _section("Timeline", content, sid="timeline")


def _cap_html(run: RunData, fs: list[str]) -> str:
    """The run's one-line classification, its faulted share, the availability chart and the
    table of ``results.json``'s ``cap.during``."""
    cap = (run.results or {}).get("cap")
    chart = availability_svg(run.spans, run.faults, run.end_time, fs)
    if not isinstance(cap, dict) or not isinstance(cap.get("during"), dict):
        return chart + '<p class="empty">No CAP profile in results.json.</p>'
    line = (cap.get("classification") or {}).get("text")
    head = f'<p class="cap-line" id="cap-line">{esc(line)}</p>' if line else ""
    shares = cap.get("faulted_share_by_kind") or {}
    if shares:
        kinds = ", ".join(f"{esc(k)} {_pct(v)}" for k, v in shares.items())
        head += f"<p>faulted: {_pct(cap.get('faulted_share'))} of the run ({kinds})</p>"
    rows = []
    for key, part in cap["during"].items():
        for f, a in [*(part.get("by_f") or {}).items(), ("all", part.get("all") or {})]:
            lat = a.get("latency") or {}
            cells = [key, f, a.get("total")] + [_pct(a.get(f"{o}_fraction")) for o in OUTCOMES]
            cells += [a.get("throughput"), lat.get("median_ms"), lat.get("p99_ms")]
            rows.append("<tr>" + "".join(f"<td>{esc(_cell(c))}</td>" for c in cells) + "</tr>")
    heads = ("during", "f", "ops", "ok", "fail", "info", "ok/s", "median ms", "p99 ms")
    table = (
        '<table class="grid cap"><tr>'
        + "".join(f"<th>{h}</th>" for h in heads)
        + f"</tr>{''.join(rows)}</table>"
    )
    return head + chart + table


def _pct(v: Any) -> str:
    return "-" if not isinstance(v, (int, float)) else f"{v * 100:.1f}%"


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    return f"{v:.2f}" if isinstance(v, float) else str(v)


def _lamport_section(run: RunData) -> str:
    data = lamport.load(run.run_dir)
    return "" if data is None else lamport.section(data)


def _bank_charts(run: RunData) -> dict[str, str]:
    """The reads over time of each bank checker's result (recognised by its shape), by name."""
    checkers = (run.results or {}).get("checkers")
    if not isinstance(checkers, dict):
        return {}
    return {
        str(name): f'<div class="bank-chart">{bank_svg(result, run.faults, run.end_time)}</div>'
        for name, result in checkers.items()
        if isinstance(result, dict) and "reads_over_time" in result
    }


def _faults_table(run: RunData) -> str:
    if not run.faults:
        return '<p class="empty">No faults were active in this run.</p>'
    rows = "".join(
        f"<tr><td>{esc(w.name)}</td><td>{w.start / 1e9:.3f}</td>"
        f"<td>{w.end / 1e9:.3f}{' (to the end)' if w.open_ended else ''}</td>"
        f"<td>{esc(short(fault_text(w.detail), 400))}</td></tr>"
        for w in run.faults
    )
    return f'<table class="grid faults"><tr><th>fault</th><th>from (s)</th><th>to (s)</th><th>detail</th></tr>{rows}</table>'
