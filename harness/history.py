"""The operation record, the history writer, and readers for JSONL, Jepsen EDN and Jepsen logs.

Field names follow Jepsen so histories move between the two. ``type`` is ``invoke``,
``ok`` (it happened), ``fail`` (it certainly did not happen) or ``info`` (unknown).
Real-time order is the order of the history: checkers use list positions, not ``time``.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

from splitbrain.harness import edn
from splitbrain.harness.locks import take, write_all

OpType = Literal["invoke", "ok", "fail", "info"]
OP_TYPES: frozenset[str] = frozenset({"invoke", "ok", "fail", "info"})
NEMESIS = "nemesis"
FORMATS = ("auto", "jsonl", "edn", "jepsen-log")

_CORE_FIELDS = ("index", "time", "process", "type", "f", "key", "value", "node", "error")


@dataclass(slots=True)
class Op:
    """One line of a history: an invocation or its completion."""

    type: str
    f: str
    process: int | str
    value: Any = None
    key: Any = None
    time: int | None = None
    index: int = -1
    node: str | None = None
    error: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_client(self) -> bool:
        return self.process != NEMESIS

    def completion(
        self, type: str, value: Any = None, *, node: str | None = None, error: Any = None
    ) -> Op:
        """The completion of this invocation: same process, f and key."""
        return Op(
            type=type,
            f=self.f,
            process=self.process,
            value=value,
            key=self.key,
            node=node,
            error=error,
        )

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"index": self.index}
        if self.time is not None:
            d["time"] = self.time
        d["process"] = self.process
        d["type"] = self.type
        d["f"] = self.f
        if self.key is not None:
            d["key"] = self.key
        d["value"] = self.value
        if self.node is not None:
            d["node"] = self.node
        if self.error is not None:
            d["error"] = self.error
        if self.extra:
            d.update(self.extra)
        return d

    def to_json(self) -> str:
        """The JSONL line, without its newline: ``_encode(self.to_dict())``, built directly
        for the common field types because every op writes two of these."""
        if self.extra:
            return _encode(self.to_dict())
        line = f'{{"index": {self.index}, '
        if self.time is not None:
            line += f'"time": {self.time}, '
        p, t, f, k, v = self.process, self.type, self.f, self.key, self.value
        line += (
            f'"process": {p if type(p) is int else _json(p)}, '
            f'"type": {_encode_str(t) if type(t) is str else _json(t)}, '
            f'"f": {_encode_str(f) if type(f) is str else _json(f)}'
        )
        if k is not None:
            line += f', "key": {k if type(k) is int else _json(k)}'
        line += f', "value": {v if type(v) is int else _json(v)}'
        if self.node is not None:
            line += f', "node": {_json(self.node)}'
        if self.error is not None:
            line += f', "error": {_json(self.error)}'
        return line + "}"

    @classmethod
    def from_dict(cls, d: dict[str, Any], position: int | None = None) -> Op:
        """Build an op from a decoded JSON or EDN map; raises ValueError when it is not one."""
        typ = d.get("type")
        if typ not in OP_TYPES:
            raise ValueError(f"'type' must be one of invoke, ok, fail, info; got {typ!r}")
        if "process" not in d:
            raise ValueError("op has no 'process'")
        f = d.get("f")
        if f is None:
            raise ValueError("op has no 'f'")
        index = d.get("index")
        if index is None:
            index = position if position is not None else -1
        time = d.get("time")
        extra = {k: v for k, v in d.items() if k not in _CORE_FIELDS}
        return cls(
            type=typ,
            f=str(f),
            process=d["process"],
            value=d.get("value"),
            key=d.get("key"),
            time=int(time) if isinstance(time, (int, float)) else None,
            index=int(index),
            node=d.get("node"),
            error=d.get("error"),
            extra=extra,
        )


def _json_default(o: Any) -> Any:
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    if isinstance(o, edn.Symbol):
        return o.name
    return str(o)


_encode = json.JSONEncoder(separators=(", ", ": "), default=_json_default).encode
_encode_str = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]


def _json(v: Any) -> str:
    """``_encode(v)``, with the common scalars done directly: two lines per op add up."""
    t = type(v)
    if t is int:
        return int.__repr__(v)
    if t is str:
        return _encode_str(v)
    if v is None:
        return "null"
    if t is list:
        return "[" + ", ".join([_json(x) for x in v]) + "]"
    return _encode(v)


class HistoryError(ValueError):
    """A history that cannot be read; ``str()`` is ``FILE:LINE: message``."""

    def __init__(self, path: str | os.PathLike[str], line: int | None, message: str) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")
        self.path = str(path)
        self.line = line
        self.message = message


@dataclass(slots=True)
class LoadedHistory:
    ops: list[Op]
    format: str
    warnings: list[str] = field(default_factory=list)


class HistoryWriter:
    """Appends ops to a JSONL file, one line each, in the kernel before ``append`` returns,
    so a killed run leaves a usable file.

    Thread-safe; assigns ``index`` in the order ops are appended, which is also the order
    of the lines in the file and of ``ops``.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._file: TextIO = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        self._fd = self._file.fileno()
        self._lock = threading.Lock()
        self._next_index = 0
        self.ops: list[Op] = []

    def append(self, op: Op, clock: Callable[[], int] | None = None) -> Op:
        """Write ``op``; with ``clock``, stamp its time under the same lock so times never go back."""
        lock = self._lock
        if not lock.acquire(False):
            take(lock)
        try:
            if clock is not None:
                op.time = clock()
            op.index = self._next_index
            self._next_index += 1
            self.ops.append(op)
            if not self._file.closed:
                write_all(self._fd, (op.to_json() + "\n").encode())
        finally:
            lock.release()
        return op

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.flush()
                os.fsync(self._file.fileno())
                self._file.close()

    def __enter__(self) -> HistoryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_history(path: str | os.PathLike[str], ops: Iterable[Op]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for op in ops:
            f.write(op.to_json() + "\n")


# ---------------------------------------------------------------- readers


GZIP_MAGIC = b"\x1f\x8b"


def _strip_gz(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    return p.with_suffix("") if p.suffix.lower() == ".gz" else p


def detect_format(path: str | os.PathLike[str], text: str) -> str:
    suffix = _strip_gz(path).suffix.lower()
    if suffix in (".jsonl", ".json"):
        return "jsonl"
    if suffix == ".edn":
        return "edn"
    if suffix == ".log":
        return "jepsen-log"
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if "jepsen.util" in line or _JEPSEN_LINE.match(line):
            return "jepsen-log"
        if line.startswith('{"'):
            return "jsonl"
        if line[0] in "{[;#(":
            return "edn"
        break
    raise HistoryError(path, None, "cannot tell the history format; pass --format")


def read_history(path: str | os.PathLike[str], fmt: str = "auto") -> LoadedHistory:
    """Read a history file; raises HistoryError naming the file and line on bad input."""
    if fmt not in FORMATS:
        raise HistoryError(path, None, f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise HistoryError(path, None, "no such file") from None
    except IsADirectoryError:
        raise HistoryError(path, None, "is a directory, not a history file") from None
    except OSError as e:
        raise HistoryError(path, None, e.strerror or str(e)) from None
    return parse_history(data, path, fmt)


def parse_history(data: bytes, path: str | os.PathLike[str], fmt: str = "auto") -> LoadedHistory:
    """Parse a history's bytes (gzip taken by its first bytes); ``path`` names it in errors."""
    try:
        if data[:2] == GZIP_MAGIC:
            data = gzip.decompress(data)
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise HistoryError(path, None, f"not UTF-8 text ({e.reason})") from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:
        raise HistoryError(path, None, f"a damaged gzip file ({e})") from None
    if fmt == "auto":
        if not text.strip():
            return LoadedHistory([], "empty")
        fmt = detect_format(path, text)
    reader = {"jsonl": parse_jsonl, "edn": parse_edn, "jepsen-log": parse_jepsen_log}[fmt]
    return reader(text, path)


def parse_jsonl(text: str, path: str | os.PathLike[str] = "<history>") -> LoadedHistory:
    ops: list[Op] = []
    warnings: list[str] = []
    lines = text.split("\n")
    last_content = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        lineno = i + 1
        try:
            d = json.loads(line)
        except json.JSONDecodeError as e:
            if i == last_content and not text.endswith("\n"):
                warnings.append(
                    f"{path}:{lineno}: last line is truncated (the run was killed?); ignored"
                )
                break
            raise HistoryError(path, lineno, f"not JSON: {e.msg}") from None
        if not isinstance(d, dict):
            raise HistoryError(path, lineno, "expected a JSON object for each op")
        try:
            ops.append(Op.from_dict(d, position=len(ops)))
        except ValueError as e:
            raise HistoryError(path, lineno, str(e)) from None
    return LoadedHistory(ops, "jsonl", warnings)


def _edn_op(value: Any, path: str | os.PathLike[str], line: int, position: int) -> Op:
    if not isinstance(value, dict):
        raise HistoryError(path, line, f"expected an op map, found {type(value).__name__}")
    d = {(k if isinstance(k, str) else str(k)): v for k, v in value.items()}
    # Elle's hand-written examples leave out :process and :f; they are transactions.
    d.setdefault("process", None)
    if "f" not in d and isinstance(d.get("value"), list):
        d["f"] = "txn"
    try:
        return Op.from_dict(d, position=position)
    except ValueError as e:
        raise HistoryError(path, line, str(e)) from None


def parse_edn(text: str, path: str | os.PathLike[str] = "<history>") -> LoadedHistory:
    """Jepsen/Knossos/Elle EDN: either one vector of op maps, or one op map per form."""
    ops: list[Op] = []
    try:
        for line, value in edn.loads_all(text):
            if isinstance(value, list):
                for item in value:
                    ops.append(_edn_op(item, path, line, len(ops)))
            else:
                ops.append(_edn_op(value, path, line, len(ops)))
    except edn.EdnError as e:
        raise HistoryError(path, e.line, f"not EDN: {e.message}") from None
    return LoadedHistory(ops, "edn")


_JEPSEN_LINE = re.compile(
    r"^(?P<process>:?[\w-]+)\s+:(?P<type>invoke|ok|fail|info)\s+:(?P<f>\S+)(?:\s+(?P<value>.*))?$"
)


def parse_jepsen_log(text: str, path: str | os.PathLike[str] = "<history>") -> LoadedHistory:
    """Jepsen's log lines: ``INFO jepsen.util - 3 :ok :read 4``; other log lines are skipped."""
    ops: list[Op] = []
    for lineno, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line:
            continue
        _, sep, rest = line.partition("jepsen.util - ")
        body = rest if sep else line
        m = _JEPSEN_LINE.match(body.strip())
        if m is None:
            if sep:
                raise HistoryError(path, lineno, "not a Jepsen op line (PROCESS :TYPE :F VALUE)")
            continue
        proc_text = m["process"]
        process: int | str = (
            int(proc_text) if proc_text.lstrip("-").isdigit() else proc_text.lstrip(":")
        )
        value: Any = None
        if m["value"]:
            try:
                value = edn.loads(m["value"])
            except edn.EdnError as e:
                raise HistoryError(path, lineno, f"value is not EDN: {e.message}") from None
        ops.append(Op(type=m["type"], f=m["f"], process=process, value=value, index=len(ops)))
    return LoadedHistory(ops, "jepsen-log")


# ---------------------------------------------------------------- helpers for checkers


@dataclass(slots=True)
class Pair:
    """An invocation and its completion (None when the process never completed it)."""

    invoke: Op
    complete: Op | None
    invoke_pos: int
    complete_pos: int | None

    @property
    def outcome(self) -> str:
        return self.complete.type if self.complete is not None else "info"


def pairs(history: list[Op], *, client_only: bool = True) -> Iterator[Pair]:
    """Match each invocation with the next completion of the same process, in history order."""
    open_ops: dict[Any, tuple[int, Op]] = {}
    out: list[Pair] = []
    for pos, op in enumerate(history):
        if client_only and not op.is_client:
            continue
        if op.type == "invoke":
            if op.process in open_ops:
                ipos, prev = open_ops.pop(op.process)
                out.append(Pair(prev, None, ipos, None))
            open_ops[op.process] = (pos, op)
            continue
        opened = open_ops.pop(op.process, None)
        if opened is None:
            continue
        ipos, inv = opened
        out.append(Pair(inv, op, ipos, pos))
    for ipos, inv in open_ops.values():
        out.append(Pair(inv, None, ipos, None))
    out.sort(key=lambda p: p.invoke_pos)
    return iter(out)


Valid = bool | Literal["unknown"]


def merge_valid(values: Iterable[Valid]) -> Valid:
    """``false`` beats ``unknown`` beats ``true``, as in Jepsen's compose."""
    result: Valid = True
    for v in values:
        if v is False:
            return False
        if v == "unknown":
            result = "unknown"
    return result
