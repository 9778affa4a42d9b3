"""Kinds of value a test's settings take, and options declared with them.

A kind parses command-line text (``from_text``) or a value from YAML or Python
(``from_value``), checks that it is finite and in its stated range, and writes it back as
text that parses to the same value (``to_text``). A value that does not fit raises
``Problem``, whose message says what is expected and what was given (cut short); the caller
adds where (``--time-limit``, ``key 'time_limit'``).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from splitbrain.harness.base.bounds import brief

"""Characters of a bad value quoted back in a message."""
MAX_NUMBER_TEXT = 40
"""Longer number texts are refused before conversion (no 5,000-digit integers)."""
MAX_OPTION_TEXT = 4096
"""Characters of one option value (a path fits)."""
TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")
END_OF_OPTIONS = "--"
"""Refused as a text or path value: argparse drops it even in ``--flag=--``, so the replay
command could not carry it."""


class Problem(ValueError):
    """A value that does not fit its kind; the message says what is expected."""


def has_control(text: str) -> bool:
    return any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in text)


def _number(n: float) -> str:
    """Shortest text that reads back as ``n``: ``10`` for 10.0, ``0.1`` for 0.1."""
    if float(n).is_integer() and abs(n) < 1e15:
        return str(int(n))
    return repr(n)


class Kind(Protocol):
    describe: str
    """What a fitting value is, as it ends "must be ..."."""

    def from_text(self, text: str) -> Any: ...

    def from_value(self, value: Any) -> Any: ...

    def to_text(self, value: Any) -> str: ...


@dataclass(frozen=True)
class Integer:
    low: int
    high: int

    @property
    def describe(self) -> str:
        return f"an integer from {self.low} to {self.high}"

    def _fail(self, given: Any) -> Problem:
        return Problem(f"must be {self.describe}, got {brief(given)}")

    def from_text(self, text: str) -> int:
        if len(text) > MAX_NUMBER_TEXT:
            raise self._fail(text)
        try:
            return self.from_value(int(text.strip()))
        except ValueError:  # Problem included: quote the text as given
            raise self._fail(text) from None

    def from_value(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(value)
        if not self.low <= value <= self.high:
            raise self._fail(value)
        return value

    def to_text(self, value: int) -> str:
        return str(value)


@dataclass(frozen=True)
class Number:
    """A finite float in ``[low, high]``, or ``(low, high]`` when ``above``."""

    low: float
    high: float
    above: bool = False
    unit: str = ""

    @property
    def describe(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        if self.above:
            return (
                f"a finite number above {_number(self.low)} and at most {_number(self.high)}{unit}"
            )
        return f"a finite number from {_number(self.low)} to {_number(self.high)}{unit}"

    def _fail(self, given: Any) -> Problem:
        return Problem(f"must be {self.describe}, got {brief(given)}")

    def from_text(self, text: str) -> float:
        if len(text) > MAX_NUMBER_TEXT:
            raise self._fail(text)
        try:
            return self.from_value(float(text))
        except ValueError:  # Problem included: quote the text as given
            raise self._fail(text) from None

    def from_value(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._fail(value)
        try:
            number = float(value)
        except OverflowError:
            raise self._fail(value) from None
        if not math.isfinite(number):
            raise self._fail(value)
        if number < self.low or number > self.high or (self.above and number == self.low):
            raise self._fail(value)
        return number

    def to_text(self, value: float) -> str:
        return _number(value)


@dataclass(frozen=True)
class Text:
    """A non-empty single-line string without control characters."""

    max_len: int = 200
    describe: str = "a non-empty text without control characters"

    def _fail(self, given: Any) -> Problem:
        return Problem(
            f"must be {self.describe}, at most {self.max_len} characters, got {brief(given)}"
        )

    def from_text(self, text: str) -> str:
        return self.from_value(text)

    def from_value(self, value: Any) -> str:
        if not isinstance(value, str) or not value.strip() or len(value) > self.max_len:
            raise self._fail(value)
        if has_control(value) or value == END_OF_OPTIONS:
            raise self._fail(value)
        return value

    def to_text(self, value: str) -> str:
        return value


@dataclass(frozen=True)
class FilePath:
    """A file system path: any non-empty text without NUL."""

    describe: str = "a path"

    def from_text(self, text: str) -> str:
        return self.from_value(text)

    def from_value(self, value: Any) -> str:
        if value == END_OF_OPTIONS:
            raise Problem("must not be '--', the command line's end of options (write ./--)")
        if not isinstance(value, str) or not value or "\0" in value or len(value) > 4096:
            raise Problem(
                f"must be {self.describe} (no NUL, at most 4096 characters), got {brief(value)}"
            )
        return value

    def to_text(self, value: str) -> str:
        return value


@dataclass(frozen=True)
class Flag:
    describe: str = "true or false"

    def from_text(self, text: str) -> bool:
        word = text.strip().lower()
        if word not in TRUE + FALSE:
            raise Problem(f"must be {self.describe}, got {brief(text)}")
        return word in TRUE

    def from_value(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise Problem(f"must be {self.describe}, got {brief(value)}")
        return value

    def to_text(self, value: bool) -> str:
        return "true" if value else "false"


@dataclass(frozen=True)
class Choice:
    choices: tuple[str, ...]

    @property
    def describe(self) -> str:
        return f"one of {', '.join(self.choices)}"

    def from_text(self, text: str) -> str:
        return self.from_value(text)

    def from_value(self, value: Any) -> str:
        if value not in self.choices:
            raise Problem(f"must be {self.describe}, got {brief(value)}")
        return str(value)

    def to_text(self, value: str) -> str:
        return value


@dataclass(frozen=True)
class Optional:
    """``kind``, or None (the setting is left to its documented default)."""

    kind: Kind

    @property
    def describe(self) -> str:
        return self.kind.describe

    def from_text(self, text: str) -> Any:
        return self.kind.from_text(text)

    def from_value(self, value: Any) -> Any:
        return None if value is None else self.kind.from_value(value)

    def to_text(self, value: Any) -> str:
        return self.kind.to_text(value)


@dataclass(frozen=True)
class NameList:
    """Names, as a list or comma-separated; the word ``empty`` stands for no names."""

    empty: str
    item: Text = Text(max_len=100)
    max_items: int = 16

    @property
    def describe(self) -> str:
        return f"names, comma-separated or a list, at most {self.max_items}"

    def from_text(self, text: str) -> list[str]:
        return self.from_value(text)

    def from_value(self, value: Any) -> list[str]:
        if isinstance(value, str):
            words = [w.strip() for w in value.split(",")]
        elif isinstance(value, list | tuple) and all(isinstance(w, str) for w in value):
            words = [w.strip() for w in value]
        else:
            raise Problem(f"must be {self.describe}, got {brief(value)}")
        if len(words) > self.max_items or any(not w for w in words):
            raise Problem(f"must be {self.describe}, with no empty name, got {brief(value)}")
        if any("," in w for w in words):
            raise Problem(f"must be {self.describe}, a name without ',', got {brief(value)}")
        names = [self.item.from_value(w) for w in words if w != self.empty]
        for n in names:
            if names.count(n) > 1:
                raise Problem(f"must not name {brief(n)} twice")
        return names

    def to_text(self, value: list[str]) -> str:
        return ",".join(value) or self.empty


@dataclass(frozen=True)
class ChoiceList:
    """Names from a fixed set, as a list or comma-separated; the word ``none`` for no names."""

    choices: tuple[str, ...]

    @property
    def describe(self) -> str:
        return f"any of {', '.join(self.choices)}"

    def from_text(self, text: str) -> list[str]:
        return self.from_value(text)

    def from_value(self, value: Any) -> list[str]:
        names = NameList(empty="none", max_items=len(self.choices)).from_value(value)
        for n in names:
            if n not in self.choices:
                raise Problem(f"must be {self.describe}, got {brief(n)}")
        return names

    def to_text(self, value: list[str]) -> str:
        return ",".join(value) or "none"


def scalar_text(value: Any) -> str:
    """A YAML or Python scalar as option text: ``true``/``false``, numbers, strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise Problem(f"option values must be finite, got {brief(value)}")
        return _number(value)
    if isinstance(value, str) and len(value) > MAX_OPTION_TEXT:
        raise Problem(f"option values must be at most {MAX_OPTION_TEXT} characters")
    if isinstance(value, int | str):
        return str(value)
    raise Problem(f"option values must be scalars, got {type(value).__name__}")


