"""Verdicts for every front end: the ``Verdict`` value, its words, JSON and exit codes.

Exit codes, as Jepsen's: 0 valid, 1 invalid, 2 unknown, 130 interrupted, 254 bad arguments
or input, 255 the harness itself (or its environment) failed.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from splitbrain.harness.base.errors import ExitCode
from splitbrain.harness.base.history import Valid

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
        """The verdict of a checker result's ``valid``; anything else is unknown."""
        if isinstance(valid, Verdict):
            return valid
        if valid is True:
            return cls.VALID
        if valid is False:
            return cls.INVALID
        return cls.UNKNOWN

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
