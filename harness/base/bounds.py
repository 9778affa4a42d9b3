"""What a history file may hold, checked as it is read, so bad input is one line and not a
crash, a hang or unbounded memory.

The stated limits: a history file is a regular file of at most ``MAX_FILE_BYTES``; a value
nests at most ``MAX_DEPTH`` lists or maps deep; numbers are finite; integers have at most
``MAX_INT_DIGITS`` digits (Python's own limit on converting them); ``time`` and ``index``
are integers; a ``process`` is an integer or a string; a ``key`` is a number or a string.
Each check raises ``ValueError`` with a message that names the problem, short whatever the
value (``brief``).
"""

from __future__ import annotations

import math
import os
import stat
import sys
import zlib
from typing import Any

MAX_FILE_BYTES = 1 << 30
MAX_DEPTH = 64
MAX_INT_DIGITS = sys.get_int_max_str_digits() or 4300
_SCALARS = (str, int, float, bool, type(None))


def brief(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, without building a huge repr first: a
    container is named by its type and size, any other object by its type."""
    if isinstance(value, str):
        text = repr(value[: limit + 1])
    elif isinstance(value, (list, tuple, dict, set, frozenset)):
        return f"a {type(value).__name__} of {len(value)}"
    elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return "an integer of more than 60 digits"
    elif isinstance(value, int | float | bool) or value is None:
        text = repr(value)
    else:
        return f"a {type(value).__name__}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


class NotARegularFile(ValueError):
    """A FIFO, socket or device: reading it could block or never end."""


class TooLarge(ValueError):
    """A file over the limit its reader set."""


def read_regular(path: str | os.PathLike[str], limit: int) -> bytes:
    """A regular file's bytes, at most ``limit`` of them. A FIFO is opened without blocking
    and refused (``NotARegularFile``), as is anything else that is not a regular file but a
    directory (``IsADirectoryError``); more than ``limit`` bytes is ``TooLarge``, found
    without reading more than ``limit + 1``."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(path)
        if not stat.S_ISREG(st.st_mode):
            raise NotARegularFile(path)
        if st.st_size > limit:
            raise TooLarge(path)
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise TooLarge(path)
    return data


def gunzip(data: bytes) -> bytes:
    """A gzip file's content, refused once it would pass ``MAX_FILE_BYTES`` (a gzip bomb)."""
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = inflate.decompress(data, MAX_FILE_BYTES + 1)
    if len(out) > MAX_FILE_BYTES or inflate.unconsumed_tail:
        raise ValueError(f"unpacks to more than the {MAX_FILE_BYTES >> 20} MiB a history may be")
    if not inflate.eof:
        raise zlib.error("the compressed data ends early")
    return out


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """A history file's bytes (``read_regular`` with the history's limit); every refusal is a
    ValueError saying why."""
    try:
        return read_regular(path, MAX_FILE_BYTES)
    except NotARegularFile:
        raise ValueError("not a regular file (a FIFO, socket or device?)") from None
    except TooLarge:
        raise ValueError(f"larger than the {MAX_FILE_BYTES >> 20} MiB a history may be") from None


def check_value(value: Any, what: str = "value") -> None:
    """Refuse values nested deeper than ``MAX_DEPTH`` and non-finite numbers (no recursion)."""
    if type(value) in (str, int, bool, type(None)):
        return
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        v, depth = stack.pop()
        if isinstance(v, float):
            if not math.isfinite(v):
                raise ValueError(f"{what} holds a number out of range ({v!r})")
        elif isinstance(v, (list, tuple, set, frozenset)):
            if depth >= MAX_DEPTH:
                raise ValueError(f"{what} nests deeper than {MAX_DEPTH} levels")
            stack.extend((x, depth + 1) for x in v)
        elif isinstance(v, dict):
            if depth >= MAX_DEPTH:
                raise ValueError(f"{what} nests deeper than {MAX_DEPTH} levels")
            stack.extend((x, depth + 1) for x in v.keys())
            stack.extend((x, depth + 1) for x in v.values())


def check_integer(value: Any, field: str) -> None:
    """``time`` and ``index``: an integer (a whole finite float is tolerated)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"'{field}' must be an integer, got {brief(value)}")
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise ValueError(f"'{field}' must be an integer, got {value!r}")


def check_op_fields(d: dict[str, Any]) -> None:
    """The fields every op shares: type, process, key, time, index, f, node, and the values'
    bounds. Common field types are let through first: this runs once per op read."""
    typ = d.get("type")
    if typ is not None and type(typ) is not str:
        raise ValueError(f"'type' must be one of invoke, ok, fail, info; got {brief(typ)}")
    process = d.get("process")
    if type(process) is not int and type(process) is not str and process is not None:
        if isinstance(process, bool) or not isinstance(process, (int, str)):
            raise ValueError(f"'process' must be an integer or a string, got {brief(process)}")
    key = d.get("key")
    if key is not None and not isinstance(key, (int, str, float)):
        raise ValueError(f"'key' must be a number or a string, got {brief(key)}")
    for field in ("time", "index"):
        v = d.get(field)
        if v is not None and type(v) is not int:
            check_integer(v, field)
    for field in ("f", "node"):
        v = d.get(field)
        if v is not None and not isinstance(v, (str, int)):
            raise ValueError(f"'{field}' must be a name, got {brief(v)}")
    for field, v in d.items():
        t = type(v)
        if t is not int and t is not str and v is not None:
            check_value(v, f"'{field}'")


def check_element(value: Any, what: str) -> None:
    """An element of a set or a queue message: a scalar, or a list of them."""
    if isinstance(value, _SCALARS):
        return
    if isinstance(value, (list, tuple)) and all(isinstance(x, _SCALARS) for x in value):
        return
    raise ValueError(f"{what} must be a number, a string or a list of them, got {brief(value)}")


def unmatched_completions(ops: list[Any]) -> list[int]:
    """Positions of the client completions whose process has no invoke open before them.
    A history of completions only (Elle's hand-written examples) has none to match."""
    if not any(op.type == "invoke" for op in ops):
        return []
    open_processes: set[Any] = set()
    opened, closed = open_processes.add, open_processes.discard
    unmatched = []
    for position, op in enumerate(ops):
        process = op.process
        if op.type == "invoke":
            opened(process)
        elif process in open_processes:
            closed(process)
        elif op.is_client:
            unmatched.append(position)
    return unmatched
