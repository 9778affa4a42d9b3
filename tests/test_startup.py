"""Start-up: the public names load on first use, and a command imports only what it needs.

What is imported is asserted, never how long it takes (benchmarks/bench_startup.py times it).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import splitbrain
from conftest import REPO

HEAVY = (
    "importlib.metadata",
    "splitbrain.harness.engine",
    "splitbrain.harness.report",
    "splitbrain.harness.front.gate",
    "splitbrain.harness.control.cleanup",
    "splitbrain.targets",
    "tabulate",
    "yaml",
)
"""Modules (and packages) that ``splitbrain --help`` has no use for."""
NOT_FOR_CHECK = (
    "splitbrain.harness.engine.core",
    "splitbrain.harness.report",
    "splitbrain.harness.front.gate",
    "splitbrain.harness.front.command_run",
    "splitbrain.harness.control.cleanup",
    "splitbrain.harness.base.generator",
    "splitbrain.targets",
    "yaml",
)
"""What ``splitbrain check`` of a register history has no use for: the run loop, the
report, the gate, the targets, the generators and YAML."""


def _type_checking_imports() -> dict[str, tuple[str, str]]:
    tree = ast.parse((REPO / "splitbrain" / "__init__.py").read_text(encoding="utf-8"))
    block = next(
        n
        for n in tree.body
        if isinstance(n, ast.If) and getattr(n.test, "id", "") == "TYPE_CHECKING"
    )
    return {
        alias.asname or alias.name: (node.module or "", alias.name)
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def test_the_lazy_names_are_the_type_checking_imports_and_the_public_surface() -> None:
    assert splitbrain._LAZY == _type_checking_imports()
    assert set(splitbrain._LAZY) == set(splitbrain.__all__) - {"__version__"}
    assert set(splitbrain.__all__) <= set(dir(splitbrain))
    for name, (module, attr) in splitbrain._LAZY.items():
        assert getattr(splitbrain, name) is getattr(sys.modules[module], attr), name


def _loaded_after(code: str) -> list[str]:
    """The modules a fresh interpreter has loaded after running ``code``."""
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    r = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=True
    )
    return json.loads(r.stdout.splitlines()[-1])


def _matching(loaded: list[str], prefixes: tuple[str, ...]) -> list[str]:
    return [m for m in loaded if any(m == p or m.startswith(p + ".") for p in prefixes)]


def test_the_package_the_cli_and_its_help_import_nothing_heavy() -> None:
    loaded = _loaded_after(
        "import splitbrain.harness.front.cli as cli\ncli.build_parser(lazy=True).format_help()"
    )
    assert _matching(loaded, HEAVY) == []
    assert "splitbrain.harness.front.cli" in loaded


def test_check_imports_only_what_checking_needs(tmp_path: Path) -> None:
    history = tmp_path / "one.jsonl"
    history.write_text(
        '{"index": 0, "process": 0, "type": "invoke", "f": "write", "value": 1}\n'
        '{"index": 1, "process": 0, "type": "ok", "f": "write", "value": 1}\n'
    )
    argv = ["check", "--model", "cas-register", str(history)]
    loaded = _loaded_after(
        f"from splitbrain.harness.front import cli\nassert cli.main({argv!r}) == 0\n"
    )
    assert "splitbrain.harness.engine.check" in loaded
    assert _matching(loaded, NOT_FOR_CHECK) == []
