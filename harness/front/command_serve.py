"""``splitbrain serve``: the store's index and reports over HTTP."""

from __future__ import annotations

import argparse
from pathlib import Path

from splitbrain.harness import report
from splitbrain.harness.base.protocols import HarnessInputError
from splitbrain.harness.base.verdict import EXIT_VALID


def add_arguments(p: argparse.ArgumentParser) -> None:
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
