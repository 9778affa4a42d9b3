"""Elle's own checker-level test cases, restated as histories, checked by splitbrain.

Each case is a history from jepsen-io/elle's test suite (test/elle/rw_register_test.clj,
test/elle/list_append_test.clj, and the histories/ it reads) with the verdict, the anomaly
types and the ``:not`` set Elle asserts for it, under Elle's options translated to ours
(``:consistency-models nil`` with ``:anomalies`` is ``consistency_models=[]``; no
``:consistency-models`` is the default, strict-serializable; ``:X-keys? true`` is ``assume``).
Where splitbrain answers differently on purpose, the case says why (``differs``) and asserts
splitbrain's documented answer instead.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conftest import run_cli, shared_histories
from splitbrain.checkers import transactional
from splitbrain.checkers.txn import models as cm
from splitbrain.checkers.txn.core import BadHistory
from splitbrain.harness.base.history import Op, read_history

ELLE = shared_histories() / "elle"

Event = tuple[str, Any, str]
"""(what, process, micro-ops in Elle's test notation). ``what`` is ``pair`` (an invocation
at once followed by an ok completion), ``invoke`` (the invocation alone), or a completion type
(``ok``, ``fail``, ``info``) standing alone or completing the process's open invocation."""


def mops(text: str, lists: bool) -> list[list[Any]]:
    """Elle's notation: ``wx1`` write, ``ax1`` append, ``rx1`` a read of 1 (of [1] when
    ``lists``), ``rx12`` a list read of [1, 2], ``rx_`` / ``rx`` a nil read."""
    out: list[list[Any]] = []
    for f, k, v in re.findall(r"([rwa])([a-z])(\d*_?)", text):
        if f == "a":
            out.append(["append", k, int(v)])
        elif f == "w":
            out.append(["w", k, int(v)])
        elif v in ("", "_"):
            out.append(["r", k, None])
        elif lists:
            out.append(["r", k, [int(c) for c in v]])
        else:
            out.append(["r", k, int(v)])
    return out


def _list_reads(text: str) -> bool:
    return text.startswith("")


def _invocation(ms: list[list[Any]]) -> list[list[Any]]:
    return [[f, k, None] if f == "r" else [f, k, v] for f, k, v in ms]


def history(events: list[Event], lists: bool) -> list[Op]:
    ops: list[Op] = []
    for what, p, text in events:
        ms = mops(text, lists)
        if what in ("pair", "invoke"):
            ops.append(Op("invoke", "txn", p, _invocation(ms), index=len(ops)))
        if what != "invoke":
            ops.append(Op("ok" if what == "pair" else what, "txn", p, ms, index=len(ops)))
    return ops


@dataclass(frozen=True)
class Case:
    name: str
    events: list[Event]
    valid: Any
    types: set[str]
    not_: set[str]
    models: list[str] | None = None
    anomalies: list[str] = field(default_factory=list)
    assume: list[str] = field(default_factory=list)
    differs: str = ""
    """Why splitbrain's answer (the one asserted) is not Elle's; empty when they agree."""
    extra: frozenset[str] = frozenset()
    """Anomaly types splitbrain reports beyond Elle's (``differs`` says why)."""
    ours_not: frozenset[str] | None = None
    """splitbrain's ``not`` where it is not Elle's (``differs`` says why)."""


def anomalies(*names: str, **kw: Any) -> dict[str, Any]:
    return {"models": [], "anomalies": list(names), **kw}


def A(*names: str) -> dict[str, Any]:
    return anomalies(*names)


def M(model: str) -> dict[str, Any]:
    return {"models": [model]}


Row = tuple[str, dict[str, Any], Any, set[str], set[str]]
"""(label, options, Elle's verdict, its anomaly types, its :not)."""


def variants(name: str, events: list[Event], rows: list[Row]) -> list[Case]:
    """One of Elle's histories checked under several option sets."""
    return [
        Case(f"{name} for {label}", events, valid, types, not_, **opts)
        for label, opts, valid, types, not_ in rows
    ]


