"""The test spec: every setting of a test, written once, with its kind, default and help.

The flags of ``splitbrain test`` (``add_arguments``, ``from_args``), the claim keys of
``splitbrain gate`` and the pytest fixture's keyword arguments (``claim_value``,
``CLAIM_KEYS``) and the replay command (``TestSpec.command``) are all derived from the
fields of ``TestSpec``, whose metadata is a ``Param``. A value that does not fit its kind
is refused in one line naming the flag or key and the stated range.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from splitbrain.checkers import hierarchy
from splitbrain.checkers.spectrum import ELLE_ONLY
from splitbrain.checkers.txn.rw_register import ASSUMPTIONS
from splitbrain.harness import nemesis as nemeses
from splitbrain.harness.base import store
from splitbrain.harness.base.bounds import brief
from splitbrain.harness.base.outputs import writable_dir
from splitbrain.harness.base.protocols import HarnessInputError
from splitbrain.harness.base.values import (
    ChoiceList,
    FilePath,
    Integer,
    Kind,
    NameList,
    Number,
    Optional,
    Problem,
    Text,
    TextMap,
)
from splitbrain.harness.control.sshopts import add_arguments as add_ssh_arguments
from splitbrain.harness.control.sshopts import command_args as ssh_command_args
from splitbrain.harness.control.sshopts import options_from_args as ssh_options_from_args
from splitbrain.harness.engine import assemble

MAX_FAULT_ROUNDS = 10_000
"""Fault cycles in one main phase (time limit over twice the nemesis interval), at most."""
_PARAM = "splitbrain.param"


@dataclass(frozen=True)
class Param:
    """How one TestSpec field is set: its kind, help, flag, and where else it may be set."""

    name: str
    kind: Kind
    help: str
    default: Any
    flag: str | None
    """The ``splitbrain test`` flag; None when the field has flags of its own (``ssh``)."""
    metavar: str | None = None
    claim: bool = True
    """Settable from a claims file, the marker and the fixture."""
    always: bool = False
    """Always in the replay command, not only when it differs from the default."""
    aliases: tuple[str, ...] = ()
    """Other spellings of the flag."""
    repeat: bool = False
    """The flag may be given more than once; its texts are joined with commas."""


@dataclass(frozen=True)
class RunName:
    """A test name: one directory of the store, never one of the store's own entries."""

    text: Text = Text(max_len=100)
    describe: str = (
        "a name without '/', '\\', control characters or a leading '.' or '-', "
        f"other than {', '.join(store.RESERVED)}"
    )

    def from_text(self, text: str) -> str:
        return self.from_value(text)

    def from_value(self, value: Any) -> str:
        fail = Problem(f"must be {self.describe}, at most 100 characters, got {brief(value)}")
        try:
            name = self.text.from_value(value)
        except Problem:
            raise fail from None
        if (
            "/" in name
            or "\\" in name
            or name[0] in ".-"
            or store.safe_name(name) in store.RESERVED
        ):
            raise fail
        return name

    def to_text(self, value: str) -> str:
        return value


DATA = (int, float, bool, list, dict, tuple, type(None))
"""What a YAML value can be besides a string: never a target, workload, nemesis or model."""


@dataclass(frozen=True)
class Part:
    """A name (or ``module:attr`` path) as text, or the user's own object, named by its label."""

    text: Kind = Text()
    describe: str = "a name or module:attr"

    def from_text(self, text: str) -> Any:
        return self.text.from_text(text)

    def from_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text.from_value(value)
        if isinstance(value, DATA):
            raise Problem(f"must be a name, a module:attr path or an object, got {brief(value)}")
        return value

    def to_text(self, value: Any) -> str:
        return assemble.label(value)


