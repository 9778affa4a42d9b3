"""A Lamport diagram of a run's messages, from its journal: ``lamport.html``.

One self-contained page (no network): clients, nodes and services as lanes, time going
down, each message an arrow from the lane that wrote it to its destination (a dropped one a
short red stub with its reason), partitions and packet faults shaded across the lanes,
killed and paused spells shaded on their node's lane. Wheel zooms the time axis, dragging
pans, hovering names the message. Up to ``MAX_MESSAGES`` messages (Maelstrom stops at
10,000 events); the page says when a run had more.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import orjson

MAX_MESSAGES = 250_000


def _lane_order(name: str) -> tuple[int, int, str]:
    """Clients first, then nodes, then services, numbered ones in numeric order."""
    numbered = name[1:].isdigit()
    kind = {"c": 0, "n": 1}.get(name[0], 2) if numbered else 2
    return kind, int(name[1:]) if numbered else 0, name


def diagram_data(journal: Path, max_messages: int = MAX_MESSAGES) -> dict[str, Any]:
    """Lanes, messages (flat arrays) and fault windows, in microseconds since the router began."""
    lanes: dict[str, int] = {}
    types: dict[str, int] = {}
    index: dict[int, int] = {}
    send: list[int] = []
    recv: list[int] = []
    src: list[int] = []
    dst: list[int] = []
    kind: list[int] = []
    dropped: dict[int, str] = {}
    events: list[dict[str, Any]] = []
    total = 0
    names: list[str] = []

    def lane(name: str) -> int:
        return lanes.setdefault(name, len(lanes))

    with journal.open("rb") as f:
        for line in f:
            if len(send) >= max_messages and b'"type":"send"' in line[:60]:
                total += 1  # past the cap: counted, not parsed
                continue
            e = orjson.loads(line)
            t = e["time"] // 1000
            typ = e["type"]
            if typ == "send":
                total += 1
                msg = e["message"]
                body = msg.get("body", {})
                index[e["id"]] = len(send)
                send.append(t)
                recv.append(-1)
                src.append(lane(e.get("from", msg["src"])))
                dst.append(lane(msg["dest"]))
                kind.append(types.setdefault(str(body.get("type")), len(types)))
                raw = line[line.find(b'"message":') + 10 :][:160]
                names.append(raw.decode("utf-8", "replace"))
                if "dropped" in e:
                    dropped[len(send) - 1] = e["dropped"]
            elif typ == "recv" and e["id"] in index:
                i = index[e["id"]]
                if recv[i] < 0:
                    recv[i] = t
            elif typ == "drop" and e["id"] in index:
                dropped[index[e["id"]]] = e.get("reason", "dropped")
            elif typ in ("faults", "node"):
                events.append(e | {"time": t})
    order = sorted(lanes, key=_lane_order)
    remap = {lanes[n]: i for i, n in enumerate(order)}
    return {
        "lanes": order,
        "types": list(types),
        "send": send,
        "recv": recv,
        "src": [remap[x] for x in src],
        "dst": [remap[x] for x in dst],
        "kind": kind,
        "dropped": {str(i): why for i, why in dropped.items()},
        "labels": names,
        "windows": _windows(events, order),
        "total": total,
    }


def _windows(events: list[dict[str, Any]], lanes: list[str]) -> list[dict[str, Any]]:
    """Shaded spells: ``partition`` and ``packet`` across every lane, ``down`` and ``paused``
    on one lane (``lane`` index), each from ``start`` to ``end`` (None: to the end)."""
    out: list[dict[str, Any]] = []
    open_: dict[tuple[str, str], dict[str, Any]] = {}
    where = {n: i for i, n in enumerate(lanes)}

    def begin(key: tuple[str, str], window: dict[str, Any]) -> None:
        if key not in open_:
            open_[key] = window
            out.append(window)

    def end(key: tuple[str, str], t: int) -> None:
        window = open_.pop(key, None)
        if window is not None:
            window["end"] = t

    for e in events:
        t = e["time"]
        if e["type"] == "faults":
            on_partition = bool(e.get("drops"))
            on_packet = any(v for v in e.get("packet", {}).values())
            if on_partition:
                end(("partition", ""), t)
                what = "; ".join(f"{n} drops {', '.join(d)}" for n, d in e["drops"].items())
                begin(
                    ("partition", ""), {"kind": "partition", "start": t, "end": None, "what": what}
                )
            else:
                end(("partition", ""), t)
            if on_packet:
                what = ", ".join(f"{k} {v:g}" for k, v in e["packet"].items() if v)
                begin(("packet", ""), {"kind": "packet", "start": t, "end": None, "what": what})
            else:
                end(("packet", ""), t)
        else:
            node, ev = e["node"], e["event"]
            if ev == "down":
                begin(
                    ("down", node),
                    {
                        "kind": "down",
                        "lane": where.get(node),
                        "start": t,
                        "end": None,
                        "what": e.get("why", ""),
                    },
                )
            elif ev == "start":
                end(("down", node), t)
            elif ev == "pause":
                begin(
                    ("paused", node),
                    {
                        "kind": "paused",
                        "lane": where.get(node),
                        "start": t,
                        "end": None,
                        "what": "SIGSTOP",
                    },
                )
            elif ev == "resume":
                end(("paused", node), t)
    return out


def write(journal: Path, dest: Path, title: str) -> Path:
    data = diagram_data(journal)
    page = PAGE.replace("__TITLE__", html.escape(title)).replace(
        "__DATA__", json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    )
    dest.write_text(page, encoding="utf-8")
    return dest


PAGE = r"""<!doctype html>
<html><head><meta charset="utf-8"><title>__TITLE__</title>
<style>
body{margin:0;font:12px system-ui,sans-serif;background:#fff;color:#222}
#top{padding:6px 10px;border-bottom:1px solid #ddd}
#wrap{position:relative}
canvas{display:block;cursor:grab}
#tip{position:absolute;pointer-events:none;background:#fffbe6;border:1px solid #cc9;padding:3px 6px;
max-width:520px;white-space:pre-wrap;font:11px monospace;display:none}
.k{display:inline-block;width:12px;height:10px;margin:0 3px 0 10px;vertical-align:middle}
</style></head><body>
<div id="top"><b>__TITLE__</b> <span id="count"></span>
<span class="k" style="background:rgba(230,80,80,.18)"></span>partition
<span class="k" style="background:rgba(80,120,230,.15)"></span>packet faults
<span class="k" style="background:rgba(90,90,90,.25)"></span>node down
<span class="k" style="background:rgba(240,190,40,.35)"></span>paused
<span class="k" style="background:#d33"></span>dropped &nbsp; wheel: zoom, drag: pan, double-click: all</div>
<div id="wrap"><canvas id="c"></canvas><div id="tip"></div></div>
<script>
const D=__DATA__;
const cv=document.getElementById('c'),ctx=cv.getContext('2d'),tip=document.getElementById('tip');
const N=D.send.length,TOP=28,LEFT=60;
let maxT=1,maxDur=0;
for(let i=0;i<N;i++){const r=D.recv[i]<0?D.send[i]:D.recv[i];if(r>maxT)maxT=r;if(r-D.send[i]>maxDur)maxDur=r-D.send[i];}
for(const w of D.windows){if(w.end!==null&&w.end>maxT)maxT=w.end;}
let t0=0,t1=maxT*1.02+1,W=0,H=0,lw=0;
document.getElementById('count').textContent=`${D.total.toLocaleString()} messages`+
 (D.total>N?` (the first ${N.toLocaleString()} drawn)`:'')+`, ${D.lanes.length} lanes`;
