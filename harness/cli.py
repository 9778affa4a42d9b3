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
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from splitbrain.harness import check, core, gate, listing, maelstrom_cli, report
from splitbrain.harness import spec as test_spec
from splitbrain.harness.bounds import check_value
from splitbrain.harness.control import cleanup
from splitbrain.harness.control.node import NodeStartError
from splitbrain.harness.errors import SplitbrainError
from splitbrain.harness.history import json_value, merge_valid
from splitbrain.harness.maelstrom_summary import net_lines
from splitbrain.harness.outputs import writable_dir
from splitbrain.harness.protocols import HarnessInputError
from splitbrain.harness.signals import signal_name
from splitbrain.harness.values import Problem
from splitbrain.harness.verdict import (
    EXIT_BAD_INPUT,
    EXIT_HARNESS,
    EXIT_INTERRUPTED,
    EXIT_VALID,
    exit_code,
    verdict_word,
)

CHECK_SECONDS = test_spec.PARAMS["check_timeout"].kind


class _Parser(argparse.ArgumentParser):
    """argparse that exits 254 (bad arguments) with one line, instead of 2."""

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
    p = sub.add_parser("test", help="run a test against a target and check it")
    test_spec.add_arguments(p)
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=cmd_test)


def cmd_test(args: argparse.Namespace) -> int:
    spec = test_spec.from_args(args)
    try:
        result = core.run(
            spec, on_start=lambda d: print(f"run directory: {d}", file=sys.stderr, flush=True)
        )
    except OSError as e:
        if e.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        print(f"splitbrain: no space left on {spec.store}", file=sys.stderr)
        return EXIT_HARNESS
    if args.json:
        print(json.dumps(result.results, indent=2, default=str))
    else:
        print(render_summary(result.results, result.run_dir, spec.command(), result.interrupted))
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


