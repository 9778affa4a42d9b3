"""What several sub-commands share: the epilog of known names, ``--format``, argparse's
reading of a value kind, the run's exit code and the GitHub step summary (``test``,
``check``, ``gate`` and ``maelstrom test``)."""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

from splitbrain.harness.base import plugins
from splitbrain.harness.base.values import Kind, Problem
from splitbrain.harness.base.verdict import EXIT_HARNESS, EXIT_INTERRUPTED, exit_code
from splitbrain.harness.engine import assemble, check
from splitbrain.harness.front import present


def argument_type(kind: Kind) -> Callable[[str], Any]:
    """argparse's ``type=`` for a flag outside the test spec: ``kind`` reads the text, and
    its refusal is argparse's error (one line, 254)."""

    def read(text: str) -> Any:
        try:
            return kind.from_text(text)
        except Problem as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    return read


def _wrap(title: str, names: Sequence[str], width: int = 92) -> list[str]:
    return textwrap.wrap(
        ", ".join(names),
        width,
        initial_indent=f"  {title}: ",
        subsequent_indent="    ",
        break_on_hyphens=False,
    )


def known_names() -> str:
    """The epilog of ``test`` and ``check``: every name they accept, and each target's -o keys
    (``splitbrain list`` says more: who provides each, and their operations)."""
    lines = ["known names (splitbrain list shows more):"]
    for kind, title in (("target", "targets"), ("workload", "workloads"), ("nemesis", "nemeses")):
        lines += _wrap(title, plugins.names(kind))
    lines += _wrap("data types (--data-type)", check.data_types())
    lines += _wrap("consistency models (--consistency)", check.consistency_models())
    lines += _wrap("checkers (--checker)", plugins.names("checker"))
    lines.append("target options (-o KEY=VALUE, default):")
    for name in plugins.names("target"):
        try:
            options = dict(getattr(assemble.target(name), "options", {}))
        except Exception as e:  # a target whose module cannot load here is named, not fatal
            lines.append(f"  {name}: (not available: {type(e).__name__})")
            continue
        lines += _wrap(name, [f"{k}={v}" for k, v in options.items()] or ["none"])
    return "\n".join(lines)


def add_format(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--format",
        dest="format",
        choices=present.FORMATS,
        default="text",
        help="output: text (default), markdown or json",
    )
    p.add_argument(
        "--json", dest="format", action="store_const", const="json", help="same as --format json"
    )


def step_summary(markdown: str) -> None:
    """GitHub Actions shows ``$GITHUB_STEP_SUMMARY`` on the job's page; append when it is set."""
    try:
        present.append_step_summary(markdown)
    except OSError as e:
        print(f"splitbrain: cannot append to $GITHUB_STEP_SUMMARY: {e}", file=sys.stderr)


def run_exit_code(result: Any) -> int:
    """255 when teardown left something or the store could not take the results (each
    said in one line), else 130 when interrupted, else the verdict's code."""
    for problem in result.store_errors:
        print(f"splitbrain: {problem}", file=sys.stderr)
    for problem in result.teardown_errors:
        print(f"splitbrain: teardown: {problem}", file=sys.stderr)
    if result.store_errors or result.teardown_errors:
        return EXIT_HARNESS
    if result.interrupted:
        return EXIT_INTERRUPTED
    return exit_code(result.valid)
