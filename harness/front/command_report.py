"""``splitbrain report``: (re)write a run's report.html, a store's index, or the report of
any history file (checked too when ``--model`` says against what)."""

from __future__ import annotations

import argparse
from pathlib import Path

from splitbrain.harness import report
from splitbrain.harness.base.history import HistoryError, read_history
from splitbrain.harness.base.outputs import writable_dir
from splitbrain.harness.base.protocols import HarnessInputError
from splitbrain.harness.base.verdict import EXIT_VALID, exit_code
from splitbrain.harness.engine import check


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "run_dir",
        nargs="?",
        metavar="RUN_DIR|HISTORY",
        help="a run directory (default: STORE/latest), or a history file from elsewhere "
        "(JSONL, EDN, Jepsen log; its report goes beside it as HISTORY.html)",
    )
    p.add_argument("--index", metavar="STORE", help="write STORE/index.html instead")
    p.add_argument("--store", default="reports", help="directory of runs (default: reports/)")
    p.add_argument(
        "--model",
        default=None,
        help="for a history file: check it too, against this data type, consistency model "
        "(serializable, ...) or checker",
    )
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    if args.index:
        store = Path(args.index)
        if not store.is_dir():
            raise HarnessInputError(f"{store}: no such store directory")
        writable_dir(store, "--index", create=False)
        print(report.write_index(store))
        return EXIT_VALID
    target = Path(args.run_dir) if args.run_dir else Path(args.store) / "latest"
    if target.is_file():
        return _report_history(target, args.model)
    if args.model:
        raise HarnessInputError("--model is for a history file; a run directory has its results")
    if not target.is_dir():
        raise HarnessInputError(f"{target}: no such run directory or history file")
    writable_dir(target, "report", create=False)
    print(report.write_report(target.resolve()))
    return EXIT_VALID


def _report_history(path: Path, model: str | None) -> int:
    try:
        loaded = read_history(path)
    except HistoryError as e:
        raise HarnessInputError(str(e)) from None
    results = None
    if model is not None:
        selection, _ = check.select(model)  # report has no --consistency/--checker to point to
        v = check.check_file(path, check.checker_for(selection))
        if v.error:
            raise HarnessInputError(v.error)
        results = {"valid": v.valid, "checkers": {model: v.result}}
    writable_dir(path.parent, "report", create=False)
    out = path.with_name(path.name + ".html")
    print(report.write_history_report(path.resolve(), loaded.ops, out, results))
    return EXIT_VALID if results is None else exit_code(results["valid"])
