"""Parsing of a target's ``-o KEY=VALUE`` options: one line naming key and value on bad input."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from splitbrain.harness.base.protocols import HarnessInputError

TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")
T = TypeVar("T")


def _number(options: Mapping[str, str], key: str, convert: Callable[[str], T], noun: str) -> T:
    try:
        return convert(options[key])
    except ValueError:
        raise HarnessInputError(f"-o {key}={options[key]}: not {noun}") from None


def option_int(options: Mapping[str, str], key: str, low: int, high: int) -> int:
    value = _number(options, key, int, "an integer")
    if not low <= value <= high:
        raise HarnessInputError(f"-o {key}={options[key]}: must be between {low} and {high}")
    return value


def option_float(options: Mapping[str, str], key: str, above: float, high: float) -> float:
    value = _number(options, key, float, "a number")
    if not above < value <= high:
        raise HarnessInputError(
            f"-o {key}={options[key]}: must be above {above:g} and at most {high:g}"
        )
    return value


def option_choice(options: Mapping[str, str], key: str, choices: tuple[str, ...]) -> str:
    value = options[key]
    if value not in choices:
        raise HarnessInputError(f"-o {key}={value}: must be one of {', '.join(choices)}")
    return value


def option_bool(options: Mapping[str, str], key: str) -> bool:
    text = options[key].lower()
    if text not in TRUE + FALSE:
        raise HarnessInputError(f"-o {key}={options[key]}: use true or false")
    return text in TRUE
