"""The CAP profile of real runs: availability per fault and quiet window, the faulted share,
the one-line classification, the summary, results.json and the report's chart; and the rows
of the README's CAP table that hold reliably (benchmarks/cap_table.py's own row specs)."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO, run_cli
from splitbrain.checkers import cap
from splitbrain.harness.base.protocols import HarnessInputError
from splitbrain.harness.engine import core
from splitbrain.harness.engine.core import RunResult
from splitbrain.harness.front import gate, present


def _table_module() -> Any:
    path = REPO / "benchmarks" / "cap_table.py"
    spec = importlib.util.spec_from_file_location("cap_table", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


TABLE = _table_module()
pytest_plugins = ["pytester"]
SESSION_GUARANTEES = (
    "read-your-writes",
    "monotonic-reads",
    "monotonic-writes",
    "writes-follow-reads",
)


def row(system: str, mode: str, **changes: Any) -> Any:
    found = next(r for r in TABLE.ROWS if r.system == system and r.mode == mode)
    return dataclasses.replace(found, **changes)


def run_row(store: Path, system: str, mode: str, seed: int = 0, **changes: Any) -> RunResult:
    """One run of a README row; the spectrum's checkers get 3 s (the sequential search of an
    invalid history would use all the time it has: here its verdict is not under test)."""
    changes.setdefault("check_timeout", 3.0)
    return core.run(row(system, mode, **changes).spec(seed, str(store)))


@pytest.fixture(scope="module")
def leader_sync(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    return run_row(tmp_path_factory.mktemp("cap"), "sim", "leader-sync", time_limit=12.0)


@pytest.fixture(scope="module")
def sloppy(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    mode = "leaderless, sloppy quorums"
    return run_row(tmp_path_factory.mktemp("cap"), "sim", mode, seed=1, time_limit=12.0)


def test_profile_cuts_the_run_at_every_fault_and_counts_every_op_once(leader_sync) -> None:
    prof = leader_sync.results["cap"]
    history = leader_sync.history
    opened = [
        op.time / 1e9
        for op in history
        if op.process == "nemesis" and op.type != "invoke" and op.f == "start-partition"
    ]
    partitions = [w for w in prof["windows"] if w["faults"] == ["partition"]]
    assert [w["start_s"] for w in partitions] == pytest.approx(opened) and len(opened) >= 2
    kinds = [bool(w["faults"]) for w in prof["windows"]]
    assert kinds[:4] == [False, True, False, True]
    assert all(a != b for a, b in zip(kinds, kinds[1:], strict=False))
    stats = leader_sync.results["checkers"]["stats"]
    probes = stats["by_f"].pop("read-node")  # the final reads of each node: no requests
    assert probes == {"ok": 5, "fail": 0, "info": 0}
    requests = stats["count"] - sum(probes.values())
    assert sum(w["all"]["total"] for w in prof["windows"]) == requests
    during = prof["during"]
    assert during["quiet"]["all"]["total"] + during["faulted"]["all"]["total"] == requests
    assert during["partition"]["all"] == during["faulted"]["all"]
    for f, counts in stats["by_f"].items():
        parts = [during[k]["by_f"].get(f, {}) for k in ("quiet", "faulted")]
        assert {o: sum(p.get(o, 0) for p in parts) for o in counts} == counts
    faulted = sum(w["end_s"] - w["start_s"] for w in partitions)
    assert prof["faulted_s"] == pytest.approx(faulted)
    assert prof["faulted_share"] == pytest.approx(faulted / prof["span_s"])
    assert prof["faulted_share_by_kind"] == {"partition": prof["faulted_share"]}
    assert 0.2 < prof["faulted_share"] < 0.6
    for part in (during["quiet"], during["partition"], *partitions):
        for a in (part["all"], *part["by_f"].values()):
            fractions = a["ok_fraction"] + a["fail_fraction"] + a["info_fraction"]
            assert fractions == pytest.approx(1.0, abs=1e-5) and a["latency"]["count"] <= a["total"]
        assert part["all"]["throughput"] >= 0


def test_leader_sync_refuses_in_the_minority_and_stays_linearizable(leader_sync) -> None:
    """The README row: leader-sync behaves CP."""
    prof = leader_sync.results["cap"]
    assert leader_sync.results["checkers"]["linearizable"]["valid"] is True
    during = prof["during"]
    assert during["partition"]["all"]["ok_fraction"] < during["quiet"]["all"]["ok_fraction"] - 0.05
    assert cap.worst_node(prof, "partition") < 0.5
    line = prof["classification"]
    assert line["behaved"] == "CP" and line["during"] == "partition"
    assert line["text"].startswith("refused ") and line["text"].endswith("behaved CP")
    assert "; linearizable, eventual: " in line["text"]  # the spectrum's strongest holding
    assert re.search(r"refused \d+% of reads, \d+% of writes during partitions", line["text"])


def test_summary_and_results_json_carry_the_profile(leader_sync) -> None:
    run_dir = leader_sync.run_dir
    stored = json.loads((run_dir / "results.json").read_text())
    assert stored["cap"] == json.loads(json.dumps(leader_sync.results["cap"]))
    text = present.run_text(leader_sync.results, run_dir, None)
    line = leader_sync.results["cap"]["classification"]["text"]
    assert f"cap: {line}" in text.splitlines()
    assert re.search(r"^faulted: \d+\.\d% of the run \(partition \d+\.\d%\)$", text, re.M)
    table = [row.split() for row in text.splitlines() if row.startswith(("quiet", "partition"))]
    assert [(r[0], r[1]) for r in table] == [
        ("quiet", "read"),
        ("quiet", "write"),
        ("quiet", "all"),
        ("partition", "read"),
        ("partition", "write"),
        ("partition", "all"),
    ]
    assert "cap: " + line in present.explanation(leader_sync.results, run_dir, None)


def test_report_draws_availability_over_time_with_the_faults_shaded(leader_sync) -> None:
    page = (leader_sync.run_dir / "report.html").read_text()
    section = page.split('<section id="cap">', 1)[1].split("</section>", 1)[0]
    prof = leader_sync.results["cap"]
    line = prof["classification"]["text"]
    assert f'<p class="cap-line" id="cap-line">{line}</p>' in section
    chart = section.split("<figure>", 1)[1].split("</figure>", 1)[0]
    assert "Availability: share of ops answered ok" in chart
    shaded = re.findall(r'<rect class="fault" x="([\d.]+)"', chart)
    assert len(shaded) == len([w for w in prof["windows"] if w["faults"]])
    lines = re.findall(r'<polyline points="([^"]+)"[^>]*><title>([\w-]+): ok share', chart)
    assert {f for _, f in lines} == {"read", "write", "all"}
    # every point is a share between 0 and 100% of the plot's height, and some bucket inside
    # a partition falls well below the quiet ones
    ys = [float(p.split(",")[1]) for pts, f in lines if f == "all" for p in pts.split()]
    assert min(ys) >= 14 - 0.1 and max(ys) <= 226 + 0.1 and max(ys) - min(ys) > 50
    rows = re.findall(r"<tr><td>(\w+)</td><td>([\w-]+)</td>", section)
    assert ("partition", "all") in rows and ("quiet", "read") in rows


def test_leaderless_sloppy_quorums_keep_serving_and_break_consistency(sloppy) -> None:
    """The README row: sloppy quorums serve nearly every request while partitioned, and
    consistency breaks. (A node cut off alone still refuses: it has no one to write to, so
    some seeds read "the worst of both"; this one has such a window.)"""
    prof = sloppy.results["cap"]
    assert prof["during"]["partition"]["all"]["ok_fraction"] >= 0.95
    assert sloppy.results["checkers"]["linearizable"]["valid"] is False
    line = prof["classification"]
    assert line["text"].startswith("served ") and "not linearizable; even " in line["text"]
    alone = [
        w
        for w in cap.fault_windows_of(prof, "partition")
        if any(a["ok"] == 0 for a in w["by_node"].values())
    ]
    assert line["behaved"] == ("neither" if alone else "AP")
    models = sloppy.results["spectrum"]["models"]
    broken = {m for m, e in models.items() if e["verdict"] == "fails"}
    assert broken & {"monotonic-reads", "read-your-writes"}, broken


def test_the_worst_of_both_reads_as_such(leader_sync, sloppy) -> None:
    """A profile that refused requests, with a verdict that failed: both real, from two runs."""
    line = cap.classify(leader_sync.results["cap"], sloppy.results["checkers"])
    assert line["behaved"] == "neither"
    assert " AND not linearizable: the worst of both" in line["text"]
    assert line["text"].startswith("refused ")
    quiet_only = dict(
        leader_sync.results["cap"], during={"quiet": leader_sync.results["cap"]["during"]["quiet"]}
    )
    said = cap.classify(quiet_only, leader_sync.results["checkers"])
    assert said["behaved"] == "no-faults" and said["text"].endswith("; linearizable")


def test_multi_leader_lww_under_clock_skew_loses_updates_yet_converges(tmp_path: Path) -> None:
    """The README row: last-writer-wins on skewed clocks discards acknowledged writes, and
    every node ends with the same state."""
    result = run_row(tmp_path, "sim", "multi-leader, clock skew", time_limit=8.0)
    assert result.results["checkers"]["linearizable"]["valid"] is False
    assert sum(op.f == "read-node" and op.type == "ok" for op in result.history) == 5
    spectrum = result.results["spectrum"]
    assert spectrum["models"]["eventual"]["verdict"] == "holds"
    assert "eventual" in spectrum["strongest_holding"]
    assert spectrum["models"]["linearizable"]["verdict"] == "fails"
    prof = result.results["cap"]
    assert prof["faulted_share_by_kind"].keys() == {"clock"}
    assert prof["classification"]["during"] == "clock"
    assert prof["classification"]["behaved"] == "AP"


# ---------------------------------------------------------------- claims


CLAIMS = """\
defaults:
  target: sim
  workload: register
  model: register
  time_limit: 8
  rate: 500
  seed: 1
  nemesis: [partition]
  options: {replication: leader-sync}
