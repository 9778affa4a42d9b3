"""``splitbrain list``: every registered target, workload, nemesis, model and checker, and
the consistency models ``--consistency`` accepts (a fixed map, not plugins).

Each plugin is loaded to describe it; one that fails to import is listed as broken (or as
not installed, with the command that installs it, when only a server driver is missing),
with one line naming it, and the rest are listed as usual.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from tabulate import tabulate

from splitbrain.checkers import hierarchy
from splitbrain.harness.base import plugins
from splitbrain.harness.base.errors import SplitbrainError
from splitbrain.harness.engine import assemble
from splitbrain.workloads import WorkloadSpec

HEADERS: dict[str, tuple[str, ...]] = {
    "target": ("target", "provided by", "operations", "nemeses"),
    "workload": ("workload", "provided by", "operations"),
    "nemesis": ("nemesis", "provided by", "faults (start/stop)", "target must be"),
    "model": ("model", "provided by", "loads"),
    "checker": ("checker", "provided by", "loads"),
}
TITLES = {
    "target": "Targets",
    "workload": "Workloads",
    "nemesis": "Nemeses",
    "model": "Models",
    "checker": "Checkers",
}


WRAP = 48
"""Columns of space-separated names wrap at this width."""


def _wrap(cell: str) -> str:
    return textwrap.fill(cell, WRAP, break_on_hyphens=False, break_long_words=False)


@dataclass(frozen=True)
class Listing:
    tables: dict[str, list[tuple[str, ...]]]
    """Kind -> rows, in ``HEADERS`` order."""
    broken: list[str]
    """One line per plugin that could not be loaded."""


def _target_row(entry: plugins.Entry) -> tuple[str, ...]:
    target = assemble.target(entry.name)
    takes = [
        name
        for name in plugins.names("nemesis")
        if assemble.nemesis_refusal(target, name, assemble.nemesis_kind(name)) is None
    ]
    return (entry.name, entry.dist, " ".join(sorted(target.operations)), " ".join(takes))


def _workload_row(entry: plugins.Entry) -> tuple[str, ...]:
    workload = assemble.workload(entry.name, WorkloadSpec())
    return (entry.name, entry.dist, " ".join(sorted(assemble.needed_operations(workload))))


def _nemesis_row(entry: plugins.Entry) -> tuple[str, ...]:
    kind = assemble.nemesis_kind(entry.name)
    cycle = ", ".join(f"{start}/{stop}" for start, stop in kind.cycle)
    return (entry.name, entry.dist, cycle, " ".join(p.__name__ for p in kind.requires) or "-")


def _loaded_row(entry: plugins.Entry) -> tuple[str, ...]:
    plugins.load_entry(entry)
    return (entry.name, entry.dist, entry.value)


ROWS = {
    "target": _target_row,
    "workload": _workload_row,
    "nemesis": _nemesis_row,
    "model": _loaded_row,
    "checker": _loaded_row,
}


def listing() -> Listing:
    tables: dict[str, list[tuple[str, ...]]] = {}
    broken: list[str] = []
    for kind, row in ROWS.items():
        rows = tables[kind] = []
        for entry in plugins.entries(kind).values():
            try:
                rows.append(row(entry))
            except SplitbrainError as e:
                broken.append(str(e))
                state = (
                    f"not installed: splitbrain[{e.extra}]"
                    if isinstance(e, plugins.MissingExtra)
                    else "BROKEN: see below"
                )
                width = len(HEADERS[kind]) - 2
                rows.append((entry.name, entry.dist, state, *[""] * (width - 1)))
    return Listing(tables, broken)


CONSISTENCY_HEADERS = ("consistency model", "data types", "implies", "available under partition")


def consistency_rows() -> list[tuple[str, ...]]:
    return [
        (m.name, " ".join(m.data_types), " ".join(m.implies) or "-", m.availability)
        for m in hierarchy.MODELS.values()
    ]


def _table(title: str, headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    wrapped = [[_wrap(cell) for cell in row] for row in rows]
    return f"{title}\n{tabulate(wrapped, headers=headers, tablefmt='simple')}"


def render(found: Listing) -> str:
    parts = [_table(TITLES[kind], HEADERS[kind], rows) for kind, rows in found.tables.items()]
    parts.append(_table("Consistency models", CONSISTENCY_HEADERS, consistency_rows()))
    return "\n\n".join(parts)
