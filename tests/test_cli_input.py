"""Bad input: one clear line naming the problem and where, exit 254, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli

BAD_INPUT = 254


def assert_one_clear_line(stderr: str, *fragments: str) -> None:
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["test", "--target", "nosuch"], ["unknown target 'nosuch'", "memory"]),
        (["test", "--workload", "nosuch"], ["unknown workload 'nosuch'", "register"]),
        (["test", "--nemesis", "nosuch"], ["unknown nemesis 'nosuch'"]),
        (["test", "--time-limit", "-3"], ["--time-limit must not be negative"]),
        (["test", "--concurrency", "zero"], ["--concurrency", "invalid int value"]),
        (["test", "-o", "colour=blue"], ["unknown -o key 'colour'", "fault"]),
        (["test", "-o", "fault=banana", "--time-limit", "0"], ["-o fault=banana", "stale-reads"]),
        (["test", "-o", "novalue"], ["expected KEY=VALUE"]),
        (["frobnicate"], ["invalid choice: 'frobnicate'"]),
    ],
)
def test_bad_test_arguments(tmp_path: Path, args: list[str], fragments: list[str]) -> None:
    r = run_cli(*args, "--store", str(tmp_path)) if args[0] == "test" else run_cli(*args)
    assert r.returncode == BAD_INPUT, r.stderr
    assert_one_clear_line(r.stderr, *fragments)


def test_unknown_model(tmp_path: Path) -> None:
    h = tmp_path / "h.jsonl"
    h.write_text('{"index": 0, "process": 0, "type": "invoke", "f": "read", "value": null}\n')
    r = run_cli("check", str(h), "--model", "nosuch")
    assert r.returncode == BAD_INPUT
    assert_one_clear_line(r.stderr, "unknown model 'nosuch'", "cas-register")


def test_history_line_not_json(tmp_path: Path) -> None:
    h = tmp_path / "h.jsonl"
    h.write_text(
        '{"index": 0, "process": 0, "type": "invoke", "f": "read", "value": null}\n{oops\n{}\n'
    )
    r = run_cli("check", str(h), "--model", "register")
    assert r.returncode == BAD_INPUT
    assert "Traceback" not in r.stderr
    assert_one_clear_line(r.stderr, f"{h}:2: not JSON")


def test_history_not_edn(tmp_path: Path) -> None:
    h = tmp_path / "h.edn"
    h.write_text(
        "[{:process 0 :type :invoke :f :read}\n {:process 0 :type :ok :f :read :value 1]\n"
    )
    r = run_cli("check", str(h), "--model", "register")
    assert r.returncode == BAD_INPUT
    assert f"{h}:2: not EDN" in r.stderr


def test_missing_history_file(tmp_path: Path) -> None:
    r = run_cli("check", str(tmp_path / "nope.jsonl"), "--model", "register")
    assert r.returncode == BAD_INPUT
    assert "nope.jsonl: no such file" in r.stderr


def test_bad_init_json(tmp_path: Path) -> None:
    h = tmp_path / "h.jsonl"
    h.write_text('{"index": 0, "process": 0, "type": "invoke", "f": "read", "value": null}\n')
    r = run_cli("check", str(h), "--model", "register", "--init", "{nope")
    assert r.returncode == BAD_INPUT
    assert_one_clear_line(r.stderr, "--init is not JSON")


def test_empty_history_gets_a_clear_message(histories_dir: Path) -> None:
    empty = histories_dir / "porcupine/etcd/etcd_095.log"
    r = run_cli("check", str(empty), "--model", "cas-register")
    assert r.returncode == BAD_INPUT
    assert "Traceback" not in r.stderr
    assert "the history has no operations" in r.stderr