@dataclass(frozen=True)
class Parts:
    """A list of names or objects (nemeses), written as their labels joined by commas."""

    names: NameList

    @property
    def describe(self) -> str:
        return self.names.describe

    def from_text(self, text: str) -> list[Any]:
        return self.names.from_text(text)

    def from_value(self, value: Any) -> list[Any]:
        if isinstance(value, list | tuple) and not all(isinstance(v, str) for v in value):
            return [Part().from_value(v) for v in value]
        return self.names.from_value(value)

    def to_text(self, value: list[Any]) -> str:
        return self.names.to_text([assemble.label(v) for v in value])


def _param(default: Any, kind: Kind, help: str, **how: Any) -> Any:
    """A TestSpec field whose metadata says how it is set (see ``Param``)."""
    meta = {_PARAM: {"kind": kind, "help": help, **how}}
    if isinstance(default, list | dict):
        return field(default_factory=lambda: type(default)(), metadata=meta)
    return field(default=default, metadata=meta)


SECONDS = "seconds"


@dataclass
class TestSpec:
    """Everything needed to run, and rerun, a test."""

    __test__ = False  # a spec, not a pytest test class

    target: Any = _param(
        "memory", Part(), "system under test (a name, module:attr, or a Target)", always=True
    )
    workload: Any = _param(
        "register", Part(), "what the clients do (a name, module:attr, or a workload)", always=True
    )
    nemesis: list[Any] = _param(
        [],
        Parts(NameList(empty=nemeses.NONE)),
        "faults to inject, comma-separated",
        always=True,
        metavar="NAME[,NAME]",
    )
    concurrency: int = _param(5, Integer(1, 1000), "client workers", always=True)
    time_limit: float = _param(
        10.0, Number(0, 86400, unit=SECONDS), "seconds of the main phase", always=True
    )
    rate: float | None = _param(
        None,
        Optional(Number(0, 1e6, unit="ops/s")),
        "ops/s across all workers; 0 is as fast as possible (default: the target's own "
        "default_rate: memory 100, enough to find its faults in a run of well under a MB; "
        "sim 50 for the set workload, whose every read returns the whole set, else 0; "
        "the others 0)",
        always=True,
        metavar="OPS",
    )
    keys: int = _param(8, Integer(1, 10_000), "independent keys", always=True)
    seed: int | None = _param(
        None,
        Optional(Integer(0, 2**63 - 1)),
        "the random seed (default: a fresh one, recorded)",
        always=True,
    )
    store: str = _param("reports", FilePath(), "directory of runs", claim=False, metavar="DIR")
    name: str | None = _param(
        None, Optional(RunName()), "the test's name (default: TARGET-WORKLOAD)"
    )
    options: dict[str, str] = _param({}, TextMap(), "target option (repeatable)", flag="-o")
    workload_options: dict[str, str] = _param(
        {},
        TextMap(),
        "workload or checker option (repeatable), e.g. set: linearizable=true",
        flag="-w",
    )
    model: Any = _param(
        None,
        Optional(Part()),
        "the data type the workload's operations are checked as (register workload: "
        "cas-register or register, or a model as module:attr; default: the workload's)",
        flag="--data-type",
        aliases=("--type", "--model"),
    )
    consistency: list[str] = _param(
        [],
        NameList(empty="default", max_items=32),
        "consistency models claimed, comma-separated or repeated (linearizable, sequential, "
        "serializable, snapshot-isolation, ...; default: the workload's own, e.g. "
        "linearizable for register, strict-serializable for list-append)",
        metavar="MODEL[,MODEL]",
        repeat=True,
    )
    nemesis_interval: float = _param(
        3.0,
        Number(0.01, 3600, unit=SECONDS),
        "seconds per fault and per quiet spell",
    )
    settle: float | None = _param(
        None,
        Optional(Number(0, 3600, unit=SECONDS)),
        "seconds the system recovers after healing, before the final phase (default: "
        "min(5, nemesis interval) after faults or before reading every node, else 0)",
    )
    op_timeout: float = _param(
        5.0,
        Number(0, 3600, above=True, unit=SECONDS),
        "seconds before an op is recorded as info",
        always=True,
    )
    final_time_limit: float = _param(
        30.0,
        Number(0, 86400, above=True, unit=SECONDS),
        "seconds the final phase (final reads, drains) may take",
    )
    check_timeout: float = _param(
        120.0,
        Number(0, 86400, above=True, unit=SECONDS),
        "seconds before a checker says unknown",
        always=True,
    )
    ssh: dict[str, Any] | None = _param(
        None,
        Optional(TextMap()),  # checked by harness.control.sshopts, which owns its flags
        "remote nodes (harness.control.sshopts.SshOptions as a dict); None means local nodes",
        flag=None,
        claim=False,
    )
    assume: list[str] = _param(
        [],
        ChoiceList(ASSUMPTIONS),
        "what the checker may assume of the keys, to infer more of their version orders "
        "(rw-register; repeatable)",
        repeat=True,
        metavar="PROPERTY",
    )

    def __post_init__(self) -> None:
        """A consistency model given as ``model`` (the older spelling) is one claimed: the
        front ends say so in one line (``consistency_in_model``); a spec built directly
        means the same, and its replay command says ``--consistency``."""
        if isinstance(self.consistency, list):
            values = {"model": self.model, "consistency": self.consistency}
            if consistency_in_model(values) is not None:
                self.model, self.consistency = None, values["consistency"]

    def validate(self) -> None:
        """Every field in its kind and range, and every name known, before anything starts."""
        for p in PARAMS.values():
            if p.name == "ssh":
                if self.ssh is not None and not isinstance(self.ssh, dict):
                    raise HarnessInputError(f"ssh must be a dict or None, got {brief(self.ssh)}")
                continue
            try:
                p.kind.from_value(getattr(self, p.name))
            except Problem as e:
                raise HarnessInputError(f"{p.name} {e}") from None
        if self.faults and self.time_limit / (2 * self.nemesis_interval) > MAX_FAULT_ROUNDS:
            raise HarnessInputError(
                f"--time-limit {self.time_limit:g} over --nemesis-interval {self.nemesis_interval:g} "
                f"makes more than {MAX_FAULT_ROUNDS} fault cycles; raise the interval"
            )
        assemble.check_name("target", self.target)
        assemble.check_name("workload", self.workload)
        for name in self.nemesis:
            assemble.check_name("nemesis", name)

    def check_outputs(self) -> None:
        """The store can hold this test's runs: checked after ``validate``, before a run starts."""
        writable_dir(Path(self.store), "--store")
        store.check_name(Path(self.store), self.run_name)

    def settle_seconds(self, reads_every_node: bool) -> float:
        """How long the system recovers before the final phase: ``settle`` when given; else
        after faults, or before nodes are read one by one (replication may still be in
        flight without faults), the shorter of 5 s and the nemesis interval."""
        if self.settle is not None:
            return self.settle
        if not self.faults and not reads_every_node:
            return 0.0
        return min(5.0, self.nemesis_interval)

    @property
    def faults(self) -> list[Any]:
        return assemble.faults(self.nemesis)

    @property
    def run_name(self) -> str:
        return self.name or f"{assemble.label(self.target)}-{assemble.label(self.workload)}"

    def argv(self) -> list[str]:
        """The words of the command that replays this test."""
        words = ["splitbrain", "test"]
        for p in PARAMS.values():
            value = getattr(self, p.name)
            if p.flag is None or value is None or (not p.always and value == p.default):
                continue
            if isinstance(p.kind, TextMap):
                for key, text in sorted(value.items()):
                    words += [p.flag, f"{key}={text}"]
                continue
            if p.repeat:
                for item in value:
                    text = p.kind.to_text([item])
                    words += [f"{p.flag}={text}"] if text.startswith("-") else [p.flag, text]
                continue
            text = p.kind.to_text(value)
            words += [f"{p.flag}={text}"] if text.startswith("-") else [p.flag, text]
        return words + ssh_command_args(self.ssh)

    def command(self) -> str:
        """The command line that replays this test."""
        return shlex.join(self.argv())


