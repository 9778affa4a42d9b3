"""``splitbrain test``: run a test against a target, check it, print and store the results."""

from __future__ import annotations

import argparse
import errno
import sys
from pathlib import Path
from typing import Any

from splitbrain.harness.base.errors import CheckerFailed
from splitbrain.harness.base.verdict import EXIT_HARNESS
from splitbrain.harness.engine import core
from splitbrain.harness.engine import spec as test_spec
from splitbrain.harness.front import present, progress
from splitbrain.harness.front.command_shared import (
    add_format,
    known_names,
    run_exit_code,
    step_summary,
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.epilog_from = known_names  # type: ignore[attr-defined]
    test_spec.add_arguments(p)
    add_format(p)
    p.set_defaults(func=cmd_test)


def cmd_test(args: argparse.Namespace) -> int:
    notices: list[str] = []
    spec = test_spec.from_args(args, notices)
    for notice in notices:
        print(f"splitbrain: deprecated: {notice}", file=sys.stderr)
    watch = progress.Progress(spec.time_limit)

    def started(run_dir: Path) -> None:
        print(f"run directory: {run_dir}", file=sys.stderr, flush=True)
        watch.start(run_dir)

    try:
        result = core.run(spec, on_start=started)
    except CheckerFailed as e:  # stored: its summary, then the one line (main)
        watch.stop()
        _print_run(e.result, args.format)
        raise
    except OSError as e:
        if e.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        print(f"splitbrain: no space left on {spec.store}", file=sys.stderr)
        return EXIT_HARNESS
    finally:
        watch.stop()
    _print_run(result, args.format)
    return run_exit_code(result)


def _print_run(result: Any, fmt: str) -> None:
    command = result.spec.command()
    print(present.run_text(result.results, result.run_dir, command, result.interrupted, fmt))
    step_summary(
        present.run_text(result.results, result.run_dir, command, result.interrupted, "markdown")
    )
