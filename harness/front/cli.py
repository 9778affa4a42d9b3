"""``splitbrain test | check | report | serve | gate | cleanup``.

Exit codes, as Jepsen's: 0 valid, 1 invalid, 2 unknown, 254 bad arguments or input,
255 the harness itself failed.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import sys
import textwrap
import traceback
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, NoReturn

from splitbrain.checkers.txn.rw_register import ASSUMPTIONS
from splitbrain.harness import report
from splitbrain.harness.base import lifetime, plugins
from splitbrain.harness.base.bounds import check_value
from splitbrain.harness.base.errors import SplitbrainError
from splitbrain.harness.base.history import FORMATS as HISTORY_FORMATS
from splitbrain.harness.base.history import HistoryError, json_value, merge_valid, read_history
from splitbrain.harness.base.independent import MODES as INDEPENDENT_MODES
from splitbrain.harness.base.outputs import writable_dir
from splitbrain.harness.base.protocols import HarnessInputError
from splitbrain.harness.base.signals import signal_name
from splitbrain.harness.base.values import Problem
from splitbrain.harness.base.verdict import (
    EXIT_BAD_INPUT,
    EXIT_HARNESS,
    EXIT_INTERRUPTED,
    EXIT_VALID,
    exit_code,
)
from splitbrain.harness.control import cleanup
from splitbrain.harness.engine import assemble, check, core
from splitbrain.harness.engine import spec as test_spec
from splitbrain.harness.front import gate, listing, maelstrom_cli, present, progress

CHECK_SECONDS = test_spec.PARAMS["check_timeout"].kind


class _Help(argparse.RawDescriptionHelpFormatter):
    """Every option's default shown, unless its help already says it; epilogs kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            "default" in text
            or default in (None, False, argparse.SUPPRESS)
            or default == []
            or default == {}
            or not action.option_strings
            or isinstance(action, argparse._StoreConstAction)
        ):
            return text
        shown = ",".join(map(str, default)) if isinstance(default, list) else default
        return f"{text} (default: {shown})".replace("%", "%%")


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


class _Parser(argparse.ArgumentParser):
    """argparse that exits 254 (bad arguments) with one line, instead of 2.

    ``epilog_from``: a function giving the epilog, called only when help is shown (it
    loads every target to list its options).
    """

    epilog_from: Callable[[], str] | None = None

    def format_help(self) -> str:
        if self.epilog_from is not None:
            self.epilog = self.epilog_from()
        return super().format_help()

    def error(self, message: str) -> NoReturn:
        raise HarnessInputError(f"{message} (see: {self.prog} --help)")


def _seconds(text: str) -> float:
    """A positive finite number of seconds, for flags outside the test spec."""
    try:
        return CHECK_SECONDS.from_text(text)
    except Problem as e:
        raise argparse.ArgumentTypeError(str(e)) from None


# ---------------------------------------------------------------- test


def _add_test(sub: Any) -> None:
    p = sub.add_parser(
        "test", help="run a test against a target and check it", formatter_class=_Help
    )
    p.epilog_from = known_names
    test_spec.add_arguments(p)
    _add_format(p)
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
    except OSError as e:
        if e.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        print(f"splitbrain: no space left on {spec.store}", file=sys.stderr)
        return EXIT_HARNESS
    finally:
        watch.stop()
    command = spec.command()
    print(
        present.run_text(result.results, result.run_dir, command, result.interrupted, args.format)
    )
    _step_summary(
        present.run_text(result.results, result.run_dir, command, result.interrupted, "markdown")
    )
    return run_exit_code(result)


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


def _add_format(p: argparse.ArgumentParser) -> None:
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


def _step_summary(markdown: str) -> None:
    """GitHub Actions shows ``$GITHUB_STEP_SUMMARY`` on the job's page; append when it is set."""
    try:
        present.append_step_summary(markdown)
    except OSError as e:
        print(f"splitbrain: cannot append to $GITHUB_STEP_SUMMARY: {e}", file=sys.stderr)


# ---------------------------------------------------------------- check


def _add_check(sub: Any) -> None:
    p = sub.add_parser(
        "check", help="check stored histories against a consistency model", formatter_class=_Help
    )
    p.epilog_from = known_names
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
        type=_seconds,
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
    _add_format(p)
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
    _step_summary(present.check_text(verdicts, "markdown"))
    if any(v.valid is None for v in verdicts):
        print("error: some histories could not be checked", file=sys.stderr)
        return EXIT_BAD_INPUT
    return exit_code(merge_valid(v.valid for v in verdicts if v.valid is not None))


# ---------------------------------------------------------------- report, serve, cleanup


def _add_report(sub: Any) -> None:
    p = sub.add_parser(
        "report", help="(re)write report.html of a run or of any history file, or a store's index"
    )
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


def _add_serve(sub: Any) -> None:
    p = sub.add_parser("serve", help="serve the store's index and reports over HTTP")
    p.add_argument("--store", default="reports", help="directory of runs (default: reports/)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="0 to 65535 (default: 8080)")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    store = Path(args.store)
    if not store.is_dir():
        raise HarnessInputError(f"{store}: no such store directory")
    report.serve(store, host=args.host, port=args.port)
    return EXIT_VALID


def _add_cleanup(sub: Any) -> None:
    p = sub.add_parser(
        "cleanup", help="remove what killed runs left behind (namespaces, rules, processes)"
    )
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


def _add_gate(sub: Any) -> None:
    gate.add_parser(sub)


def _add_maelstrom(sub: Any) -> None:
    maelstrom_cli.add_parser(sub, present.run_text, run_exit_code)


def _add_list(sub: Any) -> None:
    p = sub.add_parser(
        "list", help="every target, workload, nemesis, model and checker, and who provides it"
    )
    p.set_defaults(func=cmd_list)


def cmd_list(args: argparse.Namespace) -> int:
    found = listing.listing()
    print(listing.render(found))
    for line in found.broken:
        print(f"splitbrain: {line}", file=sys.stderr)
    return EXIT_VALID


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="splitbrain", description="Jepsen-style consistency testing.")
    parser.add_argument(
        "--version", action="version", version=f"splitbrain {metadata.version('splitbrain')}"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for add in (
        _add_test,
        _add_check,
        _add_report,
        _add_serve,
        _add_gate,
        _add_cleanup,
        _add_list,
        _add_maelstrom,
    ):
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The command line. The working directory is importable (last on ``sys.path``), so
    ``--target mypkg.t:MyTarget`` finds a project's own package, as ``python -m`` would."""
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra and not hasattr(args, "node_args"):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        if extra:
            args.node_args = extra
        if not getattr(args, "func", None):
            parser.print_help(sys.stderr)
            return EXIT_BAD_INPUT
        return args.func(args)
    except HarnessInputError as e:
        print(f"splitbrain: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SplitbrainError as e:
        print(f"splitbrain: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt as e:
        print(f"splitbrain: interrupted ({signal_name(e)})", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_VALID
    except OSError as e:
        where = f" {e.filename}" if e.filename else ""
        print(f"splitbrain: the harness failed:{where}: {e.strerror or e}", file=sys.stderr)
        return EXIT_HARNESS
    except Exception as e:
        traceback.print_exc()
        print(f"splitbrain: the harness failed: {type(e).__name__}: {e}", file=sys.stderr)
        return EXIT_HARNESS


def console() -> NoReturn:
    """The ``splitbrain`` command: ``main``, in a process that ends when it returns, without
    freeing what the command is done with (``harness.base.lifetime``)."""
    lifetime.one_shot()
    lifetime.end(main())


if __name__ == "__main__":
    console()