OK: tuple[bool, set[str], set[str]] = (True, set(), set())
RC, RU, RR = {"read-committed"}, {"read-uncommitted"}, {"repeatable-read"}
CV, SSSI = {"consistent-view"}, "strong-session-snapshot-isolation"
NEWER_MODEL_GRAPH = (
    "this Elle test predates read-atomic -> monotonic-atomic-view -> read-committed in Elle's "
    "own model graph (src/elle/consistency_model.clj), which splitbrain follows: read-atomic "
    "is in also_not, and Elle's list-append G1a case says :not #{:read-committed} too"
)
REAL_EXTRA_CYCLE = (
    "splitbrain also reports a second, genuine cycle of another class that Elle's search "
    "leaves out (a process / real-time edge closes it); the verdict and :not are Elle's"
)
ETG = "empty-transaction-graph"
EMPTY_GRAPH_DIFFERS = (
    "Elle calls a history whose transactions have no dependencies unknown and lists "
    "empty-transaction-graph among its anomalies; splitbrain calls it valid, with the reason "
    "as `vacuous`, because its unknown means only that a checker ran out of time or memory"
)


def ours(case: Case) -> tuple[Any, set[str]]:
    """Elle's verdict and anomaly types as splitbrain gives them (EMPTY_GRAPH_DIFFERS)."""
    if ETG not in case.types:
        return case.valid, case.types | case.extra
    return (True if case.valid == "unknown" else case.valid), case.types - {ETG} | case.extra


RW = [
    Case(
        "rw read doesn't return what was just written",
        [("pair", 0, "wx1"), ("pair", 0, "rx2")],
        True,
        set(),
        set(),
        models=["strict-serializable"],
        assume=["linearizable-keys"],
    ),
    Case(
        "rw read read returns what was just written",
        [("pair", 0, "wx1"), ("pair", 0, "rx2"), ("pair", 0, "rx1")],
        False,
        {"cyclic-versions"},
        RU,
        models=["strict-serializable"],
        assume=["linearizable-keys"],
    ),
    Case(
        "rw G0 without reads",
        [("invoke", 0, "wx1wy2"), ("invoke", 1, "wx2wy1")],
        "unknown",
        {ETG},
        set(),
        **anomalies("G0"),
    ),
    Case(
        "rw G0 with sequential keys",
        [("pair", 0, "wx1wy2"), ("pair", 1, "wx2wy1"), ("pair", 0, "rx2"), ("pair", 1, "ry2")],
        False,
        {"G0"},
        RU,
        **anomalies("G0", assume=["sequential-keys"]),
    ),
    Case(
        "rw G1a",
        [("ok", 0, "rx1"), ("fail", 0, "wx1")],
        False,
        {"G1a", ETG},
        {"read-atomic", "read-committed"},
        **anomalies("G1"),
        ours_not=frozenset(RC),
        differs=NEWER_MODEL_GRAPH,
    ),
    Case(
        "rw G1b for G0",
        [("ok", 0, "wx1wx2"), ("ok", 0, "rx1")],
        "unknown",
        {ETG},
        RC,
        **anomalies("G0"),
    ),
    Case(
        "rw G1b for G1",
        [("ok", 0, "wx1wx2"), ("ok", 0, "rx1")],
        False,
        {"G1b", ETG},
        RC,
        **anomalies("G1"),
    ),
    Case(
        "rw G1b for repeatable-read",
        [("ok", 0, "wx1wx2"), ("ok", 0, "rx1")],
        False,
        {"G1b", ETG},
        RC,
        models=["repeatable-read"],
    ),
    *variants(
        "rw G1c",
        [("ok", 0, "wx1ry1"), ("ok", 0, "wy1rx1")],
        [
            ("G0", A("G0"), *OK),
            ("read-uncommitted", M("read-uncommitted"), *OK),
            ("G1", A("G1"), False, {"G1c"}, RC),
            ("read-committed", M("read-committed"), False, {"G1c"}, RC),
            ("G2", A("G2"), *OK),
            ("serializable", M("serializable"), False, {"G1c"}, RC),
        ],
    ),
    Case(
        "rw G2-item for read-committed",
        [
            ("pair", 0, "rx1ry1"),
            ("invoke", 1, "rx1wy2"),
            ("pair", 2, "ry1wx2"),
            ("ok", 1, "rx1wy2"),
        ],
        True,
        set(),
        set(),
        models=["read-committed"],
        assume=["linearizable-keys"],
    ),
    Case(
        "rw G2-item for G2 (Elle computes but never asserts this one)",
        [
            ("pair", 0, "rx1ry1"),
            ("invoke", 1, "rx1wy2"),
            ("pair", 2, "ry1wx2"),
            ("ok", 1, "rx1wy2"),
        ],
        False,
        {"G2-item"},
        {"serializable"},
        **anomalies("G2", assume=["linearizable-keys"]),
        ours_not=frozenset(RR),
        differs="Elle's unasserted expectation says :not #{:serializable}; G2-item rules "
        "out repeatable-read, as Elle's own list-append G2 case says",
    ),
    Case(
        "rw internal",
        [("ok", 0, "rx1rx2")],
        False,
        {ETG, "internal"},
        {"read-atomic"},
        **anomalies("internal"),
    ),
    Case(
        "rw initial state",
        [
            ("invoke", 0, "rx_ry1"),
            ("invoke", 1, "wy1wx2"),
            ("ok", 1, "wy1wx2"),
            ("ok", 0, "rx_ry1"),
        ],
        False,
        {"G-single"},
        {"consistent-view"},
        models=["serializable"],
        ours_not=frozenset({"consistent-view", "repeatable-read"}),
        differs="G-single also rules out repeatable-read here (documented); Elle runs both "
        "transactions on process 0, here they are processes 0 and 1 (one process cannot "
        "have two transactions open)",
    ),
    Case(
        "rw wfr without wfr-keys",
        [("ok", 0, "ry1wx1wy2"), ("ok", 0, "rx1ry1")],
        True,
        set(),
        set(),
        models=["serializable"],
    ),
    Case(
        "rw wfr with wfr-keys",
        [("ok", 0, "ry1wx1wy2"), ("ok", 0, "rx1ry1")],
        False,
        {"G-single"},
        {"consistent-view"},
        models=["serializable"],
        assume=["wfr-keys"],
        ours_not=frozenset({"consistent-view", "repeatable-read"}),
        differs="G-single also rules out repeatable-read (documented)",
    ),
    Case(
        "rw cyclic version order",
        [("pair", 0, "wx1"), ("pair", 0, "wx2"), ("pair", 0, "rx1")],
        False,
        {"cyclic-versions"},
        RU,
        assume=["sequential-keys"],
    ),
    Case(
        "rw lost update",
        [("pair", 0, "rx0wx1"), ("pair", 1, "rx0wx2")],
        False,
        {"lost-update"},
        {"ROLA", "cursor-stability"},
    ),
]