const palette=['#1f77b4','#2ca02c','#9467bd','#8c564b','#e377c2','#17becf','#bcbd22','#ff7f0e','#7f7f7f'];
function resize(){W=window.innerWidth;H=window.innerHeight-document.getElementById('top').offsetHeight-4;
 cv.width=W*devicePixelRatio;cv.height=H*devicePixelRatio;cv.style.width=W+'px';cv.style.height=H+'px';
 ctx.setTransform(devicePixelRatio,0,0,devicePixelRatio,0,0);lw=(W-LEFT-20)/Math.max(1,D.lanes.length);draw();}
const X=l=>LEFT+lw*(l+0.5), Y=t=>TOP+(t-t0)/(t1-t0)*(H-TOP);
function lowerBound(t){let lo=0,hi=N;while(lo<hi){const m=(lo+hi)>>1;if(D.send[m]<t)lo=m+1;else hi=m;}return lo;}
let shown=[];
function draw(){
 ctx.clearRect(0,0,W,H);
 for(const w of D.windows){const a=Y(w.start),b=Y(w.end===null?t1:w.end);if(b<TOP||a>H)continue;
  if(w.kind==='partition'){ctx.fillStyle='rgba(230,80,80,.18)';ctx.fillRect(LEFT,a,W-LEFT,b-a);}
  else if(w.kind==='packet'){ctx.fillStyle='rgba(80,120,230,.15)';ctx.fillRect(LEFT,a,W-LEFT,b-a);}
  else if(w.lane!==null){ctx.fillStyle=w.kind==='down'?'rgba(90,90,90,.25)':'rgba(240,190,40,.35)';
   ctx.fillRect(X(w.lane)-lw*0.3,a,lw*0.6,b-a);}}
 ctx.strokeStyle='#ccc';ctx.fillStyle='#222';ctx.textAlign='center';ctx.lineWidth=1;
 D.lanes.forEach((n,i)=>{ctx.beginPath();ctx.moveTo(X(i),TOP);ctx.lineTo(X(i),H);ctx.stroke();
  if(lw>14||i%Math.ceil(14/lw)===0)ctx.fillText(n,X(i),14);});
 ctx.textAlign='right';const step=niceStep((t1-t0)/10);
 for(let t=Math.ceil(t0/step)*step;t<t1;t+=step){const y=Y(t);ctx.fillText((t/1000).toFixed(step<1000?2:0)+' ms',LEFT-4,y+4);
  ctx.strokeStyle='#f2f2f2';ctx.beginPath();ctx.moveTo(LEFT,y);ctx.lineTo(W,y);ctx.stroke();}
 shown=[];const from=lowerBound(t0-maxDur),to=lowerBound(t1);const count=to-from;const stride=Math.max(1,Math.floor(count/60000));
 for(let i=from;i<to;i+=stride){const s=D.send[i],r=D.recv[i];const drop=D.dropped[i];
  if(!drop&&r>=0&&r<t0)continue;
  const x0=X(D.src[i]),y0=Y(s);
  if(drop||r<0){const x1=x0+(X(D.dst[i])-x0)*0.25;ctx.strokeStyle='#d33';ctx.beginPath();ctx.moveTo(x0,y0);ctx.lineTo(x1,y0+4);ctx.stroke();
   shown.push([i,x0,y0,x1,y0+4]);continue;}
  const x1=X(D.dst[i]),y1=Y(r);ctx.strokeStyle=palette[D.kind[i]%palette.length];ctx.beginPath();ctx.moveTo(x0,y0);ctx.lineTo(x1,y1);ctx.stroke();
  if(Math.abs(x1-x0)>8&&count<3000){const a=Math.atan2(y1-y0,x1-x0);ctx.beginPath();ctx.moveTo(x1,y1);
   ctx.lineTo(x1-6*Math.cos(a-0.4),y1-6*Math.sin(a-0.4));ctx.lineTo(x1-6*Math.cos(a+0.4),y1-6*Math.sin(a+0.4));ctx.closePath();ctx.fillStyle=ctx.strokeStyle;ctx.fill();}
  shown.push([i,x0,y0,x1,y1]);}
 if(stride>1){ctx.fillStyle='#a00';ctx.textAlign='left';ctx.fillText(`drawing 1 in ${stride} of the ${count.toLocaleString()} messages here: zoom in for all`,LEFT+4,TOP+12);}}
