"""A small EDN reader: enough for Jepsen, Knossos, porcupine and Elle histories.

Keywords become plain strings without the colon (``:ok`` -> ``"ok"``), vectors and lists
become Python lists, sets become frozensets (or lists when an element is unhashable), and
maps become dicts. Tagged literals (``#jepsen.history.Op{...}``) yield the tagged value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson


class EdnError(ValueError):
    """Malformed EDN; ``line`` is 1-based within the text that was parsed."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True, slots=True)
class Symbol:
    name: str


_TOKEN = re.compile(
    r"""
    (?P<ws>[\s,]+)
  | (?P<comment>;[^\n]*)
  | (?P<discard>\#_)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<open>\#\{|[\[({])
  | (?P<close>[\])}])
  | (?P<tag>\#[A-Za-z][^\s,\[\](){}"]*)
  | (?P<char>\\(?:newline|space|tab|return|.))
  | (?P<atom>[^\s,\[\](){}"\;]+)
    """,
    re.VERBOSE,
)
_INT = re.compile(r"[+-]?\d+N?")
_FLOAT = re.compile(r"[+-]?(\d+\.\d*|\d*\.\d+|\d+)([eE][+-]?\d+)?M?")
_RATIO = re.compile(r"[+-]?\d+/\d+")
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
_SYMBOLIC_NUMBERS = frozenset({"##Inf", "##-Inf", "##NaN"})
MAX_DEPTH = 64
"""Collections nest at most this deep (the same limit as ``harness.bounds.MAX_DEPTH``)."""
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "/": "/"}
_CLOSERS = {"[": "]", "(": ")", "{": "}", "#{": "}"}
_CHARS = {"newline": "\n", "space": " ", "tab": "\t", "return": "\r"}


def _tokens(text: str) -> Iterator[tuple[str, str, int]]:
    line = 1
    pos = 0
    n = len(text)
    while pos < n:
        m = _TOKEN.match(text, pos)
        if m is None:
            raise EdnError(f"unexpected character {text[pos]!r}", line)
        kind = m.lastgroup or ""
        value = m.group()
        if kind not in ("ws", "comment"):
            yield kind, value, line
        line += value.count("\n")
        pos = m.end()


