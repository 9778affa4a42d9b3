"""A verdict as one value: valid, invalid or unknown, and what each means in JSON and exit codes."""

from __future__ import annotations

from enum import Enum
from typing import Any

from splitbrain.harness.errors import ExitCode
from splitbrain.harness.history import Valid


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