LA = [
    *variants(
        "la G0",
        [("ok", 0, "ax1ay1"), ("ok", 0, "ax2ay2"), ("ok", 0, "rx12ry21")],
        [
            ("G0", A("G0"), False, {"G0"}, RU),
            ("G1", A("G1"), False, {"G0"}, RU),
            ("G2", A("G2"), *OK),
        ],
    ),
    *variants(
        "la G1a",
        [("fail", 0, "ax1"), ("ok", 0, "rx1")],
        [
            ("read-uncommitted", M("read-uncommitted"), "unknown", {ETG}, RC),
            ("read-committed", M("read-committed"), False, {"G1a", ETG}, RC),
            ("G2", A("G2"), "unknown", {ETG}, RC),
            ("repeatable-read", M("repeatable-read"), False, {"G1a", ETG}, RC),
        ],
    ),
    *variants(
        "la G1b",
        [("pair", 0, "ax1ax2"), ("pair", 0, "rx1")],
        [
            ("G0", A("G0"), *OK),
            ("G1", A("G1"), False, {"G1b"}, RC),
            ("G2", A("G2"), False, {"G-single-item"}, RC),
            ("strict-serializable", M("strict-serializable"), False, {"G-single-item", "G1b"}, RC),
        ],
    ),
    *variants(
        "la G1c",
        [("ok", 0, "ax1ry1"), ("ok", 0, "ax2ay1"), ("ok", 0, "rx12ry1")],
        [("G0", A("G0"), *OK), ("G1", A("G1"), False, {"G1c"}, RC), ("G2", A("G2"), *OK)],
    ),
    *variants(
        "la G-single",
        [("ok", 0, "ax1ay1"), ("ok", 0, "ax2ry"), ("ok", 0, "rx12")],
        [
            ("G0", A("G0"), *OK),
            ("G1", A("G1"), *OK),
            ("G-single", A("G-single"), False, {"G-single-item"}, CV | RR),
            ("G2", A("G2"), False, {"G-single-item"}, CV | RR),
        ],
    ),
    *variants(
        "la G2",
        [("ok", 0, "ax1ry"), ("ok", 0, "ay1rx")],
        [
            ("G0", A("G0"), *OK),
            ("G1", A("G1"), *OK),
            ("read-committed", M("read-committed"), *OK),
            ("G2", A("G2"), False, {"G2-item"}, RR),
            ("serializable", M("serializable"), False, {"G2-item"}, RR),
            ("repeatable-read", M("repeatable-read"), False, {"G2-item"}, RR),
        ],
    ),
    *variants(
        "la strong SI violation",
        [("pair", 0, "ax1"), ("pair", 1, "ax2"), ("pair", 2, "rx1"), ("pair", 3, "rx12")],
        [
            ("G2", A("G2"), *OK),
            ("serializable", M("serializable"), *OK),
            (
                "strict-serializable",
                M("strict-serializable"),
                False,
                {"G-single-item-realtime"},
                {"strong-snapshot-isolation"},
            ),
        ],
    ),
    *variants(
        "la strong session SI violation",
        [("pair", 0, "ax1"), ("pair", 1, "ax2"), ("pair", 1, "rx1"), ("pair", 2, "rx12")],
        [
            ("serializable", M("serializable"), *OK),
            (
                "strong-session-snapshot-isolation",
                M(SSSI),
                False,
                {"G-single-item-process"},
                {SSSI},
            ),
        ],
    ),
    *variants(
        "la G-nonadjacent-process",
        [("pair", 0, "rxrz1"), ("pair", 1, "ax1"), ("pair", 1, "rz"), ("pair", 2, "az1")],
        [
            ("serializable", M("serializable"), *OK),
            (
                "strong-session-snapshot-isolation",
                M(SSSI),
                False,
                {"G-nonadjacent-item-process"},
                {SSSI},
            ),
        ],
    ),
    Case(
        "la contradictory read orders",
        [
            ("ok", 0, "ax1ry1"),
            ("ok", 0, "ax2"),
            ("ok", 0, "ax3ay1"),
            ("ok", 0, "rx13"),
            ("ok", 0, "rx123"),
        ],
        False,
        {"G1c", "incompatible-order"},
        RC,
        **anomalies("G1"),
    ),
    Case(
        "la dirty update none",
        [("fail", 0, "ax1")],
        "unknown",
        {ETG},
        set(),
        **anomalies("dirty-update"),
    ),
    Case(
        "la dirty update direct",
        [("fail", 0, "ax1"), ("ok", 1, "ax2"), ("ok", 2, "rx12")],
        False,
        {"dirty-update"},
        RC,
        **anomalies("dirty-update"),
    ),
    Case(
        "la dirty update indirect",
        [("fail", 0, "ax1"), ("info", 1, "ax2"), ("ok", 2, "ax3"), ("ok", 3, "rx123")],
        False,
        {"dirty-update"},
        RC,
        **anomalies("dirty-update"),
    ),
    Case(
        "la duplicated elements",
        [("ok", 0, "ax1ry1"), ("ok", 0, "ax2ay1"), ("ok", 0, "rx121")],
        False,
        {"G1c", "duplicate-elements"},
        RU,
        models=["read-committed"],
    ),
    Case(
        "la internal consistency violation",
        [("ok", 0, "ax1ax2ax4"), ("ok", 0, "ax3rx1234")],
        False,
        {"internal"},
        RU,
        **anomalies("internal"),
        ours_not=frozenset({"read-atomic"}),
        differs="Elle's :not comes from a G0 it found without being asked ('There's a G0 here "
        "too, but we don't care'); splitbrain searches only the cycle classes the claim "
        "forbids, so its :not is the internal anomaly's (read-atomic); asked for "
        "read-uncommitted it finds that G0 (next case)",
    ),
    Case(
        "la internal consistency violation, its G0",
        [("ok", 0, "ax1ax2ax4"), ("ok", 0, "ax3rx1234")],
        False,
        {"G0"},
        RU,
        models=["read-uncommitted"],
        differs="not one of Elle's assertions: the G0 its comment names",
    ),
    Case(
        "la unobserved write",
        [("invoke", p, t) for p, t in enumerate(["ax1ay1", "ax2ay2", "ax3ay3", "rx12", "ry2"])]
        + [("ok", p, t) for p, t in enumerate(["ax1ay1", "ax2ay2", "ax3ay3", "rx12", "ry2"])],
        False,
        {"G-single-item", "G0"},
        RU,
        models=["serializable"],
    ),
    Case(
        "la repeatable-read for read-committed",
        [("ok", 0, "rxay1"), ("ok", 0, "ryax1")],
        True,
        set(),
        set(),
        models=["read-committed"],
    ),
    Case(
        "la repeatable-read for repeatable-read",
        [("ok", 0, "rxay1"), ("ok", 0, "ryax1")],
        False,
        {"G2-item"},
        RR,
        models=["repeatable-read"],
    ),
    Case(
        "la G-nonadjacent",
        [("pair", 0, "ax1"), ("pair", 0, "rx1ry"), ("pair", 0, "ay1"), ("pair", 0, "ry1rx")],
        False,
        {"G-nonadjacent-item"},
        {"snapshot-isolation", "repeatable-read"},
        extra=frozenset({"G-single-realtime"}),
        differs=REAL_EXTRA_CYCLE + ": T4 read x empty, yet T1 appended x and completed before "
        "T4 was invoked",
    ),
    Case(
        "la adjacent rw edges are no G-nonadjacent",
        [
            ("pair", 0, "rx5ay1"),
            ("pair", 0, "ryaz2"),
            ("pair", 0, "rzat3"),
            ("pair", 0, "rt3au4"),
            ("pair", 0, "ruax5"),
        ],
        True,
        set(),
        set(),
        models=["snapshot-isolation"],
    ),
    Case(
        "la lost update",
        [("pair", 0, "ax0"), ("pair", 0, "rx0ax1"), ("pair", 0, "rx0ax2")],
        False,
        {"G2-item", "lost-update"},
        {"ROLA", "cursor-stability"},
        extra=frozenset({"G-single-realtime"}),
        differs=REAL_EXTRA_CYCLE + ": T2 read x = [0], before T1's 1, though T1 completed "
        "before T2 was invoked",
    ),
    Case(
        "la one txn double write",
        [("pair", 0, "rxax1ax2"), ("pair", 0, "rx12")],
        True,
        set(),
        set(),
    ),
    Case(
        "la wr-process",
        [("pair", 1, "rx1ay1"), ("pair", 2, "ry1"), ("pair", 2, "ax1")],
        False,
        {"G1c-process"},
        {"strong-session-read-committed"},
        models=["strong-session-snapshot-isolation"],
    ),
    Case(
        "la rr G-single-item",
        [("pair", 0, "ax1ay1"), ("pair", 0, "rx1ry")],
        False,
        {"G-single-item"},
        {"consistent-view", "repeatable-read"},
        models=["repeatable-read"],
    ),
    Case(
        "la rr G-nonadjacent-item",
        [("pair", 0, "ax1at1"), ("pair", 0, "rx1ry"), ("pair", 0, "ay1az2"), ("pair", 0, "rz2rt")],
        False,
        {"G-nonadjacent-item"},
        {"repeatable-read", "snapshot-isolation"},
        models=["repeatable-read"],
    ),
    Case(
        "la future read",
        [("pair", 0, "rx1ax1")],
        False,
        {ETG, "future-read"},
        RC,
        models=["read-committed"],
    ),
]


