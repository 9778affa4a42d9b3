"""A server binary that is not there: one clear line naming the node and the binary, exit 254,
nothing left set up."""

from __future__ import annotations

from pathlib import Path

import pytest
from real_helpers import namespaces_of_runs_in

from conftest import run_cli

pytestmark = pytest.mark.real


def test_missing_server_binary_is_one_clear_line(tmp_path: Path) -> None:
    r = run_cli(
        "test",
        "--target",
        "etcd",
        "--time-limit",
        "1",
        "--store",
        str(tmp_path),
        "-o",
        "etcd-binary=/nonexistent/etcd",
    )
    assert r.returncode == 254, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    lines = [
        line
        for line in r.stderr.splitlines()
        if line.strip() and not line.startswith("run directory:")
    ]
    assert len(lines) == 1, r.stderr
    assert lines[0] == "splitbrain: n1: etcd: no command /nonexistent/etcd on this machine"
    assert namespaces_of_runs_in(tmp_path) == []