@dataclass(frozen=True)
class TextMap:
    """``KEY=VALUE`` options: a mapping of names to text; on the command line, one flag each."""

    max_items: int = 64
    describe: str = "a mapping of option names to scalar values"

    def key(self, key: Any) -> str:
        if (
            not isinstance(key, str)
            or not key
            or "=" in key
            or key.startswith("-")
            or len(key) > 100
            or has_control(key)
        ):
            raise Problem(
                f"option names must be texts without '=' or a leading '-', got {brief(key)}"
            )
        if key != key.strip():
            raise Problem(f"option name {brief(key)} has surrounding spaces")
        return key

    def from_text(self, text: str) -> list[tuple[str, str]]:
        """One ``KEY=VALUE`` word (a repeated flag gives several)."""
        key, sep, value = text.partition("=")
        if not sep:
            raise Problem(f"expected KEY=VALUE, got {brief(text)}")
        return [(self.key(key.strip()), value)]

    def from_pairs(self, pairs: list[tuple[str, str]]) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, value in pairs:
            if key in out:
                raise Problem(f"{brief(key)} given twice")
            out[key] = scalar_text(value)
        if len(out) > self.max_items:
            raise Problem(f"at most {self.max_items} options")
        return out

    def from_value(self, value: Any) -> dict[str, str]:
        if not isinstance(value, Mapping):
            raise Problem(f"must be {self.describe}, got {brief(value)}")
        if len(value) > self.max_items:
            raise Problem(f"at most {self.max_items} options")
        return {self.key(k): scalar_text(v) for k, v in value.items()}

    def to_text(self, value: dict[str, str]) -> str:
        raise TypeError("a TextMap is written one KEY=VALUE word per item")