def item_names(types: set[str]) -> set[str]:
    """Both checkers see only single-key reads, so every cycle is of an -item class; Elle's
    list-append names it so (G-single-item), its rw-register test and splitbrain use Adya's
    name (G-single), which ``checkers.txn.models.item`` maps to the -item form."""
    return {cm.item(t) for t in types}


def check(case: Case) -> dict[str, Any]:
    return transactional.check(
        history(case.events, lists=case.name.startswith("la ")),
        case.models,
        anomalies=case.anomalies,
        assume=case.assume,
    )


@pytest.mark.parametrize("case", RW + LA, ids=lambda c: c.name)
def test_elle_case(case: Case) -> None:
    assert not (case.extra or case.ours_not is not None) or case.differs
    r = check(case)
    valid, types = ours(case)
    assert r["valid"] == valid
    assert item_names(set(r["anomaly_types"])) == item_names(types)
    assert ("vacuous" in r) == (ETG in case.types)
    if case.valid is not True:  # Elle's answer for a valid history is {:valid? true} alone
        assert set(r["not"]) == (case.not_ if case.ours_not is None else case.ours_not)


def edn(x: Any) -> str:
    """A value as Elle writes it: keys and micro-op names as keywords."""
    if x is None:
        return "nil"
    if isinstance(x, str):
        return ":" + x
    if isinstance(x, list):
        return "[" + " ".join(edn(e) for e in x) + "]"
    return str(x)


