"""Every linearizability case of ../shared/histories/verdicts.json gives the verdict its authors assert."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from splitbrain.checkers import models
from splitbrain.checkers.linearizable import check
from splitbrain.harness.base.history import read_history


def _shared() -> Path | None:
    candidates = [Path(__file__).resolve().parents[2] / "shared" / "histories"]
    env = os.environ.get("SPLITBRAIN_SHARED")
    if env:
        candidates.insert(0, Path(env))
        candidates.insert(0, Path(env) / "histories")
    for c in candidates:
        if (c / "verdicts.json").is_file():
            return c
    return None


SHARED = _shared()
MODEL_NAMES = ("register", "cas-register", "kv", "set", "queue", "mutex", "multi-register")


def _cases() -> list[dict[str, Any]]:
    if SHARED is None:
        return []
    cases = json.loads((SHARED / "verdicts.json").read_text())["cases"]
    return [c for c in cases if c["model"].split()[0] in MODEL_NAMES]


CASES = _cases()
pytestmark = pytest.mark.skipif(SHARED is None, reason="../shared/histories not found")


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_verdict(case: dict[str, Any]) -> None:
    assert SHARED is not None
    ops = read_history(SHARED / case["file"]).ops
    result = check(ops, case["model"].split()[0], init=case.get("init"), timeout=120)
    json.dumps(result)
    if case["expected"] is None:
        assert result["valid"] is True
        assert result["keys"] == 0
        assert "no client operations" in result["note"]
        return
    assert result["valid"] is case["expected"], result.get("counterexample", {}).get("text")
    if case["expected"] is False:
        cx = result["counterexample"]
        assert cx["op"]["invoke_index"] is not None
        assert cx["text"]


def test_fixture_set_is_complete() -> None:
    files = {c["file"] for c in CASES}
    assert sum(f.startswith("porcupine/etcd/") for f in files) == 103
    assert sum(f.startswith("porcupine/kv/") for f in files) == 6
    assert sum(f.startswith("knossos/cas-register/") for f in files) == 120
    assert "knossos/mutex/bad/etcd.edn" in files
    assert "knossos/multi-register/good/multi-register.edn" in files


def test_failed_cas_readings_agree_on_etcd() -> None:
    """Reading ':fail :cas' as 'did not happen' or as 'completed, not applied' gives the same verdicts."""
    assert SHARED is not None
    for case in CASES:
        if not case["file"].startswith("porcupine/etcd/") or case["expected"] is None:
            continue
        ops = read_history(SHARED / case["file"]).ops
        no_op = check(ops, models.register(None, failed_cas="no-op"), timeout=60)
        assert no_op["valid"] is case["expected"], case["file"]
