"""The pytest plugin, driven through pytester: the fixture, the marker, the options."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

import splitbrain.checkers.linearizable  # noqa: F401  (see below)
from conftest import stderr_on_a_terminal
from splitbrain.harness.front.pytest_plugin import parse_time_limit

pytest_plugins = ["pytester"]
# pytester's in-process runs drop the modules first imported inside them from sys.modules,
# while the packages that survive keep them as attributes: a later run would then mix two
# copies of the checker modules (and their sentinels). Importing the checker here keeps one.

# Short, rate-limited runs on the in-process store. A lost-writes store with fault-rate 0.3
# over 2 keys is found invalid at every seed tried (20 of 20, seeds 1..20).
QUICK = "time_limit=1, rate=300, keys=2, seed=3"
LOSSY = '{"fault": "lost-writes", "fault-rate": "0.3"}'


def _store(pytester: pytest.Pytester) -> Path:
    return pytester.path / "runs"


# Plugins that only cost start-up time in the inner sessions.
QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:benchmark")


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest(*QUIET, f"--splitbrain-store={_store(pytester)}", *args)


def _test_docs(store: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(store.glob("*/*/test.json"))]


def _report_paths(output: str) -> list[Path]:
    return [Path(m) for m in re.findall(r"report: ([^\s>]+)", output)]


def test_fixture_on_a_valid_claim_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        f"""
        def test_memory_is_linearizable(splitbrain):
            result = splitbrain.run(target="memory", workload="register", {QUICK})
            assert result.valid, result.explain()
            assert result.verdict is True
            assert result.checkers["linearizable"]["valid"] is True
            assert (result.run_dir / "history.jsonl").is_file()
            assert result.report_path.exists()
            assert "report: " in result.explain()
        """
    )
    outcome = _run(pytester)
    outcome.assert_outcomes(passed=1)
    assert len(_test_docs(_store(pytester))) == 1


def test_fixture_on_a_refuted_claim_fails_with_the_report_path(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        f"""
        def test_lossy_store(splitbrain):
            result = splitbrain.run(target="memory", options={LOSSY}, {QUICK})
            assert result.valid, result.explain()
        """
    )
    outcome = _run(pytester)
    outcome.assert_outcomes(failed=1)
    text = outcome.stdout.str()
    assert "linearizable: INVALID" in text
    assert "splitbrain" in text and "replay: splitbrain test" in text
    paths = _report_paths(text)
    assert paths, text
    assert all(p.exists() and _store(pytester) in p.parents for p in paths)
    assert (paths[0].parent / "results.json").is_file() or (paths[0] / "results.json").is_file()


def test_marker_form_runs_the_claim_before_an_empty_body(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.consistency(target="memory", workload="register", model="cas-register", {QUICK})
        def test_holds():
            pass

        @pytest.mark.consistency(target="memory", options={LOSSY}, expect="violated", {QUICK})
        def test_known_weakness_is_caught(splitbrain_result):
            assert splitbrain_result.verdict is False
            assert "linearizable" in splitbrain_result.checkers

        @pytest.mark.consistency(target="memory", options={LOSSY}, expect="holds", {QUICK})
        def test_false_claim():
            pass
        """
    )
    outcome = _run(pytester, "--strict-markers")
    outcome.assert_outcomes(passed=2, failed=1)
    text = outcome.stdout.str()
    assert "consistency claim 'test_false_claim' not met: expected holds, verdict INVALID" in text
    assert any(p.exists() for p in _report_paths(text))
    assert {d["name"] for d in _test_docs(_store(pytester))} == {
        "test_holds",
        "test_known_weakness_is_caught",
        "test_false_claim",
    }


def test_class_marker_gives_defaults_the_function_marker_refines(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.consistency(target="memory", options={LOSSY}, {QUICK})
        class TestLossy:
            @pytest.mark.consistency(expect="violated", name="lossy-caught")
            def test_caught(self, splitbrain_result):
                assert splitbrain_result.spec.options["fault"] == "lost-writes"
        """
    )
    _run(pytester, "--strict-markers").assert_outcomes(passed=1)
    assert [d["name"] for d in _test_docs(_store(pytester))] == ["lossy-caught"]


def test_time_limit_option_overrides_every_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        def test_fixture(splitbrain):
            assert splitbrain.run(target="memory", time_limit=600, rate=200, name="f").valid

        @pytest.mark.consistency(target="memory", time_limit=600, rate=200, name="m")
        def test_marker():
            pass
        """
    )
    _run(pytester, "--splitbrain-time-limit=0.5", "--splitbrain-seed=42").assert_outcomes(passed=2)
    docs = {d["name"]: d for d in _test_docs(_store(pytester))}
    assert {n: (d["time_limit"], d["seed"]) for n, d in docs.items()} == {
        "f": (0.5, 42),
        "m": (0.5, 42),
    }