def edn_history(ops: list[Op]) -> str:
    return "".join(
        f"{{:index {op.index}, :type :{op.type}, :process {op.process}, :f :txn, "
        f":value {edn(op.value)}}}\n"
        for op in ops
    )


CLI_CASES = [c for c in RW if not c.anomalies and (c.assume or c.models == ["serializable"])]


def test_cli_reads_elle_edn_and_translates_assume(tmp_path: Path) -> None:
    """The rw-register cases that need an ``:X-keys?`` option (and the serializable ones),
    written as Elle writes histories, through ``splitbrain check --model M --assume A``:
    one run per option set, each file's verdict Elle's (or the documented one)."""
    groups: dict[tuple[str, tuple[str, ...]], list[Case]] = defaultdict(list)
    for c in CLI_CASES:
        groups[((c.models or ["strict-serializable"])[0], tuple(c.assume))].append(c)
    assert len(CLI_CASES) >= 6 and any(a for _, a in groups)
    for (model, assume), cases in groups.items():
        files = []
        for i, c in enumerate(cases):
            f = tmp_path / f"{model}-{'-'.join(assume)}-{i}.edn"
            f.write_text(edn_history(history(c.events, lists=False)))
            files.append(str(f))
        r = run_cli("check", *files, "--model", model, *(f"--assume={a}" for a in assume), "--json")
        verdicts = {Path(d["file"]).name: d for d in map(json.loads, r.stdout.splitlines())}
        for f, c in zip(files, cases, strict=True):
            d = verdicts[Path(f).name]
            valid, types = ours(c)
            assert d["valid"] == valid, c.name
            assert item_names(set(d["result"]["anomaly_types"])) == item_names(types)
        expected_exit = 1 if any(c.valid is False for c in cases) else 0
        assert r.returncode == expected_exit, r.stderr


