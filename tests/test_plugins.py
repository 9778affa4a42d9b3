"""Plugins as a user writes them: an installed distribution with entry points (in a fresh
virtual environment), ``module:attr`` paths, a project with its own ``targets/`` package,
and every kind of bad plugin input (one line, exit 254, nothing set up)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import splitbrain
from conftest import FreshVenv
from splitbrain import HarnessInputError
from splitbrain.checkers import hierarchy

REPO = Path(__file__).resolve().parents[1]

PLUGIN_PYPROJECT = """
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "sb-journal-plugin"
version = "1.2.3"

[project.entry-points."splitbrain.targets"]
journal = "sb_journal.target:JournalTarget"
journal-broken = "sb_journal.broken:Target"

[project.entry-points."splitbrain.workloads"]
journal-appends = "sb_journal.workload:workload"

[project.entry-points."splitbrain.models"]
journal = "sb_journal.model:Journal"

[tool.setuptools]
packages = ["sb_journal"]
"""

PLUGIN_FILES = {
    "sb_journal/__init__.py": "",
    "sb_journal/model.py": '''
        class Journal:
            """A list: ``append`` v; ``read`` returns the whole list (unhashable states)."""

            def init(self):
                return []

            def step(self, state, f, value, result):
                if f == "append":
                    return True, [*state, value]
                return result is None or result == state, state
    ''',
    "sb_journal/target.py": """
        import threading

        from splitbrain import Op, RunContext


        class JournalClient:
            def __init__(self, target):
                self.target = target

            def invoke(self, op: Op) -> Op:
                if not self.target.up:
                    return op.completion("fail", op.value, error="refused: node down")
                with self.target.lock:
                    if op.f == "append":
                        if not self.target.lossy or len(self.target.entries) < 3:
                            self.target.entries.append(op.value)
                        return op.completion("ok", op.value, node="j1")
                    return op.completion("ok", list(self.target.entries), node="j1")

            def close(self):
                pass


        class JournalTarget:
            name = "journal"
            operations = frozenset({"append", "read"})
            options = {"lossy": "false"}

            def __init__(self):
                self.entries, self.lock, self.up, self.lossy = [], threading.Lock(), True, False

            def configure(self, options):
                self.lossy = options.get("lossy", "false") == "true"

            def setup(self, ctx: RunContext):
                self.configure(ctx.options)

            def teardown(self):
                pass

            def nodes(self):
                return ["j1"]

            def client(self, process):
                return JournalClient(self)

            def kill(self, node):
                self.up = False

            def start(self, node):
                self.up = True
    """,
    "sb_journal/workload.py": """
        from dataclasses import dataclass

        import splitbrain
        from splitbrain import Invocation, WorkloadDefinition


        @dataclass(frozen=True)
        class Appends:
            next_value: int = 1

            def op(self, ctx):
                if ctx.rng.random() < 0.3:
                    return Invocation("read"), self
                return Invocation("append", self.next_value), Appends(self.next_value + 1)


        def workload(spec):
            def check(history):
                return splitbrain.check(history, "journal").result

            return WorkloadDefinition(
                name="journal-appends",
                generator=Appends(),
                final_generator=None,
                checkers={"journal": check},
                operations=frozenset({"append", "read"}),
            )
    """,
    "sb_journal/broken.py": 'raise RuntimeError("this plugin is broken on purpose")\n',
}


def _write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


def _run(argv: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def plugin_venv(fresh_venv: FreshVenv, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's fresh virtual environment, with the journal plugin installed."""
    plugin = tmp_path_factory.mktemp("plugin") / "plugin"
    _write_tree(plugin, {"pyproject.toml": PLUGIN_PYPROJECT, **PLUGIN_FILES})
    fresh_venv.install(str(plugin))
    return fresh_venv.bin


