"""Where `check` and `report` take a history from: a file, standard input, a run directory."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO, run_cli
from splitbrain.harness.front import cli


def _run(tmp_path: Path) -> Path:
    r = run_cli("test", "--time-limit", "1", "--store", str(tmp_path))
    assert r.returncode == 0, r.stderr
    return (tmp_path / "latest").resolve()


def test_check_reads_standard_input_and_run_directories(tmp_path: Path) -> None:
    run_dir = _run(tmp_path / "store")
    ops = (run_dir / "history.jsonl").read_text().count("\n")
    piped = subprocess.run(
        [
            sys.executable,
            "-m",
            "splitbrain.harness.front.cli",
            "check",
            "-",
            "--model",
            "cas-register",
        ],
        input=(run_dir / "history.jsonl").read_bytes(),
        capture_output=True,
        cwd=REPO,
        timeout=120,
    )
    assert piped.returncode == 0, piped.stderr
    assert f" {ops} " in piped.stdout.decode()
    r = run_cli("check", str(run_dir), "--model", "cas-register")
    assert r.returncode == 0 and str(ops) in r.stdout, r.stdout + r.stderr
    bad = run_cli("check", str(tmp_path), "--model", "cas-register")
    assert bad.returncode == 254 and "not a run directory" in bad.stderr


def test_a_run_directory_is_checked_by_the_runs_own_checkers(tmp_path: Path) -> None:
    """A counter's add/read history looks like a set's: the run's test.json says what it is."""
    store = tmp_path / "store"
    argv = ["test", "--workload", "counter", "--time-limit", "2", "--store", str(store)]
    run = run_cli(*argv, "-o", "fault=lost-writes", "--seed", "3")
    assert run.returncode == 1, run.stdout + run.stderr
    r = run_cli("check", str((store / "latest").resolve()))
    assert r.returncode == 1, r.stdout + r.stderr
    assert re.search(r"\d+ reads? out of bounds; first: process \d+ read \d+", r.stdout), r.stdout


def test_report_of_a_history_from_elsewhere(tmp_path: Path, histories_dir: Path) -> None:
    history = tmp_path / "si.edn"
    shutil.copy(histories_dir / "elle" / "si-without-g-single.edn", history)
    plain = run_cli("report", str(history))
    assert plain.returncode == 0, plain.stderr
    page = (tmp_path / "si.edn.html").read_text()
    assert 'id="verdict">NOT CHECKED<' in page and '"lanes":["p2","p4","p7","p9"]' in page
    checked = run_cli("report", str(history), "--model", "serializable")
    assert checked.returncode == 1, checked.stderr
    assert "deprecated" not in checked.stderr  # report has no --consistency to point to
    page = (tmp_path / "si.edn.html").read_text()
    assert 'id="verdict">INVALID<' in page
    assert page.count('class="edge edge-rw"') == 2


def test_every_option_with_a_default_says_it_in_its_help() -> None:
    subcommands = next(a for a in cli.build_parser()._actions if a.choices and a.dest != "help")
    missing = [
        (name, action.option_strings)
        for name, sub in subcommands.choices.items()
        for action in sub._actions
        if action.option_strings
        and action.nargs != 0  # flags
        and action.default not in (None, [], argparse.SUPPRESS)
        and "default" not in (action.help or "")
    ]
    assert missing == []


def test_help_lists_known_names_and_option_defaults_and_version() -> None:
    r = run_cli("test", "--help")
    assert r.returncode == 0
    out = " ".join(r.stdout.split())
    assert re.search(r"targets: etcd, (\S+, )*memory, (\S+, )*redis, sim", out), out
    assert re.search(
        r"workloads: (\S+, )*counter, (\S+, )*list-append, (\S+, )*register, (\S+, )*set", out
    )
    assert "nemeses: clock, kill, packet," in out
    assert "partition-majorities-ring" in out and "cas-register" in out
    assert "memory: fault=none, fault-rate=0.05" in out and "replication=leader-sync" in out
    assert re.search(
        r"--nemesis-interval S seconds per fault and per quiet spell \(.*default: 3\)", out
    )
    assert (
        "--rate OPS ops/s across all workers; 0 is as fast as possible (default: the target's own"
        in out
    )
    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("splitbrain ")
