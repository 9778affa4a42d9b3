"""The kafka workload's client side: a process's assigned keys and positions, and the
requests each op takes (Maelstrom's ``send``, ``poll``, ``commit_offsets`` and
``list_committed_offsets``).

``assign`` fetches the committed offsets of its keys; as in Maelstrom's client, a key the
process already polls keeps its position, and another one starts at its committed offset
(the server's word: the next poll may see that offset again) or at 0;
``poll`` asks for every assigned key from its position, moves the positions past what it
got, and commits those offsets (a failed commit does not undo the poll it follows).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from splitbrain.harness.base.history import Op
from splitbrain.targets.maelstrom.client import Body, Malformed, field, is_int

Call = Callable[[Body, str, Callable[[Body], Any]], Op]
"""Send a request; on its ``reply`` type, the op's value from the reply body."""


def _offsets(v: Any) -> bool:
    return isinstance(v, dict) and all(is_int(o) for o in v.values())


def _msgs(v: Any) -> bool:
    return isinstance(v, dict) and all(
        isinstance(pairs, list)
        and all(isinstance(p, list) and len(p) == 2 and is_int(p[0]) for p in pairs)
        for pairs in v.values()
    )


class KafkaSession:
    def __init__(self) -> None:
        self.positions: dict[str, int] | None = None

    def invoke(self, op: Op, call: Call) -> Op:
        if op.f == "send":
            key, msg = op.value
            return call(
                {"type": "send", "key": key, "msg": msg},
                "send_ok",
                lambda b: [key, msg, field(b, "offset", is_int, "an integer")],
            )
        if op.f == "assign":
            keys = list(op.value)

            def assigned(b: Body) -> Any:
                offsets = field(b, "offsets", _offsets, "a map of key to integer offset")
                held = self.positions or {}
                self.positions = {k: held[k] if k in held else offsets.get(k, 0) for k in keys}
                return {"keys": keys, "committed": offsets}

            return call(
                {"type": "list_committed_offsets", "keys": keys},
                "list_committed_offsets_ok",
                assigned,
            )
        if op.f == "poll":
            if self.positions is None:
                return op.completion("fail", None, error="no keys assigned yet")
            positions = dict(self.positions)

            def polled(b: Body) -> Any:
                msgs = field(b, "msgs", _msgs, "a map of key to [[offset, msg], ...]")
                stray = sorted(set(msgs) - set(positions))
                if stray:
                    raise Malformed(f"poll_ok has keys that were not polled: {stray}")
                return msgs

            done = call({"type": "poll", "offsets": positions}, "poll_ok", polled)
            if done.type == "ok" and self.positions is not None:
                moved = {k: pairs[-1][0] for k, pairs in done.value.items() if pairs}
                for k, last in moved.items():
                    self.positions[k] = max(self.positions[k], last + 1)
                if moved:
                    call(
                        {"type": "commit_offsets", "offsets": moved},
                        "commit_offsets_ok",
                        lambda b: None,
                    )
            return done
        return op.completion("fail", op.value, error=f"kafka has no op {op.f!r}")
