"""Checks, made before anything runs, that the places a command will write to can be written.

Each refuses in one line naming the flag and the path: a store that is a file, a read-only
directory, a JUnit file whose directory cannot be made. Permission bits say little when
running as root, so each check writes (and removes) a probe file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from splitbrain.harness.base.protocols import HarnessInputError


def _why(e: OSError) -> str:
    return e.strerror or type(e).__name__


def writable_dir(path: Path, flag: str, create: bool = True) -> None:
    """``path`` is (or, with ``create``, is made) a directory this process can write in."""
    if path.exists() and not path.is_dir():
        raise HarnessInputError(f"{flag} {path}: not a directory")
    if create:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise HarnessInputError(f"{flag} {path}: cannot create it: {_why(e)}") from None
    elif not path.is_dir():
        raise HarnessInputError(f"{flag} {path}: no such directory")
    try:
        fd, probe = tempfile.mkstemp(prefix=".splitbrain-probe-", dir=path)
    except OSError as e:
        raise HarnessInputError(f"{flag} {path}: cannot write there: {_why(e)}") from None
    os.close(fd)
    os.unlink(probe)


def writable_file(path: Path, flag: str) -> None:
    """``path`` can be written as a file: not a directory, in a directory that can be
    made and written in; an existing file is left as it is."""
    if path.is_dir():
        raise HarnessInputError(f"{flag} {path}: is a directory")
    writable_dir(path.parent, flag)
    if path.exists():
        try:
            with path.open("ab"):
                pass
        except OSError as e:
            raise HarnessInputError(f"{flag} {path}: cannot write it: {_why(e)}") from None
