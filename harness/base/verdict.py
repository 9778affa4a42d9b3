"""Verdicts for every front end: the ``Verdict`` value, its words, JSON and exit codes.

Exit codes, as Jepsen's: 0 valid, 1 invalid, 2 unknown, 130 interrupted, 254 bad arguments
or input, 255 the harness itself (or its environment) failed.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from enum import Enum
from typing import Any

from splitbrain.harness.base.errors import ExitCode
from splitbrain.harness.base.history import Valid, merge_valid

EXIT_VALID, EXIT_INVALID, EXIT_UNKNOWN = ExitCode.VALID, ExitCode.INVALID, ExitCode.UNKNOWN
EXIT_INTERRUPTED, EXIT_BAD_INPUT, EXIT_HARNESS = (
    ExitCode.INTERRUPTED,
    ExitCode.BAD_INPUT,
    ExitCode.HARNESS,
)


def exit_code(valid: Valid | Verdict | None) -> int:
    """The exit code of a verdict; None (nothing could be checked) is bad input."""
    if valid is None:
        return EXIT_BAD_INPUT
    return Verdict.of(valid).exit_code


def verdict_word(valid: Valid | Verdict | None) -> str:
    """The word front ends print: valid, INVALID, unknown, or error (nothing checked)."""
    if isinstance(valid, Verdict):
        valid = valid.value
    return {True: "valid", False: "INVALID", "unknown": "unknown"}.get(valid, "error")  # type: ignore[arg-type]


class Verdict(Enum):
    """``VALID``, ``INVALID`` or ``UNKNOWN`` (a checker out of time or memory: never a guess).

    In JSON a verdict is ``true``, ``false`` or ``"unknown"`` (its ``value``), as in Jepsen's
    results; ``json_default`` makes ``json.dumps`` write it so.
    """

    VALID = True
    INVALID = False
    UNKNOWN = "unknown"

    @classmethod
    def of(cls, valid: Valid | Verdict) -> Verdict:
        """The verdict of a checker result's ``valid``; anything else (None: a checker that
        raised) is no verdict, and is refused rather than taken for unknown."""
        if isinstance(valid, Verdict):
            return valid
        if valid is True:
            return cls.VALID
        if valid is False:
            return cls.INVALID
        if valid == "unknown":
            return cls.UNKNOWN
        raise ValueError(f"{valid!r} is no verdict (true, false or 'unknown')")

    @property
    def exit_code(self) -> ExitCode:
        return {True: ExitCode.VALID, False: ExitCode.INVALID}.get(self.value, ExitCode.UNKNOWN)

    def __bool__(self) -> bool:
        return self is Verdict.VALID


def json_default(obj: Any) -> Any:
    """``json.dumps(..., default=json_default)``: verdicts as true/false/"unknown"."""
    if isinstance(obj, Verdict):
        return obj.value
    return str(obj)


def vacuous(evidence: int, reason: str) -> dict[str, str]:
    """``{"vacuous": reason}`` when a checker had nothing to judge (``evidence`` is 0).

    Such a result stays valid, because nothing in the history contradicts the property, and
    says so in words; it is never ``unknown``, which means only that a checker ran out of
    time or memory. A run's ``stats`` checker votes against a function that never succeeded.
    """
    return {} if evidence else {"vacuous": reason}


def vacuous_words(reason: str) -> str:
    """How every front end says a checker had nothing to judge."""
    return f"valid (nothing to judge: {reason})"


GAVE_UP = "cycle-search-timeout"
"""The anomaly-map marker of a cycle search that ran out of its budget: ``unknown``."""
EMPTY_GRAPH = "empty-transaction-graph"
"""The anomaly-map marker of transactions with no dependencies: valid, and ``vacuous``."""
MARKERS = frozenset({GAVE_UP, EMPTY_GRAPH})
"""Names in an anomaly map that are no anomaly, but say how far the search got."""


# ---------------------------------------------------------------- a checker that raised

CRASHED = "crashed"
"""The key of a checker's part (or the spectrum's, the CAP profile's) that raised: its
``valid`` is None (no verdict at all, not ``unknown``) and ``error`` says what it raised."""


def describe(e: BaseException) -> str:
    """``TypeError: boom (mychecks.py:12 in check)``: the error and its innermost frame."""
    frames = traceback.extract_tb(e.__traceback__)
    where = f" ({frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno} in {frames[-1].name})"
    return f"{type(e).__name__}: {e}{where if frames else ''}"


def raised(e: BaseException) -> dict[str, Any]:
    """The part of a checker that raised: ``unknown`` if it ran out of memory (MemoryError),
    else no verdict at all (``valid`` None, ``crashed``), with what it raised."""
    if isinstance(e, MemoryError):
        return {"valid": "unknown", "unknown_reason": "memory", "error": describe(e)}
    return {"valid": None, CRASHED: True, "error": describe(e)}


def not_a_result(result: Any) -> str | None:
    """Why what a checker returned is no result (a dict whose ``valid`` is true, false or
    "unknown"), or None: a checker breaking its protocol has no verdict either."""
    if not isinstance(result, dict):
        return f"returned {type(result).__name__}, not a dict"
    if "valid" not in result:
        return "returned a result without 'valid'"
    valid = result["valid"]
    if not (valid is True or valid is False or valid == "unknown"):
        return f"returned valid={valid!r}, not true, false or 'unknown'"
    return None


def broken(problem: str) -> dict[str, Any]:
    """The part of a checker whose result broke the protocol (``not_a_result``)."""
    return {"valid": None, CRASHED: True, "error": problem}


def is_crashed(part: Any) -> bool:
    return isinstance(part, dict) and part.get(CRASHED) is True


def crashes(parts: Mapping[str, Any]) -> dict[str, str]:
    """Each part that raised, and what it raised."""
    return {name: str(p.get("error")) for name, p in parts.items() if is_crashed(p)}


def compose(parts: Mapping[str, Any]) -> Valid | None:
    """The verdict of several checkers' parts: false beats unknown beats true (Jepsen's
    compose); None when one of them raised, since a crash is no verdict at all."""
    if crashes(parts):
        return None
    return merge_valid(p.get("valid", "unknown") for p in parts.values())


def run_failures(results: Mapping[str, Any]) -> dict[str, str]:
    """What raised while a run was checked: ``checker NAME``, ``the spectrum``, ``the CAP
    profile``, each with its error (read from any ``results.json``, so its shape is checked)."""
    parts = results.get("checkers")
    found = (
        {f"checker {n}": e for n, e in crashes(parts).items()} if isinstance(parts, Mapping) else {}
    )
    for key, what in (("spectrum", "the spectrum"), ("cap", "the CAP profile")):
        if is_crashed(results.get(key)):
            found[what] = str(results[key].get("error"))
    return found