def _fmt_ms(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"


def render_summary(
    results: dict[str, Any], run_dir: Path, command: str, interrupted: bool = False
) -> str:
    """The table printed after a run: ops by function and outcome, latency, verdicts."""
    checkers = results.get("checkers", {})
    stats = checkers.get("stats", {})
    rows = [("f", "ok", "fail", "info", "median ms", "p99 ms")]
    lat_by_f = stats.get("latency_by_f", {})
    for f, c in stats.get("by_f", {}).items():
        lat = lat_by_f.get(f, {})
        rows.append(
            (
                f,
                str(c["ok"]),
                str(c["fail"]),
                str(c["info"]),
                _fmt_ms(lat.get("median_ms")),
                _fmt_ms(lat.get("p99_ms")),
            )
        )
    total = stats.get("by_outcome", {"ok": 0, "fail": 0, "info": 0})
    lat = stats.get("latency", {})
    rows.append(
        (
            "all",
            str(total["ok"]),
            str(total["fail"]),
            str(total["info"]),
            _fmt_ms(lat.get("median_ms")),
            _fmt_ms(lat.get("p99_ms")),
        )
    )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    for name, part in checkers.items():
        if name == "stats":
            continue
        lines.append(f"{name}: {verdict_word(part.get('valid'))}")
        text = (
            (part.get("counterexample") or {}).get("text")
            if isinstance(part.get("counterexample"), dict)
            else None
        )
        if text and part.get("valid") is False:
            lines += ["  " + t for t in str(text).splitlines()]
        elif part.get("error"):
            lines.append(f"  {part['error']}")
    lines += net_lines(results)
    lines.append(f"verdict: {_verdict_line(results, total, interrupted)}")
    lines.append(f"run: {run_dir}")
    lines.append(f"replay: {command}")
    return "\n".join(lines)


def _verdict_line(results: dict[str, Any], total: dict[str, int], interrupted: bool) -> str:
    word = verdict_word(results.get("valid"))
    if not interrupted:
        return word
    by = results.get("interrupted")
    by = f" by {by}" if isinstance(by, str) else ""
    ops = sum(total.values())
    if ops == 0:
        return f"interrupted{by} before any operation completed"
    return f"interrupted{by}; {word} over the {ops} operations recorded so far"


# ---------------------------------------------------------------- check


def _add_check(sub: Any) -> None:
    p = sub.add_parser("check", help="check stored histories against a consistency model")
    p.add_argument("histories", nargs="+", metavar="HISTORY")
    p.add_argument(
        "--model",
        required=True,
        help="a model or checker by name (register, cas-register, kv, set-full, ...) or module:attr",
    )
    p.add_argument("--init", default=None, help="initial state as JSON (default: null)")
    p.add_argument("--format", default="auto", choices=["auto", "jsonl", "edn", "jepsen-log"])
    p.add_argument(
        "--timeout", type=_seconds, default=None, help="seconds per history before unknown"
    )
    p.add_argument("--json", action="store_true", help="one JSON result per history")
    p.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    checker = check.resolve_model(args.model)
    init: Any = None
    if args.init is not None:
        try:
            init = json_value(args.init)
            check_value(init, "--init")
        except json.JSONDecodeError as e:
            raise HarnessInputError(f"--init is not JSON: {e.msg} (column {e.colno})") from None
        except ValueError as e:
            raise HarnessInputError(f"--init: {e}") from None
    verdicts = []
    for path in args.histories:
        v = check.check_file(path, checker, init=init, fmt=args.format, timeout=args.timeout)
        verdicts.append(v)
        for w in v.warnings if v.error is None else []:  # bad input is one line
            print(f"warning: {w}", file=sys.stderr)
        if args.json:
            print(
                json.dumps(
                    {
                        "file": v.path,
                        "valid": v.valid,
                        "error": v.error,
                        "ops": v.ops,
                        "seconds": round(v.seconds, 4),
                        "result": v.result,
                    },
                    default=str,
                )
            )
        elif v.error is not None:
            print(f"{v.path}  error  {v.error}")
        else:
            print(f"{v.path}  {verdict_word(v.valid)}  {v.ops} ops  {v.seconds:.3f}s")
            text = (v.result.get("counterexample") or {}).get("text") if v.valid is False else None
            if text and len(args.histories) == 1:
                print("\n".join("  " + t for t in str(text).splitlines()))
    if any(v.valid is None for v in verdicts):
        if len(verdicts) == 1:
            return EXIT_BAD_INPUT
        print("error: some histories could not be checked", file=sys.stderr)
        return EXIT_BAD_INPUT
    return exit_code(merge_valid(v.valid for v in verdicts if v.valid is not None))


# ---------------------------------------------------------------- report, serve, cleanup


def _add_report(sub: Any) -> None:
    p = sub.add_parser("report", help="(re)write report.html of a run, or the index of a store")
    p.add_argument("run_dir", nargs="?", help="run directory (default: STORE/latest)")
    p.add_argument("--index", metavar="STORE", help="write STORE/index.html instead")
    p.add_argument("--store", default="reports")
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    if args.index:
        store = Path(args.index)
        if not store.is_dir():
            raise HarnessInputError(f"{store}: no such store directory")
        writable_dir(store, "--index", create=False)
        print(report.write_index(store))
        return EXIT_VALID
    run_dir = Path(args.run_dir) if args.run_dir else Path(args.store) / "latest"
    if not (run_dir / "test.json").is_file():
        raise HarnessInputError(f"{run_dir}: not a run directory (no test.json)")
    writable_dir(run_dir, "report", create=False)
    print(report.write_report(run_dir.resolve()))
    return EXIT_VALID


def _add_serve(sub: Any) -> None:
    p = sub.add_parser("serve", help="serve the store's index and reports over HTTP")
    p.add_argument("--store", default="reports")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
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
    maelstrom_cli.add_parser(sub, render_summary)


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
    except (HarnessInputError, NodeStartError) as e:
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


if __name__ == "__main__":
    sys.exit(main())