function niceStep(x){const p=Math.pow(10,Math.floor(Math.log10(Math.max(x,1e-9))));for(const m of[1,2,5,10])if(m*p>=x)return m*p;return 10*p;}
cv.addEventListener('wheel',e=>{e.preventDefault();const t=t0+(e.offsetY-TOP)/(H-TOP)*(t1-t0);const f=e.deltaY>0?1.25:0.8;
 t0=t-(t-t0)*f;t1=t+(t1-t)*f;draw();},{passive:false});
let drag=null;cv.addEventListener('mousedown',e=>{drag=[e.offsetY,t0,t1];cv.style.cursor='grabbing';});
window.addEventListener('mouseup',()=>{drag=null;cv.style.cursor='grab';});
cv.addEventListener('dblclick',()=>{t0=0;t1=maxT*1.02+1;draw();});
cv.addEventListener('mousemove',e=>{
 if(drag){const dt=(e.offsetY-drag[0])/(H-TOP)*(drag[2]-drag[1]);t0=drag[1]-dt;t1=drag[2]-dt;draw();return;}
 let best=null,bd=6;for(const [i,x0,y0,x1,y1] of shown){const d=segDist(e.offsetX,e.offsetY,x0,y0,x1,y1);if(d<bd){bd=d;best=i;}}
 let text='';if(best!==null){const r=D.recv[best];text=`${D.lanes[D.src[best]]} -> ${D.lanes[D.dst[best]]}  sent ${(D.send[best]/1000).toFixed(3)} ms`+
  (D.dropped[best]?`  DROPPED (${D.dropped[best]})`:r>=0?`  received ${(r/1000).toFixed(3)} ms`:'  never received')+`\n${D.labels[best]}`;}
 else{const t=t0+(e.offsetY-TOP)/(H-TOP)*(t1-t0);for(const w of D.windows){if(t>=w.start&&(w.end===null||t<=w.end)&&(w.lane===undefined||Math.abs(e.offsetX-X(w.lane))<lw*0.3))text+=`${w.kind}: ${w.what}\n`;}}
 if(text){tip.textContent=text;tip.style.display='block';tip.style.left=(e.offsetX+12)+'px';tip.style.top=(e.offsetY+12)+'px';}else tip.style.display='none';});
function segDist(px,py,x0,y0,x1,y1){const dx=x1-x0,dy=y1-y0,l=dx*dx+dy*dy;let t=l?((px-x0)*dx+(py-y0)*dy)/l:0;t=Math.max(0,Math.min(1,t));
 return Math.hypot(px-x0-t*dx,py-y0-t*dy);}
window.addEventListener('resize',resize);resize();
</script></body></html>
"""
