"""``splitbrain list``: every registered target, workload, nemesis, model and checker."""

from __future__ import annotations

import argparse
import sys

from splitbrain.harness.base.verdict import EXIT_VALID
from splitbrain.harness.front import listing


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.set_defaults(func=cmd_list)


def cmd_list(args: argparse.Namespace) -> int:
    found = listing.listing()
    print(listing.render(found))
    for line in found.broken:
        print(f"splitbrain: {line}", file=sys.stderr)
    return EXIT_VALID
