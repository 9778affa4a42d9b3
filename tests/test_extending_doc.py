"""The code in docs/extending.md's sections on workloads, nemeses, models and checkers runs
as written: it is extracted from the page and used through the public API."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

import splitbrain
from conftest import REPO
from splitbrain import Op, TestSpec

DOC = REPO / "docs" / "extending.md"
SECTIONS = ("Your own workload", "Your own nemesis", "Your own model", "Your own checker")


def python_blocks(text: str, titles: tuple[str, ...]) -> str:
    """The ```python blocks of the sections whose heading contains one of ``titles``."""
    code = []
    for section in re.split(r"\n(?=## )", text):
        heading = section.splitlines()[0]
        if any(t in heading for t in titles):
            code += re.findall(r"```python\n(.*?)```", section, re.S)
    return "\n\n".join(code)


@pytest.fixture(scope="module")
def doc(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    path = tmp_path_factory.mktemp("doc") / "extending_doc.py"
    path.write_text(python_blocks(DOC.read_text(), SECTIONS))
    spec = importlib.util.spec_from_file_location("extending_doc", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def history(*ops: tuple[str, str, object]) -> list[Op]:
    """Sequential ops of one process: (type of the completion, f, value) each."""
    out = []
    for typ, f, value in ops:
        out.append(Op("invoke", f, 0, value=None if f == "read" else value))
        out.append(Op(typ, f, 0, value=value))
    return out


def test_the_model_with_a_list_state_judges_a_log(doc: ModuleType) -> None:
    good = history(("ok", "append", 1), ("ok", "append", 2), ("ok", "read", [1, 2]))
    assert splitbrain.check(good, doc.AppendLog()).valid is True
    bad = history(("ok", "append", 1), ("ok", "read", [2]))
    assert splitbrain.check(bad, doc.AppendLog()).valid is False


def test_the_checker_names_lost_writes(doc: ModuleType) -> None:
    result = doc.no_lost_acks(history(("ok", "write", 1), ("ok", "write", 2), ("ok", "read", 2)))
    assert result == {"valid": False, "lost": [1], "lost-count": 1}


def test_the_workload_runs_and_is_checked(doc: ModuleType, tmp_path: Path) -> None:
    result = splitbrain.run(
        TestSpec(target="memory", workload=doc.write_then_read, time_limit=1, rate=200,
                 concurrency=3, store=str(tmp_path), seed=1)
    )  # fmt: skip
    assert result.valid is True, result.results
    reads = [o for o in result.history if o.f == "read" and o.type == "ok"]
    assert reads and all(o.key == "x" for o in reads)


@pytest.mark.real
@pytest.mark.timeout(120)
def test_the_nemesis_kills_the_kv_primary(
    doc: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(REPO / "examples" / "kvexample"))
    sys.modules.pop("kvexample", None)
    kv = importlib.import_module("kvexample")
    result = splitbrain.run(
        TestSpec(target=kv.KvTarget(), nemesis=[doc.KILL_FIRST], time_limit=5, rate=50,
                 concurrency=3, keys=2, nemesis_interval=1, store=str(tmp_path), seed=1)
    )  # fmt: skip
    assert result.valid is True, result.results
    kills = [o for o in result.history if o.f == "kill-first" and o.type == "info"]
    assert kills and all(o.value == "n1" for o in kills)
    refused = [
        o for o in result.history if o.type == "fail" and "primary unreachable" in (o.error or "")
    ]
    assert refused, "backups refuse requests while the primary is down"


def test_the_tutorials_server_client_and_target_are_the_examples(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Sections 2 to 4 (run as written, client before target) describe the example's own
    server, client and target, so the page cannot drift from the code the tests run."""
    text = DOC.read_text()
    code = "\n\nimport json\n\n".join(
        python_blocks(text, (title,)) for title in ("Describe one node", "The client", "The target")
    )
    example = REPO / "examples" / "kvexample"
    page: dict[str, object] = {"__file__": str(example / "kvexample" / "target.py")}
    exec(compile(code, str(DOC), "exec"), page)
    monkeypatch.syspath_prepend(str(example))
    sys.modules.pop("kvexample", None)
    sys.modules.pop("kvexample.target", None)
    kv = importlib.import_module("kvexample.target")
    assert page["KV_SERVER"] == kv.KV_SERVER
    target, client = page["KvTarget"], page["KvClient"]
    assert target.options == kv.KvTarget.options  # type: ignore[attr-defined]
    assert target.server == kv.KvTarget.server  # type: ignore[attr-defined]
    assert client.operations == kv.KvClient.operations  # type: ignore[attr-defined]