def test_ini_settings_scale_the_time_limit(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        """
        [pytest]
        splitbrain_store = ini-runs
        splitbrain_time_limit = x0.25
        splitbrain_seed = 7
        """
    )
    pytester.makepyfile(
        """
        def test_scaled(splitbrain):
            assert splitbrain.run(target="memory", time_limit=4, rate=200, seed=11).valid
            assert splitbrain.run(target="memory", time_limit=2, rate=200).valid
        """
    )
    pytester.runpytest(*QUIET).assert_outcomes(passed=1)
    docs = _test_docs(pytester.path / "ini-runs")
    assert sorted((d["time_limit"], d["seed"]) for d in docs) == [(0.5, 7), (1.0, 11)]


def test_bad_claims_fail_with_one_clear_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.consistency(target="memory", colour="red")
        def test_unknown_key():
            pass

        def test_unknown_target(splitbrain):
            splitbrain.run(target="nowhere", time_limit=1)

        def test_result_without_marker(splitbrain_result):
            pass
        """
    )
    outcome = _run(pytester)
    outcome.assert_outcomes(errors=2, failed=1)
    text = outcome.stdout.str()
    assert "unknown key 'colour'" in text
    assert "unknown target 'nowhere'" in text
    assert "splitbrain_result needs @pytest.mark.consistency" in text
    assert "Traceback" not in text
    assert not _store(pytester).exists() or not _test_docs(_store(pytester))


def test_bad_option_value_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_nothing():\n    pass\n")
    outcome = _run(pytester, "--splitbrain-time-limit=soon")
    assert outcome.ret == pytest.ExitCode.USAGE_ERROR
    outcome.stderr.fnmatch_lines(["*--splitbrain-time-limit: expected seconds*'soon'*"])


def test_html_report_links_the_run(pytester: pytest.Pytester) -> None:
    pytest.importorskip("pytest_html")
    pytester.makepyfile(
        f"""
        def test_lossy(splitbrain):
            assert splitbrain.run(target="memory", options={LOSSY}, name="lossy", {QUICK}).valid
        """
    )
    _run(pytester, "--html=out/pytest.html").assert_outcomes(failed=1)
    page = (pytester.path / "out" / "pytest.html").read_text()
    run_dir = next(_store(pytester).glob("lossy/*/"))
    assert f"../runs/lossy/{run_dir.name}/report.html" in page
    assert "splitbrain: lossy" in page


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("5", (5.0, None)), ("2.5s", (2.5, None)), ("x0.5", (None, 0.5)), ("3x", (None, 3.0))],
)
def test_time_limit_setting_forms(text: str, parsed: tuple) -> None:
    assert parse_time_limit(text) == parsed


@pytest.mark.parametrize("text", ["", "x", "-1", "x0", "fast", "nan", "inf", "xnan", "1e999"])
def test_time_limit_setting_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_time_limit(text)


def test_fixture_and_marker_take_every_claim_key_of_the_spec(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        f"""
        import pytest

        def test_fixture(splitbrain):
            result = splitbrain.run(
                "memory", "counter", workload_options={{"pn": True}}, settle=0.25,
                final_time_limit=5, op_timeout=2, check_timeout=30, {QUICK}
            )
            assert result.valid, result.explain()
            assert result.spec.workload_options == {{"pn": "true"}}
            assert any(op.f == "add" and op.value < 0 for op in result.history)
            assert "-w pn=true" in result.explain()

        @pytest.mark.consistency(
            workload="queue", workload_options={{"fifo": True}}, final_time_limit=5, {QUICK}
        )
        def test_marker(splitbrain_result):
            assert splitbrain_result.spec.workload_options == {{"fifo": "true"}}

        def test_unknown_keyword(splitbrain):
            splitbrain.run(target="memory", colour="red")

        def test_bad_number(splitbrain):
            splitbrain.run(target="memory", op_timeout=float("nan"))
        """
    )
    outcome = _run(pytester)
    outcome.assert_outcomes(passed=2, failed=2)
    text = outcome.stdout.str()
    assert (
        "splitbrain.run(): got an unexpected keyword argument 'colour'; it takes: target," in text
    )
    assert "key 'op_timeout': must be a finite number above 0 and at most 3600 seconds" in text
    assert "Traceback" not in text
    (fixture_doc,) = [d for d in _test_docs(_store(pytester)) if d["workload"] == "counter"]
    assert (fixture_doc["settle"], fixture_doc["final_time_limit"]) == (0.25, 5.0)
    assert "--op-timeout 2 --final-time-limit 5 --check-timeout 30" in fixture_doc["command"]


def test_with_s_on_a_terminal_the_status_line_shows_while_a_claim_runs(
    pytester: pytest.Pytester,
) -> None:
    """Under -s (pytest captures nothing) the run's status line goes to the terminal live, as
    `splitbrain test` draws it; captured, it would reach only the failure report."""
    pytester.makepyfile(
        """
        def test_quick(splitbrain):
            assert splitbrain.run(time_limit=2, rate=100, seed=3).valid
        """
    )
    argv = [sys.executable, "-m", "pytest", *QUIET, "-s", f"--splitbrain-store={_store(pytester)}"]
    code, text = stderr_on_a_terminal(argv, pytester.path)
    assert code == 0, text
    assert re.search(r"\r\d/2 s  ok \d+  fail 0  info 0  \d+ ops/s  fault: none", text), text
