"""Shared fixtures: where the other projects' histories are, and how to run the CLI."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
import venv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_histories() -> Path:
    """``../shared/histories`` beside the clone, or ``$SPLITBRAIN_SHARED/histories``."""
    env = os.environ.get("SPLITBRAIN_SHARED")
    candidates = [Path(env) / "histories"] if env else []
    candidates += [
        REPO.parent / "shared" / "histories",
        REPO.parent.parent / "shared" / "histories",
    ]
    for c in candidates:
        if (c / "verdicts.json").is_file():
            return c
    raise FileNotFoundError(
        "shared/histories not found beside the repository; set SPLITBRAIN_SHARED"
    )


@pytest.fixture(autouse=True)
def _no_step_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite's own runs stay out of a CI job's step summary; a test that means to write
    one sets ``GITHUB_STEP_SUMMARY`` itself."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


@pytest.fixture(scope="session")
def histories_dir() -> Path:
    return shared_histories()


@dataclass
class Completed:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, timeout: float = 120, cwd: Path | None = None) -> Completed:
    """Run ``splitbrain ARGS`` as a user would, in a separate process."""
    proc = subprocess.run(
        [sys.executable, "-m", "splitbrain.harness.front.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd or REPO,
    )
    return Completed(proc.returncode, proc.stdout, proc.stderr)


def stderr_on_a_terminal(argv: list[str], cwd: Path, timeout: float = 60) -> tuple[int, str]:
    """Run ``argv`` with stderr on a pseudo-terminal (as a user's shell gives it); its exit
    code and everything it wrote there."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave, cwd=cwd
    )
    os.close(slave)
    seen = b""
    while select.select([master], [], [], timeout)[0]:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    return proc.wait(timeout), seen.decode(errors="replace")


@pytest.fixture
def cli():
    return run_cli


def sim_test(
    tmp_path: Path,
    mode: str,
    workload: str,
    nemesis: str,
    seed: int,
    *extra: str,
    time_limit: int = 10,
) -> tuple[int, dict[str, Any], Path]:
    """Run ``splitbrain test --target sim``; (exit code, results.json, run directory)."""
    r = run_cli(
        "test",
        "--target",
        "sim",
        "-o",
        f"replication={mode}",
        "--workload",
        workload,
        "--nemesis",
        nemesis,
        "--time-limit",
        str(time_limit),
        "--seed",
        str(seed),
        "--store",
        str(tmp_path),
        *extra,
    )
    run_dir = tmp_path / "latest"
    assert (run_dir / "results.json").exists(), r.stdout + r.stderr
    return r.returncode, json.loads((run_dir / "results.json").read_text()), run_dir


def eventually(check: Callable[[], object], timeout: float = 10.0, interval: float = 0.1) -> bool:
    """Whether ``check()`` turns true within ``timeout`` seconds, asking every ``interval``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return bool(check())


@dataclass
class FreshVenv:
    """A virtual environment holding splitbrain (editable) and whatever tests install into it."""

    root: Path

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    def run(self, argv: list[str], cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess:
        """Run ``argv`` with the venv first on PATH and nothing of this process's on sys.path."""
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        return subprocess.run(
            argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
        )

    def install(self, *args: str) -> None:
        pip = [
            str(self.bin / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
        ]
        done = self.run([*pip, *args], cwd=self.root, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr[-2000:]


@pytest.fixture(scope="session")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> FreshVenv:
    """One fresh virtual environment per test session (each install of splitbrain costs ~20 s);
    tests that install plugins share it."""
    env = FreshVenv(tmp_path_factory.mktemp("fresh-venv"))
    venv.create(env.root, with_pip=True)
    env.install("-e", str(REPO))
    return env
