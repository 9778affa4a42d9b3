"""``splitbrain check``: check stored histories against a data type, consistency models or
a checker, and print one verdict per history."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from splitbrain.checkers.txn.rw_register import ASSUMPTIONS
from splitbrain.harness.base.bounds import check_value
from splitbrain.harness.base.history import FORMATS as HISTORY_FORMATS
from splitbrain.harness.base.history import json_value, merge_valid
from splitbrain.harness.base.independent import MODES as INDEPENDENT_MODES
from splitbrain.harness.base.protocols import HarnessInputError
from splitbrain.harness.base.values import Problem
from splitbrain.harness.base.verdict import EXIT_BAD_INPUT, exit_code
from splitbrain.harness.engine import check
from splitbrain.harness.engine import spec as test_spec
from splitbrain.harness.front import present
from splitbrain.harness.front.command_shared import (
    add_format,
    argument_type,
    known_names,
    step_summary,
)

_SECONDS = argument_type(test_spec.PARAMS["check_timeout"].kind)
"""A positive finite number of seconds."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.epilog_from = known_names  # type: ignore[attr-defined]
    p.add_argument(
        "histories",
        nargs="+",
        metavar="HISTORY",
        help="a history file (JSONL, EDN, Jepsen log, gzipped or not), a run directory, or - for "
        "standard input",
    )
    p.add_argument(
        "--data-type",
        "--type",
        dest="data_type",
        default=None,
        metavar="TYPE",
        help="the histories' data type (register, cas-register, kv, set, queue, list-append, ...) "
        "or a model as module:attr (default: inferred from each history's operations)",
    )
    p.add_argument(
        "--consistency",
        action="append",
        default=[],
        metavar="MODEL[,MODEL]",
        help="consistency model(s) claimed, repeatable or comma-separated (linearizable, "
        "sequential, serializable, snapshot-isolation, ...; default: linearizable, or "
        "strict-serializable for transactions)",
    )
    p.add_argument(
        "--spectrum",
        action="store_true",
        help="also check every model of the hierarchy that applies, and show the ladder",
    )
    p.add_argument(
        "--checker",
        default=None,
        help="run one registered checker instead (set-full, counter, ...)",
    )
    p.add_argument(
        "--model",
        default=None,
        help="the data type (as --data-type); a consistency model or checker here is deprecated",
    )
    p.add_argument("--init", default=None, help="initial state as JSON (default: null)")
    p.add_argument(
        "--assume",
        action="append",
        default=[],
        choices=ASSUMPTIONS,
        help="for an Elle consistency model on rw-register histories: a property of the keys "
        "the checker may rely on to infer version orders (repeatable)",
    )
    p.add_argument(
        "--input-format",
        default="auto",
        choices=HISTORY_FORMATS,
        help="the histories' format (default: auto, from the name and content)",
    )
    p.add_argument(
        "--timeout",
        type=_SECONDS,
        default=None,
        help="seconds per history before unknown (default: no limit)",
    )
    p.add_argument(
        "--independent",
        choices=INDEPENDENT_MODES,
        default="auto",
        help="read Jepsen independent [key value] values as keyed ops: auto (when unambiguous, "
        "the default), yes or no",
    )
    add_format(p)
    p.set_defaults(func=cmd_check)


def _consistency_names(words: list[str]) -> list[str]:
    """``--consistency`` as ``splitbrain test`` reads it: an empty name is refused."""
    kind = test_spec.PARAMS["consistency"].kind
    try:
        return [name for word in words for name in kind.from_text(word)]
    except Problem as e:
        raise HarnessInputError(f"--consistency {e}") from None


def cmd_check(args: argparse.Namespace) -> int:
    selection, notices = check.select(
        args.model,
        data_type=args.data_type,
        consistency=_consistency_names(args.consistency),
        checker=args.checker,
        spectrum=args.spectrum,
        assume=args.assume,
    )
    for notice in notices:
        print(f"splitbrain: deprecated: {notice}", file=sys.stderr)
    checker = check.checker_for(selection)
    init: Any = None
    if args.init is not None:
        try:
            init = json_value(args.init)
            check_value(init, "--init")
        except json.JSONDecodeError as e:
            raise HarnessInputError(f"--init is not JSON: {e.msg} (column {e.colno})") from None
        except ValueError as e:
            raise HarnessInputError(f"--init: {e}") from None
    as_asked = any((args.model, args.data_type, args.consistency, args.checker, args.spectrum))
    verdicts = check.check_files(
        args.histories,
        lambda path: checker if as_asked else check.run_checker(path) or checker,
        init=init,
        fmt=args.input_format,
        timeout=args.timeout,
        independent=args.independent,
    )
    for v in verdicts:
        for w in v.warnings if v.error is None else []:  # bad input is one line
            print(f"warning: {w}", file=sys.stderr)
    if len(verdicts) == 1 and verdicts[0].error is not None:
        raise HarnessInputError(verdicts[0].error)
    print(present.check_text(verdicts, args.format))
    step_summary(present.check_text(verdicts, "markdown"))
    if any(v.valid is None for v in verdicts):
        print("error: some histories could not be checked", file=sys.stderr)
        return EXIT_BAD_INPUT
    return exit_code(merge_valid(v.valid for v in verdicts if v.valid is not None))
