"""The weaker and transactional workloads end to end on the in-process store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli

CHECKER = {
    "list-append": "elle",
    "rw-register": "elle-rw-register",
    "set": "set-full",
    "counter": "counter",
    "queue": "total-queue",
}


@pytest.mark.parametrize("workload", sorted(CHECKER))
@pytest.mark.parametrize(("fault", "exit_code"), [("none", 0), ("lost-writes", 1)])
def test_correct_store_is_valid_and_lost_writes_are_found(
    tmp_path: Path, workload: str, fault: str, exit_code: int
) -> None:
    r = run_cli(
        "test",
        "--workload",
        workload,
        "--time-limit",
        "1",
        "--rate",
        "1000",
        "--seed",
        "3",
        "--store",
        str(tmp_path),
        "-o",
        f"fault={fault}",
    )
    assert r.returncode == exit_code, r.stdout + r.stderr
    results = json.loads((tmp_path / "latest" / "results.json").read_text())
    assert results["checkers"][CHECKER[workload]]["valid"] is (exit_code == 0)


def test_check_elle_history_with_a_claimed_model(histories_dir: Path) -> None:
    history = histories_dir / "elle" / "si-without-g-single.edn"
    r = run_cli("check", str(history), "--model", "repeatable-read", "--json")
    assert r.returncode == 1, r.stdout + r.stderr
    result = json.loads(r.stdout)["result"]
    assert "G2-item" in result["anomaly_types"]
    assert "repeatable-read" in result["not"]
    r = run_cli("check", str(history), "--model", "read-committed")
    assert r.returncode == 0, r.stdout + r.stderr
