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
