"""The consistency hierarchy, the spectrum of a run, and ``--consistency`` beside the data type.

Real runs (memory, sim) and the shared histories other projects wrote are checked for every
model that has a checker, skipping nothing, to show that no result ever has a stronger model
holding while a weaker one it implies fails; the ladder, results.json and the report's diagram
are read back from those runs.
"""

from __future__ import annotations

import contextlib
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from test_report_browser import dump, screenshot

from conftest import shared_histories
from splitbrain.checkers import elle, hierarchy
from splitbrain.checkers import spectrum as sp
from splitbrain.harness.base.history import read_history
from splitbrain.harness.base.independent import apply as apply_independent
from splitbrain.harness.engine import check
from splitbrain.harness.front import cli, present

JEPSEN_MAP = {
    ("strict-serializable", "serializable"),
    ("strict-serializable", "linearizable"),
    ("serializable", "repeatable-read"),
    ("serializable", "snapshot-isolation"),
    ("snapshot-isolation", "monotonic-atomic-view"),
    ("repeatable-read", "monotonic-atomic-view"),
    ("repeatable-read", "cursor-stability"),
    ("cursor-stability", "read-committed"),
    ("monotonic-atomic-view", "read-committed"),
    ("read-committed", "read-uncommitted"),
    ("linearizable", "sequential"),
    ("sequential", "causal"),
    ("causal", "writes-follow-reads"),
    ("causal", "PRAM"),
    ("PRAM", "monotonic-reads"),
    ("PRAM", "monotonic-writes"),
    ("PRAM", "read-your-writes"),
}
"""The arrows of jepsen.io/consistency, as its text lists them."""


def test_the_table_has_exactly_the_arrows_of_jepsens_map() -> None:
    arrows = {(m.name, b) for m in hierarchy.MODELS.values() for b in m.implies}
    assert arrows == JEPSEN_MAP
    for name in hierarchy.NAMES:  # written strongest first, and acyclic
        assert all(
            hierarchy.NAMES.index(w) > hierarchy.NAMES.index(name) for w in hierarchy.weaker(name)
        )
    assert hierarchy.weaker("strict-serializable") >= {"read-uncommitted", "read-your-writes"}
    assert hierarchy.stronger("monotonic-reads") == {
        "PRAM",
        "causal",
        "sequential",
        "linearizable",
        "strict-serializable",
    }
    assert hierarchy.weaker("eventual") == hierarchy.stronger("eventual") == set()
    assert hierarchy.applicable("list-append")[0] == "strict-serializable"
    assert "serializable" not in hierarchy.applicable("cas-register")


def _cases() -> list[dict[str, Any]]:
    """A sample of the shared histories: every data type and source, every Knossos "bad" one,
    some of the rest (more add time, not coverage); not Elle's performance case."""
    cases = json.loads((shared_histories() / "verdicts.json").read_text())["cases"]
    register = [c for c in cases if c["model"] == "cas-register" and "/bad/" not in c["file"]]
    keep = [c for c in cases if c not in register]
    keep = [c for c in keep if "huge-scc" not in c["file"] and "c50" not in c["file"]]
    return keep + register[::15]


def _ops(path: Path) -> list[Any]:
    ops, _ = apply_independent(read_history(path).ops, "auto")
    return ops