def _metavar(kind: Kind) -> str:
    inner = kind.kind if isinstance(kind, Optional) else kind
    if isinstance(inner, Number):
        return "S" if inner.unit == SECONDS else "X"
    if isinstance(inner, TextMap):
        return "KEY=VALUE"
    return "N" if isinstance(inner, Integer) else "NAME"


def _params() -> dict[str, Param]:
    out = {}
    for f in dataclasses.fields(TestSpec):
        how = dict(f.metadata[_PARAM])
        how.setdefault("flag", "--" + f.name.replace("_", "-"))
        how.setdefault("metavar", _metavar(how["kind"]))
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        out[f.name] = Param(f.name, default=default, **how)
    return out


PARAMS: dict[str, Param] = _params()
"""Every TestSpec field and how it is set, in field order."""
CLAIM_KEYS: tuple[str, ...] = tuple(p.name for p in PARAMS.values() if p.claim)
"""The fields a claim, the marker and the fixture may set."""


# ---------------------------------------------------------------- the older spelling


def consistency_in_model(values: dict[str, Any]) -> str | None:
    """When ``values["model"]`` names a consistency model (the older spelling), move it to
    ``values["consistency"]`` and return it; the caller says so in one deprecation line."""
    model = values.get("model")
    if not isinstance(model, str) or model not in CONSISTENCY_NAMES:
        return None
    del values["model"]
    claimed = list(values.get("consistency") or [])
    values["consistency"] = claimed if model in claimed else [*claimed, model]
    return model


