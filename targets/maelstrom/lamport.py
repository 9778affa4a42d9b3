"""The data of a Lamport diagram of a run's messages, from its journal: ``lamport.json``.

Lanes (clients, nodes, services), every message as its send and receive times, lanes,
type and a short label (dropped ones with their reason), and the fault windows (partitions
and packet faults across the lanes, killed and paused spells on one lane). The run's
report draws it as a section of report.html (``harness.report.lamport``). Up to
``MAX_MESSAGES`` messages (Maelstrom stops at 10,000 events), labels cut to
``LABEL_CHARS``, so the file and the report stay bounded; ``total`` says how many there were.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson

MAX_MESSAGES = 100_000
LABEL_CHARS = 100


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
                raw = line[line.find(b'"message":') + 10 :][:LABEL_CHARS]
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


def write(journal: Path, dest: Path) -> Path:
    """The diagram's data as ``dest`` (JSON), for the report."""
    dest.write_text(json.dumps(diagram_data(journal), separators=(",", ":")), encoding="utf-8")
    return dest
