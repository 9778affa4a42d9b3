"""Each checker's result: linearizability counterexamples, transactional cycles, the rest generic."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from splitbrain.harness.base.explain import anomaly_case_text, explain
from splitbrain.harness.base.notation import op_text, value_text
from splitbrain.harness.base.verdict import is_crashed
from splitbrain.harness.report.markup import badge, esc, short, to_text, value_html, verdict_class

CYCLES_SHOWN = 6
DRAWINGS_SHOWN = 5
MAX_WALK = 100
WHY_LINES = 40


def checkers_html(results: dict[str, Any] | None, charts: dict[str, str] | None = None) -> str:
    """Each checker's section; ``charts`` (by checker name) are drawn above its details."""
    if results is None:
        return '<p class="empty">No results.json: this run was not checked.</p>'
    checkers = results.get("checkers")
    if not isinstance(checkers, dict) or not checkers:
        return value_html(results)
    charts = charts or {}
    return "".join(
        checker_html(str(name), res, charts.get(str(name), "")) for name, res in checkers.items()
    )


def checker_html(name: str, result: Any, chart: str = "") -> str:
    valid = result.get("valid") if isinstance(result, dict) else None
    crashed = is_crashed(result)
    failed = crashed or verdict_class(valid) in ("invalid", "unknown")
    parts: list[str] = []
    drawn_keys: set[str] = set()
    if isinstance(result, dict):
        for top, kind, where, found in find_special(result):
            drawn_keys.add(top)
            if kind == "counterexample":
                parts.append(counterexample_html(found, where))
            else:
                parts.append(anomalies_html(found, where))
        if len(parts) > DRAWINGS_SHOWN:
            more = len(parts) - DRAWINGS_SHOWN
            parts = parts[:DRAWINGS_SHOWN] + [
                f'<p class="more">… {more} more in the details below</p>'
            ]
    why = _why_html(result) if failed and not parts else ""
    details = _details_html(result, failed, drawn_keys)
    return (
        f'<section class="checker {verdict_class(valid)}" id="checker-{esc(name)}">'
        f"<h3>{esc(name)} {badge(valid, crashed)}</h3>{why}{chart}{''.join(parts)}{details}</section>"
    )


def _why_html(result: Any) -> str:
    """The checker's explanation in prose (as the command line prints it), for results that
    have no drawing of their own to carry it."""
    lines = explain(result)[:WHY_LINES]
    return f'<pre class="cx-text why">{esc(chr(10).join(lines))}</pre>' if lines else ""


def is_counterexample(value: Any) -> bool:
    return isinstance(value, dict) and "op" in value and ("linearized" in value or "state" in value)


