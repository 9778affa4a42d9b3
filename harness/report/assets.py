"""Inline CSS and JavaScript of the pages (no network: the page must open from disk)."""

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)

CSS = """
:root { --ok:#2ca02c; --fail:#d62728; --info:#ff7f0e; --unknown:#b8860b; }
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #222; background: #fafafa; }
header.top { padding: 14px 22px; color: #fff; background: #555; }
header.top.valid { background: #2b7a2b; } header.top.invalid { background: #b3261e; }
header.top.unknown { background: #9a6b00; }
header.top h1 { margin: 0 0 4px; font-size: 22px; } header.top .verdict { font-size: 28px; font-weight: 700; }
header.top a { color: #fff; }
header.top table.facts th { color: rgba(255,255,255,.75); }
main { padding: 8px 22px 40px; max-width: 1400px; }
section { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 10px 16px; margin: 14px 0; }
h2 { font-size: 18px; margin: 4px 0 10px; } h3 { font-size: 16px; margin: 4px 0 8px; }
h4 { margin: 10px 0 6px; } h5 { margin: 8px 0 4px; }
table { border-collapse: collapse; } td, th { padding: 2px 8px; text-align: left; vertical-align: top; }
table.facts th { color: #555; font-weight: 600; }
table.grid td, table.grid th, table.runs td, table.runs th { border: 1px solid #ddd; }
table.grid td { text-align: right; } table.faults td { text-align: left; }
table.kv { border-left: 2px solid #e3e3e3; } table.kv th { color: #555; font-weight: 600; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; overflow-wrap: anywhere; }
code.multi, pre { white-space: pre-wrap; }
pre.cx-text { background: #f5f5f5; padding: 6px 8px; border-radius: 4px; margin: 4px 0; }
pre.command { background: #222; color: #eee; padding: 6px 10px; border-radius: 4px; white-space: pre-wrap; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 700; color: #fff; background: #777; vertical-align: middle; }
.badge.valid { background: var(--ok); } .badge.invalid { background: var(--fail); } .badge.unknown { background: var(--unknown); }
section.checker.invalid { border-left: 5px solid var(--fail); } section.checker.valid { border-left: 5px solid var(--ok); }
section.checker.unknown { border-left: 5px solid var(--unknown); }
.problems { color: #b3261e; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 12px; margin: 4px 0 8px 64px; }
.legend span { display: inline-flex; align-items: center; gap: 4px; }
.swatch { display: inline-block; width: 14px; height: 10px; border: 1px solid #999; }
.cx-lin-sw { background: #c7e9c0; } .cx-con-sw { background: #dde6f0; } .cx-bad-sw { background: #f4b6b2; }
svg text { font: 11px system-ui, sans-serif; fill: #333; }
svg.spectrum .implies { stroke: #888; stroke-width: 1.3; }
svg.spectrum .model rect { stroke-width: 1.5; } svg.spectrum .model text { font-size: 12px; }
svg.spectrum .model-holds rect, .sp-holds { fill: #c7e9c0; background: #c7e9c0; stroke: #2ca02c; }
svg.spectrum .model-fails rect, .sp-fails { fill: #f4b6b2; background: #f4b6b2; stroke: #d62728; }
svg.spectrum .model-unknown rect, .sp-unknown { fill: #e6e6e6; background: #e6e6e6; stroke: #888; }
svg.spectrum .model-unchecked rect, .sp-unchecked { fill: #f4f4f4; background: #f4f4f4; stroke: #bbb; }
svg.spectrum .model-unchecked text { fill: #888; }
svg.spectrum .strongest rect, svg.spectrum .weakest rect { stroke-width: 3.5; }
svg.chart { max-width: 100%; height: auto; background: #fff; }
figure { margin: 6px 0; } figcaption { font-weight: 600; margin-bottom: 2px; }
.cx-svg rect { stroke: #666; } .cx-lin rect { fill: #c7e9c0; } .cx-con rect { fill: #dde6f0; }
.cx-bad rect { fill: #f4b6b2; stroke: var(--fail); stroke-width: 2; }
.cols { display: flex; flex-wrap: wrap; gap: 24px; } .cols > div { min-width: 300px; flex: 1; }
.scroll { overflow-x: auto; }
.anomaly { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; border-top: 1px dashed #ddd; padding-top: 6px; }
svg.cycle .txn circle { fill: #fff3c4; stroke: #8a6d00; stroke-width: 1.5; }
svg.cycle .txn text { font-weight: 700; }
svg.cycle .edge path { stroke: #444; stroke-width: 1.4; }
svg.cycle .edge-rw path { stroke: #d62728; stroke-dasharray: 5 3; } svg.cycle .edge-wr path { stroke: #1f77b4; }
svg.cycle .edge-ww path { stroke: #2ca02c; } svg.cycle .edge-realtime path, svg.cycle .edge-process path { stroke: #777; stroke-dasharray: 2 3; }
svg.cycle .edge text { font-size: 11px; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
#timeline .controls { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin-bottom: 6px; }
#timeline .controls input { width: 8em; }
#timeline canvas { display: block; width: 100%; }
#tl-overview { cursor: crosshair; border: 1px solid #ddd; margin-bottom: 4px; }
#tl-main { cursor: grab; }
#tl-tip { position: fixed; display: none; pointer-events: none; background: #fff; border: 1px solid #888;
  box-shadow: 0 2px 6px rgba(0,0,0,.2); padding: 6px 8px; font-size: 12px; max-width: 520px; z-index: 10;
  white-space: pre-wrap; font-family: ui-monospace, Menlo, Consolas, monospace; }
#tl-status { color: #555; font-size: 12px; }
table.runs tr.invalid td.verdict { color: var(--fail); font-weight: 700; }
table.runs tr.valid td.verdict { color: var(--ok); font-weight: 700; }
table.runs tr.unknown td.verdict { color: var(--unknown); font-weight: 700; }
.more, .empty { color: #777; font-style: italic; }
"""