@pytest.mark.slow
def test_an_installed_plugin_is_listed_and_runs_through_the_cli(
    plugin_venv: Path, tmp_path: Path
) -> None:
    splitbrain = str(plugin_venv / "splitbrain")
    listed = _run([splitbrain, "list"], cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    rows = {tuple(line.split()[:4]) for line in listed.stdout.splitlines()}
    assert ("journal", "sb-journal-plugin", "1.2.3", "append") in rows
    assert ("journal-appends", "sb-journal-plugin", "1.2.3", "append") in rows
    memory = next(line.split() for line in listed.stdout.splitlines() if line.startswith("memory "))
    assert memory[:3] == ["memory", "splitbrain", "0.2.0"] and "cas" in memory
    states = {w[0]: " ".join(w[3:]) for w in map(str.split, listed.stdout.splitlines()) if w}
    assert states["etcd"] == "not installed: splitbrain[etcd]"
    assert states["journal-broken"] == "BROKEN: see below"
    broken = [line for line in listed.stderr.splitlines() if line]
    # a bare install has no server drivers: those targets name the extra that brings them
    no_driver = [line for line in broken if "needs the" in line]
    assert sorted(no_driver) == [
        "splitbrain: target plugin 'etcd' (splitbrain 0.2.0) 'splitbrain.targets.etcd:EtcdTarget' "
        "needs the requests package: pip install 'splitbrain[etcd]'",
        "splitbrain: target plugin 'mariadb' (splitbrain 0.2.0) "
        "'splitbrain.targets.mariadb:MariaDBTarget' "
        "needs the pymysql package: pip install 'splitbrain[mariadb]'",
        "splitbrain: target plugin 'postgres' (splitbrain 0.2.0) "
        "'splitbrain.targets.postgres:PostgresTarget' "
        "needs the psycopg package: pip install 'splitbrain[postgres]'",
        "splitbrain: target plugin 'redis' (splitbrain 0.2.0) 'splitbrain.targets.redis:RedisTarget' "
        "needs the redis package: pip install 'splitbrain[redis]'",
    ]
    assert [line for line in broken if line not in no_driver] == [
        "splitbrain: target plugin 'journal-broken' (sb-journal-plugin 1.2.3) "
        "'sb_journal.broken:Target': importing sb_journal.broken failed: "
        "RuntimeError: this plugin is broken on purpose"
    ]

    store = tmp_path / "store"
    base = [splitbrain, "test", "--target", "journal", "--workload", "journal-appends"]
    base += ["--nemesis", "kill", "--nemesis-interval", "0.3", "--time-limit", "1"]
    base += ["--rate", "100", "--store", str(store), "--seed", "3"]
    good = _run(base, cwd=tmp_path)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "journal: valid" in good.stdout
    bad = _run([*base, "-o", "lossy=true", "--name", "lossy"], cwd=tmp_path)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "journal: INVALID" in bad.stdout

    history = store / "lossy" / "latest" / "history.jsonl"
    if not history.exists():
        history = next(store.glob("lossy/*/history.jsonl"))
    checked = _run([splitbrain, "check", "--model", "journal", str(history)], cwd=tmp_path)
    assert checked.returncode == 1 and "INVALID" in checked.stdout, checked.stdout

    refused = _run(
        [splitbrain, "test", "--target", "journal-broken", "--store", str(store)], tmp_path
    )
    assert refused.returncode == 254
    assert refused.stderr.strip().splitlines() == [
        "splitbrain: target plugin 'journal-broken' (sb-journal-plugin 1.2.3) "
        "'sb_journal.broken:Target': importing sb_journal.broken failed: "
        "RuntimeError: this plugin is broken on purpose"
    ]


# ---------------------------------------------------------------- module:attr, and a user's project

USER_PROJECT = {
    "targets/__init__.py": "",
    "targets/journal.py": PLUGIN_FILES["sb_journal/target.py"],
    "workloads/__init__.py": "",
    "workloads/journal.py": PLUGIN_FILES["sb_journal/workload.py"].replace(
        'splitbrain.check(history, "journal")',
        'splitbrain.check(history, "checkers.journal:Journal")',
    ),
    "checkers/__init__.py": "",
    "checkers/journal.py": PLUGIN_FILES["sb_journal/model.py"],
    "harness/__init__.py": "",
    "claims.yaml": """
        claims:
          - name: journal-holds
            target: targets.journal:JournalTarget
            workload: workloads.journal:workload
            nemesis: [kill]
            nemesis_interval: 0.3
            time_limit: 1
            rate: 100
            expect: holds
          - name: memory-holds
            target: memory
            time_limit: 0.5
            expect: holds
    """,
    "test_journal.py": """
        import pytest

        from targets.journal import JournalTarget
        from workloads.journal import workload


        def test_fixture_runs_the_projects_target(splitbrain):
            result = splitbrain.run(
                target="targets.journal:JournalTarget",
                workload="workloads.journal:workload",
                time_limit=0.5,
                rate=100,
            )
            assert result.valid is True


        def test_fixture_runs_the_projects_objects(splitbrain):
            result = splitbrain.run(target=JournalTarget(), workload=workload, time_limit=0.5, rate=100)
            assert result.valid is True


        @pytest.mark.consistency(
            target=JournalTarget, workload=workload, nemesis=["kill"], options={"lossy": "true"},
            time_limit=1, rate=100, nemesis_interval=0.3, expect="violated",
        )
        def test_marker_with_objects(splitbrain_result):
            assert splitbrain_result.valid is False


        @pytest.mark.consistency(target="memory", time_limit=0.5, expect="holds")
        def test_marker_on_a_builtin(splitbrain_result):
            assert splitbrain_result.valid is True
    """,
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    _write_tree(root, USER_PROJECT)
    return root


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, "-m", "splitbrain", *args], cwd=cwd)