def test_shared_histories_never_contradict_the_arrows() -> None:
    seen: set[str] = set()
    for case in _cases():
        ops = _ops(shared_histories() / case["file"])
        data_type = check.infer_data_type(ops)
        if data_type is None:  # a history of nemesis ops alone: nothing says its type
            assert not any(o.is_client for o in ops), case["file"]
            continue
        assert case["model"].startswith(data_type.replace("register", "cas-register")) or (
            case["model"].startswith(data_type)
        ), case["file"]
        seen.add(data_type)
        full = sp.spectrum(ops, data_type, init=case.get("init"), timeout=1, exhaustive=True)
        assert full["contradictions"] == [], case["file"]
        checked = {m: e["valid"] for m, e in full["models"].items() if e["by"] == "checked"}
        assert hierarchy.contradictions(checked) == []
        quick = sp.spectrum(ops, data_type, init=case.get("init"), timeout=1)
        for model, entry in quick["models"].items():  # what skipping inferred, a check confirms
            again = full["models"][model]
            if entry["valid"] in (True, False) and again["valid"] in (True, False):
                assert again["valid"] is entry["valid"], (case["file"], model)
        strongest = hierarchy.applicable(data_type)[0]
        if case.get("expected") is not None:
            assert full["models"][strongest]["valid"] is case["expected"], case["file"]
        for model in case.get("not") or []:
            if model in full["models"]:
                assert full["models"][model]["valid"] is False, (case["file"], model)
    assert seen >= {"cas-register", "kv", "list-append", "mutex", "multi-register"}


def test_elle_models_from_one_search_agree_with_one_search_each() -> None:
    ops = _ops(shared_histories() / "elle/si-without-g-single.edn")
    found = sp.spectrum(ops, "list-append")
    for model in sp.ELLE_MODELS:
        alone = sp.CHECKS[model]["list-append"](ops, "list-append", None, None)
        assert found["models"][model]["valid"] is alone["valid"], model
    # Elle's own verdict for it: snapshot isolation holds, repeatable read does not
    assert found["strongest_holding"] == ["snapshot-isolation", "cursor-stability"]
    assert found["weakest_failing"] == ["repeatable-read"]
    assert found["models"]["monotonic-atomic-view"]["by"] == "implied: snapshot-isolation holds"


def test_an_unknown_stays_unknown_and_decided_models_still_settle_it(tmp_path: Path) -> None:
    lines = (shared_histories() / "elle/huge-scc.edn").read_text().splitlines()[:6000]
    (tmp_path / "scc.edn").write_text("\n".join(lines) + "\n")  # a prefix: one op a line
    ops = _ops(tmp_path / "scc.edn")
    gave_up = elle.check(ops, consistency_models=["strict-serializable"], cycle_search_budget=1000)
    assert gave_up["valid"] == "unknown"

    def ladder(read_committed: bool) -> dict[str, Any]:
        decided = {
            "strict-serializable": ("elle", gave_up),
            "read-committed": ("elle", {"valid": read_committed}),
        }
        return sp.spectrum(ops, "list-append", decided=decided, models=list(decided))

    holds = ladder(True)["models"]["strict-serializable"]
    assert holds["verdict"] == "unknown" and holds["by"] == "checked"  # nothing inferred upwards
    assert "cycle-search-timeout" in holds["reason"]
    assert "? strict-serializable" in "\n".join(present.ladder_lines(ladder(True)))
    assert ladder(False)["models"]["strict-serializable"] == {
        "verdict": "fails",
        "valid": False,
        "by": "implied: read-committed fails",
        "checker_said": "unknown",
        "reason": holds["reason"],
        "availability": "unavailable",
    }


# ---------------------------------------------------------------- real runs


RUNS = {
    "stale": ["--target", "memory", "-o", "fault=stale-reads", "--time-limit", "3"],
    "multi": [
        "--target",
        "sim",
        "-o",
        "replication=multi-leader",
        "--workload",
        "list-append",
        "--nemesis",
        "partition",
        "--time-limit",
        "4",
        "--nemesis-interval",
        "1",
        "--rate",
        "200",
    ],
    "eventual": ["--workload", "eventual", "--time-limit", "2"],
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str, int]]:
    store = tmp_path_factory.mktemp("spectrum")
    out = {}
    for name, argv in RUNS.items():
        text = io.StringIO()
        with contextlib.redirect_stdout(text):
            code = cli.main(["test", *argv, "--seed", "3", "--store", str(store), "--name", name])
        out[name] = (next((store / name).iterdir()), text.getvalue(), code)
    return out


