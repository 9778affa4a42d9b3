"""The run's consistency spectrum as a diagram in the manner of Jepsen's consistency map:
the models of its data type, strongest at the top, an arrow from each model to those it
implies, coloured by verdict (holds, fails, unknown or unchecked)."""

from __future__ import annotations

from typing import Any

from splitbrain.harness.base.explain import model_reason
from splitbrain.harness.report.markup import esc

BOX_W, BOX_H, GAP_X, ROW_H, PAD = 168, 30, 18, 62, 12
VERDICTS = ("holds", "fails", "unknown", "unchecked")


def layers(names: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Each model's row: one below the lowest of the models that imply it directly."""
    into: dict[str, list[str]] = {n: [] for n in names}
    for a, b in edges:
        into.setdefault(b, []).append(a)
    row: dict[str, int] = {}

    def depth(n: str) -> int:
        if n not in row:
            row[n] = 1 + max((depth(a) for a in into.get(n, [])), default=-1)
        return row[n]

    for n in names:
        depth(n)
    return row


def _rows(
    names: list[str], row: dict[str, int], edges: list[tuple[str, str]]
) -> dict[int, list[str]]:
    """Models by row; each row ordered by where the models implying them sit (fewer crossings)."""
    rows: dict[int, list[str]] = {}
    for n in names:
        rows.setdefault(row[n], []).append(n)
    place: dict[str, float] = {}
    for r in sorted(rows):
        members = rows[r]
        if r > 0:
            members.sort(key=lambda n: _centre(n, edges, place))
        for i, n in enumerate(members):
            place[n] = i - (len(members) - 1) / 2
    return rows


def _centre(n: str, edges: list[tuple[str, str]], place: dict[str, float]) -> float:
    above = [place[a] for a, b in edges if b == n and a in place]
    return sum(above) / len(above) if above else float("inf")


def _positions(
    names: list[str], row: dict[str, int], edges: list[tuple[str, str]]
) -> tuple[dict[str, tuple[int, int]], int]:
    rows = _rows(names, row, edges)
    widest = max(len(r) for r in rows.values())
    width = PAD * 2 + widest * BOX_W + (widest - 1) * GAP_X
    where = {}
    for r, members in rows.items():
        span = len(members) * BOX_W + (len(members) - 1) * GAP_X
        left = (width - span) // 2
        for i, n in enumerate(members):
            where[n] = (left + i * (BOX_W + GAP_X), PAD + r * ROW_H)
    return where, width


def _title(name: str, entry: dict[str, Any]) -> str:
    how = entry.get("by") or ""
    reason = entry.get("reason") or ""
    words = [
        f"{name}: {entry.get('verdict')}",
        how,
        reason,
        f"availability: {entry.get('availability')}",
    ]
    return " · ".join(w for w in words if w)


def spectrum_svg(spectrum: dict[str, Any]) -> str:
    """The diagram; empty when the spectrum has no models."""
    models: dict[str, Any] = spectrum.get("models") or {}
    names = list(models)
    if not names:
        return ""
    edges = [(a, b) for a, b in spectrum.get("edges") or [] if a in models and b in models]
    row = layers(names, edges)
    where, width = _positions(names, row, edges)
    height = PAD * 2 + (max(row.values()) + 1) * ROW_H - (ROW_H - BOX_H)
    strongest = set(spectrum.get("strongest_holding") or [])
    weakest = set(spectrum.get("weakest_failing") or [])
    out = [
        f'<svg class="spectrum" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="consistency spectrum">'
    ]
    for a, b in edges:
        (ax, ay), (bx, by) = where[a], where[b]
        out.append(
            f'<line class="implies" data-from="{esc(a)}" data-to="{esc(b)}" '
            f'x1="{ax + BOX_W // 2}" y1="{ay + BOX_H}" x2="{bx + BOX_W // 2}" y2="{by}" '
            'marker-end="url(#arrow)"/>'
        )
    for n in names:
        entry = models[n]
        verdict = entry.get("verdict") if entry.get("verdict") in VERDICTS else "unchecked"
        x, y = where[n]
        mark = " strongest" if n in strongest else (" weakest" if n in weakest else "")
        out.append(
            f'<g class="model model-{verdict}{mark}" data-model="{esc(n)}" '
            f'data-verdict="{verdict}"><title>{esc(_title(n, entry))}</title>'
            f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6"/>'
            f'<text x="{x + BOX_W // 2}" y="{y + BOX_H // 2 + 4}" text-anchor="middle">'
            f"{esc(n)}</text></g>"
        )
    out.append("</svg>")
    return "".join(out)


def spectrum_html(results: dict[str, Any] | None) -> str:
    """The spectrum section's content: the diagram, a legend and the strongest/weakest line."""
    spectrum = (results or {}).get("spectrum")
    if not isinstance(spectrum, dict):
        return '<p class="empty">No spectrum: the workload names no data type.</p>'
    if spectrum.get("error"):
        return (
            f'<p class="problems">The spectrum could not be computed: {esc(spectrum["error"])}</p>'
        )
    svg = spectrum_svg(spectrum)
    if not svg:
        return f'<p class="empty">No model applies to {esc(spectrum.get("data_type"))}.</p>'
    legend = "".join(f'<span><i class="swatch sp-{v}"></i>{v}</span>' for v in VERDICTS)
    strongest = ", ".join(spectrum.get("strongest_holding") or []) or "none"
    weakest = ", ".join(spectrum.get("weakest_failing") or []) or "none"
    return (
        f"<p>Data type <b>{esc(spectrum.get('data_type'))}</b>: strongest holding "
        f"<b>{esc(strongest)}</b>; weakest failing <b>{esc(weakest)}</b>. An arrow points from a "
        "model to one it implies.</p>"
        f'<div class="legend">{legend}</div><div class="scroll">{svg}</div>{_why_html(spectrum)}'
    )


WHY_LINES = 12


def _why_html(spectrum: dict[str, Any]) -> str:
    """Why each model the spectrum checked itself fails, in prose (the run's own checkers
    say it in their own sections)."""
    parts = []
    for name, entry in (spectrum.get("models") or {}).items():
        if not isinstance(entry, dict) or entry.get("verdict") != "fails":
            continue
        lines = model_reason(entry.get("result"), WHY_LINES)
        if lines:
            text = esc(chr(10).join(lines))
            parts.append(f'<h4>{esc(name)} fails</h4><pre class="cx-text why">{text}</pre>')
    return f'<div class="spectrum-why">{"".join(parts)}</div>' if parts else ""