def test_a_module_attr_target_on_the_cli(project: Path) -> None:
    done = _cli(
        "test", "--target", "targets.journal:JournalTarget", "--workload", "workloads.journal:workload",
        "--time-limit", "0.5", "--rate", "100", "--store", str(project / "runs"), cwd=project,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "journal: valid" in done.stdout
    assert "replay: splitbrain test --target targets.journal:JournalTarget" in done.stdout
    stored = json.loads(next((project / "runs").glob("*/*/test.json")).read_text())
    assert stored["target"] == "targets.journal:JournalTarget"
    history = next((project / "runs").glob("*/*/history.jsonl"))
    checked = _cli("check", "--model", "checkers.journal:Journal", str(history), cwd=project)
    assert checked.returncode == 0 and " valid " in checked.stdout, checked.stdout + checked.stderr


def test_module_attr_nemesis_and_model_on_the_cli(tmp_path: Path) -> None:
    done = _cli(
        "test", "--nemesis", "splitbrain.harness.nemesis.process:KILL", "--nemesis-interval", "0.2",
        "--model", "splitbrain.checkers.models:register", "--time-limit", "0.6", "--rate", "200",
        "--store", str(tmp_path), cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    history = [json.loads(line) for line in next(tmp_path.glob("*/*/history.jsonl")).open()]
    assert any(op["f"] == "kill" and op["value"] == ["n1"] for op in history)
    assert "linearizable: valid" in done.stdout


def test_a_project_with_its_own_targets_harness_checkers_workloads_packages(project: Path) -> None:
    test = _cli("test", "--time-limit", "0.5", "--store", str(project / "runs"), cwd=project)
    assert test.returncode == 0, test.stdout + test.stderr
    gate = _cli("gate", "claims.yaml", "--store", str(project / "gate-runs"), cwd=project)
    assert gate.returncode == 0, gate.stdout + gate.stderr
    assert "journal-holds" in gate.stdout and "memory-holds" in gate.stdout
    fixture = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    f"--splitbrain-store={project / 'pytest-runs'}", "test_journal.py"], cwd=project)  # fmt: skip
    assert fixture.returncode == 0, fixture.stdout + fixture.stderr
    assert "4 passed" in fixture.stdout


# ---------------------------------------------------------------- bad input