# ---------------------------------------------------------------- Elle's histories/ and big cases


def test_si_without_g_single_file() -> None:
    # Elle's intermediate-sequential-extension-test.
    h = read_history(ELLE / "si-without-g-single.edn").ops
    r = transactional.check(h, ["snapshot-isolation", "repeatable-read"])
    assert r["valid"] is False
    assert item_names(set(r["anomaly_types"])) == {"G2-item"}
    assert r["not"] == ["repeatable-read"]


def unfindable_g_single(n: int = 1000, noise: int = 10) -> list[Op]:
    """Elle's unfindable-g-single history: a ring of n transactions chained by appends to
    ``ring``, the first appending ``anti`` and the last reading it empty (one G-single),
    amid chains of appends to integer keys that each close a G2-item back to the ring."""
    txns: list[tuple[int, list[list[Any]]]] = []
    for i in range(n):
        if i == 0:
            second = ["append", "anti", "first"]
        elif i == n - 1:
            second = ["r", "anti", None]
        else:
            second = ["append", i, 0]
        txns.append((0, [["append", "ring", i], second]))
    txns.append((1, [["r", "ring", list(range(n))]]))
    for i in range(1, n - 1):
        for j in range(1, noise):
            if j == noise - 2:
                v = [["r", i, list(range(noise - 2))], ["r", ["anti", i], None]]
            elif j == noise - 1:
                v = [["append", ["anti", i], 0], ["r", "ring", None]]
            else:
                v = [["append", i, j]]
            txns.append((2, v))
    ops: list[Op] = []
    for p, v in txns:
        ops.append(Op("invoke", "txn", p, _invocation(v), index=len(ops)))
        ops.append(Op("ok", "txn", p, v, index=len(ops)))
    return ops


def test_unfindable_g_single_is_found() -> None:
    # Elle: false, types [PL-SI-cycle-exists, cycle-search-timeout], :not #{:snapshot-isolation
    # :repeatable-read}: its search times out and it falls back on the SCC. splitbrain's
    # search finds the one G-single within its budget, which rules out the weaker
    # consistent-view (and, documented, repeatable-read) rather than snapshot-isolation.
    r = transactional.check(unfindable_g_single(), ["snapshot-isolation"])
    assert r["valid"] is False
    assert r["anomaly_types"] == ["G-single"] and r["anomaly_counts"] == {"G-single": 1}
    assert set(r["not"]) == {"consistent-view", "repeatable-read"}
    assert "snapshot-isolation" in r["also_not"]
    assert [e["type"] for e in r["anomalies"]["G-single"][0]["edges"]].count("rw") == 1


