"""``splitbrain gate``: claims files, expectations, JUnit XML, and bad input."""

from __future__ import annotations

import json
import os
import re
import textwrap
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from splitbrain.harness.base import plugins
from splitbrain.harness.base.protocols import HarnessInputError
from splitbrain.harness.engine import core
from splitbrain.harness.front import gate
from splitbrain.harness.front.cli import main as splitbrain_main

REPO = Path(__file__).resolve().parents[1]
CLAIMS_DIR = REPO / "claims"

# Short rate-limited runs; lost-writes at fault-rate 0.3 over 2 keys is found invalid at
# every seed tried (20 of 20, seeds 1..20).
QUICK = "  time_limit: 1\n  rate: 300\n  keys: 2\n  seed: 3\n"


def _write(tmp_path: Path, body: str, name: str = "claims.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def _claims_file(tmp_path: Path, claims: str) -> Path:
    return _write(tmp_path, "defaults:\n  target: memory\n  workload: register\n" + QUICK + claims)


def _junit_cases(path: Path) -> dict[str, ET.Element]:
    return {case.get("name"): case for case in ET.parse(path).getroot().iter("testcase")}


def test_gate_fails_on_a_refuted_claim_and_the_junit_xml_names_every_claim(
    tmp_path: Path, cli
) -> None:
    claims = _claims_file(
        tmp_path,
        """
claims:
  - name: memory-holds
    expect: holds
  - name: lossy-claimed-to-hold
    options: {fault: lost-writes, fault-rate: 0.3}
""",
    )
    junit = tmp_path / "out" / "gate.xml"
    store = tmp_path / "runs"
    done = cli("gate", str(claims), "--junit-xml", str(junit), "--store", str(store))
    assert done.returncode == 1, done.stdout + done.stderr
    table = done.stdout.splitlines()
    assert table[0].split() == ["claim", "verdict", "expected", "result", "duration", "report"]
    assert table[2].split()[:4] == ["memory-holds", "valid", "holds", "pass"]
    assert table[3].split()[:4] == ["lossy-claimed-to-hold", "INVALID", "holds", "FAIL"]
    assert "claimed to hold, but the checkers found it INVALID" in done.stdout
    assert "1 of 2 claim(s) met their expectation" in done.stdout

    cases = _junit_cases(junit)
    assert set(cases) == {"memory-holds", "lossy-claimed-to-hold"}
    assert cases["memory-holds"].find("failure") is None
    failure = cases["lossy-claimed-to-hold"].find("failure")
    assert failure is not None and "linearizable: INVALID" in failure.text
    report = next(line for line in failure.text.splitlines() if line.startswith("report: "))
    assert Path(report.removeprefix("report: ")).exists()
    suite = ET.parse(junit).getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "1", "0")