def test_every_run_carries_its_spectrum_uncontradicted(runs: dict[str, Any]) -> None:
    expected_type = {"stale": "cas-register", "multi": "list-append", "eventual": "register"}
    for name, (run_dir, text, _) in runs.items():
        results = json.loads((run_dir / "results.json").read_text())
        ladder = results["spectrum"]
        assert ladder["data_type"] == expected_type[name]
        assert list(ladder["models"]) == hierarchy.applicable(expected_type[name])
        assert ladder["contradictions"] == []
        assert f"spectrum ({expected_type[name]}):" in text
        line = next(x for x in text.splitlines() if "strongest holding:" in x)
        assert (", ".join(ladder["strongest_holding"]) or "none") in line
        ops = read_history(run_dir / "history.jsonl").ops
        full = sp.spectrum(ops, ladder["data_type"], timeout=10, exhaustive=True)
        assert full["contradictions"] == []
        for model, entry in ladder["models"].items():
            again = full["models"][model]
            if entry["valid"] in (True, False) and again["valid"] in (True, False):
                assert again["valid"] is entry["valid"], (name, model)
    stale = json.loads((runs["stale"][0] / "results.json").read_text())["spectrum"]
    assert stale["models"]["linearizable"] == {
        "verdict": "fails",
        "valid": False,
        "by": "checked",
        "checker": "linearizable",
        "availability": "unavailable",
    }
    assert stale["weakest_failing"] and "linearizable" not in stale["weakest_failing"]
    assert runs["stale"][2] == 1
    assert json.loads((runs["multi"][0] / "results.json").read_text())["spectrum"][
        "weakest_failing"
    ]
    eventual = json.loads((runs["eventual"][0] / "results.json").read_text())["spectrum"]
    assert eventual["models"]["eventual"]["checker"] == "convergence"
    assert eventual["models"]["eventual"]["verdict"] == "holds"


def _svg_models(report: Path) -> dict[str, ET.Element]:
    page = report.read_text()
    start = page.index('<svg class="spectrum"')
    svg = ET.fromstring(page[start : page.index("</svg>", start) + len("</svg>")])
    return {g.get("data-model"): g for g in svg.iter("g")}


def test_the_reports_diagram_colours_each_model_by_its_verdict(runs: dict[str, Any]) -> None:
    for run_dir, _, _ in runs.values():
        ladder = json.loads((run_dir / "results.json").read_text())["spectrum"]
        drawn = _svg_models(run_dir / "report.html")
        assert set(drawn) == set(ladder["models"])
        for model, g in drawn.items():
            verdict = ladder["models"][model]["verdict"]
            assert g.get("data-verdict") == verdict
            assert f"model-{verdict}" in g.get("class", "")
            assert g.find("rect") is not None and g.find("text").text == model
        for model in ladder["strongest_holding"]:
            assert "strongest" in drawn[model].get("class", "")
        for model in ladder["weakest_failing"]:
            assert "weakest" in drawn[model].get("class", "")
    page = (runs["multi"][0] / "report.html").read_text()
    for a, b in json.loads((runs["multi"][0] / "results.json").read_text())["spectrum"]["edges"]:
        assert f'data-from="{a}" data-to="{b}"' in page


# ---------------------------------------------------------------- one word for one thing


