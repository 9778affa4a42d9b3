"""A checker that raises is no verdict, never ``unknown`` (which means only out of time or
memory): the run is stored, with the error under that checker beside the others' verdicts,
and then every front end says so as the harness's (or the plugin's) failure, exit 255, in
one line. Real runs of a user's workload whose checker has a bug."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

import splitbrain
from conftest import run_cli
from splitbrain.harness.front import cli
from splitbrain.targets.memory import MemoryTarget

pytest_plugins = ["pytester"]

BUGGY = '''
"""A user's workload: the register workload, its linearizability checker renamed, and two
checkers of its own: one with a bug, one that runs out of memory."""
import dataclasses

from splitbrain.workloads import register

OPTIONS = register.OPTIONS


def buggy(history):
    return {"valid": True, "reads": sum(o.value for o in history if o.f == "read")}


def greedy(history):
    raise MemoryError()


def make(spec):
    w = register.workload(spec)
    checkers = {"lin": w.checkers["linearizable"], "buggy": buggy, "greedy": greedy}
    return dataclasses.replace(w, checkers=checkers, decides={"buggy": ("linearizable",)})


def silent(spec):
    w = make(spec)
    return dataclasses.replace(w, checkers={**w.checkers, "silent": lambda history: None})


def refuses(history):
    raise ValueError("not a history of mine")
'''


def what(name: str = "buggy") -> str:
    return re.escape(
        f"checker {name} failed: TypeError: unsupported operand type(s) for +: 'int' and "
        "'NoneType' (buggy_workload.py:12 in buggy)"
    )


WHAT = what()
QUICK = ["--time-limit", "0.5", "--rate", "100", "--keys", "2", "--seed", "4"]


def _module(where: Path) -> Path:
    (where / "buggy_workload.py").write_text(BUGGY)
    return where


def test_test_and_check_say_which_checker_failed_in_one_line_and_exit_255(tmp_path: Path) -> None:
    cwd = _module(tmp_path)
    store = tmp_path / "store"
    done = run_cli(
        "test", "--workload", "buggy_workload:make", *QUICK, "--store", str(store), cwd=cwd
    )
    assert done.returncode == 255, done.stderr
    run_dir = next(store.glob("memory-buggy_workload-make/2*"))
    assert re.fullmatch(
        rf"run directory: {run_dir}\nsplitbrain: {WHAT}; the run is stored in {run_dir} "
        r"\(traceback in its splitbrain.log\)\n",
        done.stderr,
    ), done.stderr
    for name in ("history.jsonl", "test.json", "results.json", "report.html"):
        assert (run_dir / name).is_file(), name
    results = json.loads((run_dir / "results.json").read_text())
    parts = results["checkers"]
    assert results["valid"] is None and parts["buggy"]["valid"] is None
    assert parts["buggy"]["crashed"] is True and parts["buggy"]["error"].startswith("TypeError")
    assert parts["stats"]["valid"] is True and parts["lin"]["valid"] is True
    assert parts["greedy"] == {
        "valid": "unknown",
        "unknown_reason": "memory",
        "error": "MemoryError:  (buggy_workload.py:16 in greedy)",
    }
    assert results["cap"]["classification"]["text"].endswith("; no verdict (buggy failed)")
    # the model the crashed checker decided is checked by the spectrum itself, not unknown
    assert results["spectrum"]["models"]["linearizable"]["verdict"] == "holds"
    assert "Traceback (most recent call last)" in (run_dir / "splitbrain.log").read_text()
    page = (run_dir / "report.html").read_text()
    assert 'id="verdict">ERROR</div>' in page
    assert re.search(r'id="checker-buggy"><h3>buggy <span class="badge none">ERROR</span>', page)
    assert cli.main(["report", "--index", str(store)]) == 0
    index = (store / "index.html").read_text()
    assert '<td class="verdict">ERROR</td>' in index and "1 runs, 1 error" in index
    assert "buggy: error\n  TypeError: unsupported operand" in done.stdout
    assert "greedy: unknown\n  MemoryError" in done.stdout and "verdict: error" in done.stdout

    again = run_cli("check", str(run_dir), cwd=cwd)  # the run's own checkers, stats included
    assert again.returncode == 255 and again.stdout == ""
    assert re.fullmatch(rf"splitbrain: {WHAT}; while checking {run_dir}\n", again.stderr)

    history = str(run_dir / "history.jsonl")
    theirs = run_cli("check", "--checker", "buggy_workload:buggy", history, cwd=cwd)
    assert theirs.returncode == 255 and "Traceback" not in theirs.stderr
    assert re.fullmatch(
        rf"splitbrain: {what('buggy_workload:buggy')}; "
        rf"while checking {history}\n",
        theirs.stderr,
    ), theirs.stderr
    refused = run_cli("check", "--checker", "buggy_workload:refuses", history, cwd=cwd)
    assert refused.returncode == 254
    assert refused.stderr == f"splitbrain: {history}: not a history of mine\n"


class BrokenMeter(MemoryTarget):
    """A user's target that measures something itself, with a bug."""

    def extra_results(self) -> dict:
        raise KeyError("servers")


