"""Latency, throughput and the bank's read totals over time as inline SVG, with fault windows shaded."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from splitbrain.harness.report.markup import esc
from splitbrain.harness.report.run import FaultWindow, OpSpan

WIDTH, HEIGHT = 960, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 14, 34
POINT_LIMIT = 3000
QUANTILES = (0.5, 0.95, 0.99, 1.0)
F_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
FAULT_COLOURS = ("#f4a582", "#92c5de", "#c2a5cf", "#a6dba0", "#fddbc7", "#d1e5f0")
OUTCOME_DASH = {"ok": "", "fail": "6 3", "info": "2 3"}
QUANTILE_DASH = {0.5: "", 0.95: "6 3", 0.99: "2 3", 1.0: "1 5"}


@dataclass(frozen=True, slots=True)
class Frame:
    """Maps run time (s) and a y value onto the plot area."""

    t_max: float
    y_lo: float
    y_hi: float
    log: bool = False

    def x(self, t: float) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * (t / self.t_max if self.t_max > 0 else 0)

    def y(self, v: float) -> float:
        if self.log:
            lo, hi, v = math.log10(self.y_lo), math.log10(self.y_hi), math.log10(max(v, self.y_lo))
        else:
            lo, hi = self.y_lo, self.y_hi
        frac = (v - lo) / (hi - lo) if hi > lo else 0.0
        return HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * frac


def f_colours(fs: list[str]) -> dict[str, str]:
    return {f: F_COLOURS[i % len(F_COLOURS)] for i, f in enumerate(fs)}


def fault_colours(faults: list[FaultWindow]) -> dict[str, str]:
    names: dict[str, str] = {}
    for w in faults:
        family = w.name.split(" ", 1)[0]
        names.setdefault(family, FAULT_COLOURS[len(names) % len(FAULT_COLOURS)])
    return names


def latency_svg(spans: list[OpSpan], faults: list[FaultWindow], end_ns: int, fs: list[str]) -> str:
    done = [s for s in spans if s.end is not None]
    if not done:
        return '<p class="empty">No completed operations.</p>'
    lat = [max((s.end or 0) - s.start, 1) / 1e6 for s in done]
    lo = _floor_pow10(min(lat))
    frame = Frame(max(end_ns / 1e9, 1e-3), lo, max(_ceil_pow10(max(lat)), lo * 10), log=True)
    colours = f_colours(fs)
    if len(done) <= POINT_LIMIT:
        body, legend = _latency_points(done, lat, frame, colours)
        mode = "every op a point"
    else:
        body, legend = _latency_quantiles(done, lat, frame, colours)
        mode = "quantiles per time bucket"
    return _chart(frame, faults, body, legend, "latency (ms, log)", f"Latency: {mode}")


def throughput_svg(
    spans: list[OpSpan], faults: list[FaultWindow], end_ns: int, fs: list[str]
) -> str:
    done = [s for s in spans if s.end is not None]
    if not done:
        return '<p class="empty">No completed operations.</p>'
    t_max = max(end_ns / 1e9, 1e-3)
    dt = _nice_step(t_max / 100)
    nb = max(1, math.ceil(t_max / dt))
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * nb)
    for s in done:
        b = min(int((s.end or 0) / 1e9 / dt), nb - 1)
        counts[(s.f, s.outcome)][b] += 1
    rates = [c / _bucket_width(i, dt, t_max) for cs in counts.values() for i, c in enumerate(cs)]
    top = robust_peak(rates)
    frame = Frame(t_max, 0.0, _nice_ceiling(top))
    colours = f_colours(fs)
    body, legend = [], []
    for (f, outcome), series in sorted(
        counts.items(), key=lambda kv: (fs.index(kv[0][0]), kv[0][1])
    ):
        pts = " ".join(
            f"{frame.x(min((i + 0.5) * dt, t_max)):.1f},"
            f"{frame.y(min(c / _bucket_width(i, dt, t_max), frame.y_hi)):.1f}"
            for i, c in enumerate(series)
        )
        dash = OUTCOME_DASH.get(outcome, "")
        body.append(
            f'<polyline points="{pts}" fill="none" stroke="{colours[f]}" stroke-width="1.5"'
            f' stroke-dasharray="{dash}"><title>{esc(f)} {esc(outcome)}</title></polyline>'
        )
        legend.append((f"{f} {outcome}", colours[f], dash, "line"))
    title = f"Throughput: completions per second, {_fmt(dt)} s buckets"
    if max(rates) > frame.y_hi:
        title += f" (a burst of up to {_fmt(max(rates))} ops/s, the final phase's, is cut off)"
    return _chart(frame, faults, body, legend, "ops/s", title)


BANK_MARKS = (
    ("wrong-total", "#d62728", "fail", "wrong total"),
    ("negative", "#ff7f0e", "info", "negative balance"),
    ("missing", "#7b4ea3", "square", "missing account"),
    ("unexpected", "#17becf", "square", "unknown account"),
)
"""(problem, colour, marker, legend) of the bank checker's bad reads; a read with several
problems gets one mark for each."""
BANK_READ_COLOUR = "#2ca02c"


def bank_svg(result: dict[str, Any], faults: list[FaultWindow], end_ns: int) -> str:
    """The total of each ``ok`` read over time, from the bank checker's ``reads_over_time``:
    good reads as dots, each problem of a bad read as its own mark, the expected total as a
    dashed line."""
    points = [
        p
        for p in result.get("reads_over_time") or []
        if isinstance(p, list)
        and len(p) >= 3
        and isinstance(p[0], (int, float))
        and isinstance(p[1], (int, float))
    ]
    if not points:
        return '<p class="empty">No read with a time to draw.</p>'
    expected = result.get("total")
    totals = [p[1] for p in points] + ([expected] if isinstance(expected, (int, float)) else [])
    lo, hi = min(totals), max(totals)
    pad = max((hi - lo) * 0.08, abs(hi) * 0.04, 4)
    frame = Frame(max(end_ns, max(p[0] for p in points)) / 1e9, lo - pad, hi + pad)
    good = [p for p in points if not p[2]]
    if len(good) > POINT_LIMIT:
        good = good[:: math.ceil(len(good) / POINT_LIMIT)]
    dots = "".join(
        _marker("ok", frame.x(p[0] / 1e9), frame.y(p[1]), BANK_READ_COLOUR) for p in good
    )
    body = [f'<g class="bank-reads">{dots}</g>']
    if isinstance(expected, (int, float)):
        y = frame.y(expected)
        body.append(
            f'<path class="bank-expected" d="M{LEFT} {y:.1f}H{WIDTH - RIGHT}" stroke="#555"'
            f' stroke-dasharray="6 3"><title>expected total {_fmt(expected)}</title></path>'
        )
    legend = [("good read", BANK_READ_COLOUR, "", "ok"), ("expected total", "#555", "6 3", "line")]
    drawn: dict[str, int] = {}
    for problem, colour, shape, label in BANK_MARKS:
        bad = [p for p in points if problem in p[2]][:POINT_LIMIT]
        for p in bad:
            x, y = frame.x(p[0] / 1e9), frame.y(p[1])
            where = f", history {p[3]}" if len(p) > 3 else ""
            tip = f"{p[0] / 1e9:.3f} s: total {_fmt(p[1])}, {', '.join(map(str, p[2]))}{where}"
            body.append(
                f'<g class="bank-bad {problem}"><title>{esc(tip)}</title>'
                f"{_marker(shape, x, y, colour)}</g>"
            )
        if bad:
            drawn[label] = len(bad)
            legend.append((label, colour, "", shape))
    bad_count = result.get("bad_read_count", 0)
    reads = result.get("read_count", len(points))
    title = f"Bank: the total of each read over time; {bad_count} of {reads} reads bad"
    if drawn:
        title += " (" + ", ".join(f"{n} {label}" for label, n in drawn.items()) + ")"
    return _chart(frame, faults, body, legend, "total of all accounts", title)


def robust_peak(rates: list[float]) -> float:
    """The top of the scale: the highest rate, unless a few buckets (the final phase's burst
    of reads) are far above the rest; then the rest's highest, so the main phase stays visible."""
    ordered = sorted(rates)
    peak = ordered[-1]
    rest = ordered[-max(2, len(ordered) // 50) - 1] if len(ordered) > 4 else peak
    return rest if 0 < rest and peak > 3 * rest else peak


def _bucket_width(i: int, dt: float, t_max: float) -> float:
    """The last bucket may be cut short by the end of the run; rates use its real width."""
    return max(min(dt, t_max - i * dt), dt / 100)


def _latency_points(
    done: list[OpSpan], lat: list[float], frame: Frame, colours: dict[str, str]
) -> tuple[list[str], list[tuple[str, str, str, str]]]:
    body = []
    seen: dict[tuple[str, str], None] = {}
    for s, ms in zip(done, lat, strict=True):
        x, y, c = frame.x(s.start / 1e9), frame.y(ms), colours[s.f]
        body.append(_marker(s.outcome, x, y, c))
        seen[(s.f, s.outcome)] = None
    legend = [(f"{f} {o}", colours[f], "", o) for f, o in seen]
    return body, legend


def _marker(outcome: str, x: float, y: float, colour: str) -> str:
    if outcome == "ok":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.8" fill="{colour}"/>'
    if outcome == "square":
        return (
            f'<rect x="{x - 2.5:.1f}" y="{y - 2.5:.1f}" width="5" height="5" fill="none"'
            f' stroke="{colour}" stroke-width="1.2"/>'
        )
    if outcome == "fail":
        return f'<path d="M{x - 2.5:.1f} {y - 2.5:.1f}l5 5m0 -5l-5 5" stroke="{colour}" stroke-width="1.2"/>'
    return (
        f'<path d="M{x:.1f} {y - 3:.1f}l3 5h-6z" fill="none" stroke="{colour}" stroke-width="1"/>'
    )


def _latency_quantiles(
    done: list[OpSpan], lat: list[float], frame: Frame, colours: dict[str, str]
) -> tuple[list[str], list[tuple[str, str, str, str]]]:
    dt = _nice_step(frame.t_max / 80)
    buckets: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for s, ms in zip(done, lat, strict=True):
        buckets[s.f][int(s.start / 1e9 / dt)].append(ms)
    body, legend = [], []
    for f, by_bucket in buckets.items():
        ordered = sorted(by_bucket.items())
        for q in QUANTILES:
            pts = " ".join(
                f"{frame.x(min((b + 0.5) * dt, frame.t_max)):.1f},{frame.y(_quantile(sorted(v), q)):.1f}"
                for b, v in ordered
            )
            dash = QUANTILE_DASH[q]
            name = "max" if q == 1.0 else f"p{q * 100:g}"
            body.append(
                f'<polyline points="{pts}" fill="none" stroke="{colours[f]}" stroke-width="1.3"'
                f' stroke-dasharray="{dash}"><title>{esc(f)} {name}</title></polyline>'
            )
            legend.append((f"{f} {name}", colours[f], dash, "line"))
    return body, legend


def _quantile(sorted_values: list[float], q: float) -> float:
    i = min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[i]


def _chart(
    frame: Frame,
    faults: list[FaultWindow],
    body: list[str],
    legend: list[tuple[str, str, str, str]],
    y_label: str,
    title: str,
) -> str:
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}"'
        f' xmlns="http://www.w3.org/2000/svg" role="img"><title>{esc(title)}</title>',
        _fault_rects(frame, faults),
        _axes(frame, y_label),
        *body,
        "</svg>",
    ]
    return f"<figure><figcaption>{esc(title)}</figcaption>{''.join(parts)}{_legend(legend, faults)}</figure>"


