"""The operation record, the history writer, and readers for JSONL, Jepsen EDN and Jepsen logs.

Field names follow Jepsen so histories move between the two. ``type`` is ``invoke``,
``ok`` (it happened), ``fail`` (it certainly did not happen) or ``info`` (unknown).
Real-time order is the order of the history: checkers use list positions, not ``time``.
"""

from __future__ import annotations

import gc
import json
import os
import re
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

import msgspec
import orjson

from splitbrain.harness.base import bounds, edn
from splitbrain.harness.base.errors import HarnessInputError
from splitbrain.harness.base.locks import take, write_all

OP_TYPES: frozenset[str] = frozenset({"invoke", "ok", "fail", "info"})
NEMESIS = "nemesis"
FORMATS = ("auto", "jsonl", "edn", "jepsen-log")

_CORE_FIELDS = ("index", "time", "process", "type", "f", "key", "value", "node", "error")
_CORE_SET = frozenset(_CORE_FIELDS)


class Op(msgspec.Struct, gc=False):
    """One line of a history: an invocation or its completion.

    A msgspec struct rather than a dataclass: histories hold hundreds of thousands of these,
    and a struct is built in C (0.2 against 0.6 microseconds) and not tracked by the garbage
    collector. ``op.replace(value=...)`` is ``dataclasses.replace`` for it."""

    type: str
    f: str
    process: int | str
    value: Any = None
    key: Any = None
    time: int | None = None
    index: int = -1
    node: str | None = None
    error: Any = None
    extra: dict[str, Any] = msgspec.field(default_factory=dict)

    def replace(self, **changes: Any) -> Op:
        """A copy of this op with ``changes`` to its fields."""
        return msgspec.structs.replace(self, **changes)

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
        """Build an op from a decoded JSON or EDN map; raises ValueError when it is not one.

        Histories have hundreds of thousands of these, so the common field types take the
        shortest path (positional arguments, no copy of ``extra`` unless there is one)."""
        bounds.check_op_fields(d)
        get = d.get
        typ = get("type")
        if typ not in OP_TYPES:
            raise ValueError(f"'type' must be one of invoke, ok, fail, info; got {typ!r}")
        if "process" not in d:
            raise ValueError("op has no 'process'")
        f = get("f")
        if f is None:
            raise ValueError("op has no 'f'")
        index = get("index")
        if index is None:
            index = position if position is not None else -1
        elif type(index) is not int:
            index = int(index)
        time = get("time")
        if time is not None and type(time) is not int:
            time = int(time) if isinstance(time, (int, float)) else None
        extra = (
            {} if _CORE_SET.issuperset(d) else {k: v for k, v in d.items() if k not in _CORE_SET}
        )
        return cls(
            typ,
            f if type(f) is str else str(f),
            d["process"],
            get("value"),
            get("key"),
            time,
            index,
            get("node"),
            get("error"),
            extra,
        )


def call_safely(call: Callable[[Op], Op], invoke: Op) -> Op:
    """The completion of ``invoke`` by ``call``; a call that raised or answered with no
    completion type is ``info``: the op may or may not have happened."""
    try:
        done = call(invoke)
    except Exception as e:
        return invoke.completion("info", invoke.value, error=f"{type(e).__name__}: {e}")
    if done.type not in ("ok", "fail", "info"):
        return invoke.completion("info", invoke.value, error=f"returned type {done.type!r}")
    done.process = invoke.process
    done.f = invoke.f
    if done.key is None:
        done.key = invoke.key
    return done


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