# ---------------------------------------------------------------- test/elle/consistency_model_test.clj


def test_anomalies_prohibited_by_read_committed() -> None:
    elle = {"dirty-update", "G1a", "G1b", "G1c", "G1", "G0", "cyclic-versions"}
    elle |= {"duplicate-elements", "incompatible-order"}
    ours = cm.anomalies_prohibited_by(["read-committed"])
    # splitbrain's further anomalies: garbage reads (list-append), future reads (G1c by
    # Elle's own implication graph) and the cycle-exists fallbacks.
    assert ours - elle == {"garbage-read", "future-read", "PL-1-cycle-exists", "PL-2-cycle-exists"}
    assert elle <= ours


@pytest.mark.parametrize(
    "anomaly, elle, extra",
    [
        (
            "G-single",
            {
                "consistent-view",
                "forward-consistent-view",
                "strict-serializable",
                "serializable",
                "snapshot-isolation",
                "strong-session-serializable",
                "strong-session-snapshot-isolation",
                "strong-snapshot-isolation",
                "update-serializable",
            },
            set(),
        ),
        (
            "G-SI",
            {
                "snapshot-isolation",
                "serializable",
                "strict-serializable",
                "strong-session-serializable",
                "strong-session-snapshot-isolation",
                "strong-snapshot-isolation",
            },
            set(),
        ),
        (
            "dirty-update",
            {
                "read-committed",
                "monotonic-atomic-view",
                "snapshot-isolation",
                "repeatable-read",
                "serializable",
                "strict-serializable",
                "update-serializable",
                "cursor-stability",
                "forward-consistent-view",
                "consistent-view",
                "monotonic-view",
                "monotonic-snapshot-read",
                "causal-cerone",
                "parallel-snapshot-isolation",
                "prefix",
                "read-atomic",
                "strong-session-serializable",
                "strong-session-snapshot-isolation",
                "strong-snapshot-isolation",
            },
            {"ROLA", "strong-read-committed", "strong-session-read-committed"},
        ),
        (
            "internal",
            {
                "causal-cerone",
                "parallel-snapshot-isolation",
                "prefix",
                "read-atomic",
                "serializable",
                "snapshot-isolation",
                "strict-serializable",
                "strong-session-serializable",
                "strong-session-snapshot-isolation",
                "strong-snapshot-isolation",
            },
            {"ROLA"},
        ),
    ],
)
def test_anomaly_impossible_models(anomaly: str, elle: set[str], extra: set[str]) -> None:
    # The extras are models newer than Elle's test that sit above a ruled-out one in Elle's
    # current model graph (ROLA -> read-atomic, strong-*-read-committed -> read-committed).
    assert {cm.friendly(m) for m in cm.impossible_models([anomaly])} == elle | extra


@pytest.mark.parametrize(
    "anomalies, not_, ours_not",
    [
        ([], set(), None),
        (["cyclic-versions"], {"read-uncommitted"}, None),
        (["internal"], {"read-atomic"}, None),
        (["G1a"], {"read-atomic", "read-committed"}, {"read-committed"}),
        (["G-single"], {"consistent-view"}, None),
        (["G2", "internal"], {"read-atomic"}, None),
    ],
)
def test_friendly_boundary(anomalies: list[str], not_: set[str], ours_not: set[str] | None) -> None:
    # G1a: Elle's test predates read-atomic -> monotonic-atomic-view -> read-committed in its
    # model graph; splitbrain follows that graph, so read-atomic is in also_not.
    b = cm.boundary(anomalies)
    assert set(b["not"]) == (not_ if ours_not is None else ours_not)
    assert not set(b["not"]) & set(b["also_not"])


def test_weakest_models() -> None:
    def weakest(ms: list[str]) -> set[str]:
        return {cm.friendly(m) for m in cm.weakest_models(ms)}

    assert weakest([]) == set()
    assert weakest(["serializable", "strict-serializable"]) == {"serializable"}
    independent = ["repeatable-read", "read-committed", "sequential", "read-your-writes"]
    assert weakest(independent) == {"read-your-writes", "read-committed"}
    assert weakest(["serializable", "read-atomic"]) == {"read-atomic"}
    assert weakest(["read-atomic", "serializable"]) == {"read-atomic"}


# ---------------------------------------------------------------- Elle's per-anomaly case finders