CONSISTENCY_NAMES = frozenset({*hierarchy.NAMES, *ELLE_ONLY})


# ---------------------------------------------------------------- the command line


def _help(p: Param) -> str:
    if isinstance(p.kind, TextMap):
        return p.help
    default = "" if p.default is None else f"; default: {p.kind.to_text(p.default)}"
    return f"{p.help} ({p.kind.describe}{default})"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``splitbrain test``, one per field; values are parsed by ``from_args``."""
    for p in PARAMS.values():
        if p.flag is None:
            continue
        repeat = isinstance(p.kind, TextMap) or p.repeat
        parser.add_argument(
            p.flag,
            *p.aliases,
            dest=p.name,
            metavar=p.metavar,
            default=[] if repeat else None,
            action="append" if repeat else "store",
            help=_help(p),
        )
    add_ssh_arguments(parser)


def from_args(args: argparse.Namespace, notices: list[str] | None = None) -> TestSpec:
    """The spec the flags say; raises HarnessInputError naming the flag and its range.
    A deprecated spelling is appended to ``notices`` in one line."""
    values: dict[str, Any] = {}
    for p in PARAMS.values():
        if p.flag is None:
            continue
        given = getattr(args, p.name)
        if given is None or given == []:
            continue
        try:
            if isinstance(p.kind, TextMap):
                pairs = [pair for word in given for pair in p.kind.from_text(word)]
                values[p.name] = p.kind.from_pairs(pairs)
            elif p.repeat:
                values[p.name] = p.kind.from_text(",".join(given))
            else:
                values[p.name] = p.kind.from_text(given)
        except Problem as e:
            raise HarnessInputError(f"{p.flag} {e}") from None
    moved = consistency_in_model(values)
    if moved is not None and notices is not None:
        notices.append(
            f"--model {moved} is deprecated for a consistency model; use --consistency {moved}"
        )
    return TestSpec(**values, ssh=ssh_options_from_args(args))


# ---------------------------------------------------------------- claims and the fixture


def claim_value(key: str, value: Any) -> Any:
    """A claim's (or the fixture's) value for field ``key``; raises Problem if it does not fit."""
    p = PARAMS[key]
    if not p.claim:
        raise Problem(f"{key} is not settable here")
    return p.kind.from_value(value)