def find_special(result: dict[str, Any]) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(top-level key, kind, where, data) for each counterexample and anomaly map, however nested.

    Checkers over independent keys put them in lists ("failures") or maps by key.
    """
    for top, value in result.items():
        for kind, where, found in _walk(top, value, str(top), 0):
            yield top, kind, where, found


def _walk(
    key: Any, value: Any, where: str, depth: int
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    if is_counterexample(value):
        yield "counterexample", where, value
        return
    if key == "anomalies" and isinstance(value, dict) and value:
        yield "anomalies", where, value
        return
    if depth >= 4:
        return
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(k, v, f"{where} {k}", depth + 1)
    elif isinstance(value, list):
        for i, v in enumerate(value[:MAX_WALK]):
            yield from _walk(None, v, f"{where} {i}", depth + 1)


def _details_html(result: Any, failed: bool, drawn_keys: set[str]) -> str:
    """The result as a table, open when it failed; what is drawn above goes in a closed raw part."""
    if isinstance(result, dict) and drawn_keys:
        rest = {k: v for k, v in result.items() if k not in drawn_keys}
        raw = {k: v for k, v in result.items() if k in drawn_keys}
        inner = value_html(rest)
        inner += (
            f"<details><summary>raw data of the drawings above</summary>{value_html(raw)}</details>"
        )
    else:
        inner = value_html(result)
    return f"<details{' open' if failed else ''}><summary>details</summary>{inner}</details>"


# ---------------------------------------------------------------- linearizability


def _opdesc_text(op: Any, with_process: bool = True) -> str:
    """``p3 cas [1, 2]``, ``p3 read -> 5`` (a read's nil invoke value is not shown)."""
    if not isinstance(op, dict):
        return short(op)
    f, value, result = op.get("f"), op.get("value"), op.get("result")
    text = str(f) if value is None and "result" in op else f"{f} {value_text(value, 40)}"
    if with_process:
        text = f"p{op.get('process')} {text}"
    if "result" in op and result != value and result is not None:
        text += f" -> {value_text(result, 40)}"
    if op.get("type") not in (None, "ok"):
        text += f" ({op.get('type')})"
    return text


def counterexample_html(cx: dict[str, Any], where: str = "") -> str:
    op = cx.get("op")
    linearized = [o for o in cx.get("linearized") or [] if isinstance(o, dict)]
    concurrent = [o for o in cx.get("concurrent") or [] if isinstance(o, dict)]
    key = cx.get("key")
    head = "Linearizability counterexample"
    if key is not None:
        head += f" on key {short(key, 60)}"
    elif where not in ("", "counterexample"):
        head += f" ({where})"
    total = cx.get("linearized_total")
    shown = (
        f"last {len(linearized)} of {total}"
        if isinstance(total, int)
        else f"last {len(linearized)}"
    )
    lin_items = "".join(f"<li>{esc(_opdesc_text(o))}</li>" for o in linearized)
    con_items = "".join(f"<li>{esc(_opdesc_text(o))}</li>" for o in concurrent)
    return (
        f'<div class="counterexample"><h4>{esc(head)}</h4>'
        f'<pre class="cx-text">{esc(to_text(cx.get("text", "")))}</pre>'
        f'<p class="cx-op">Cannot be placed: <b>{esc(_opdesc_text(op))}</b>'
        f"{_index_range(op)}</p>"
        f'<p>Model state before it: <code class="cx-state">{esc(to_text(cx.get("state")))}</code></p>'
        f"{counterexample_svg(op, linearized, concurrent)}"
        f'<div class="cols"><div><h5>Order found so far ({esc(shown)})</h5>'
        f'<ol class="cx-linearized">{lin_items}</ol></div>'
        f'<div><h5>Concurrent ops ({len(concurrent)})</h5><ul class="cx-concurrent">{con_items}</ul></div></div>'
        "</div>"
    )


def _index_range(op: Any) -> str:
    if not isinstance(op, dict):
        return ""
    a, b = op.get("invoke_index"), op.get("complete_index")
    return f" <small>(history index {esc(a)} – {esc(b if b is not None else 'never completed')})</small>"


CHAR_W = 6.6
"""Width of one character of the 11px labels, to size the label column."""


def counterexample_svg(
    op: Any, linearized: list[dict[str, Any]], concurrent: list[dict[str, Any]]
) -> str:
    """The failing window as a chart: one row per op, its label in a column on the left and
    its bar from invoke to completion on a history-index axis, so the overlap is visible.

    Rows run in the order found so far, then the concurrent ops, then the op that cannot be
    placed.
    """
    rows = _cx_rows(op, linearized, concurrent)
    if not rows:
        return ""
    points = sorted(
        {r[0]["invoke_index"] for r in rows}
        | {r[0]["complete_index"] for r in rows if isinstance(r[0].get("complete_index"), int)}
    )
    rank = {p: i for i, p in enumerate(points)}
    end_rank = len(points)
    labels = [short((label + ": " if label else "") + _opdesc_text(o), 56) for o, _, label in rows]
    label_w = round(max(len(t) for t in labels) * CHAR_W) + 16
    step, row_h, axis_h = max(28, min(90, 900 // max(end_rank, 1))), 22, 38
    left = label_w + 8
    width = left + step * end_rank + 40
    height = row_h * len(rows) + axis_h
    out = [
        f'<svg class="cx-svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        ' xmlns="http://www.w3.org/2000/svg">'
    ]
    for row, ((o, kind, _), text) in enumerate(zip(rows, labels, strict=True)):
        a = rank[o["invoke_index"]]
        c = o.get("complete_index")
        b = rank[c] if isinstance(c, int) else end_rank
        x0 = left + a * step
        w = max((b - a) * step, step // 2)
        y = row * row_h + 3
        out.append(
            f'<g class="cx-{kind}"><text x="{label_w}" y="{y + 12}" text-anchor="end">'
            f"{esc(text)}</text>"
            f'<rect x="{x0}" y="{y}" width="{w}" height="{row_h - 6}" rx="3"/>'
            f"<title>{esc(_opdesc_text(o))}{esc(_index_text(o))}</title></g>"
        )
    y_axis = row_h * len(rows) + 4
    out.append(
        f'<g class="axis"><line x1="{left}" y1="{y_axis}" x2="{left + step * end_rank}" '
        f'y2="{y_axis}" stroke="#999"/>'
    )
    for p, i in rank.items():
        x = left + i * step
        out.append(
            f'<line x1="{x}" y1="{y_axis}" x2="{x}" y2="{y_axis + 4}" stroke="#999"/>'
            f'<text x="{x}" y="{y_axis + 15}" text-anchor="middle">{p}</text>'
        )
    out.append(
        f'<text x="{left + step * end_rank}" y="{y_axis + 27}" text-anchor="end">'
        "history index (invoke to completion) →</text></g></svg>"
    )
    legend = (
        '<div class="legend"><span><i class="swatch cx-lin-sw"></i>linearized (order)</span>'
        '<span><i class="swatch cx-con-sw"></i>concurrent</span>'
        '<span><i class="swatch cx-bad-sw"></i>cannot be placed</span></div>'
    )
    return f'<div class="scroll">{"".join(out)}</div>{legend}'


def _cx_rows(
    op: Any, linearized: list[dict[str, Any]], concurrent: list[dict[str, Any]]
) -> list[tuple[dict[str, Any], str, str]]:
    rows: list[tuple[dict[str, Any], str, str]] = []
    for i, o in enumerate(linearized):
        rows.append((o, "lin", str(i + 1)))
    seen = {(o.get("invoke_index"), o.get("process")) for o in linearized}
    for o in concurrent:
        if (o.get("invoke_index"), o.get("process")) not in seen:
            rows.append((o, "con", ""))
    if isinstance(op, dict):
        bad = (op.get("invoke_index"), op.get("process"))
        rows = [r for r in rows if (r[0].get("invoke_index"), r[0].get("process")) != bad]
        rows.append((op, "bad", "✗"))
    return [r for r in rows if isinstance(r[0].get("invoke_index"), int)]


def _index_text(op: dict[str, Any]) -> str:
    c = op.get("complete_index")
    return f" (history {op.get('invoke_index')}..{c if c is not None else 'never completed'})"


# ---------------------------------------------------------------- transactional anomalies


def anomalies_html(anomalies: dict[str, Any], where: str = "") -> str:
    label = f" ({where})" if where not in ("", "anomalies") else ""
    parts = [f'<div class="anomalies"><h4>Anomalies{esc(label)}</h4>']
    for name, cases in anomalies.items():
        cases = cases if isinstance(cases, list) else [cases]
        parts.append(f"<h5>{esc(name)} ({len(cases)})</h5>")
        for case in cases[:CYCLES_SHOWN]:
            parts.append(_anomaly_case(str(name), case))
        if len(cases) > CYCLES_SHOWN:
            parts.append(
                f'<p class="more">… {len(cases) - CYCLES_SHOWN} more in the details below</p>'
            )
    parts.append("</div>")
    return "".join(parts)


def _anomaly_case(name: str, case: Any) -> str:
    """One anomaly: its cycle drawn (T1, T2, ... as in the text) beside the prose, or the prose alone."""
    if not isinstance(case, dict):
        return f"<p><code>{esc(short(case, 400))}</code></p>"
    text = "\n".join(anomaly_case_text(name, case))
    cycle = [t for t in case.get("cycle") or [] if isinstance(t, dict)]
    edges = [e for e in case.get("edges") or [] if isinstance(e, dict)]
    graph = cycle_svg(cycle, edges) if cycle else ""
    return f'<div class="anomaly">{graph}<div><pre class="cx-text">{esc(text)}</pre></div></div>'


def cycle_positions(cycle: list[dict[str, Any]]) -> dict[Any, int]:
    """Each transaction's place in the cycle, by its history index (what the edges name)."""
    return {t.get("index"): i for i, t in enumerate(cycle)}


def cycle_svg(cycle: list[dict[str, Any]], edges: list[dict[str, Any]]) -> str:
    """Transactions on a circle, each dependency a curved arrow labelled with type and key."""
    n = len(cycle)
    r = max(90.0, n * 56 / (2 * math.pi))
    size = round(2 * r + 120)
    c = size / 2
    pos = [
        (
            c + r * math.cos(2 * math.pi * i / n - math.pi / 2),
            c + r * math.sin(2 * math.pi * i / n - math.pi / 2),
        )
        for i in range(n)
    ]
    at = cycle_positions(cycle)
    out = [
        f'<svg class="cycle" viewBox="0 0 {size} {size}" width="{size}" height="{size}"'
        ' xmlns="http://www.w3.org/2000/svg">'
    ]
    for e in edges:
        out.append(_edge_svg(e, at, pos, c))
    for i, (x, y) in enumerate(pos):
        out.append(
            f'<g class="txn"><circle cx="{x:.1f}" cy="{y:.1f}" r="18"/>'
            f'<text x="{x:.1f}" y="{y + 5:.1f}" text-anchor="middle">T{i + 1}</text>'
            f"<title>T{i + 1}: {esc(op_text(cycle[i]))}</title></g>"
        )
    out.append("</svg>")
    return "".join(out)


def _edge_svg(
    e: dict[str, Any], at: dict[Any, int], pos: list[tuple[float, float]], c: float
) -> str:
    i, j = at.get(e.get("from")), at.get(e.get("to"))
    if i is None or j is None:
        return ""
    (x1, y1), (x2, y2) = pos[i], pos[j]
    dx, dy = x2 - x1, y2 - y1
    dist = math.hypot(dx, dy) or 1.0
    ux, uy = dx / dist, dy / dist
    sx, sy, ex, ey = x1 + ux * 20, y1 + uy * 20, x2 - ux * 20, y2 - uy * 20
    qx, qy = _bend_point(x1, y1, x2, y2, c)
    etype = str(e.get("type", ""))
    label = etype + (f" {value_text(e.get('key'), 16)}" if e.get("key") is not None else "")
    tip = f"T{i + 1} → T{j + 1}: {label}"
    value, after = e.get("value"), e.get("value_after")
    if after is not None:
        tip += f", {value_text(value, 60)} then {value_text(after, 60)}"
    elif value is not None:
        tip += f", value {value_text(value, 60)}"
    return (
        f'<g class="edge edge-{esc(etype)}" data-from="T{i + 1}" data-to="T{j + 1}">'
        f'<path d="M{sx:.1f} {sy:.1f}Q{qx:.1f} {qy:.1f} {ex:.1f} {ey:.1f}"'
        ' fill="none" marker-end="url(#arrow)"/>'
        f'<text x="{qx:.1f}" y="{qy:.1f}" text-anchor="middle">{esc(label)}</text>'
        f"<title>{esc(tip)}</title></g>"
    )


def _bend_point(
    x1: float, y1: float, x2: float, y2: float, c: float, bend: float = 28
) -> tuple[float, float]:
    """Control point pushing the curve away from the centre, so opposite edges do not overlap."""
    mx, my = (x1 + x2) / 2, (y1 + y2) / 2
    ox, oy = mx - c, my - c
    norm = math.hypot(ox, oy)
    if norm < 1:
        dist = math.hypot(x2 - x1, y2 - y1) or 1.0
        ox, oy, norm = -(y2 - y1) / dist, (x2 - x1) / dist, 1.0
    return mx + ox / norm * bend, my + oy / norm * bend