class BadOp(ValueError):
    """An op a checker cannot read: bad input, not an ``unknown`` verdict. ``index`` is the
    op's ``index``, so that a front end can name the line it came from."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(f"op at index {index}: {message}")
        self.index = index
        self.message = message


def element(value: Any, index: int, what: str) -> Any:
    """A set element or queue message of the op at ``index``, hashable (a list becomes a
    tuple); a map or a nested list is no element: ``BadOp``."""
    try:
        bounds.check_element(value, what)
    except ValueError as e:
        raise BadOp(index, str(e)) from None
    return tuple(value) if isinstance(value, list) else value


class HistoryError(HarnessInputError):
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
    lines: list[int] = field(default_factory=list)
    """The line each op was read from, where the reader knows it."""


class HistoryClosed(RuntimeError):
    """An op was appended to a history after the run closed it (an abandoned worker's?)."""


class HistoryWriter:
    """Appends ops to a JSONL file, one line each, in the kernel before ``append`` returns,
    so a killed run leaves a usable file.

    Thread-safe; assigns ``index`` in the order ops are appended, which is also the order
    of the lines in the file and of ``ops``. After ``close`` it refuses appends, so what
    the checkers read (``snapshot``) is what the file holds.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._file: TextIO = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        self._fd = self._file.fileno()
        self._lock = threading.Lock()
        self._next_index = 0
        self._ops: list[Op] = []
        self.write_error: OSError | None = None
        """The first write that failed (a full disk); later ops are kept in memory only."""
        self.written = 0
        """How many ops reached the file whole."""

    @property
    def ops(self) -> tuple[Op, ...]:
        """The ops appended so far, as an immutable snapshot."""
        with self._lock:
            return tuple(self._ops)

    def snapshot(self) -> tuple[Op, ...]:
        return self.ops

    def append(self, op: Op, clock: Callable[[], int] | None = None) -> Op:
        """Write ``op``; with ``clock``, stamp its time under the same lock so times never go back."""
        lock = self._lock
        if not lock.acquire(False):
            take(lock)
        try:
            if self._file.closed:
                raise HistoryClosed(f"{self.path}: closed; {op.f} by {op.process} not recorded")
            if clock is not None:
                op.time = clock()
            op.index = self._next_index
            self._next_index += 1
            self._ops.append(op)
            if self.write_error is None and not self._file.closed:
                self._write(op)
        finally:
            lock.release()
        return op

    def _write(self, op: Op) -> None:
        try:
            write_all(self._fd, (op.to_json() + "\n").encode())
        except OSError as e:
            self.write_error = e
        else:
            self.written += 1

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                try:
                    self._file.flush()
                    os.fsync(self._file.fileno())
                except OSError as e:
                    self.write_error = self.write_error or e
                self._file.close()

    def __enter__(self) -> HistoryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
        data = bounds.read_bytes(path)
    except ValueError as e:
        raise HistoryError(path, None, str(e)) from None
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
            data = bounds.gunzip(data)
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise HistoryError(path, None, f"not UTF-8 text ({e.reason})") from None
    except ValueError as e:
        raise HistoryError(path, None, str(e)) from None
    except (EOFError, zlib.error) as e:
        raise HistoryError(path, None, f"a damaged gzip file ({e})") from None
    if fmt == "auto":
        if not text.strip():
            return LoadedHistory([], "empty")
        fmt = detect_format(path, text)
    reader = {"jsonl": parse_jsonl, "edn": parse_edn, "jepsen-log": parse_jepsen_log}[fmt]
    with gc_paused():
        loaded = reader(text, path)
    refuse_unmatched_completion(loaded, path)
    return loaded


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector paused. Reading or checking a history builds hundreds of
    thousands of objects without cycles, and every collection the allocations trigger walks
    all of those built so far: pausing it makes a 200,000-line read about a third faster."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def refuse_unmatched_completion(loaded: LoadedHistory, path: str | os.PathLike[str]) -> None:
    """An ``ok`` or ``info`` with no invoke before it is bad input: dropping it could make a
    valid history look invalid (a read of a value only that completion vouched for). A
    ``fail`` with no invoke did not happen either way: it is dropped with a warning."""
    for position in bounds.unmatched_completions(loaded.ops):
        op = loaded.ops[position]
        line = loaded.lines[position] if position < len(loaded.lines) else None
        where = f"{path}:{line}" if line is not None else f"{path}: op {position}"
        message = f"{op.type} of process {bounds.brief(op.process)} has no invoke before it"
        if op.type != "fail":
            raise HistoryError(path, line, message)
        if len(loaded.warnings) < 10:
            loaded.warnings.append(f"{where}: {message}; ignored")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a history may hold")


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def json_value(line: str) -> Any:
    """One JSON value; every way it can be refused is a ValueError (JSONDecodeError when the
    text is not JSON, so that a torn last line can be told apart)."""
    try:
        return _DECODER.decode(line)
    except RecursionError:
        raise ValueError(f"nested deeper than {bounds.MAX_DEPTH} levels") from None


class _PlainLine(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """A JSONL op whose fields all have plain types, decoded and type-checked in one step:
    type one of the four, f a str, index an int, process an int or a str, key an int or a
    str, time an int, node a str, error a non-float scalar, value a non-float scalar or a flat
    list of them (what the bounds let through as it is), no other field. A line that is
    not one of these takes the checked path (``Op.from_dict``), which words the refusals."""

    type: Literal["invoke", "ok", "fail", "info"]
    f: str
    process: int | str
    index: int
    value: int | str | bool | None | list[int | str | bool | None] = None
    key: int | str | None = None
    time: int | None = None
    node: str | None = None
    error: int | str | bool | None = None


_PLAIN_LINE = msgspec.json.Decoder(_PlainLine)


def _plain_op(p: _PlainLine, index: int) -> Op:
    """The op of a plain line (its fields are the op's, ``extra`` none)."""
    return Op(p.type, p.f, p.process, p.value, p.key, p.time, index, p.node, p.error, {})


_TRY_PLAIN = 64
"""After this many lines, a file of which nine lines in ten were not plain stops trying them
so (a refused line costs about a microsecond more than its checked path alone)."""
_BATCH = 4096
"""Lines decoded as plain in one comprehension, a fifth faster than line by line; a batch
with any other line is read again line by line, so a torn last line costs one batch."""


def parse_jsonl(text: str, path: str | os.PathLike[str] = "<history>") -> LoadedHistory:
    """One JSON object per line; blank lines are skipped, a truncated last line is a warning.

    A plain line (``_PlainLine``) is decoded by msgspec straight to its fields, a batch of
    them at a time. Any other is decoded by orjson and checked by ``Op.from_dict``; a line
    orjson refuses is decoded again by the standard library, which words the errors (and
    refuses NaN and Infinity, and nesting beyond the bound). orjson reads integers beyond 64
    bits as floats, so lines with such long digit runs go to the standard library directly."""
    reader = _JsonlReader(text, path)
    return LoadedHistory(reader.read(), "jsonl", reader.warnings, reader.op_lines)


class _JsonlReader:
    """The state of one ``parse_jsonl``: the lines, the ops and their line numbers so far."""

    def __init__(self, text: str, path: str | os.PathLike[str]) -> None:
        self.text = text
        self.path = path
        self.lines = text.split("\n")
        self.ops: list[Op] = []
        self.op_lines: list[int] = []
        self.warnings: list[str] = []
        self.try_plain = True
        self.not_plain = 0
        self.long_ints: bool | None = None

    def read(self) -> list[Op]:
        lines = self.lines
        n = len(lines)
        while n and not lines[n - 1]:
            n -= 1
        i = 0
        while i < n:
            end = min(i + _BATCH, n)
            if not (self.try_plain and self._plain_batch(i, end)):
                for j in range(i, end):
                    if not self._line(j):
                        return self.ops
            i = end
        return self.ops

    def _plain_batch(self, start: int, end: int) -> bool:
        """Lines ``start`` to ``end``, when every one is plain."""
        decode = _PLAIN_LINE.decode
        try:
            got = [  # _plain_op inlined: the call would add a twentieth to the hottest loop
                Op(p.type, p.f, p.process, p.value, p.key, p.time, p.index, p.node, p.error, {})
                for p in map(decode, self.lines[start:end])
            ]
        except msgspec.DecodeError:
            return False
        self.ops += got
        self.op_lines += range(start + 1, end + 1)
        return True

    def _line(self, i: int) -> bool:
        """Read line ``i``; False at a truncated last line (nothing more to read)."""
        line = self.lines[i]
        if self.try_plain:
            try:
                p = _PLAIN_LINE.decode(line)
            except msgspec.DecodeError:
                self.not_plain += 1
                if i >= _TRY_PLAIN and 10 * self.not_plain > 9 * i:
                    self.try_plain = False
            else:
                self.ops.append(_plain_op(p, p.index))
                self.op_lines.append(i + 1)
                return True
        if self.long_ints is None:
            self.long_ints = _has_long_digit_run(self.text)
        try:
            if self.long_ints and _LONG_DIGITS.search(line):
                raise orjson.JSONDecodeError("long integer", line, 0)
            d = orjson.loads(line)
        except orjson.JSONDecodeError:
            if not line.strip():
                return True
            d = _decode_line(self.text, self.lines, i, self.path, self.warnings)
            if d is _TRUNCATED:
                return False
        if type(d) is not dict:
            raise HistoryError(self.path, i + 1, "expected a JSON object for each op")
        try:
            self.ops.append(Op.from_dict(d, len(self.ops)))
        except ValueError as e:
            raise HistoryError(self.path, i + 1, str(e)) from None
        self.op_lines.append(i + 1)
        return True


_TRUNCATED: Any = object()
_LONG_DIGITS = re.compile(r"\d{19}")
_DIGITS_AS_HASH = str.maketrans("0123456789", "#" * 10)


def _has_long_digit_run(text: str) -> bool:
    """Whether ``text`` has 19 digits in a row (an integer orjson may read as a float);
    translating and searching a literal is several times faster than the regex over a file."""
    return "#" * 19 in text.translate(_DIGITS_AS_HASH)


def _decode_line(
    text: str, lines: list[str], i: int, path: str | os.PathLike[str], warnings: list[str]
) -> Any:
    """The standard library's reading of line i, or _TRUNCATED for a cut-off last line."""
    try:
        return json_value(lines[i])
    except json.JSONDecodeError as e:
        if _is_last_content(lines, i) and not text.endswith("\n"):
            warnings.append(
                f"{path}:{i + 1}: last line is truncated (the run was killed?); ignored"
            )
            return _TRUNCATED
        raise HistoryError(path, i + 1, f"not JSON: {e.msg}") from None
    except ValueError as e:
        raise HistoryError(path, i + 1, str(e)) from None


def _is_last_content(lines: list[str], i: int) -> bool:
    return not any(line.strip() for line in lines[i + 1 :])


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


class _PlainEdnLine(_PlainLine, forbid_unknown_fields=True, gc=False):
    """A plain op map read from EDN: a ``_PlainLine`` that may leave out ``index`` (Knossos'
    ops do), which is then its position."""

    index: int | None = None  # type: ignore[assignment]


def _plain_edn_op(d: dict[Any, Any], path: str | os.PathLike[str], line: int, position: int) -> Op:
    """``_edn_op(d, ...)``, by msgspec when the map's fields are all plain."""
    try:
        p = msgspec.convert(d, _PlainEdnLine)
    except msgspec.ValidationError:
        return _edn_op(d, path, line, position)
    return _plain_op(p, position if p.index is None else p.index)


def parse_edn(text: str, path: str | os.PathLike[str] = "<history>") -> LoadedHistory:
    """Jepsen/Knossos/Elle EDN: either one vector of op maps, or one op map per form.

    Leading lines that each hold one form are read one by one, a plain op map
    (``edn.plain_map``, as in Jepsen's history.edn) as JSON; the reader takes over from the
    first line that is not a whole form (a form over several lines, or bad EDN)."""
    ops: list[Op] = []
    op_lines: list[int] = []

    def add(value: Any, line: int) -> None:
        for item in value if isinstance(value, list) else [value]:
            ops.append(_edn_op(item, path, line, len(ops)))
            op_lines.append(line)

    lines = text.split("\n") if not _has_long_digit_run(text) else []
    done = 0
    for number, line in enumerate(lines, start=1):
        if line.strip():
            d = edn.plain_map(line)
            if d is not None:
                ops.append(_plain_edn_op(d, path, number, len(ops)))
                op_lines.append(number)
            else:
                try:
                    add(edn.loads(line), number)
                except edn.EdnError:
                    break
        done = number
    rest = "\n".join(lines[done:]) if done else text
    try:
        for line, value in edn.loads_all(rest):
            add(value, line + done)
    except edn.EdnError as e:
        raise HistoryError(path, e.line + done, f"not EDN: {e.message}") from None
    return LoadedHistory(ops, "edn", lines=op_lines)


_JEPSEN_LINE = re.compile(
    r"^(?P<process>:?[\w-]+)\s+:(?P<type>invoke|ok|fail|info)\s+:(?P<f>\S+)(?:\s+(?P<value>.*))?$"
)


_SMALL_INT_PAIR = re.compile(r"\[([0-9]{1,18}) ([0-9]{1,18})\]")


def _edn_value(text: str) -> Any:
    """``edn.loads(text)``, with the values most log lines hold read directly: ``nil``, a
    short run of ASCII digits, a pair of them (a CAS), and plain EDN (``edn.plain_value``)."""
    if text == "nil":
        return None
    if len(text) < 19 and text.isascii() and text.isdigit():
        return int(text)
    pair = _SMALL_INT_PAIR.fullmatch(text)
    if pair is not None:
        return [int(pair[1]), int(pair[2])]
    if len(text) < 19 or not _has_long_digit_run(text):
        value = edn.plain_value(text)
        if value is not edn.NOT_PLAIN:
            return value
    return edn.loads(text)


def parse_jepsen_log(text: str, path: str | os.PathLike[str] = "<history>") -> LoadedHistory:
    """Jepsen's log lines: ``INFO jepsen.util - 3 :ok :read 4``; other log lines are skipped."""
    ops: list[Op] = []
    op_lines: list[int] = []
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
        value: Any = None
        try:
            process: int | str = (
                int(proc_text) if proc_text.lstrip("-").isdigit() else proc_text.lstrip(":")
            )
            if m["value"]:
                value = _edn_value(m["value"])
        except edn.EdnError as e:
            raise HistoryError(path, lineno, f"value is not EDN: {e.message}") from None
        except ValueError as e:
            raise HistoryError(path, lineno, f"process: {e}") from None
        ops.append(Op(type=m["type"], f=m["f"], process=process, value=value, index=len(ops)))
        op_lines.append(lineno)
    return LoadedHistory(ops, "jepsen-log", lines=op_lines)


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
    matched = completion_positions(history, client_only=client_only)
    return iter(
        [
            Pair(history[i], None if c < 0 else history[c], i, None if c < 0 else c)
            for i, c in enumerate(matched)
            if c != NOT_AN_INVOKE
        ]
    )


NOT_AN_INVOKE = -2
NO_COMPLETION = -1


def completion_positions(history: list[Op], *, client_only: bool = True) -> list[int]:
    """For each position: the position of its invocation's completion, ``NO_COMPLETION`` for
    an invocation that has none, ``NOT_AN_INVOKE`` for every other entry (completions, and
    nemesis ops when ``client_only``). A process that invokes again without completing leaves
    its earlier invocation without a completion; a completion nobody invoked is ignored.

    The shape ``pairs`` and the checkers use, as one list of ints instead of an object per op."""
    out = [NOT_AN_INVOKE] * len(history)
    open_ops: dict[Any, int] = {}
    for pos, op in enumerate(history):
        process = op.process
        if client_only and process == NEMESIS:
            continue
        if op.type == "invoke":
            out[pos] = NO_COMPLETION
            open_ops[process] = pos
            continue
        opened = open_ops.pop(process, None)
        if opened is not None:
            out[opened] = pos
    return out


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