claims:
  - name: reads-served-while-partitioned
    availability: {during: partition, min_ok: 0.9, ops: [read]}
  - name: quiet-serves
    availability: {during: quiet, min_ok: 0.8}
"""


def test_gate_requires_availability_and_reports_it(tmp_path: Path) -> None:
    claims = tmp_path / "claims.yaml"
    claims.write_text(CLAIMS)
    junit = tmp_path / "gate.xml"
    r = run_cli(
        "gate", str(claims), "--store", str(tmp_path / "store"), "--format", "json",
        "--junit-xml", str(junit),
    )  # fmt: skip
    assert r.returncode == 1, r.stderr
    out = {o["claim"]: o for o in json.loads(r.stdout)}
    refused, served = out["reads-served-while-partitioned"], out["quiet-serves"]
    assert refused["valid"] is True and refused["passed"] is False
    assert refused["availability"]["required"] == {
        "during": "partition",
        "min_ok": 0.9,
        "ops": ["read"],
    }
    measured = refused["availability"]["measured"]
    assert re.fullmatch(
        r"\d+% of \d+ read ops ok during partition, below the 90% required", measured
    )
    assert served["passed"] is True and served["availability"]["met"] is True
    assert "availability not met: " + measured in junit.read_text()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{during: partitions, min_ok: 0.9}", "during: must be one of quiet, faulted, partition"),
        (
            "{during: partition, min_ok: 1.5}",
            "min_ok: must be a finite number from 0 to 1, got 1.5",
        ),
        ("{during: partition}", "missing required key 'min_ok'"),
        ("most", "must be total, a fraction, or a mapping of during, min_ok, ops, got 'most'"),
        (
            "{during: partition, min_ok: 0.9, op: [read]}",
            "unknown key 'op'; known: during, min_ok, ops",
        ),
        (
            "{during: partition, min_ok: 0.9, ops: [frobnicate]}",
            "the workload issues no 'frobnicate'",
        ),
    ],
)
def test_bad_availability_is_refused_in_one_line(tmp_path: Path, value: str, message: str) -> None:
    claims = tmp_path / "bad.yaml"
    claims.write_text(f"claims:\n  - name: x\n    target: sim\n    availability: {value}\n")
    with pytest.raises(HarnessInputError) as e:
        gate.load_claims(claims)
    said = str(e.value)
    assert "\n" not in said and said.startswith(f"{claims}:")
    assert "key 'availability'" in said and message in said


def test_bad_availability_exits_254_with_one_line(tmp_path: Path) -> None:
    claims = tmp_path / "bad.yaml"
    claims.write_text("claims:\n  - name: x\n    availability: {during: partition, min_ok: -1}\n")
    r = run_cli("gate", str(claims), "--store", str(tmp_path / "store"), timeout=60)
    assert r.returncode == 254 and r.stdout == ""
    assert r.stderr == (
        f"splitbrain: {claims}:3: claim 'x': key 'availability': min_ok: must be a finite "
        "number from 0 to 1, got -1\n"
    )


# ---------------------------------------------------------------- real clusters


@pytest.mark.real
@pytest.mark.timeout(180)
def test_etcd_refuses_at_the_cut_off_member_and_stays_linearizable(tmp_path: Path) -> None:
    """The README row: etcd with linearizable reads behaves CP. The partition cuts the members
    off from each other, not from the clients: the cut-off member's clients wait out their
    timeouts while the majority serves, so the total hides it and the member does not."""
    result = run_row(tmp_path, "etcd", "linearizable reads")
    assert result.results["checkers"]["linearizable"]["valid"] is True
    prof = result.results["cap"]
    assert prof["faulted_share_by_kind"]["partition"] > 0.1
    assert cap.worst_node(prof, "partition") <= 0.5
    line = prof["classification"]
    assert line["behaved"] == "CP"
    assert re.match(
        r"(refused \d+% of reads|served [\d.]+% of requests during partitions, but)", line["text"]
    )


@pytest.mark.real
@pytest.mark.timeout(180)
def test_redis_replica_reads_keep_serving_and_are_not_linearizable(tmp_path: Path) -> None:
    """The README row: Redis reading from replicas behaves AP."""
    result = run_row(tmp_path, "redis", "replica reads", time_limit=9.0)
    assert result.results["checkers"]["linearizable"]["valid"] is False
    prof = result.results["cap"]
    assert prof["during"]["partition"]["all"]["ok_fraction"] >= 0.95
    assert prof["classification"]["behaved"] == "AP"


MARKED = """
import pytest

CLAIM = dict(target="sim", workload="register", model="register", nemesis=["partition"],
             options={"replication": "leader-sync"}, time_limit=8, rate=500, seed=1)

@pytest.mark.consistency(**CLAIM, availability={"during": "partition", "min_ok": 0.9, "ops": ["read"]})
def test_reads_served_while_partitioned():
    pass

@pytest.mark.consistency(**CLAIM, availability={"during": "quiet", "min_ok": 0.8})
def test_quiet_serves():
    pass
"""


def test_the_pytest_marker_requires_availability(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(MARKED)
    store = pytester.path / "runs"
    outcome = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--splitbrain-store={store}")
    outcome.assert_outcomes(passed=1, failed=1)
    text = outcome.stdout.str()
    assert re.search(
        r"consistency claim 'test_reads_served_while_partitioned' not met: availability: "
        r"\d+% of \d+ read ops ok during partition, below the 90% required",
        text,
    ), text