JS = r"""
(function () {
  "use strict";
  var holder = document.getElementById("timeline-data");
  if (!holder) { return; }
  var D = JSON.parse(holder.textContent);
  var OUT = ["ok", "fail", "info", "info (never completed)"];
  var COL = ["#2ca02c", "#d62728", "#ff7f0e", "#f9c38f"];
  var FAULT_COL = ["#f4a582", "#92c5de", "#c2a5cf", "#a6dba0", "#fddbc7", "#d1e5f0"];
  var END = Math.max(D.end, 1);
  var LEFT = 150, AXIS = 20;
  var famCol = {};
  D.faults.forEach(function (w) {
    var fam = String(w[2]).split(" ")[0];
    if (!(fam in famCol)) { famCol[fam] = FAULT_COL[Object.keys(famCol).length % FAULT_COL.length]; }
  });
  function faultColour(w) { return famCol[String(w[2]).split(" ")[0]]; }

  var lanes = D.ops.map(function (c) {
    var n = c.t.length, s = new Float64Array(n), e = new Float64Array(n), m = new Float64Array(n);
    var idx = new Float64Array(n), t = 0, ix = 0, mx = -Infinity;
    for (var i = 0; i < n; i++) {
      t += c.t[i]; s[i] = t; ix += c.i[i]; idx[i] = ix;
      e[i] = c.d[i] < 0 ? END : t + c.d[i];
      if (e[i] > mx) { mx = e[i]; } m[i] = mx;
    }
    return { c: c, s: s, e: e, m: m, idx: idx };
  });
  var hasNem = D.nemesis.length > 0;
  var laneNames = (hasNem ? ["nemesis"] : []).concat(D.lanes);
  var nLanes = laneNames.length;
  var laneH = nLanes <= 32 ? 16 : Math.max(6, Math.floor(640 / nLanes));
  var view = { a: 0, b: END };

  var main = document.getElementById("tl-main"), over = document.getElementById("tl-overview");
  var tip = document.getElementById("tl-tip"), status = document.getElementById("tl-status");
  var fromIn = document.getElementById("tl-from"), toIn = document.getElementById("tl-to");
  var W = 800;

  function size(canvas, h) {
    var r = window.devicePixelRatio || 1;
    W = Math.max(600, canvas.parentNode.clientWidth);
    canvas.width = W * r; canvas.height = h * r;
    canvas.style.height = h + "px";
    var ctx = canvas.getContext("2d");
    ctx.setTransform(r, 0, 0, r, 0, 0);
    return ctx;
  }
  function xOf(t) { return LEFT + (t - view.a) / (view.b - view.a) * (W - LEFT - 8); }
  function tOf(x) { return view.a + (x - LEFT) / (W - LEFT - 8) * (view.b - view.a); }
  function niceStep(raw) {
    var p = Math.pow(10, Math.floor(Math.log10(raw)));
    var ms = [1, 2, 5, 10];
    for (var i = 0; i < ms.length; i++) { if (raw <= ms[i] * p) { return ms[i] * p; } }
    return 10 * p;
  }
  function secs(us) { return (us / 1e6).toFixed(us < 1e7 ? 6 : 3).replace(/\.?0+$/, ""); }
  function firstEnding(L, t) {
    var lo = 0, hi = L.m.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (L.m[mid] < t) { lo = mid + 1; } else { hi = mid; } }
    return lo;
  }

  function draw() {
    var h = AXIS + nLanes * laneH + 4;
    var ctx = size(main, h);
    ctx.clearRect(0, 0, W, h);
    ctx.font = "11px system-ui, sans-serif";
    for (var k = 0; k < nLanes; k++) {
      if (k % 2) { ctx.fillStyle = "#f6f6f6"; ctx.fillRect(0, AXIS + k * laneH, W, laneH); }
    }
    D.faults.forEach(function (w) {
      if (w[1] < view.a || w[0] > view.b) { return; }
      var x0 = Math.max(xOf(w[0]), LEFT), x1 = Math.min(xOf(w[1]), W);
      ctx.globalAlpha = 0.35; ctx.fillStyle = faultColour(w);
      ctx.fillRect(x0, AXIS, Math.max(1, x1 - x0), nLanes * laneH);
      ctx.globalAlpha = 1;
    });
    var step = niceStep((view.b - view.a) / 10);
    ctx.fillStyle = "#555"; ctx.strokeStyle = "#e0e0e0";
    for (var t = Math.ceil(view.a / step) * step; t <= view.b; t += step) {
      var x = xOf(t);
      ctx.beginPath(); ctx.moveTo(x, AXIS - 4); ctx.lineTo(x, h); ctx.stroke();
      var label = secs(t) + " s", lw = ctx.measureText(label).width;
      ctx.fillText(label, x + 2 + lw > W ? x - 2 - lw : x + 2, 12);
    }
    var drawn = 0, row = 0;
    if (hasNem) {
      ctx.fillStyle = "#7b4ea3";
      D.nemesis.forEach(function (r) {
        if (r[1] < view.a || r[0] > view.b) { return; }
        var x0 = Math.max(xOf(r[0]), LEFT), x1 = Math.min(xOf(r[1]), W);
        ctx.fillRect(x0, AXIS + 2, Math.max(2, x1 - x0), laneH - 4); drawn++;
      });
      row = 1;
    }
    lanes.forEach(function (L, li) {
      var y = AXIS + (row + li) * laneH + 2, bh = Math.max(2, laneH - 4);
      for (var i = firstEnding(L, view.a); i < L.s.length && L.s[i] <= view.b; i++) {
        if (L.e[i] < view.a) { continue; }
        var x0 = Math.max(xOf(L.s[i]), LEFT), x1 = Math.min(xOf(L.e[i]), W);
        ctx.fillStyle = COL[L.c.o[i] & 3];
        ctx.fillRect(x0, y, Math.max(1, x1 - x0), bh); drawn++;
      }
    });
    ctx.fillStyle = "#fff"; ctx.fillRect(0, AXIS, LEFT - 4, nLanes * laneH);
    ctx.fillStyle = "#333";
    laneNames.forEach(function (n, k) {
      if (laneH >= 9) { ctx.fillText(n, 4, AXIS + k * laneH + laneH - 4); }
    });
    status.textContent = drawn + " ops drawn; window " + secs(view.a) + " s to " + secs(view.b) +
      " s of " + secs(END) + " s. Drag to pan, wheel to zoom, drag on the overview to pick a range.";
    fromIn.value = secs(view.a); toIn.value = secs(view.b);
    main.setAttribute("data-drawn", String(drawn));
    drawOverview();
  }

  var density = null;
  function drawOverview() {
    var h = 36, ctx = size(over, h), bins = Math.max(1, Math.floor(W));
    if (!density || density.length !== bins) {
      density = new Float64Array(bins);
      lanes.forEach(function (L) {
        for (var i = 0; i < L.s.length; i++) { density[Math.min(bins - 1, Math.floor(L.s[i] / END * bins))]++; }
      });
    }
    var peak = 1;
    for (var i = 0; i < bins; i++) { if (density[i] > peak) { peak = density[i]; } }
    D.faults.forEach(function (w) {
      ctx.fillStyle = faultColour(w); ctx.globalAlpha = 0.5;
      ctx.fillRect(w[0] / END * W, 0, Math.max(1, (w[1] - w[0]) / END * W), h);
      ctx.globalAlpha = 1;
    });
    ctx.fillStyle = "#888";
    for (var j = 0; j < bins; j++) {
      var bh = density[j] / peak * (h - 4);
      ctx.fillRect(j, h - bh, 1, bh);
    }
    ctx.strokeStyle = "#1f77b4"; ctx.lineWidth = 2; ctx.fillStyle = "rgba(31,119,180,0.15)";
    var x0 = view.a / END * W, x1 = view.b / END * W;
    ctx.fillRect(x0, 0, Math.max(2, x1 - x0), h); ctx.strokeRect(x0, 1, Math.max(2, x1 - x0), h - 2);
  }

  function setView(a, b) {
    var minSpan = Math.min(END, 10);
    if (!(b - a >= minSpan)) { var mid = (a + b) / 2; a = mid - minSpan / 2; b = mid + minSpan / 2; }
    if (b - a > END) { a = 0; b = END; }
    if (a < 0) { b -= a; a = 0; }
    if (b > END) { a -= b - END; b = END; }
    view.a = Math.max(0, a); view.b = b; draw();
    try { history.replaceState(null, "", "#from=" + secs(view.a) + "&to=" + secs(view.b)); } catch (e) { /* opened from a sandbox */ }
  }
  function viewFromHash() {
    var m = /from=([0-9.]+)&to=([0-9.]+)/.exec(location.hash);
    if (m && parseFloat(m[2]) > parseFloat(m[1])) { view.a = parseFloat(m[1]) * 1e6; view.b = Math.min(parseFloat(m[2]) * 1e6, END); }
  }
  function zoom(factor, at) {
    var c = at === undefined ? (view.a + view.b) / 2 : at;
    setView(c - (c - view.a) * factor, c + (view.b - c) * factor);
  }

  function hit(ev) {
    var r = main.getBoundingClientRect(), x = ev.clientX - r.left, y = ev.clientY - r.top;
    var k = Math.floor((y - AXIS) / laneH);
    if (x < LEFT || k < 0 || k >= nLanes) { return null; }
    var t = tOf(x), tol = 3 * (view.b - view.a) / (W - LEFT);
    var faults = D.faults.filter(function (w) { return w[0] <= t && t <= w[1]; });
    if (hasNem && k === 0) {
      var best = null;
      D.nemesis.forEach(function (n) { if (n[0] - tol <= t && t <= n[1] + tol) { best = n; } });
      return { t: t, nem: best, faults: faults };
    }
    var L = lanes[k - (hasNem ? 1 : 0)], found = -1;
    for (var i = firstEnding(L, t - tol); i < L.s.length && L.s[i] <= t + tol; i++) {
      if (L.e[i] >= t - tol) { found = i; if (L.s[i] <= t && t <= L.e[i]) { break; } }
    }
    return { t: t, lane: L, i: found, faults: faults };
  }
  function text(v) { return typeof v === "string" ? v : JSON.stringify(v); }
  function describe(h) {
    var lines = [];
    if (h.nem) {
      lines.push("nemesis " + h.nem[2] + " (" + h.nem[3] + ")");
      lines.push("time " + secs(h.nem[0]) + " s \u2192 " + secs(h.nem[1]) + " s");
      if (h.nem[4] !== null && h.nem[4] !== undefined) { lines.push("value " + text(h.nem[4])); }
    } else if (h.lane && h.i >= 0) {
      var c = h.lane.c, i = h.i, d = c.x[i] || {}, code = c.o[i];
      var proc = c.p.length > 1 ? c.p[i] : c.p[0], key = c.k[i];
      lines.push("p" + proc + " " + D.fs[code >> 2] + (key !== null ? " key " + text(key) : ""));
      lines.push("outcome " + OUT[code & 3]);
      if ("v" in d) { lines.push("value " + text(d.v)); }
      if ("r" in d) { lines.push("result " + text(d.r)); }
      if ("e" in d) { lines.push("error " + text(d.e)); }
      if ("n" in d) { lines.push("node " + text(D.nodes[d.n])); }
      var s = h.lane.s[i], e = h.lane.e[i];
      lines.push("time " + secs(s) + " s \u2192 " + (c.d[i] < 0 ? "never completed" :
        secs(e) + " s (" + ((e - s) / 1000).toFixed(3) + " ms)"));
      lines.push("history index " + h.lane.idx[i]);
    }
    h.faults.forEach(function (w) { lines.push("fault active: " + text(w[2])); });
    return lines.join("\n");
  }

  var drag = null;
  main.addEventListener("mousedown", function (ev) { drag = { x: ev.clientX, a: view.a, b: view.b }; main.style.cursor = "grabbing"; });
  window.addEventListener("mouseup", function () { drag = null; main.style.cursor = ""; });
  main.addEventListener("mousemove", function (ev) {
    if (drag) {
      var dt = (ev.clientX - drag.x) / (W - LEFT - 8) * (drag.b - drag.a);
      setView(drag.a - dt, drag.b - dt); tip.style.display = "none"; return;
    }
    var h = hit(ev), msg = h ? describe(h) : "";
    if (!msg) { tip.style.display = "none"; return; }
    tip.textContent = msg; tip.style.display = "block";
    tip.style.left = Math.min(ev.clientX + 14, window.innerWidth - 540) + "px";
    tip.style.top = (ev.clientY + 14) + "px";
  });
  main.addEventListener("mouseleave", function () { tip.style.display = "none"; });
  main.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var r = main.getBoundingClientRect();
    zoom(ev.deltaY < 0 ? 0.8 : 1.25, tOf(ev.clientX - r.left));
  }, { passive: false });

  var pick = null;
  function overT(ev) { var r = over.getBoundingClientRect(); return (ev.clientX - r.left) / r.width * END; }
  over.addEventListener("mousedown", function (ev) { pick = overT(ev); });
  over.addEventListener("mouseup", function (ev) {
    if (pick === null) { return; }
    var t = overT(ev), a = Math.min(pick, t), b = Math.max(pick, t);
    pick = null;
    if ((b - a) / END * W < 3) { var half = (view.b - view.a) / 2; setView(t - half, t + half); } else { setView(a, b); }
  });

  function btn(id, fn) { document.getElementById(id).addEventListener("click", fn); }
  btn("tl-in", function () { zoom(0.5); });
  btn("tl-out", function () { zoom(2); });
  btn("tl-all", function () { setView(0, END); });
  btn("tl-left", function () { var w = view.b - view.a; setView(view.a - w / 2, view.b - w / 2); });
  btn("tl-right", function () { var w = view.b - view.a; setView(view.a + w / 2, view.b + w / 2); });
  document.getElementById("tl-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var a = parseFloat(fromIn.value) * 1e6, b = parseFloat(toIn.value) * 1e6;
    if (isFinite(a) && isFinite(b) && b > a) { setView(a, b); }
  });
  window.addEventListener("resize", function () { density = null; draw(); });
  viewFromHash();
  draw();
  document.body.setAttribute("data-timeline", "ready");
})();
"""