def test_run_raises_checker_failed_after_storing_the_run(tmp_path: Path) -> None:
    sys.path.insert(0, str(_module(tmp_path)))
    try:
        from buggy_workload import silent  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(tmp_path))
    spec = splitbrain.TestSpec(
        target=BrokenMeter(), workload=silent, time_limit=0.5, rate=100, keys=2, seed=4,
        store=str(tmp_path / "store"),
    )  # fmt: skip
    with pytest.raises(splitbrain.CheckerFailed) as caught:
        splitbrain.run(spec)
    e = caught.value
    assert isinstance(e, splitbrain.HarnessFailure) and e.exit_code == 255
    assert list(e.failures) == ["checker buggy", "checker silent", "checker target-results"]
    assert e.failures["checker silent"] == "returned NoneType, not a dict"
    assert e.failures["checker target-results"].startswith("KeyError: 'servers' (test_checker")
    result = e.result
    assert isinstance(result, splitbrain.RunResult) and e.run_dir == result.run_dir
    assert result.valid is None and result.verdict is None
    assert result.results["checkers"]["lin"]["valid"] is True
    with pytest.raises(ValueError, match="None is no verdict"):
        splitbrain.Verdict.of(result.valid)
    stored = json.loads((result.run_dir / "results.json").read_text())
    assert stored["checkers"]["target-results"]["crashed"] is True
    assert len(result.history) > 20 and (result.run_dir / "report.html").is_file()


def test_the_gate_and_the_pytest_plugin_fail_as_the_harness_not_as_unknown(
    tmp_path: Path, pytester: pytest.Pytester, capsys, monkeypatch
) -> None:
    _module(pytester.path)
    pytester.syspathinsert()
    claims = pytester.path / "claims.yaml"
    claims.write_text(
        "defaults: {target: memory, time_limit: 0.5, rate: 100, keys: 2}\nclaims:\n"
        "  - name: plain\n    workload: register\n"
        "  - name: buggy\n    workload: buggy_workload:make\n    allow_unknown: true\n"
    )
    monkeypatch.chdir(pytester.path)
    assert cli.main(["gate", str(claims), "--store", str(tmp_path / "gate")]) == 255
    out, err = capsys.readouterr()
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line[:1].isalpha()}
    assert rows["plain"][1:4] == ["valid", "holds", "pass"]
    assert rows["buggy"][1:2] == ["error"] and rows["buggy"][5] == "error"
    assert re.search(rf"^buggy: the harness failed: {WHAT}$", out, re.M), out
    assert re.search(rf"claim 'buggy': {WHAT}; the run is stored in ", err) and "Trace" not in err

    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.consistency(
            workload="buggy_workload:make", time_limit=0.5, rate=100, allow_unknown=True
        )
        def test_marker():
            pass

        def test_fixture(splitbrain):
            result = splitbrain.run(workload="buggy_workload:make", time_limit=0.5, rate=100)
            assert result.verdict != "unknown"
        """
    )
    outcome = pytester.runpytest(
        "-rfE", "-p", "no:cacheprovider", f"--splitbrain-store={tmp_path / 'plugin'}"
    )
    outcome.assert_outcomes(errors=1, failed=1)
    text = outcome.stdout.str()
    for word, test in (("ERROR", "test_marker"), ("FAILED", "test_fixture")):
        assert re.search(rf"^{word} \S+::{test}\b", text, re.M), text
    assert (
        len(
            re.findall(rf"^E +splitbrain\.harness\.base\.errors\.CheckerFailed: {WHAT}", text, re.M)
        )
        == 2
    )
    assert text.count("test_marker: error  report: ") == 1, text
