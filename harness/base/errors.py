"""splitbrain's exceptions and exit codes: one root, and each error knows its exit code.

Exit codes are Jepsen's: 0 valid, 1 invalid, 2 unknown, 130 interrupted, 254 the user's
input is wrong, 255 the harness or its environment failed.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    VALID = 0
    INVALID = 1
    UNKNOWN = 2
    INTERRUPTED = 130
    BAD_INPUT = 254
    HARNESS = 255


class SplitbrainError(Exception):
    """The root of every error splitbrain raises on purpose; front ends print it as one line."""

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.HARNESS


class HarnessInputError(SplitbrainError, ValueError):
    """Bad user input (unknown name, bad option, malformed file): exit 254, one line, no traceback."""

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.BAD_INPUT


class HarnessFailure(SplitbrainError):
    """The harness or its environment failed (a node that will not start, a full disk): exit 255."""


class PluginError(HarnessInputError):
    """A plugin or ``module:attr`` that cannot be loaded, or an object that breaks its protocol."""


class CheckerFailed(HarnessFailure):
    """A checker raised (a bug in it or in the harness: no verdict, never ``unknown``): exit 255.

    A run raises it once its history, test.json, results.json (each failure recorded under
    its checker, beside the other checkers' verdicts) and report are stored: ``result`` is
    then the run's ``RunResult`` and ``run_dir`` where it is; the traceback is in the run's
    splitbrain.log. ``failures``: what failed (``checker NAME``, ``the spectrum``, ...) and
    what it raised."""

    def __init__(self, failures: dict[str, str], where: str = "", result: object = None) -> None:
        self.failures = dict(failures)
        self.result = result
        super().__init__(f"{self.what}; {where}" if where else self.what)

    @property
    def what(self) -> str:
        """``checker NAME failed: TypeError: ...``, for each failure."""
        return "; ".join(f"{name} failed: {error}" for name, error in self.failures.items())

    @property
    def run_dir(self) -> object:
        return getattr(self.result, "run_dir", None)
