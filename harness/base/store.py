"""The on-disk layout of runs: ``STORE/NAME/YYYYmmddTHHMMSS.fff/`` and ``STORE/latest``."""

from __future__ import annotations

import errno
import gzip
import json
import os
import re
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from splitbrain.harness.base.errors import HarnessInputError
from splitbrain.harness.base.verdict import json_default

HISTORY = "history.jsonl"
HISTORY_GZ = "history.jsonl.gz"
"""A big run's history, compressed once the run is over (``COMPRESS_ABOVE``)."""
HISTORIES = (HISTORY, HISTORY_GZ)
COMPRESS_ABOVE = 64 * 1024 * 1024
RESULTS = "results.json"
TEST = "test.json"
LOG = "splitbrain.log"
LOGS_DIR = "logs"
LATEST = "latest"
INDEX = "index.html"
RESERVED = (LATEST, INDEX)
"""The store's own entries, which no test name may take."""
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str) -> str:
    """A test name usable as one directory name."""
    cleaned = _SAFE_NAME.sub("-", name).strip(".-")
    return cleaned or "run"


def check_name(store: Path, name: str) -> None:
    """Refuse a test name whose directory would be one of the store's own entries, or is
    taken by something that is not a directory of runs."""
    entry = safe_name(name)
    path = store / entry
    if entry in RESERVED or entry.startswith("."):
        raise HarnessInputError(f"--name {name!r}: {entry!r} is the store's own entry")
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise HarnessInputError(f"--name {name!r}: {path} exists and is not a directory of runs")


def new_run_dir(store: Path, name: str, now: datetime | None = None) -> Path:
    """Create a fresh run directory; a clash within the same millisecond gets a suffix."""
    stamp = (now or datetime.now()).strftime("%Y%m%dT%H%M%S.%f")[:-3]
    parent = store / safe_name(name)
    parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(1000):
        candidate = parent / (stamp if attempt == 0 else f"{stamp}-{attempt}")
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue
    raise RuntimeError(f"cannot create a run directory under {parent}")


def point_latest(store: Path, run_dir: Path) -> None:
    """Atomically repoint ``STORE/latest`` at ``run_dir`` (a relative symlink)."""
    link = store / LATEST
    tmp = store / f".{LATEST}.{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(os.path.relpath(run_dir, store))
    os.replace(tmp, link)


def history_path(run_dir: Path) -> Path:
    """The run's history file: plain, or compressed if the run was big."""
    plain = run_dir / HISTORY
    packed = run_dir / HISTORY_GZ
    return packed if packed.is_file() and not plain.is_file() else plain


def compress_history(run_dir: Path, above: int = COMPRESS_ABOVE) -> Path:
    """Replace a history bigger than ``above`` bytes by its gzip; returns the history's path.

    Only a finished run's history: the plain file is removed only after the compressed one
    is complete on disk, so a crash in between leaves both, never neither.
    """
    plain = run_dir / HISTORY
    if not plain.is_file() or plain.stat().st_size <= above:
        return plain
    packed = run_dir / HISTORY_GZ
    tmp = packed.with_name(packed.name + ".tmp")
    with plain.open("rb") as src, gzip.open(tmp, "wb", compresslevel=6) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    with tmp.open("rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, packed)
    plain.unlink()
    return packed


def write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(data, indent=2, default=json_default) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def disk_problem(store: Path, path: Path, error: OSError) -> str:
    """One line for a write into the store that failed."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"no space left on {store}"
    return f"cannot write {path}: {error.strerror or error}"


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
