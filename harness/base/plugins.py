"""The one registry of targets, workloads, nemeses, models and checkers: entry points.

splitbrain's own pieces and a user's plugins are found the same way, through the
entry-point groups below (declared in a distribution's ``pyproject.toml``)::

    [project.entry-points."splitbrain.targets"]
    mystore = "mypkg.target:MyStoreTarget"

What an entry point's value loads, by group:

- ``splitbrain.targets``: a class or factory; called with no arguments it gives a ``Target``.
- ``splitbrain.workloads``: a factory taking a ``WorkloadSpec``, giving a ``Workload``.
- ``splitbrain.nemeses``: a ``NemesisKind``-like object: ``build()`` gives a ``Nemesis``,
  ``cycle`` is its (start f, stop f) pairs, ``requires`` the capability protocols a
  target needs for it (``splitbrain.NemesisKind`` is such a record).
- ``splitbrain.models``: a ``Model`` (``init()`` and ``step()``), a class of one, or a
  factory taking the initial state (or nothing) and giving one.
- ``splitbrain.checkers``: a callable taking a history and giving a result dict
  (``splitbrain check --model NAME`` runs it on a stored history).

Wherever a name is accepted (CLI flags, claims files, the pytest fixture and marker) a
``module:attr`` path (``mypkg.models:counter``, ``mypkg.t:Outer.Inner``) loads that object
directly, and ``splitbrain.run`` takes the objects themselves.

A plugin that fails to import is reported in one line naming it, and only when it is
used (or listed): the others keep working. Every failure to load raises ``PluginError``
(exit 254).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from splitbrain.harness.base.errors import PluginError

log = logging.getLogger("splitbrain")

GROUPS: dict[str, str] = {
    "target": "splitbrain.targets",
    "workload": "splitbrain.workloads",
    "nemesis": "splitbrain.nemeses",
    "model": "splitbrain.models",
    "checker": "splitbrain.checkers",
}
"""Kind of plugin -> its entry-point group."""

EXTRAS = {
    "redis": "redis",
    "requests": "etcd",
    "paramiko": "ssh",
    "psycopg": "postgres",
    "pymysql": "mariadb",
}
"""Server drivers, and the extra of ``pip install 'splitbrain[EXTRA]'`` that installs each."""


class MissingExtra(PluginError):
    """A plugin needs a server driver this install lacks: not broken, only not installed."""

    def __init__(self, message: str, extra: str) -> None:
        super().__init__(message)
        self.extra = extra
        """The extra that installs it: ``pip install 'splitbrain[EXTRA]'``."""


@dataclass(frozen=True)
class Entry:
    """One registered plugin: what it is called, where it lives, who provides it."""

    kind: str
    name: str
    value: str
    """``module:attr`` the entry point loads."""
    dist: str
    """The distribution that declares it (``name version``)."""


def _dist_of(dist: importlib.metadata.Distribution | None) -> str:
    if dist is None:
        return "?"
    meta = dist.metadata
    return f"{meta['Name']} {meta['Version']}"


@cache
def entries(kind: str) -> dict[str, Entry]:
    """Every registered plugin of ``kind`` by name; a name declared twice keeps the first.

    Each distribution's name and version are read once: every read of ``dist.metadata``
    parses the whole file, README included (about 3 ms for splitbrain's), and most of a
    group's entry points come from one distribution."""
    found: dict[str, Entry] = {}
    dists: dict[importlib.metadata.Distribution | None, str] = {}
    for ep in importlib.metadata.entry_points(group=GROUPS[kind]):
        if ep.dist not in dists:
            dists[ep.dist] = _dist_of(ep.dist)
        entry = Entry(kind, ep.name, ep.value, dists[ep.dist])
        first = found.setdefault(ep.name, entry)
        if first is not entry and first.value != entry.value:
            log.warning(
                "%s %r is declared by %s and by %s; using %s",
                kind,
                ep.name,
                first.dist,
                entry.dist,
                first.value,
            )
    return dict(sorted(found.items()))


def names(kind: str) -> list[str]:
    return list(entries(kind))


def is_path(name: str) -> bool:
    """A ``module:attr`` path rather than a registered name."""
    return ":" in name


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__


def load_path(path: str, what: str) -> Any:
    """The object at ``module:attr``; PluginError naming ``what`` and the path otherwise."""
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise PluginError(f"{what} {path!r}: expected module:attr")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name is not None and (module_name + ".").startswith(e.name + "."):
            raise PluginError(f"{what} {path!r}: no module named {e.name!r}") from None
        driver = (e.name or "").split(".")[0]
        if driver in EXTRAS:
            extra = EXTRAS[driver]
            raise MissingExtra(
                f"{what} {path!r} needs the {driver} package: pip install 'splitbrain[{extra}]'",
                extra,
            ) from None
        raise PluginError(
            f"{what} {path!r}: importing {module_name} failed: {_one_line(e)}"
        ) from None
    except Exception as e:  # a module that raises on import is the user's to fix
        raise PluginError(
            f"{what} {path!r}: importing {module_name} failed: {_one_line(e)}"
        ) from None
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise PluginError(f"{what} {path!r}: {module_name} has no attribute {attr!r}") from None
    return obj


def load_entry(entry: Entry) -> Any:
    try:
        return load_path(entry.value, f"{entry.kind} plugin {entry.name!r} ({entry.dist})")
    except MissingExtra:
        raise
    except PluginError as e:
        raise PluginError(str(e)) from None


def load(kind: str, name: str) -> Any:
    """What the plugin ``name`` (or the ``module:attr`` path) of ``kind`` loads."""
    if is_path(name):
        return load_path(name, kind)
    entry = entries(kind).get(name)
    if entry is None:
        raise PluginError(f"unknown {kind} {name!r}; known: {', '.join(names(kind)) or 'none'}")
    return load_entry(entry)


def check_name(kind: str, name: str) -> None:
    """Refuse an unknown name without importing anything (paths are loaded to check them)."""
    if is_path(name):
        load_path(name, kind)
    elif name not in entries(kind):
        raise PluginError(f"unknown {kind} {name!r}; known: {', '.join(names(kind)) or 'none'}")


class View(Mapping[str, Any]):
    """The registry of one kind as a read-only mapping of name to loaded object."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __getitem__(self, name: str) -> Any:
        if name not in entries(self.kind):
            raise KeyError(name)
        return load_entry(entries(self.kind)[name])

    def __iter__(self) -> Iterator[str]:
        return iter(entries(self.kind))

    def __len__(self) -> int:
        return len(entries(self.kind))
