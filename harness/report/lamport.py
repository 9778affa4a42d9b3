"""The report's Lamport diagram section: a run's messages, from its ``lamport.json``.

Lanes left to right (clients, nodes, services), time going down, each message an arrow
from the lane that wrote it to its destination (a dropped one a short red stub), partitions
and packet faults shaded across the lanes, killed and paused spells on their node's lane.
The drawing has a fixed height and shows one page of the run at a time, the first
``PAGE_MESSAGES`` messages to begin with: earlier / later page through the run, zoom in /
out and the wheel change the span, dragging pans, hovering names the message. However long
the run, the page stays readable: within a page, at most ``MAX_DRAWN`` arrows are drawn (one
in every k, and the diagram says so).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from splitbrain.harness.report.markup import embed_json, esc

DATA_FILE = "lamport.json"
PAGE_MESSAGES = 400
MAX_DRAWN = 60_000


def load(run_dir: Path) -> dict[str, Any] | None:
    """The diagram data a run left, or None (not a message-passing run, or unreadable)."""
    path = run_dir / DATA_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("send"), list) else None


def section(data: dict[str, Any]) -> str:
    total, drawn = data.get("total", 0), len(data["send"])
    more = (
        f" (the first {drawn:,} are here; the whole journal is net-journal.jsonl)"
        if total > drawn
        else ""
    )
    legend = "".join(
        f'<span><i class="swatch" style="background:{colour}"></i>{esc(name)}</span>'
        for name, colour in (
            ("partition", "rgba(230,80,80,.35)"),
            ("packet faults", "rgba(80,120,230,.3)"),
            ("node down", "rgba(90,90,90,.45)"),
            ("paused", "rgba(240,190,40,.6)"),
            ("dropped", "#d33"),
        )
    )
    return (
        '<section id="lamport"><h2>Messages</h2>'
        f"<p>{total:,} messages between {len(data['lanes'])} lanes{esc(more)}: a Lamport "
        "diagram, time going down. Wheel zooms, dragging pans, hovering names a message.</p>"
        '<form class="controls" id="lp-form">'
        '<button type="button" id="lp-earlier">◀ earlier</button>'
        '<button type="button" id="lp-later">later ▶</button>'
        '<button type="button" id="lp-in">zoom in</button>'
        '<button type="button" id="lp-out">zoom out</button>'
        '<button type="button" id="lp-all">whole run</button></form>'
        '<div id="lp-status"></div>'
        '<div id="lp-wrap" style="position:relative">'
        '<canvas id="lp-canvas" style="display:block;width:100%;cursor:grab"></canvas>'
        '<div id="lp-tip" style="position:absolute;display:none;pointer-events:none;'
        "background:#fffbe6;border:1px solid #cc9;padding:3px 6px;max-width:520px;"
        'white-space:pre-wrap;font:11px monospace"></div></div>'
        f'<div class="legend">{legend}</div>'
        "<noscript>The diagram needs JavaScript.</noscript>"
        f'<script type="application/json" id="lamport-data">{embed_json(data)}</script>'
        f"<script>{JS}</script></section>"
    )


JS = r"""
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("lamport-data").textContent);
  var sec = document.getElementById("lamport"), cv = document.getElementById("lp-canvas");
  var ctx = cv.getContext("2d"), tip = document.getElementById("lp-tip");
  var status = document.getElementById("lp-status");
  var N = D.send.length, TOP = 28, LEFT = 64, H = 560, W = 0, lw = 0;
  var PAGE = __PAGE__, MAXDRAWN = __MAXDRAWN__;
  var maxT = 1, maxDur = 0, i;
  for (i = 0; i < N; i++) {
    var r = D.recv[i] < 0 ? D.send[i] : D.recv[i];
    if (r > maxT) maxT = r;
    if (r - D.send[i] > maxDur) maxDur = r - D.send[i];
  }
  D.windows.forEach(function (w) { if (w.end !== null && w.end > maxT) maxT = w.end; });
  var END = maxT * 1.02 + 1;
  var t0 = 0, t1 = N > PAGE ? D.send[PAGE - 1] + maxDur + 1 : END;
  var palette = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#ff7f0e", "#7f7f7f"];
  function X(l) { return LEFT + lw * (l + 0.5); }
  function Y(t) { return TOP + (t - t0) / (t1 - t0) * (H - TOP); }
  function lowerBound(t) { var lo = 0, hi = N; while (lo < hi) { var m = (lo + hi) >> 1; if (D.send[m] < t) lo = m + 1; else hi = m; } return lo; }
  function niceStep(x) { var p = Math.pow(10, Math.floor(Math.log10(Math.max(x, 1e-9)))); var ms = [1, 2, 5, 10]; for (var k = 0; k < ms.length; k++) if (ms[k] * p >= x) return ms[k] * p; return 10 * p; }
  var shown = [];
  function resize() {
    W = cv.parentNode.clientWidth || 800;
    cv.width = W * devicePixelRatio; cv.height = H * devicePixelRatio; cv.style.height = H + "px";
    ctx.setTransform(devicePixelRatio, 0, 0, devicePixelRatio, 0, 0);
    lw = (W - LEFT - 20) / Math.max(1, D.lanes.length); draw();
  }
  function draw() {
    ctx.clearRect(0, 0, W, H);
    D.windows.forEach(function (w) {
      var a = Math.max(TOP, Y(w.start)), b = Math.min(H, Y(w.end === null ? END : w.end));
      if (b < TOP || a > H) return;
      if (w.kind === "partition") { ctx.fillStyle = "rgba(230,80,80,.18)"; ctx.fillRect(LEFT, a, W - LEFT, b - a); }
      else if (w.kind === "packet") { ctx.fillStyle = "rgba(80,120,230,.15)"; ctx.fillRect(LEFT, a, W - LEFT, b - a); }
      else if (w.lane !== null) { ctx.fillStyle = w.kind === "down" ? "rgba(90,90,90,.25)" : "rgba(240,190,40,.35)"; ctx.fillRect(X(w.lane) - lw * 0.3, a, lw * 0.6, b - a); }
    });
    ctx.strokeStyle = "#ccc"; ctx.fillStyle = "#222"; ctx.textAlign = "center"; ctx.lineWidth = 1;
    ctx.font = "11px system-ui, sans-serif";
    D.lanes.forEach(function (n, k) {
      ctx.beginPath(); ctx.moveTo(X(k), TOP); ctx.lineTo(X(k), H); ctx.stroke();
      if (lw > 14 || k % Math.ceil(14 / lw) === 0) ctx.fillText(n, X(k), 14);
    });
    ctx.textAlign = "right"; var step = niceStep((t1 - t0) / 10);
    for (var t = Math.ceil(t0 / step) * step; t < t1; t += step) {
      var y = Y(t); ctx.fillStyle = "#222"; ctx.fillText((t / 1000).toFixed(step < 1000 ? 2 : 0) + " ms", LEFT - 4, y + 4);
      ctx.strokeStyle = "#f2f2f2"; ctx.beginPath(); ctx.moveTo(LEFT, y); ctx.lineTo(W, y); ctx.stroke();
    }
    shown = [];
    var from = lowerBound(t0 - maxDur), to = lowerBound(t1), count = to - from;
    var stride = Math.max(1, Math.ceil(count / MAXDRAWN)), drawn = 0;
    ctx.save(); ctx.beginPath(); ctx.rect(LEFT, TOP, W - LEFT, H - TOP); ctx.clip();
    for (var j = from; j < to; j += stride) {
      var s = D.send[j], rv = D.recv[j], drop = D.dropped[j];
      if (!drop && rv >= 0 && rv < t0) continue;
      var x0 = X(D.src[j]), y0 = Y(s); drawn++;
      if (drop || rv < 0) {
        var xe = x0 + (X(D.dst[j]) - x0) * 0.25; ctx.strokeStyle = "#d33";
        ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(xe, y0 + 4); ctx.stroke(); shown.push([j, x0, y0, xe, y0 + 4]); continue;
      }
      var x1 = X(D.dst[j]), y1 = Y(rv); ctx.strokeStyle = palette[D.kind[j] % palette.length];
      ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); ctx.stroke();
      if (Math.abs(x1 - x0) > 8 && count < 3000) {
        var a = Math.atan2(y1 - y0, x1 - x0); ctx.beginPath(); ctx.moveTo(x1, y1);
        ctx.lineTo(x1 - 6 * Math.cos(a - 0.4), y1 - 6 * Math.sin(a - 0.4)); ctx.lineTo(x1 - 6 * Math.cos(a + 0.4), y1 - 6 * Math.sin(a + 0.4));
        ctx.closePath(); ctx.fillStyle = ctx.strokeStyle; ctx.fill();
      }
      shown.push([j, x0, y0, x1, y1]);
    }
    ctx.restore();
    cv.setAttribute("data-drawn", String(drawn));
    status.textContent = "messages " + (count ? (from + 1).toLocaleString() + " to " + to.toLocaleString() : "none") +
      " of " + N.toLocaleString() + ", from " + (t0 / 1000).toFixed(1) + " ms to " + (t1 / 1000).toFixed(1) + " ms" +
      (stride > 1 ? "; drawing 1 in " + stride + ": zoom in for all" : "");
  }
  function span(a, b) { t0 = a; t1 = b; draw(); }
  function page(dir) { var w = t1 - t0; span(t0 + dir * w, t1 + dir * w); }
  function zoom(f, at) { var c = at === undefined ? (t0 + t1) / 2 : at; span(c - (c - t0) * f, c + (t1 - c) * f); }
  document.getElementById("lp-earlier").addEventListener("click", function () { page(-1); });
  document.getElementById("lp-later").addEventListener("click", function () { page(1); });
  document.getElementById("lp-in").addEventListener("click", function () { zoom(0.5); });
  document.getElementById("lp-out").addEventListener("click", function () { zoom(2); });
  document.getElementById("lp-all").addEventListener("click", function () { span(0, END); });
  function at(e) { return t0 + (e.offsetY - TOP) / (H - TOP) * (t1 - t0); }
  cv.addEventListener("wheel", function (e) { e.preventDefault(); zoom(e.deltaY > 0 ? 1.25 : 0.8, at(e)); }, { passive: false });
  var drag = null;
  cv.addEventListener("mousedown", function (e) { drag = [e.offsetY, t0, t1]; cv.style.cursor = "grabbing"; });
  window.addEventListener("mouseup", function () { drag = null; cv.style.cursor = "grab"; });
  function segDist(px, py, x0, y0, x1, y1) { var dx = x1 - x0, dy = y1 - y0, l = dx * dx + dy * dy; var t = l ? ((px - x0) * dx + (py - y0) * dy) / l : 0; t = Math.max(0, Math.min(1, t)); return Math.hypot(px - x0 - t * dx, py - y0 - t * dy); }
  cv.addEventListener("mousemove", function (e) {
    if (drag) { var dt = (e.offsetY - drag[0]) / (H - TOP) * (drag[2] - drag[1]); span(drag[1] - dt, drag[2] - dt); return; }
    var best = null, bd = 6;
    shown.forEach(function (q) { var d = segDist(e.offsetX, e.offsetY, q[1], q[2], q[3], q[4]); if (d < bd) { bd = d; best = q[0]; } });
    var text = "";
    if (best !== null) {
      var rv = D.recv[best];
      text = D.lanes[D.src[best]] + " -> " + D.lanes[D.dst[best]] + "  sent " + (D.send[best] / 1000).toFixed(3) + " ms" +
        (D.dropped[best] ? "  DROPPED (" + D.dropped[best] + ")" : rv >= 0 ? "  received " + (rv / 1000).toFixed(3) + " ms" : "  never received") + "\n" + D.labels[best];
    } else {
      var t = at(e);
      D.windows.forEach(function (w) { if (t >= w.start && (w.end === null || t <= w.end) && (w.lane === undefined || Math.abs(e.offsetX - X(w.lane)) < lw * 0.3)) text += w.kind + ": " + w.what + "\n"; });
    }
    if (text) { tip.textContent = text; tip.style.display = "block"; tip.style.left = (e.offsetX + 12) + "px"; tip.style.top = (e.offsetY + 12) + "px"; }
    else tip.style.display = "none";
  });
  window.addEventListener("resize", resize);
  resize();
  sec.setAttribute("data-lamport", "ready");
})();
""".replace("__PAGE__", str(PAGE_MESSAGES)).replace("__MAXDRAWN__", str(MAX_DRAWN))