def _fault_rects(frame: Frame, faults: list[FaultWindow]) -> str:
    colours = fault_colours(faults)
    out = []
    for w in faults:
        x0, x1 = frame.x(w.start / 1e9), frame.x(w.end / 1e9)
        colour = colours[w.name.split(" ", 1)[0]]
        tip = f"{w.name}: {w.start / 1e9:.3f} s – {w.end / 1e9:.3f} s"
        out.append(
            f'<rect class="fault" x="{x0:.1f}" y="{TOP}" width="{max(x1 - x0, 1):.1f}"'
            f' height="{HEIGHT - TOP - BOTTOM}" fill="{colour}" fill-opacity="0.35">'
            f"<title>{esc(tip)}</title></rect>"
        )
    return "".join(out)


def _axes(frame: Frame, y_label: str) -> str:
    x0, x1, y0, y1 = LEFT, WIDTH - RIGHT, HEIGHT - BOTTOM, TOP
    out = [f'<path d="M{x0} {y1}V{y0}H{x1}" stroke="#555" fill="none"/>']
    for t in _ticks(0, frame.t_max):
        x = frame.x(t)
        out.append(f'<path d="M{x:.1f} {y0}v4" stroke="#555"/>')
        anchor = "end" if x > x1 - 16 else "middle"
        out.append(f'<text x="{x:.1f}" y="{y0 + 16}" text-anchor="{anchor}">{_fmt(t)}</text>')
    out.append(f'<text x="{x1}" y="{HEIGHT - 2}" text-anchor="end">time (s)</text>')
    ys = _log_ticks(frame.y_lo, frame.y_hi) if frame.log else _ticks(frame.y_lo, frame.y_hi)
    for v in ys:
        y = frame.y(v)
        out.append(f'<path d="M{x0} {y:.1f}H{x1}" stroke="#ddd"/>')
        out.append(f'<text x="{x0 - 4}" y="{y + 4:.1f}" text-anchor="end">{_fmt(v)}</text>')
    out.append(f'<text x="12" y="{(y0 + y1) / 2}" transform="rotate(-90 12 {(y0 + y1) / 2})"')
    out.append(f' text-anchor="middle">{esc(y_label)}</text>')
    return "".join(out)


