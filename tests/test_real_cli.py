"""A node that will not start: one clear line naming the node and its log, exit 254, torn down."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import run_cli

pytestmark = pytest.mark.real


def namespaces() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.startswith("sb-")}


def test_missing_server_binary_is_one_clear_line(tmp_path: Path) -> None:
    before = namespaces()
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
    assert "n1" in lines[0] and "etcd.log" in lines[0]
    assert namespaces() == before
