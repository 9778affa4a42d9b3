"""Parsing of a target's ``-o KEY=VALUE`` options: one line naming key and value on bad input."""

from __future__ import annotations

from collections.abc import Mapping

from harness.protocols import HarnessInputError

TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")


def option_int(options: Mapping[str, str], key: str, low: int, high: int) -> int:
    text = options[key]
    try:
        value = int(text)
    except ValueError:
        raise HarnessInputError(f"-o {key}={text}: not an integer") from None
    if not low <= value <= high:
        raise HarnessInputError(f"-o {key}={text}: must be between {low} and {high}")
    return value


def option_float(options: Mapping[str, str], key: str, above: float, high: float) -> float:
    text = options[key]
    try:
        value = float(text)
    except ValueError:
        raise HarnessInputError(f"-o {key}={text}: not a number") from None
    if not above < value <= high:
        raise HarnessInputError(f"-o {key}={text}: must be above {above:g} and at most {high:g}")
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