def _legend(legend: list[tuple[str, str, str, str]], faults: list[FaultWindow]) -> str:
    items = []
    for label, colour, dash, kind in legend:
        if kind == "line":
            sym = f'<line x1="0" y1="6" x2="22" y2="6" stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/>'
        else:
            sym = _marker(kind, 11, 6, colour)
        items.append(f'<span><svg width="22" height="12">{sym}</svg>{esc(label)}</span>')
    for family, colour in fault_colours(faults).items():
        items.append(
            f'<span><i class="swatch" style="background:{colour}"></i>{esc(family)}</span>'
        )
    return f'<div class="legend">{"".join(items)}</div>'


def _nice_step(raw: float) -> float:
    if raw <= 0:
        return 1.0
    p = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * p:
            return m * p
    return 10 * p


def _nice_ceiling(v: float) -> float:
    return _nice_step(v) if v > 0 else 1.0


def _ticks(lo: float, hi: float) -> list[float]:
    step = _nice_step((hi - lo) / 8)
    first = math.ceil(lo / step)
    return [i * step for i in range(first, int(hi / step + 1e-9) + 1)]


def _log_ticks(lo: float, hi: float) -> list[float]:
    out = []
    e = math.floor(math.log10(lo))
    while 10**e <= hi * 1.0001:
        out.append(10.0**e)
        e += 1
    return out


def _floor_pow10(v: float) -> float:
    return 10 ** math.floor(math.log10(max(v, 1e-6)))


def _ceil_pow10(v: float) -> float:
    return 10 ** math.ceil(math.log10(max(v, 1e-6)) + 1e-9)


def _fmt(v: float) -> str:
    return f"{v:g}" if abs(v) >= 0.001 or v == 0 else f"{v:.0e}"
