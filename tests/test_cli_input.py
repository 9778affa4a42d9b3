"""Bad input: one clear line naming the problem and where, exit 254, no traceback."""

from __future__ import annotations

import json
import subprocess
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
        (["test", "--time-limit", "-3"], ["--time-limit must be a finite number from 0 to 86400"]),
        (["test", "--concurrency", "zero"], ["--concurrency must be an integer from 1 to 1000"]),
        (["test", "-o", "colour=blue"], ["unknown -o key 'colour'", "fault"]),
        (["test", "-o", "fault=banana", "--time-limit", "0"], ["-o fault=banana", "stale-reads"]),
        (["test", "-o", "novalue"], ["expected KEY=VALUE"]),
        (["test", "--nemesis", "kill,kill"], ["--nemesis must not name 'kill' twice"]),
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


# Every number of `splitbrain test` is checked before anything starts: finite, in its range.
NUMBER_RANGES = {
    "--time-limit": "from 0 to 86400 seconds",
    "--rate": "from 0 to 1000000 ops/s",
    "--nemesis-interval": "from 0.01 to 3600 seconds",
    "--op-timeout": "above 0 and at most 3600 seconds",
    "--check-timeout": "above 0 and at most 86400 seconds",
    "--settle": "from 0 to 3600 seconds",
    "--final-time-limit": "above 0 and at most 86400 seconds",
    "--keys": "an integer from 1 to 10000",
    "--concurrency": "an integer from 1 to 1000",
}
BAD_NUMBERS = [
    ("--time-limit", "nan"),
    ("--time-limit", "inf"),
    ("--time-limit", "1e308"),
    ("--rate", "nan"),
    ("--nemesis-interval", "nan"),
    ("--nemesis-interval", "inf"),
    ("--nemesis-interval", "1e-9"),
    ("--op-timeout", "0"),
    ("--op-timeout", "-1"),
    ("--op-timeout", "nan"),
    ("--check-timeout", "0"),
    ("--check-timeout", "-5"),
    ("--check-timeout", "NaN"),
    ("--settle", "-1"),
    ("--final-time-limit", "0"),
    ("--keys", "1000000000000"),
    ("--keys", "9" * 5000),
    ("--concurrency", "0"),
]


@pytest.mark.parametrize(
    ("flag", "value"), BAD_NUMBERS, ids=[f"{f}={v[:12]}" for f, v in BAD_NUMBERS]
)
def test_every_number_is_checked_before_anything_starts(
    tmp_path: Path, flag: str, value: str
) -> None:
    store = tmp_path / "runs"
    r = run_cli(
        "test", "--target", "sim", "--nemesis", "partition", flag, value, "--store", str(store)
    )
    assert r.returncode == BAD_INPUT, r.stderr
    assert_one_clear_line(r.stderr, f"splitbrain: {flag} must be", NUMBER_RANGES[flag])
    assert len(r.stderr) < 200 and not store.exists()


def test_a_fault_schedule_too_dense_to_hold_is_refused(tmp_path: Path) -> None:
    args = ["--nemesis", "kill", "--time-limit", "86400", "--nemesis-interval", "0.01"]
    r = run_cli("test", *args, "--store", str(tmp_path / "runs"))
    assert r.returncode == BAD_INPUT
    assert_one_clear_line(r.stderr, "more than 10000 fault cycles")


@pytest.mark.parametrize(
    "name", ["latest", "index.html", "a/b", "../up", ".hidden", "-x", "bell\x07"]
)
def test_names_that_would_escape_or_collide_with_the_store_are_refused(
    tmp_path: Path, name: str
) -> None:
    store = tmp_path / "runs"
    r = run_cli("test", f"--name={name}", "--time-limit", "0", "--store", str(store))
    assert r.returncode == BAD_INPUT, r.stderr
    assert_one_clear_line(r.stderr, "--name must be a name without '/'")
    assert not store.exists()


def test_a_name_taken_by_a_file_in_the_store_is_refused(tmp_path: Path) -> None:
    store = tmp_path / "runs"
    store.mkdir()
    (store / "notes").write_text("mine\n")
    r = run_cli("test", "--name", "notes", "--time-limit", "0", "--store", str(store))
    assert r.returncode == BAD_INPUT
    assert_one_clear_line(r.stderr, f"{store / 'notes'} exists and is not a directory of runs")
    assert (store / "notes").read_text() == "mine\n"


