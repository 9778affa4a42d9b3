"""``splitbrain test | check | report | serve | gate | cleanup | list | maelstrom``.

Exit codes, as Jepsen's: 0 valid, 1 invalid, 2 unknown, 130 interrupted, 254 bad arguments
or input, 255 the harness itself failed.

Start-up is paid on every command, so this module imports only argparse and the exit codes.
``COMMANDS`` names each sub-command's module; a sub-command's options are added, and its
module imported, only when that sub-command is parsed or its help shown (``_Parser.populate``):
``splitbrain check`` never loads the engine's run loop, the report, the gate or YAML, and
``splitbrain --help`` loads none of them.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, NoReturn

from splitbrain import __version__
from splitbrain.harness.base import lifetime
from splitbrain.harness.base.errors import ExitCode, HarnessInputError, SplitbrainError
from splitbrain.harness.base.signals import signal_name


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


class _Parser(argparse.ArgumentParser):
    """argparse that exits 254 (bad arguments) with one line, instead of 2.

    ``epilog_from``: a function giving the epilog, called only when help is shown (it
    loads every target to list its options). ``populate``: adds the parser's arguments, run
    once, just before the parser first parses or formats anything (so a sub-command's module
    is imported only when that sub-command is used).
    """

    epilog_from: Callable[[], str] | None = None
    populate: Callable[[argparse.ArgumentParser], None] | None = None

    def _populate_once(self) -> None:
        populate, self.populate = self.populate, None
        if populate is not None:
            populate(self)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        self._populate_once()
        return super().parse_known_args(args, namespace)

    def format_usage(self) -> str:
        self._populate_once()
        return super().format_usage()

    def format_help(self) -> str:
        self._populate_once()
        if self.epilog_from is not None:
            self.epilog = self.epilog_from()
        return super().format_help()

    def error(self, message: str) -> NoReturn:
        raise HarnessInputError(f"{message} (see: {self.prog} --help)")


class Command(NamedTuple):
    """A sub-command: its name and one-line help, and the module that gives it
    ``add_arguments(parser)`` (which also sets ``func``, the function that runs it).

    A named tuple rather than a dataclass: ``dataclasses`` imports ``inspect`` (about 8 ms),
    and everything imported before ``main`` runs is outside its Ctrl-C handling."""

    name: str
    help: str
    module: str
    formatter_class: type[argparse.HelpFormatter] = argparse.HelpFormatter


_FRONT = "splitbrain.harness.front"
COMMANDS = (
    Command("test", "run a test against a target and check it", f"{_FRONT}.command_run", _Help),
    Command(
        "check",
        "check stored histories against a consistency model",
        f"{_FRONT}.command_check",
        _Help,
    ),
    Command(
        "report",
        "(re)write report.html of a run or of any history file, or a store's index",
        f"{_FRONT}.command_report",
    ),
    Command("serve", "serve the store's index and reports over HTTP", f"{_FRONT}.command_serve"),
    Command("gate", "run a file of consistency claims; exit 1 if any is not met", f"{_FRONT}.gate"),
    Command(
        "cleanup",
        "remove what killed runs left behind (namespaces, rules, processes)",
        f"{_FRONT}.command_cleanup",
    ),
    Command(
        "list",
        "every target, workload, nemesis, model and checker, and who provides it",
        f"{_FRONT}.command_list",
    ),
    Command(
        "maelstrom",
        "run Maelstrom-protocol nodes, as Maelstrom does",
        f"{_FRONT}.maelstrom_cli",
    ),
)


def _adder(module: str) -> Callable[[argparse.ArgumentParser], None]:
    def add(parser: argparse.ArgumentParser) -> None:
        importlib.import_module(module).add_arguments(parser)

    return add


def build_parser(lazy: bool = False) -> argparse.ArgumentParser:
    """The whole command line; ``lazy``: each sub-command's options (and module) only when
    that sub-command is parsed or its help shown, as ``main`` does."""
    parser = _Parser(prog="splitbrain", description="Jepsen-style consistency testing.")
    parser.add_argument("--version", action="version", version=f"splitbrain {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for command in COMMANDS:
        p = sub.add_parser(command.name, help=command.help, formatter_class=command.formatter_class)
        p.populate = _adder(command.module)
        if not lazy:
            p._populate_once()
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The command line. The working directory is importable (last on ``sys.path``), so
    ``--target mypkg.t:MyTarget`` finds a project's own package, as ``python -m`` would.

    Every import beyond this module's happens in here, under the handlers below: a Ctrl-C
    while a sub-command's modules load exits 130 with one line, as during a run."""
    try:
        if os.getcwd() not in sys.path:
            sys.path.append(os.getcwd())
        parser = build_parser(lazy=True)
        args, extra = parser.parse_known_args(argv)
        if extra and not hasattr(args, "node_args"):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        if extra:
            args.node_args = extra
        if not getattr(args, "func", None):
            parser.print_help(sys.stderr)
            return ExitCode.BAD_INPUT
        return args.func(args)
    except HarnessInputError as e:
        print(f"splitbrain: {e}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    except SplitbrainError as e:
        print(f"splitbrain: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt as e:
        print(f"splitbrain: interrupted ({signal_name(e)})", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        return ExitCode.VALID
    except OSError as e:
        where = f" {e.filename}" if e.filename else ""
        print(f"splitbrain: the harness failed:{where}: {e.strerror or e}", file=sys.stderr)
        return ExitCode.HARNESS
    except Exception as e:
        traceback.print_exc()
        print(f"splitbrain: the harness failed: {type(e).__name__}: {e}", file=sys.stderr)
        return ExitCode.HARNESS


def console() -> NoReturn:
    """The ``splitbrain`` command: ``main``, in a process that ends when it returns, without
    freeing what the command is done with (``harness.base.lifetime``)."""
    lifetime.one_shot()
    lifetime.end(main())


if __name__ == "__main__":
    console()
