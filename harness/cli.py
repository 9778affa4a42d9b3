"""``splitbrain test | check | report | serve | gate | cleanup``.

Exit codes, as Jepsen's: 0 valid, 1 invalid, 2 unknown, 254 bad arguments or input,
255 the harness itself failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from splitbrain.harness import check, core, gate, listing, maelstrom_cli, report
from splitbrain.harness.control import cleanup
from splitbrain.harness.control.node import NodeStartError
from splitbrain.harness.control.sshopts import add_arguments as add_ssh_arguments
from splitbrain.harness.control.sshopts import options_from_args as ssh_options_from_args
from splitbrain.harness.errors import SplitbrainError
from splitbrain.harness.history import merge_valid
from splitbrain.harness.maelstrom_summary import net_lines
from splitbrain.harness.protocols import HarnessInputError
from splitbrain.harness.verdict import (
    EXIT_BAD_INPUT,
    EXIT_HARNESS,
    EXIT_INTERRUPTED,
    EXIT_VALID,
    exit_code,
    verdict_word,
)


class _Parser(argparse.ArgumentParser):
    """argparse that exits 254 (bad arguments) with one line, instead of 2."""

    def error(self, message: str) -> NoReturn:
        raise HarnessInputError(f"{message} (see: {self.prog} --help)")


def _positive_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _option(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value.strip()


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


# ---------------------------------------------------------------- test


def _add_test(sub: Any) -> None:
    p = sub.add_parser("test", help="run a test against a target and check it")
    p.add_argument(
        "--target",
        default="memory",
        help="system under test, a name or module:attr (default: memory)",
    )
    p.add_argument(
        "--workload",
        default="register",
        help="what clients do, a name or module:attr (default: register)",
    )
    p.add_argument(
        "--nemesis", type=_names, default=["none"], help="faults, comma-separated (default: none)"
    )
    p.add_argument("--concurrency", type=int, default=5, help="client workers (default: 5)")
    p.add_argument(
        "--time-limit",
        type=_positive_float,
        default=10.0,
        help="seconds of main phase (default: 10)",
    )
    p.add_argument(
        "--rate",
        type=_positive_float,
        default=0.0,
        help="ops/s across workers; 0 = as fast as possible",
    )
    p.add_argument("--keys", type=int, default=8, help="independent keys (default: 8)")
    p.add_argument(
        "--seed", type=int, default=None, help="random seed (default: a fresh one, recorded)"
    )
    p.add_argument("--store", default="reports", help="directory of runs (default: reports/)")
    p.add_argument("--name", default=None, help="test name (default: TARGET-WORKLOAD)")
    p.add_argument(
        "--model", default=None, help="consistency model the workload checks (workload default)"
    )
    p.add_argument(
        "--nemesis-interval",
        type=_positive_float,
        default=3.0,
        help="seconds per fault and per quiet spell",
    )
    p.add_argument(
        "--op-timeout",
        type=_positive_float,
        default=5.0,
        help="seconds before an op is recorded as info",
    )
    p.add_argument(
        "--check-timeout",
        type=_positive_float,
        default=120.0,
        help="seconds before a checker says unknown",
    )
    p.add_argument(
        "-o",
        dest="options",
        type=_option,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="target option (repeatable)",
    )
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    add_ssh_arguments(p)
    p.set_defaults(func=cmd_test)


def cmd_test(args: argparse.Namespace) -> int:
    spec = core.TestSpec(
        target=args.target,
        workload=args.workload,
        nemesis=args.nemesis,
        concurrency=args.concurrency,
        time_limit=args.time_limit,
        rate=args.rate,
        keys=args.keys,
        seed=args.seed,
        store=args.store,
        name=args.name,
        options=dict(args.options),
        model=args.model,
        nemesis_interval=args.nemesis_interval,
        op_timeout=args.op_timeout,
        check_timeout=args.check_timeout,
        ssh=ssh_options_from_args(args),
    )
    result = core.run(
        spec, on_start=lambda d: print(f"run directory: {d}", file=sys.stderr, flush=True)
    )
    if args.json:
        print(json.dumps(result.results, indent=2, default=str))
    else:
        print(render_summary(result.results, result.run_dir, spec.command(), result.interrupted))
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
    if interrupted:
        lines.append("interrupted: the history recorded so far was checked")
    lines.append(f"verdict: {verdict_word(results.get('valid'))}")
    lines.append(f"run: {run_dir}")
    lines.append(f"replay: {command}")
    return "\n".join(lines)


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
        "--timeout", type=_positive_float, default=None, help="seconds per history before unknown"
    )
    p.add_argument("--json", action="store_true", help="one JSON result per history")
    p.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    checker = check.resolve_model(args.model)
    init: Any = None
    if args.init is not None:
        try:
            init = json.loads(args.init)
        except json.JSONDecodeError as e:
            raise HarnessInputError(f"--init is not JSON: {e.msg} (column {e.colno})") from None
    verdicts = []
    for path in args.histories:
        v = check.check_file(path, checker, init=init, fmt=args.format, timeout=args.timeout)
        verdicts.append(v)
        for w in v.warnings:
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
        print(report.write_index(store))
        return EXIT_VALID
    run_dir = Path(args.run_dir) if args.run_dir else Path(args.store) / "latest"
    if not (run_dir / "test.json").is_file():
        raise HarnessInputError(f"{run_dir}: not a run directory (no test.json)")
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
    p.add_argument("--store", default="reports")
    p.set_defaults(func=cmd_cleanup)


def cmd_cleanup(args: argparse.Namespace) -> int:
    runs, errors = cleanup.cleanup_store(Path(args.store))
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
    except KeyboardInterrupt:
        print("splitbrain: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_VALID
    except Exception as e:
        traceback.print_exc()
        print(f"splitbrain: the harness failed: {type(e).__name__}: {e}", file=sys.stderr)
        return EXIT_HARNESS


if __name__ == "__main__":
    sys.exit(main())