BAD_PARTS = {
    "nosuch/__init__.py": "",
    "bad_parts.py": """
        raise_now = False


        class NoClient:
            name = "half"
            operations = frozenset({"read", "write", "cas"})

            def setup(self, ctx):
                raise AssertionError("must not be set up")

            def teardown(self):
                pass

            def nodes(self):
                return []


        class ReadOnly(NoClient):
            name = "read-only"
            operations = frozenset({"read"})

            def client(self, process):
                raise AssertionError("must not be asked for a client")


        def two_meanings(spec):
            from splitbrain import WorkloadDefinition
            from splitbrain.workloads.set import SetOps

            return WorkloadDefinition("mixed", SetOps(), None, {}, frozenset({"set.add", "counter.add"}))
    """,
    "raises_on_import.py": 'raise ImportError("a dependency is missing")\n',
}


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--target", "bad_parts:Nope"], "target 'bad_parts:Nope': bad_parts has no attribute 'Nope'"),
        (["--target", "nowhere.mod:T"], "target 'nowhere.mod:T': no module named 'nowhere'"),
        (["--target", "raises_on_import:T"], "target 'raises_on_import:T': importing raises_on_import failed: ImportError: a dependency is missing"),
        (["--target", "bad_parts:NoClient"], "target 'bad_parts:NoClient': NoClient lacks client(), which a Target requires"),
        (["--target", "bad_parts:ReadOnly"], "target 'bad_parts:ReadOnly' does not implement 'cas', which workload 'register' needs"),
        (["--workload", "bad_parts:two_meanings"], "workload 'mixed' declares both 'counter.add' and 'set.add', two meanings of f 'add'"),
        (["--workload", "bad_parts:NoClient"], "workload 'bad_parts:NoClient': building it failed: TypeError"),
        (["--nemesis", "bad_parts:NoClient"], "nemesis 'bad_parts:NoClient': NoClient lacks cycle, requires, variant, build(), which a NemesisKind requires"),
        (["--model", "bad_parts:Gone"], "model 'bad_parts:Gone': bad_parts has no attribute 'Gone'"),
        (["--target", "etcd", "--workload", "queue"], "target 'etcd' does not implement 'dequeue', which workload 'queue' needs"),
    ],
    ids=lambda v: v if isinstance(v, str) and not v.startswith(("target", "workload", "nemesis", "model")) else None,
)  # fmt: skip
def test_bad_plugin_input_is_one_line_exit_254_and_nothing_set_up(
    tmp_path: Path, args: list[str], line: str
) -> None:
    _write_tree(tmp_path, BAD_PARTS)
    store = tmp_path / "store"
    done = _cli("test", *args, "--time-limit", "0.5", "--store", str(store), cwd=tmp_path)
    assert done.returncode == 254, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"splitbrain: {line}"), done.stderr
    assert not store.exists()


def test_a_bad_module_attr_in_a_claims_file_is_one_line_naming_file_line_and_claim(
    tmp_path: Path,
) -> None:
    _write_tree(tmp_path, BAD_PARTS)
    (tmp_path / "claims.yaml").write_text(
        "claims:\n  - name: half\n    target: bad_parts:NoClient\n    time_limit: 0.5\n"
    )
    store = tmp_path / "store"
    done = _cli("gate", "claims.yaml", "--store", str(store), cwd=tmp_path)
    assert done.returncode == 254, done.stdout + done.stderr
    assert done.stderr.strip().splitlines() == [
        "splitbrain: claims.yaml:2: claim 'half': target 'bad_parts:NoClient': "
        "NoClient lacks client(), which a Target requires"
    ]
    assert not store.exists()


def test_consistency_takes_the_hierarchys_models_and_says_where_a_path_goes(
    tmp_path: Path,
) -> None:
    with pytest.raises(HarnessInputError) as refused:
        splitbrain.check([], consistency=["mypkg.models:counter"])
    assert str(refused.value) == (
        "--consistency mypkg.models:counter: takes a model of the consistency hierarchy, not "
        "a module:attr path; your own model goes to --model, your own checker to --checker"
    )
    ran = _cli("test", "--consistency", "mypkg.models:counter", "--time-limit", "1", cwd=tmp_path)
    assert ran.returncode == 254, ran.stdout + ran.stderr
    assert not (tmp_path / "reports").exists()
    assert ran.stderr.strip().splitlines() == [
        "splitbrain: workload 'register': --consistency mypkg.models:counter: takes a model of "
        "the consistency hierarchy, not a module:attr path; your own model goes to --model, "
        "your own checker to --checker"
    ]


def test_list_shows_every_consistency_model_with_its_data_types_and_arrows() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "splitbrain", "list"], capture_output=True, text=True, timeout=120
    )
    assert listed.returncode == 0, listed.stderr
    section = listed.stdout.split("Consistency models\n", 1)[1]
    firsts = {line.split()[0] for line in section.splitlines()[2:] if line[:1].strip()}
    assert firsts == set(hierarchy.MODELS)
    row = next(line.split() for line in section.splitlines() if line.startswith("causal "))
    assert row[:3] == ["causal", "register", "cas-register"] and "writes-follow-reads" in row
