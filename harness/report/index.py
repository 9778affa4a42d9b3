"""The index of all runs in a store: a table, newest first, linking to each report and file."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from splitbrain.harness.base import store
from splitbrain.harness.base.protocols import HarnessInputError
from splitbrain.harness.base.verdict import run_failures
from splitbrain.harness.report.markup import esc, href, verdict_class, verdict_text
from splitbrain.harness.report.page import document
from splitbrain.harness.report.run import RUN_FILES

RUN_DIR_FORMATS = ("%Y%m%dT%H%M%S.%f", "%Y%m%dT%H%M%S")
FILE_LINKS = (*store.HISTORIES, store.RESULTS, store.TEST, store.LOG)


@dataclass(slots=True)
class RunEntry:
    run_dir: Path
    name: str
    started: datetime | None
    test: dict[str, Any]
    valid: Any
    crashed: bool = False
    """A checker raised: no verdict (shown as ERROR)."""

    @property
    def sort_key(self) -> float:
        if self.started is not None:
            return self.started.timestamp()
        return self.run_dir.stat().st_mtime


def find_runs(store: Path) -> list[RunEntry]:
    """Run directories STORE/NAME/TIMESTAMP, newest first; symlinks such as STORE/latest are skipped."""
    runs = []
    for name_dir in sorted(p for p in store.iterdir() if p.is_dir() and not p.is_symlink()):
        for run_dir in name_dir.iterdir():
            if run_dir.is_dir() and not run_dir.is_symlink() and _is_run(run_dir):
                runs.append(_entry(name_dir.name, run_dir))
    runs.sort(key=lambda r: r.sort_key, reverse=True)
    return runs


def _is_run(path: Path) -> bool:
    return any((path / n).is_file() for n in RUN_FILES)


def _entry(name: str, run_dir: Path) -> RunEntry:
    test = _json(run_dir / "test.json")
    results = _json(run_dir / "results.json")
    return RunEntry(
        run_dir=run_dir,
        name=str(test.get("name") or name),
        started=_started(run_dir.name),
        test=test,
        valid=results.get("valid") if results else None,
        crashed=bool(run_failures(results)),
    )


def _json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def _started(dirname: str) -> datetime | None:
    for fmt in RUN_DIR_FORMATS:
        try:
            return datetime.strptime(dirname, fmt)
        except ValueError:
            continue
    return None


def render_index(store: Path, base: Path, live: bool = False) -> str:
    """The index page; links are relative to ``base``. ``live``: the server builds missing reports."""
    runs = find_runs(store.resolve())
    if not runs:
        body = f'<p class="empty">No runs in {esc(str(store))} yet.</p>'
    else:
        rows = "".join(_row(r, base, live) for r in runs)
        body = (
            '<table class="runs"><tr><th>time</th><th>name</th><th>target</th><th>workload</th>'
            f"<th>nemeses</th><th>duration</th><th>verdict</th><th>files</th></tr>{rows}</table>"
        )
    counts = _verdict_counts(runs)
    head = f'<header class="top"><h1>splitbrain runs</h1><div>{esc(str(store))}: {esc(counts)}</div></header>'
    return document("splitbrain runs", f"{head}<main><section>{body}</section></main>")


def _verdict_counts(runs: list[RunEntry]) -> str:
    tally: dict[str, int] = {}
    for r in runs:
        word = verdict_text(r.valid, r.crashed).lower()
        tally[word] = tally.get(word, 0) + 1
    return f"{len(runs)} runs" + "".join(f", {n} {v}" for v, n in sorted(tally.items()))


def _row(run: RunEntry, base: Path, live: bool) -> str:
    t = run.test
    nemeses = t.get("nemesis")
    if isinstance(nemeses, list):
        nemeses = ", ".join(str(n) for n in nemeses) or "none"
    duration = t.get("duration_s")
    when = run.started.strftime("%Y-%m-%d %H:%M:%S") if run.started else run.run_dir.name
    report = run.run_dir / "report.html"
    if live or report.is_file():
        first = f'<a class="report" href="{href(_rel(report, base))}">{esc(when)}</a>'
    else:
        first = esc(when)
    cells = [
        first,
        esc(run.name),
        esc(t.get("target", "")),
        esc(t.get("workload", "")),
        esc(nemeses if nemeses is not None else ""),
        f"{duration:.1f} s" if isinstance(duration, (int, float)) else "",
    ]
    links = [f'<a href="{href(_rel(report, base))}">report</a>'] if live or report.is_file() else []
    links += [
        f'<a href="{href(_rel(run.run_dir / n, base))}">{esc(n)}</a>'
        for n in FILE_LINKS
        if (run.run_dir / n).is_file()
    ]
    files = " ".join(links)
    tds = "".join(f"<td>{c}</td>" for c in cells)
    cls = verdict_class(run.valid)
    return f'<tr class="{cls}">{tds}<td class="verdict">{verdict_text(run.valid, run.crashed)}</td><td>{files}</td></tr>'


def _rel(path: Path, base: Path) -> str:
    return Path(os.path.relpath(path, base)).as_posix()


def write_index(store: Path, dest: Path | None = None) -> Path:
    """Write a static index of the store's runs (default STORE/index.html); returns its path."""
    store = Path(store)
    if not store.is_dir():
        raise HarnessInputError(f"{store}: no such store directory")
    dest = Path(dest) if dest is not None else store / "index.html"
    if dest.is_dir():
        dest = dest / "index.html"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(render_index(store, dest.parent.resolve()), encoding="utf-8")
    return dest
