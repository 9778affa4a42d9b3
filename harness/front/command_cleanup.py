"""``splitbrain cleanup``: undo what killed runs left behind, from their journals."""

from __future__ import annotations

import argparse
import sys

from splitbrain.harness.base.verdict import EXIT_HARNESS, EXIT_VALID
from splitbrain.harness.control import cleanup


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.set_defaults(func=cmd_cleanup)


def cmd_cleanup(args: argparse.Namespace) -> int:
    runs, errors = cleanup.cleanup_store()
    print(f"cleaned up {runs} leftover run(s)")
    if errors:
        print(
            f"splitbrain: {len(errors)} step(s) could not be undone; their journal is kept for another "
            "`splitbrain cleanup`",
            file=sys.stderr,
        )
        return EXIT_HARNESS
    return EXIT_VALID