def _check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["check", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_check_takes_the_data_type_and_the_consistency_apart(capsys: Any) -> None:
    etcd = str(shared_histories() / "porcupine/etcd/etcd_000.log")
    code, out, err = _check(capsys, "--model", "linearizable", etcd)
    assert code == 1 and "INVALID" in out and "cannot be linearized" in out
    assert err.splitlines() == [
        "splitbrain: deprecated: --model linearizable is deprecated for a consistency model; "
        "use --consistency linearizable"
    ]
    code, _, err = _check(capsys, "--consistency", "serializable", etcd)
    assert code == 254 and len(err.splitlines()) == 1
    assert "consistency model serializable does not apply to data type cas-register" in err
    code, out, err = _check(capsys, "--type", "cas-register", "--spectrum", "--json", etcd)
    record = json.loads(out)
    assert code == 1 and err == ""
    assert record["result"]["claimed"] == ["linearizable"]
    assert record["result"]["spectrum"]["weakest_failing"] == ["linearizable"]
    elle = str(shared_histories() / "elle/si-without-g-single.edn")
    code, out, _ = _check(capsys, "--consistency", "snapshot-isolation,read-committed", elle)
    assert code == 0
    code, out, _ = _check(
        capsys,
        "--consistency",
        "snapshot-isolation",
        "--consistency",
        "repeatable-read",
        "--spectrum",
        elle,
    )
    assert code == 1 and "repeatable-read: INVALID" in out and "G2-item" in out
    assert "+ snapshot-isolation     holds     checked" in out
    code, _, err = _check(capsys, "--model", "set-full", elle)
    assert "use --checker set-full" in err


def test_test_and_claims_take_consistency_and_refuse_what_does_not_apply(
    tmp_path: Path, capsys: Any
) -> None:
    store = ["--store", str(tmp_path), "--time-limit", "1"]
    code = cli.main(["test", "--consistency", "serializable", *store])
    err = capsys.readouterr().err
    assert code == 254 and len(err.splitlines()) == 1
    assert (
        "workload 'register': consistency model serializable does not apply to data type cas-register"
        in err
    )
    claims = tmp_path / "claims.yaml"
    claims.write_text(
        "claims:\n"
        "  - {name: old, workload: list-append, model: serializable, time_limit: 1}\n"
        "  - {name: new, workload: list-append, consistency: [serializable, read-committed],"
        " time_limit: 1}\n"
    )
    code = cli.main(["gate", str(claims), "--store", str(tmp_path / "g")])
    out = capsys.readouterr()
    assert code == 0, out.out
    notices = [line for line in out.err.splitlines() if "deprecated" in line]
    assert len(notices) == 1 and "use consistency: serializable" in notices[0]
    old = json.loads(next((tmp_path / "g" / "old").iterdir()).joinpath("results.json").read_text())
    new = json.loads(next((tmp_path / "g" / "new").iterdir()).joinpath("results.json").read_text())
    assert old["checkers"]["elle"]["model"] == "serializable"
    assert new["checkers"]["elle"]["model"] == "serializable, read-committed"
    test_json = json.loads(
        next((tmp_path / "g" / "new").iterdir()).joinpath("test.json").read_text()
    )
    assert "--consistency serializable --consistency read-committed" in test_json["command"]


def test_a_claimed_model_replaces_the_workloads_own(tmp_path: Path, capsys: Any) -> None:
    code = cli.main(
        [
            "test",
            "--workload",
            "eventual",
            "--consistency",
            "eventual",
            "--time-limit",
            "1",
            "--store",
            str(tmp_path),
            "--seed",
            "1",
        ]
    )
    capsys.readouterr()
    results = json.loads(
        next((tmp_path / "memory-eventual").iterdir()).joinpath("results.json").read_text()
    )
    assert code == 0 and set(results["checkers"]) == {"stats", "convergence"}
    assert results["spectrum"]["models"]["linearizable"]["by"] == "checked"


@pytest.mark.browser
def test_the_diagram_loads_in_a_real_browser(runs: dict[str, Any]) -> None:
    run_dir = runs["multi"][0]
    ladder = json.loads((run_dir / "results.json").read_text())["spectrum"]
    load = dump((run_dir / "report.html").as_uri())
    assert load.console == []
    assert '<section id="spectrum">' in load.dom and '<svg class="spectrum"' in load.dom
    for model, entry in ladder["models"].items():
        assert f'data-model="{model}" data-verdict="{entry["verdict"]}"' in load.dom
    screenshot((run_dir / "report.html").as_uri() + "#spectrum", "report-spectrum.png")
