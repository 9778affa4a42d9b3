"""A live status line while a test runs: elapsed of the limit, ops by outcome, ops/s, the
active fault, then which checker is working and how far it is (keys decided of all).

It watches from the outside, so the run loop stays as it is: it tails the run's
``history.jsonl`` (the writer flushes every op) and listens to the ``splitbrain`` logger for
the checking phase. On a terminal the line is redrawn in place on stderr; otherwise a plain
line is written every few seconds, so a CI log shows the run is alive.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

from splitbrain.harness.base.faults import closer_of
from splitbrain.harness.base.notation import value_text

TTY_INTERVAL = 0.5
LOG_INTERVAL = 5.0
HEAD = 120
"""The writer puts index, time, process and type first: a line's head says all we count."""
_TYPE = re.compile(rb'"type": "(ok|fail|info)"')
_TIME = re.compile(rb'"time": (\d+)')


class HistoryTail:
    """Counts completions in a growing JSONL history without parsing client lines."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.partial = b""
        self.counts = {"ok": 0, "fail": 0, "info": 0}
        self.run_time_ns = 0
        self.faults: dict[str, str] = {}
        """Open faults: opening f -> what it acted on."""

    def poll(self) -> None:
        try:
            with self.path.open("rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return
        self.offset += len(data)
        data = self.partial + data
        lines = data.split(b"\n")
        self.partial = lines.pop()
        for line in lines:
            head = line[:HEAD]
            if b'"process": "nemesis"' in head:
                self._nemesis(line)
                continue
            m = _TYPE.search(head)
            if m:
                self.counts[m.group(1).decode()] += 1
        if lines:
            t = _TIME.search(lines[-1])
            if t:
                self.run_time_ns = int(t.group(1))

    def _nemesis(self, line: bytes) -> None:
        try:
            op = json.loads(line)
        except ValueError:
            return
        if op.get("type") == "invoke":
            return
        f = str(op.get("f"))
        for opener in [o for o in self.faults if closer_of(o) == f]:
            del self.faults[opener]
        value = op.get("value")
        if closer_of(f) is not None and value not in ([], {}, None):
            self.faults[f] = value_text(value, 40)


class _CheckingHandler(logging.Handler):
    """Picks the checking phase out of the engine's log lines ("checking: NAME (N ops)",
    "checking: linearizable 3/8 keys (N ops)", "spectrum: DATA-TYPE (N ops)")."""

    def __init__(self, progress: Progress) -> None:
        super().__init__(logging.INFO)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("checking: "):
            self.progress.phase = message
        elif message.startswith("spectrum: "):
            self.progress.phase = f"checking: the spectrum of {message.removeprefix('spectrum: ')}"


class Progress:
    """Start with ``start(run_dir)`` (the engine's ``on_start``), end with ``stop()``."""

    def __init__(
        self, time_limit: float, stream: TextIO | None = None, live: bool | None = None
    ) -> None:
        self.time_limit = time_limit
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.interval = TTY_INTERVAL if self.live else LOG_INTERVAL
        self.phase: str | None = None
        self.tail: HistoryTail | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._handler = _CheckingHandler(self)
        self._started = time.monotonic()
        self._width = 0

    def start(self, run_dir: Path) -> None:
        self.tail = HistoryTail(Path(run_dir) / "history.jsonl")
        self._started = time.monotonic()
        logging.getLogger("splitbrain").addHandler(self._handler)
        self._thread = threading.Thread(target=self._loop, name="progress", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
        logging.getLogger("splitbrain").removeHandler(self._handler)
        if self.live and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.show()

    def line(self) -> str:
        tail = self.tail
        assert tail is not None
        tail.poll()
        wall = time.monotonic() - self._started
        if self.phase is not None:
            return f"{self.phase} ({wall:.0f} s)"
        c = tail.counts
        done = sum(c.values())
        run_s = tail.run_time_ns / 1e9
        rate = done / wall if wall > 0 else 0.0
        fault = ", ".join(f"{f} {v}" for f, v in tail.faults.items()) or "none"
        return (
            f"{run_s:.0f}/{self.time_limit:g} s  ok {c['ok']}  fail {c['fail']}  info {c['info']}"
            f"  {rate:.0f} ops/s  fault: {fault}"
        )

    def show(self) -> None:
        text = self.line()
        if self.live:
            pad = max(0, self._width - len(text))
            self.stream.write("\r" + text + " " * pad)
            self._width = len(text)
        else:
            self.stream.write(f"splitbrain: {text}\n")
        self.stream.flush()