def test_a_store_that_is_a_file_or_under_one_is_refused(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.write_text("")
    r = run_cli("test", "--time-limit", "0", "--store", str(plain))
    assert r.returncode == BAD_INPUT
    assert_one_clear_line(r.stderr, f"--store {plain}: not a directory")
    r = run_cli("test", "--time-limit", "0", "--store", str(plain / "runs"))
    assert r.returncode == BAD_INPUT
    assert_one_clear_line(r.stderr, f"--store {plain / 'runs'}: cannot create it: Not a directory")


@pytest.fixture
def read_only_dir(tmp_path: Path):
    """A directory on a read-only tmpfs: unwritable even for root."""
    mount = tmp_path / "ro"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(mount)])
    if done.returncode != 0:
        pytest.skip("cannot mount a read-only tmpfs here (needs root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_an_unwritable_store_is_refused_before_the_run(read_only_dir: Path) -> None:
    r = run_cli("test", "--time-limit", "0", "--store", str(read_only_dir))
    assert r.returncode == BAD_INPUT
    assert_one_clear_line(r.stderr, f"--store {read_only_dir}: cannot write there: Read-only")
    r = run_cli("test", "--time-limit", "0", "--store", str(read_only_dir / "runs"))
    assert r.returncode == BAD_INPUT
    assert_one_clear_line(
        r.stderr, f"--store {read_only_dir / 'runs'}: cannot create it: Read-only"
    )


def test_report_index_on_a_read_only_store_is_refused(read_only_dir: Path) -> None:
    r = run_cli("report", "--index", str(read_only_dir))
    assert r.returncode == BAD_INPUT
    assert_one_clear_line(r.stderr, f"--index {read_only_dir}: cannot write there: Read-only")


def test_workload_options_are_declared_and_unknown_ones_refused(tmp_path: Path) -> None:
    store = str(tmp_path / "runs")
    r = run_cli("test", "--workload", "set", "-w", "linearisable=true", "--store", store)
    assert r.returncode == BAD_INPUT
    assert_one_clear_line(
        r.stderr, "unknown -w key 'linearisable' for workload 'set'", "linearizable"
    )
    r = run_cli("test", "--workload", "queue", "-w", "fifo=sometimes", "--store", store)
    assert r.returncode == BAD_INPUT
    assert_one_clear_line(r.stderr, "-w fifo: must be true or false, got 'sometimes'")
    r = run_cli("test", "-o", "fault=none", "-o", "fault=stale-reads", "--store", store)
    assert r.returncode == BAD_INPUT
    assert_one_clear_line(r.stderr, "-o 'fault' given twice")


def test_cleanup_takes_no_store() -> None:
    r = run_cli("cleanup", "--store", "x")
    assert r.returncode == BAD_INPUT
    assert_one_clear_line(r.stderr, "unrecognized arguments: --store")


def test_a_workload_option_reaches_the_workload_from_the_command_line(tmp_path: Path) -> None:
    store = tmp_path / "runs"
    args = ["--workload", "counter", "--time-limit", "0.5", "--rate", "200", "--seed", "3"]
    r = run_cli("test", *args, "-w", "pn=true", "--store", str(store), "--name", "pn")
    assert r.returncode == 0, r.stderr
    assert "-w pn=true" in r.stdout
    (history,) = store.glob("pn/*/history.jsonl")
    adds = [json.loads(line)["value"] for line in history.read_text().splitlines()]
    assert any(isinstance(v, int) and v < 0 for v in adds)


def test_a_junit_file_on_a_read_only_file_system_is_refused_before_any_claim(
    tmp_path: Path, read_only_dir: Path
) -> None:
    claims = tmp_path / "claims.yaml"
    claims.write_text("claims:\n  - name: quick\n    time_limit: 0.2\n")
    store = tmp_path / "runs"
    junit = read_only_dir / "gate.xml"
    r = run_cli("gate", str(claims), "--store", str(store), "--junit-xml", str(junit))
    assert r.returncode == BAD_INPUT
    assert_one_clear_line(r.stderr, f"--junit-xml {read_only_dir}: cannot write there: Read-only")
    assert not list(store.glob("*/*/test.json"))
