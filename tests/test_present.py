"""What the front ends print: every checker's verdict explained, in the history's notation, in
text, markdown and JSON, from real runs and the other projects' real histories."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import run_cli, shared_histories
from splitbrain.checkers import availability, echo, stats, unique_ids
from splitbrain.checkers import set_full as checkers_set_full
from splitbrain.harness.base.history import Op
from splitbrain.harness.front import present

PYTHON_REPRS = re.compile(r"\bNone\b|\['|\bTrue\b|\bFalse\b|\bnil\b|op\(s\)")
"""Python reprs, Clojure's nil and "(s)" plurals: not the project's notation."""


def _quick_test(
    tmp_path: Path, workload: str, *extra: str, fmt: str = "text", fault: str = "lost-writes"
) -> tuple[int, str]:
    r = run_cli(
        "test",
        "--workload",
        workload,
        "-o",
        f"fault={fault}",
        "-o",
        "fault-rate=0.2",
        "--time-limit",
        "1",
        "--rate",
        "200",
        "--keys",
        "3",
        "--seed",
        "7",
        "--store",
        str(tmp_path),
        "--format",
        fmt,
        *extra,
    )
    assert r.returncode in (0, 1), r.stderr
    return r.returncode, r.stdout


def test_check_explains_an_elle_history_in_prose(histories_dir: Path) -> None:
    r = run_cli(
        "check", str(histories_dir / "elle" / "si-without-g-single.edn"), "--model", "serializable"
    )
    assert r.returncode == 1
    assert "serializable is violated: G2-item (1)" in r.stdout
    assert "T1 = process 7 txn [r 6 null, r 8 null, append 9 5] (history 31)" in r.stdout
    assert "T2 did not observe T1's append of 5 to key 9: a contradiction!" in r.stdout
    assert not PYTHON_REPRS.search(r.stdout), r.stdout


def test_check_explains_every_file_when_given_several(histories_dir: Path) -> None:
    elle = histories_dir / "elle"
    r = run_cli(
        "check",
        str(elle / "si-without-g-single.edn"),
        str(elle / "paper-example.edn"),
        "--model",
        "serializable",
    )
    assert r.returncode == 1
    assert r.stdout.count("first example:") == 2
    assert "G-single (1)" in r.stdout and "G2-item (1)" in r.stdout


@pytest.mark.parametrize(
    ("workload", "expected", "fault"),
    [
        ("set", r"lost: \d+ elements? of \d+ acknowledged; e\.g\. \d+, added at history \d+", ""),
        ("counter", r"reads? out of bounds; first: process \d+ read \d+ at history \d+", ""),
        ("queue", r"lost: \d+ messages? acknowledged and never dequeued", ""),
        ("list-append", r"strict-serializable is violated: ", ""),
        ("rw-register", r"strict-serializable is violated: ", ""),
        ("register", r"cannot be linearized", ""),
        ("bank", r"\d+ of \d+ reads? (is|are) bad: each must show 100 in total", "torn-transfers"),
    ],
)
def test_every_workloads_checker_says_why_a_run_is_invalid(
    tmp_path: Path, workload: str, expected: str, fault: str
) -> None:
    code, out = _quick_test(tmp_path, workload, fault=fault or "lost-writes")
    assert code == 1, out
    assert re.search(expected, out), out
    assert not PYTHON_REPRS.search(out), out
    if workload == "queue":
        assert re.search(r"no dequeue timed out|dequeues? timed out \(history", out), out
    listed = re.search(r"e\.g\. (\d+),.*\n +\d+ more lost: ([\d, ]+)", out)
    if listed:  # lost elements are listed in numeric order (7 before 26)
        numbers = [int(listed[1]), *map(int, listed[2].rstrip(", ").split(", "))]
        assert numbers == sorted(numbers), listed[0]
    results = json.loads((tmp_path / "latest" / "results.json").read_text())
    spectrum_checked = [
        m
        for m, e in (results.get("spectrum") or {}).get("models", {}).items()
        if e.get("verdict") == "fails" and isinstance(e.get("result"), dict)
    ]
    for model in spectrum_checked:  # the ladder says why each model it checked itself fails
        assert re.search(rf"x {re.escape(model)} +fails .*\n {{6}}\S", out), (model, out)


def test_more_failing_keys_are_counted(tmp_path: Path) -> None:
    _, out = _quick_test(tmp_path, "register", "--keys", "8", "--time-limit", "2")
    results = json.loads((tmp_path / "latest" / "results.json").read_text())
    total = results["checkers"]["linearizable"]["failures_total"]
    assert total > 1
    assert f"{total - 1} more keys of 8 failed" in out or f"{total - 1} more key of 8" in out


def test_stats_vote_is_printed_with_its_reason() -> None:
    history = []
    for i in range(3):
        history += [
            Op("invoke", "write", i, i, index=2 * i),
            Op("fail", "write", i, i, index=2 * i + 1),
        ]
    results = {"valid": False, "checkers": {"stats": stats.check(history)}}
    lines = present.verdict_lines(results)
    assert lines[0] == "stats: INVALID"
    assert "no client operation succeeded (0 ok, 3 fail, 0 info)" in lines[1]


def test_stats_votes_against_a_function_that_never_succeeded_as_jepsens_does() -> None:
    history = [
        Op("invoke", "set.add", 0, 1, index=0),
        Op("ok", "set.add", 0, 1, index=1),
        Op("invoke", "set.read", 1, None, index=2),
        Op("fail", "set.read", 1, None, index=3),
        Op("invoke", "set.read", 1, None, index=4),
        Op("info", "set.read", 1, None, index=5),
    ]
    result = stats.check(history)
    assert result["valid"] is False and result["never_ok"] == ["set.read"]
    set_full = checkers_set_full.check(history)
    assert set_full["valid"] is True
    lines = present.verdict_lines({"checkers": {"set-full": set_full, "stats": result}})
    assert lines == [
        "set-full: valid (nothing to judge: no read succeeded, so no acknowledged element can "
        "be shown lost)",
        "stats: INVALID",
        "  no set.read (1 fail, 1 info) ever succeeded: the checkers could judge nothing that "
        "needs one",
    ]


def test_nothing_to_judge_is_valid_and_never_unknown() -> None:
    assert echo.check([]) == {"valid": True, "vacuous": "no echo was acknowledged",
                              "ok_count": 0, "wrong_count": 0, "wrong": []}  # fmt: skip
    assert unique_ids.check([])["vacuous"] == "no id was acknowledged"
    assert availability.check([], 0.9)["valid"] is False
    assert availability.check([], None)["valid"] is True


def test_markdown_and_json_formats(tmp_path: Path) -> None:
    _, md = _quick_test(tmp_path / "md", "set", fmt="markdown")
    assert re.search(r"^\| f +\| +ok \|", md, re.M), md
    assert "**INVALID**" in md and "set-full: INVALID" in md
    _, js = _quick_test(tmp_path / "js", "set", fmt="json")
    assert json.loads(js)["checkers"]["set-full"]["valid"] is False


def test_github_step_summary_gets_markdown(
    tmp_path: Path, histories_dir: Path, monkeypatch
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    r = run_cli(
        "check", str(histories_dir / "elle" / "si-without-g-single.edn"), "--model", "serializable"
    )
    assert r.returncode == 1
    text = summary.read_text()
    assert text.startswith("earlier step\n")
    assert "| history " in text and "G2-item (1)" in text and "```" in text


def test_gate_explains_a_set_claim_in_prose_not_json(tmp_path: Path) -> None:
    claims = tmp_path / "claims.yaml"
    claims.write_text(
        "claims:\n  - name: lossy-set\n    target: memory\n    workload: set\n"
        "    options: {fault: lost-writes, fault-rate: 0.3}\n"
        "    time_limit: 1\n    rate: 200\n    seed: 3\n"
    )
    r = run_cli("gate", str(claims), "--store", str(tmp_path / "runs"))
    assert r.returncode == 1, r.stdout + r.stderr
    assert re.search(r"lost: \d+ elements? of \d+ acknowledged", r.stdout), r.stdout
    assert '{"' not in r.stdout
    md = run_cli("gate", str(claims), "--store", str(tmp_path / "runs"), "--format", "markdown")
    assert re.search(r"^\| claim +\|", md.stdout, re.M), md.stdout
    js = run_cli("gate", str(claims), "--store", str(tmp_path / "runs"), "--format", "json")
    (record,) = json.loads(js.stdout)
    assert record["claim"] == "lossy-set" and record["result"] == "FAIL"
    assert "lost: " in record["explanation"]


def test_a_lost_message_says_whether_a_timed_out_dequeue_may_have_taken_it(
    tmp_path: Path,
) -> None:
    # pauses longer than --op-timeout: dequeues time out (info), then run when resumed
    r = run_cli(
        "test", "--workload", "queue", "-o", "fault=lost-writes", "--nemesis", "pause",
        "--nemesis-interval", "2", "--op-timeout", "0.5", "--time-limit", "5",
        "--seed", "3", "--store", str(tmp_path),
    )  # fmt: skip
    assert r.returncode == 1, r.stdout + r.stderr
    result = json.loads((tmp_path / "latest" / "results.json").read_text())
    queue = result["checkers"]["total-queue"]
    k = queue["indeterminate_dequeue_count"]
    assert k > 0 and queue["lost_count"] > 0
    assert re.search(
        rf"{k} dequeues? timed out \(history \d+.*\) and may have taken "
        r"(each lost message|at most \d+ of the \d+ lost messages) unseen",
        r.stdout,
    ), r.stdout


def test_a_checker_that_finds_nothing_to_judge_says_so_in_check() -> None:
    etcd = shared_histories() / "porcupine" / "etcd" / "etcd_000.log"
    for checker, why in (
        ("total-queue", "no enqueue in the history"),
        ("kafka", "no send or poll succeeded"),
    ):
        r = run_cli("check", "--checker", checker, str(etcd))
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines()[-1] == f"{etcd}: valid (nothing to judge: {why})"