FINDERS = [
    # (name, events, list reads, anomaly asked for, how many cases Elle's finder returns).
    # Elle's finders take histories the whole checker refuses (one value appended twice):
    # such cases are spread over several keys here.
    ("rw internal good", [("ok", 0, "ry2wx2rx2wx1rx1")], False, "internal", 0),
    ("rw internal stale", [("ok", 0, "rx1wx2rx1")], False, "internal", 1),
    ("rw g1a good", [("ok", 0, "wx1"), ("ok", 0, "rx1")], False, "G1a", 0),
    ("rw g1a bad", [("ok", 0, "rx2"), ("fail", 0, "wx2")], False, "G1a", 1),
    ("rw g1b good", [("ok", 0, "wx1wx2"), ("ok", 0, "rx_rx2")], False, "G1b", 0),
    ("rw g1b bad", [("ok", 0, "rx2"), ("ok", 0, "wx2wx1")], False, "G1b", 1),
    ("la g1a", [("ok", 0, "rx1ax2"), ("ok", 0, "rx12ry3"), ("fail", 0, "ax1")], True, "G1a", 2),
    (
        "la g1b",
        [("ok", 0, "rx1"), ("ok", 0, "rx12ry3"), ("ok", 0, "ax1ax2"), ("ok", 0, "rx123")],
        True,
        "G1b",
        1,
    ),
    ("la g1b internal reads", [("ok", 0, "ax1rx1ax2")], True, "G1b", 0),
    ("la internal good", [("ok", 0, "ry56ax3rx123ax4rx1234")], True, "internal", 0),
    (
        "la internal read-append-read",
        [
            ("ok", 0, "rx12ax3rx12"),
            ("ok", 0, "ry12ay3ry023"),
            ("ok", 0, "rz12az3rz1234"),
            ("ok", 0, "rt12at3rt1"),
        ],
        True,
        "internal",
        4,
    ),
    ("la future read external", [("pair", 0, "rx012ax1")], True, "future-read", 1),
    ("la future read internal", [("pair", 0, "ax1rx01ax0ax3")], True, "future-read", 1),
]


@pytest.mark.parametrize(
    "name, events, lists, anomaly, count", FINDERS, ids=[f[0] for f in FINDERS]
)
def test_elle_finder_case(
    name: str, events: list[Event], lists: bool, anomaly: str, count: int
) -> None:
    r = transactional.check(history(events, lists), [], anomalies=[anomaly])
    assert r["anomaly_counts"].get(anomaly, 0) == count
    assert (r["valid"] is False) == (count > 0)


def test_la_internal_append_read_and_faunadb() -> None:
    # Elle's "append-read": [1 2 3 4] and [] after appending 3; its FaunaDB example: a nil read
    # of key 0 right after appending 6 to it.
    h = history([("ok", 0, "ax3rx1234")], lists=True) + [
        Op("ok", "txn", 0, [["append", "y", 3], ["r", "y", []]], index=1),
        Op("invoke", "txn", 1, [["append", 0, 6], ["r", 0, None]], index=2),
        Op("ok", "txn", 1, [["append", 0, 6], ["r", 0, None]], index=3),
    ]
    r = transactional.check(h, [], anomalies=["internal"])
    assert r["anomaly_counts"]["internal"] == 3


def test_la_duplicate_append_attempts_are_bad_input() -> None:
    # Elle's "duplicate inserts attempts": two invocations append 1 to x; Elle throws.
    h = [
        Op("invoke", "txn", 0, [["append", "x", 1], ["r", "y", None]], index=0),
        Op("invoke", "txn", None, [["append", "y", 2], ["append", "x", 1]], index=1),
    ]
    with pytest.raises(BadHistory, match="x"):
        transactional.check(h)


@pytest.mark.parametrize(
    "events, lists",
    [
        # rw wr-graph-test "chain on one register" / "chain across two registers", and
        # list-append graph-test "G2: anti-dependency cycle": Elle's graph alone finds a cycle,
        # so the full check (default strict-serializable) must too.
        ([("pair", 0, "rx0wx1"), ("pair", 0, "rx1wx0")], False),
        ([("pair", 0, "rx0wy1"), ("pair", 0, "ry1wx0")], False),
        ([("ok", 0, "rxay1"), ("ok", 0, "ryax1"), ("ok", 0, "rx1ry1")], True),
    ],
)
def test_elle_graph_cycles_are_found_by_the_full_check(events: list[Event], lists: bool) -> None:
    assert transactional.check(history(events, lists))["valid"] is False