def _unescape(raw: str, line: int) -> str:
    out: list[str] = []
    i = 1
    end = len(raw) - 1
    while i < end:
        c = raw[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        nxt = raw[i + 1]
        if nxt == "u":
            digits = raw[i + 2 : i + 6]
            if not _HEX4.fullmatch(digits):
                raise EdnError(f"bad escape \\u{digits[:4]} in string", line)
            out.append(chr(int(digits, 16)))
            i += 6
        elif nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        else:
            raise EdnError(f"bad escape \\{nxt} in string", line)
    return "".join(out)


def _atom(token: str, line: int) -> Any:
    if token in _SYMBOLIC_NUMBERS:
        raise EdnError(f"number out of range: {token}", line)
    try:
        value = _number_or_name(token)
    except (ValueError, ZeroDivisionError, OverflowError) as e:
        raise EdnError(f"bad number {token[:40]!r}: {e}", line) from None
    if isinstance(value, float) and not math.isfinite(value):
        raise EdnError(f"number out of range: {token[:40]!r}", line)
    return value


def _number_or_name(token: str) -> Any:
    if token == "nil":
        return None
    if token == "true":
        return True
    if token == "false":
        return False
    if token.startswith(":"):
        return token[1:]
    if _INT.fullmatch(token):
        return int(token.rstrip("N"))
    if _FLOAT.fullmatch(token):
        return float(token.rstrip("M"))
    if _RATIO.fullmatch(token):
        num, den = token.split("/")
        return int(num) / int(den)
    return Symbol(token)


class _Parser:
    def __init__(self, text: str) -> None:
        self._tokens = _tokens(text)
        self._peeked: tuple[str, str, int] | None = None
        self.line = 1
        self.depth = 0

    def _next(self) -> tuple[str, str, int] | None:
        if self._peeked is not None:
            tok, self._peeked = self._peeked, None
            return tok
        tok = next(self._tokens, None)
        if tok is not None:
            self.line = tok[2]
        return tok

    def value(self, tok: tuple[str, str, int] | None = None) -> Any:
        tok = tok if tok is not None else self._next()
        while tok is not None and tok[0] in ("discard", "tag"):
            if tok[0] == "discard":
                self._nested(tok[2], self.value)
            tok = self._next()
        if tok is None:
            raise EdnError("unexpected end of input", self.line)
        kind, text, line = tok
        if kind == "string":
            return _unescape(text, line)
        if kind == "atom":
            return _atom(text, line)
        if kind == "char":
            body = text[1:]
            return _CHARS.get(body, body)
        if kind == "close":
            raise EdnError(f"unexpected {text!r}", line)
        return self._nested(line, lambda: self._items(text, line))

    def _nested(self, line: int, read: Callable[[], Any]) -> Any:
        """``read()`` one level deeper; refused past ``MAX_DEPTH`` (Python would recurse)."""
        if self.depth >= MAX_DEPTH:
            raise EdnError(f"nested deeper than {MAX_DEPTH} levels", line)
        self.depth += 1
        try:
            return read()
        finally:
            self.depth -= 1

    def _items(self, opener: str, line: int) -> Any:
        closer = _CLOSERS[opener]
        items: list[Any] = []
        while True:
            tok = self._next()
            if tok is None:
                raise EdnError(f"unclosed {opener!r} opened on line {line}", self.line)
            if tok[0] == "close":
                if tok[1] != closer:
                    raise EdnError(f"expected {closer!r} but found {tok[1]!r}", tok[2])
                break
            if tok[0] == "discard":
                self._nested(tok[2], self.value)
                continue
            items.append(self.value(tok))
        if opener == "{":
            if len(items) % 2:
                raise EdnError("map literal has an odd number of forms", line)
            return {_hashable(items[i]): items[i + 1] for i in range(0, len(items), 2)}
        if opener == "#{":
            try:
                return frozenset(items)
            except TypeError:
                return items
        return items

    def values(self) -> Iterator[Any]:
        while True:
            tok = self._next()
            if tok is None:
                return
            yield self.value(tok)


def _hashable(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((repr(k), _hashable(x)) for k, x in v.items()))
    return v


def loads(text: str) -> Any:
    """Parse exactly one EDN value."""
    parser = _Parser(text)
    values = list(parser.values())
    if len(values) != 1:
        raise EdnError(f"expected one EDN value, found {len(values)}", parser.line)
    return values[0]


def loads_all(text: str) -> Iterator[tuple[int, Any]]:
    """Yield ``(line, value)`` for every top-level EDN value in ``text``."""
    parser = _Parser(text)
    while True:
        tok = parser._next()
        if tok is None:
            return
        yield tok[2], parser.value(tok)


_STRING_PART = re.compile(r'("(?:[^"\\]|\\.)*")')
_AS_JSON = {"nil": "null", "null": "?", "[": "[\x01", "]": "\x01]"}
"""Atoms JSON reads otherwise than EDN: ``null`` is an EDN symbol (``?`` makes orjson refuse)."""
_MARK = "\x01"
"""Beside each bracket while joining, so that the commas next to brackets can go: a string
holding it is refused (it is a control character, which JSON strings may not hold raw)."""


NOT_PLAIN: Any = object()
"""What ``plain_value`` gives for text it leaves to the reader."""


def plain_map(line: str) -> dict[Any, Any] | None:
    """The EDN map that is all of ``line``, when ``plain_items`` reads its forms; None for
    any other line, which the reader then reads (and words any error in it)."""
    line = line.strip()
    if len(line) < 2 or line[0] != "{" or line[-1] != "}":
        return None
    items = plain_items(line[1:-1])
    if items is None or len(items) % 2:
        return None
    keys = items[0::2]
    if not all(type(k) is str or type(k) is int for k in keys):
        return None
    return dict(zip(keys, items[1::2], strict=True))


def plain_value(text: str) -> Any:
    """The one EDN value that is all of ``text``, when ``plain_items`` reads it; else
    ``NOT_PLAIN``."""
    items = plain_items(text)
    return items[0] if items is not None and len(items) == 1 else NOT_PLAIN


def plain_items(text: str) -> list[Any] | None:
    """The EDN forms of ``text``, when it holds no map, set, tag, comment, character or
    escape: keywords become JSON strings, ``nil`` null, lists arrays, and orjson reads the
    rest, several times faster than the reader. Where orjson would read a token otherwise
    than EDN (a symbol, a long integer, a number out of range) it refuses it, and so does
    this: None. Integers of 19 digits or more must not reach here (orjson reads them as
    floats)."""
    if "{" in text or "}" in text or "#" in text or ";" in text or "\\" in text or _MARK in text:
        return None
    if text.count("[") + text.count("(") >= MAX_DEPTH:
        return None
    get = _AS_JSON.get
    tokens: list[str] = []
    for i, part in enumerate(_STRING_PART.split(text) if '"' in text else (text,)):
        if i % 2:
            tokens.append(part)
        else:
            tokens += [get(x) or ('"' + x[1:] + '"' if x[0] == ":" else x) for x in _atoms(part)]
    try:
        joined = ",".join(tokens).replace(_MARK + ",", "").replace("," + _MARK, "")
        return orjson.loads("[" + joined.replace(_MARK, "") + "]")
    except orjson.JSONDecodeError:
        return None


def _atoms(text: str) -> list[str]:
    """The tokens of EDN text without strings, maps, sets or tags, lists read as vectors
    (``str.replace`` five times is some six times faster than one ``str.translate`` here)."""
    spaced = text.replace(",", " ").replace("[", " [ ").replace("]", " ] ")
    return spaced.replace("(", " [ ").replace(")", " ] ").split()