@dataclass(frozen=True)
class Option:
    """One option a workload (or its checker) declares: its kind, default and help."""

    kind: Kind
    default: Any
    help: str


def parse_options(
    declared: Mapping[str, Option], given: Mapping[str, str], flag: str, owner: str
) -> dict[str, Any]:
    """Every declared option, parsed from ``given`` or defaulted; unknown keys refused."""
    for key in given:
        if key not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise Problem(f"unknown {flag} key {brief(key)} for {owner}; known: {known}")
    out: dict[str, Any] = {}
    for key, option in declared.items():
        if key not in given:
            out[key] = option.default
            continue
        try:
            out[key] = option.kind.from_text(given[key])
        except Problem as e:
            raise Problem(f"{flag} {key}: {e}") from None
    return out


def describe_options(declared: Mapping[str, Option]) -> str:
    """``key (kind, default d): help`` for each option, for help texts and errors."""
    return "; ".join(
        f"{k}={o.kind.to_text(o.default)} ({o.kind.describe}): {o.help}"
        for k, o in declared.items()
    )


@dataclass(frozen=True)
class Fraction:
    """A share in [0, 1], or the word ``total`` for 1 (Maelstrom's ``--availability``)."""

    describe: str = "'total' or a fraction from 0 to 1"

    def from_text(self, text: str) -> float:
        word = text.strip().lower()
        if word == "total":
            return 1.0
        if len(word) > MAX_NUMBER_TEXT:
            raise Problem(f"must be {self.describe}, got {brief(text)}")
        try:
            return self.from_value(float(word))
        except ValueError:
            raise Problem(f"must be {self.describe}, got {brief(text)}") from None

    def from_value(self, value: Any) -> float:
        if isinstance(value, str):
            return self.from_text(value)
        try:
            return Number(0, 1).from_value(value)
        except Problem:
            raise Problem(f"must be {self.describe}, got {brief(value)}") from None

    def to_text(self, value: float) -> str:
        return "total" if value == 1 else _number(value)


@dataclass(frozen=True)
class Limits:
    """Upper limits by name (``median:400,max:600``, ``=`` works too, or a mapping): each
    name one of ``names``, each limit a finite number from 0 up."""

    names: tuple[str, ...]
    unit: str = ""

    @property
    def describe(self) -> str:
        unit = f" ({self.unit})" if self.unit else ""
        return f"limits NAME:NUMBER{unit}, comma-separated or a mapping, NAME one of {', '.join(self.names)}"

    def _limit(self, name: Any, value: Any) -> tuple[str, float]:
        if name not in self.names:
            raise Problem(f"must be {self.describe}, got the name {brief(name)}")
        try:
            return name, Number(0, 1e12).from_value(value)
        except Problem:
            raise Problem(
                f"limit {name} must be a finite number from 0, got {brief(value)}"
            ) from None

    def from_text(self, text: str) -> dict[str, float]:
        out: dict[str, float] = {}
        if text.strip().lower() == "none":
            return out
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, sep, number = part.replace("=", ":").partition(":")
            if not sep or len(number) > MAX_NUMBER_TEXT:
                raise Problem(f"must be {self.describe}, got {brief(part)}")
            try:
                value: Any = float(number)
            except ValueError:
                value = number
            key, limit = self._limit(name.strip(), value)
            out[key] = limit
        return out

    def from_value(self, value: Any) -> dict[str, float]:
        if isinstance(value, str):
            return self.from_text(value)
        if not isinstance(value, Mapping):
            raise Problem(f"must be {self.describe}, got {brief(value)}")
        return dict(self._limit(k, v) for k, v in value.items())

    def to_text(self, value: Mapping[str, float]) -> str:
        return ",".join(f"{k}:{_number(v)}" for k, v in value.items()) or "none"
