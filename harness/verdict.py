"""Verdict words and exit codes, one place for every front end.

Exit codes, as Jepsen's: 0 valid, 1 invalid, 2 unknown, 130 interrupted, 254 bad arguments
or input, 255 the harness itself (or its environment) failed.
"""

from __future__ import annotations

from splitbrain.harness.history import Valid

EXIT_VALID, EXIT_INVALID, EXIT_UNKNOWN = 0, 1, 2
EXIT_INTERRUPTED, EXIT_BAD_INPUT, EXIT_HARNESS = 130, 254, 255


def exit_code(valid: Valid | None) -> int:
    """The exit code of a verdict; None (nothing could be checked) is bad input."""
    if valid is None:
        return EXIT_BAD_INPUT
    return {True: EXIT_VALID, False: EXIT_INVALID}.get(valid, EXIT_UNKNOWN)  # type: ignore[arg-type]


def verdict_word(valid: Valid | None) -> str:
    return {True: "valid", False: "INVALID", "unknown": "unknown"}.get(valid, "error")  # type: ignore[arg-type]