def test_met_violated_expectation_passes_and_time_scale_applies(tmp_path: Path, capsys) -> None:
    claims = _claims_file(
        tmp_path,
        """
claims:
  - name: lossy-caught
    options: {fault: lost-writes, fault-rate: 0.3}
    time_limit: 2
    expect: violated
""",
    )
    junit = tmp_path / "gate.xml"
    store = tmp_path / "runs"
    argv = ["gate", str(claims), "--junit-xml", str(junit), "--store", str(store)]
    assert splitbrain_main([*argv, "--time-scale", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "lossy-caught" in out and re.search(r"INVALID +violated +pass", out)
    case = _junit_cases(junit)["lossy-caught"]
    assert case.find("failure") is None and case.find("error") is None
    (test_json,) = store.glob("lossy-caught/*/test.json")
    assert json.loads(test_json.read_text())["time_limit"] == 1.0


def test_violated_claim_that_holds_fails_the_gate(tmp_path: Path, capsys) -> None:
    claims = _claims_file(
        tmp_path, "claims:\n  - name: correct-store-claimed-broken\n    expect: violated\n"
    )
    assert splitbrain_main(["gate", str(claims), "--store", str(tmp_path / "runs")]) == 1
    assert "claimed to be violated, but no violation was found" in capsys.readouterr().out


def _claim(**kw) -> gate.Claim:
    return gate.Claim(name="c", **kw)


@pytest.mark.parametrize(
    ("claim", "valid", "met"),
    [
        (_claim(), True, True),
        (_claim(), False, False),
        (_claim(), "unknown", False),
        (_claim(allow_unknown=True), "unknown", True),
        (_claim(expect="violated"), False, True),
        (_claim(expect="violated"), True, False),
        (_claim(expect="violated", allow_unknown=True), "unknown", True),
    ],
)
def test_expectations(claim: gate.Claim, valid, met: bool) -> None:
    assert gate.expectation_met(claim, valid) is met


def test_exit_codes_rank_harness_failure_over_refutation() -> None:
    passed = gate.Outcome(_claim(), valid=True, passed=True)
    failed = gate.Outcome(_claim(), valid=False, passed=False)
    broken = gate.Outcome(_claim(), error="the harness failed: OSError: boom")
    assert gate.gate_exit_code([passed], False) == 0
    assert gate.gate_exit_code([passed, failed], False) == 1
    assert gate.gate_exit_code([failed, broken], False) == 255
    tree = gate.junit_xml(Path("c.yaml"), [broken], [])
    assert tree.getroot().find("testsuite/testcase/error").get("message").endswith("boom")


def test_defaults_merge_and_nemesis_forms(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        defaults:
          target: memory
          options: {fault: stale-reads}
          time_limit: 4
        claims:
          - name: a
            nemesis: kill, pause
            options: {fault-rate: 0.5}
          - name: b
            nemesis: [none]
            time_limit: 2
            allow_unknown: true
        """,
    )
    a, b = gate.parse_claims(path)
    assert a.spec["nemesis"] == ["kill", "pause"]
    assert a.spec["options"] == {"fault": "stale-reads", "fault-rate": "0.5"}
    assert (a.spec["time_limit"], b.spec["time_limit"]) == (4.0, 2.0)
    assert b.spec["nemesis"] == [] and b.allow_unknown and a.expect == "holds"
    spec = a.build_spec(store="s", time_scale=0.5)
    assert (spec.time_limit, spec.nemesis_interval, spec.name) == (2.0, 1.5, "a")


def test_claim_keys_are_test_spec_fields() -> None:
    assert gate.SPEC_KEYS <= set(core.TestSpec.__dataclass_fields__)


GOOD = "  - name: ok\n    target: memory\n"
BAD_FILES = [
    ("claims: [\n  - name: x\n", "claims.yaml:2: malformed YAML"),
    ("- name: x\n", "expected a mapping with a top-level 'claims:' list"),
    ("claims:\n" + GOOD + "settings: {}\n", "unknown top-level key 'settings'"),
    ("claims: []\n", "'claims' must be a non-empty list"),
    ("claims:\n  - just-a-name\n", "claim #1 must be a mapping, got str"),
    ("claims:\n  - target: memory\n", "claim #1: missing required key 'name'"),
    ("claims:\n" + GOOD + GOOD, "claim 'ok': duplicate name"),
    (
        "claims:\n  - name: c\n    target: memory\n    colour: red\n",
        "claims.yaml:4: claim 'c': unknown key 'colour'",
    ),
    (
        "claims:\n  - name: c\n    time_limit: ten\n",
        "claim 'c': key 'time_limit': must be a finite number from 0 to 86400 seconds, got 'ten'",
    ),
    (
        "claims:\n  - name: c\n    time_limit: -1\n",
        "key 'time_limit': must be a finite number from 0",
    ),
    (
        "claims:\n  - name: c\n    concurrency: 2.5\n",
        "key 'concurrency': must be an integer from 1",
    ),
    ("claims:\n  - name: c\n    expect: maybe\n", "key 'expect': must be one of holds, violated"),
    (
        "claims:\n  - name: c\n    allow_unknown: 'yes'\n",
        "key 'allow_unknown': must be true or false",
    ),
    ("claims:\n  - name: c\n    options: [fault]\n", "key 'options': must be a mapping"),
    ("claims:\n  - name: c\n    nemesis: {kill: 1}\n", "key 'nemesis': must be names"),
    ("defaults:\n  name: x\nclaims:\n" + GOOD, "defaults: unknown key 'name'"),
    (
        "claims:\n  - name: c\n    target: nowhere\n",
        "claim 'c': key 'target': unknown target 'nowhere'",
    ),
    (
        "claims:\n  - name: c\n    workload: bakery\n",
        "claim 'c': key 'workload': unknown workload 'bakery'",
    ),
    (
        "claims:\n  - name: c\n    nemesis: [meteor]\n",
        "claim 'c': key 'nemesis': unknown nemesis 'meteor'",
    ),
    ("claims:\n  - name: c\n    options: {speed: 9}\n", "claim 'c': unknown -o key 'speed'"),
    ("claims:\n  - name: c\n    options: {fault: bogus}\n", "claim 'c':"),
    ("claims:\n  - name: c\n    model: quantum\n", "claim 'c': key 'model':"),
]


@pytest.mark.parametrize(("body", "message"), BAD_FILES, ids=[m for _, m in BAD_FILES])
def test_malformed_claims_exit_254_with_one_line_before_anything_runs(
    tmp_path: Path, capsys, body: str, message: str
) -> None:
    path = _write(tmp_path, body)
    store = tmp_path / "runs"
    assert splitbrain_main(["gate", str(path), "--store", str(store)]) == 254
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"splitbrain: {path}"), err
    assert message in err, err
    assert len(err.splitlines()) == 1, err
    assert not store.exists()


def test_a_bad_claim_after_a_good_one_stops_the_gate_before_any_run(tmp_path: Path, cli) -> None:
    path = _write(tmp_path, "claims:\n" + GOOD + "  - name: bad\n    target: nowhere\n")
    store = tmp_path / "runs"
    done = cli("gate", str(path), "--store", str(store))
    assert done.returncode == 254
    assert f"{path}:4: claim 'bad': key 'target': unknown target 'nowhere'" in done.stderr
    assert "Traceback" not in done.stderr and not store.exists()


def test_missing_claims_file_and_bad_time_scale(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nope.yaml"
    assert splitbrain_main(["gate", str(missing)]) == 254
    assert f"{missing}: cannot read claims file" in capsys.readouterr().err
    good = _write(tmp_path, "claims:\n" + GOOD)
    assert splitbrain_main(["gate", str(good), "--time-scale", "0"]) == 254
    assert "--time-scale" in capsys.readouterr().err


@pytest.mark.parametrize("path", sorted(CLAIMS_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_claim_files_parse_and_check_where_their_target_is_registered(path: Path) -> None:
    claims = gate.parse_claims(path)
    assert claims and all(c.description or c.expect for c in claims)
    for claim in claims:
        if claim.build_spec().target in plugins.names("target"):
            gate.check_claim(claim)


def test_shipped_claims_cover_every_example_target() -> None:
    found = {
        p.stem: {c.build_spec().target for c in gate.parse_claims(p)}
        for p in CLAIMS_DIR.glob("*.yaml")
    }
    assert found == {
        "memory": {"memory"},
        "sim": {"sim"},
        "etcd": {"etcd"},
        "redis": {"redis"},
        "postgres": {"postgres"},
        "mariadb": {"mariadb"},
    }
    expects = {c.expect for c in gate.parse_claims(CLAIMS_DIR / "sim.yaml")}
    assert expects == {"holds", "violated"}


def test_memory_claims_load_against_the_registries() -> None:
    assert len(gate.load_claims(CLAIMS_DIR / "memory.yaml")) == 4


def test_a_claim_refused_only_once_it_starts_is_bad_input(tmp_path: Path, capsys) -> None:
    path = _write(tmp_path, "claims:\n  - name: cut-memory\n    nemesis: [partition]\n")
    junit = tmp_path / "gate.xml"
    argv = ["gate", str(path), "--store", str(tmp_path / "runs"), "--junit-xml", str(junit)]
    assert splitbrain_main(argv) == 254
    err = capsys.readouterr().err
    assert f"{path}:2: claim 'cut-memory': " in err and "partition" in err


def test_readme_schema_example_documents_every_key(tmp_path: Path) -> None:
    readme = (CLAIMS_DIR / "README.md").read_text()
    example = readme.split("### Schema\n\n```yaml\n", 1)[1].split("```", 1)[0]
    (claim,) = gate.parse_claims(_write(tmp_path, example))
    documented = {line.split(":")[0].strip(" -") for line in example.splitlines()[4:]}
    assert documented == set(gate.FIELDS)
    assert claim.spec["options"] == {"replication": "leader-sync", "msgs-per-op": "30"}


@pytest.mark.parametrize(
    ("old", "limit", "scale", "expected"),
    [
        (10, None, 0.5, (5.0, 1.5)),
        (10, None, 3, (30.0, 9.0)),
        (10, 2, 2, (4.0, 1.2)),
        (10, None, None, (10.0, 3.0)),
        (600, 2, None, (2.0, 0.5)),
        (10, 0.02, None, (0.02, 0.01)),
    ],
)
def test_retime_scales_the_fault_schedule_with_a_floor(old, limit, scale, expected) -> None:
    spec = core.TestSpec(time_limit=old, nemesis_interval=3)
    gate.retime(spec, time_limit=limit, time_scale=scale)
    assert (spec.time_limit, spec.nemesis_interval) == pytest.approx(expected)


# ---------------------------------------------------------------- YAML read safely

ALIAS_BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{c}: &{c} [{','.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)
UNSAFE_FILES = [
    (
        "claims:\n  - name: c\n    expect: &x [" + ",".join(["holds"] * 9) + "]\n",
        "claims.yaml:3: YAML anchors and aliases (&x, *x) are not allowed",
    ),
    (
        "x: &a [1]\nclaims:\n  - name: c\n    options: *a\n",
        "claims.yaml:1: YAML anchors and aliases",
    ),
    (
        "claims:\n  - name: c\n    time_limit: 5\n    time_limit: 99999\n",
        "claims.yaml:4: duplicate key 'time_limit'",
    ),
    ("claims:\n  - name: c\n    time_limit: .nan\n", "claims.yaml:3: not a finite number: '.nan'"),
    ("claims:\n  - name: c\n    time_limit: .inf\n", "claims.yaml:3: not a finite number"),
    ("claims:\n  - name: c\n    rate: 1.0e+999\n", "claims.yaml:3: not a finite number"),
    ("claims:\n  - name: c\n    keys: " + "9" * 5000 + "\n", "integer longer than 40 characters"),
    (
        "claims:\n  - name: c\n    options: " + "[" * 100 + "]" * 100 + "\n",
        "claims.yaml:3: nested deeper than 32 levels",
    ),
    (
        "base: {target: memory}\nclaims:\n  - name: c\n    <<: {target: sim}\n",
        "claims.yaml:4: mapping keys must be plain names",
    ),
    (
        "claims:\n  - name: c\n    seed: !!python/object:os.system x\n",
        "claims.yaml:3: malformed YAML",
    ),
    ('claims:\n  - name: "bell\\a"\n', "key 'name': must be a name without"),
    ("claims:\n  - name: c\n    expect: " + "x" * 100_000 + "\n", "key 'expect': must be one of"),
]


@pytest.mark.parametrize(("body", "message"), UNSAFE_FILES, ids=[m[:40] for _, m in UNSAFE_FILES])
def test_unsafe_yaml_is_refused_in_one_short_line(
    tmp_path: Path, cli, body: str, message: str
) -> None:
    path = _write(tmp_path, body)
    done = cli("gate", str(path), "--store", str(tmp_path / "runs"), timeout=30)
    assert done.returncode == 254, done.stderr
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"splitbrain: {path}") and message in line, line
    assert len(line) < 400 + len(str(path)), line


def test_an_alias_bomb_is_refused_at_its_first_anchor(tmp_path: Path, capsys) -> None:
    path = _write(
        tmp_path, "claims:\n  - name: c\n    expect:\n" + textwrap.indent(ALIAS_BOMB, "      ")
    )
    started = time.monotonic()
    with pytest.raises(HarnessInputError, match=r"claims.yaml:4: YAML anchors and aliases"):
        gate.parse_claims(path)
    assert time.monotonic() - started < 1


def test_oversize_and_non_regular_claims_files_are_refused(tmp_path: Path, cli) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("claims:\n" + "# padding\n" * 30_000)
    done = cli("gate", str(big), timeout=30)
    assert done.returncode == 254
    assert done.stderr.strip() == f"splitbrain: {big}: claims file larger than 256 KiB"
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    done = cli("gate", str(fifo), timeout=30)
    assert done.returncode == 254
    assert done.stderr.strip() == f"splitbrain: {fifo}: cannot read claims file: not a regular file"


def test_a_claims_file_sets_settle_final_time_limit_and_workload_options(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        claims:
          - name: fifo-queue
            workload: queue
            workload_options: {fifo: true, allow-duplicates: false}
            settle: 0.5
            final_time_limit: 7
        """,
    )
    (claim,) = gate.load_claims(path)
    spec = claim.build_spec()
    assert spec.workload_options == {"fifo": "true", "allow-duplicates": "false"}
    assert (spec.settle, spec.final_time_limit) == (0.5, 7.0)
    words = spec.command().split()
    for flag, value in [("-w", "fifo=true"), ("--settle", "0.5"), ("--final-time-limit", "7")]:
        assert words[words.index(value) - 1] == flag
    bad = _write(
        tmp_path, "claims:\n  - name: q\n    workload: queue\n    workload_options: {lifo: 1}\n"
    )
    with pytest.raises(
        HarnessInputError, match="unknown -w key 'lifo' for workload 'queue'; known: "
    ):
        gate.load_claims(bad)


# ---------------------------------------------------------------- output paths and JUnit XML


def test_junit_xml_stays_well_formed_whatever_the_text(tmp_path: Path) -> None:
    odd = "bell\x07 esc\x1b[31m nul\x00 form\x0c surrogate\ud800 end"
    claim = gate.Claim(name=f"claim {odd}")
    outcomes = [
        gate.Outcome(claim, error=f"the harness failed: {odd}"),
        gate.Outcome(
            gate.Claim(name="b"), valid=False, explanation=f"linearizable: INVALID\n{odd}"
        ),
    ]
    out = tmp_path / "gate.xml"
    gate.write_junit(out, gate.junit_xml(tmp_path / "c.yaml", outcomes, [gate.Claim(name=odd)]))
    cases = list(ET.parse(out).getroot().iter("testcase"))
    assert [c.get("name") for c in cases] == [
        "claim bell\\x07 esc\\x1b[31m nul\\x00 form\\x0c surrogate\\ud800 end",
        "b",
        "bell\\x07 esc\\x1b[31m nul\\x00 form\\x0c surrogate\\ud800 end",
    ]
    assert "INVALID\nbell\\x07" in cases[1].find("failure").text


def test_an_unwritable_junit_file_or_store_is_refused_before_any_claim_runs(
    tmp_path: Path, cli
) -> None:
    claims = _claims_file(tmp_path, "claims:\n  - name: memory-holds\n")
    plain = tmp_path / "plain"
    plain.write_text("")
    store = tmp_path / "runs"
    cases = [
        (["--junit-xml", str(plain / "gate.xml")], f"--junit-xml {plain}: not a directory"),
        (["--junit-xml", str(tmp_path)], f"--junit-xml {tmp_path}: is a directory"),
    ]
    for extra, message in cases:
        done = cli("gate", str(claims), "--store", str(store), *extra)
        assert done.returncode == 254, done.stderr
        assert done.stderr.strip() == f"splitbrain: {message}"
        assert not list(store.glob("*/*/test.json")), "a claim ran before the check"
    done = cli("gate", str(claims), "--store", str(plain))
    assert done.returncode == 254
    assert done.stderr.strip() == f"splitbrain: --store {plain}: not a directory"
