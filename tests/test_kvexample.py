"""The example plugin (examples/kvexample), installed as a user would install it: into a fresh
virtual environment, with splitbrain, and run through the CLI, the gate and the pytest plugin.

Its server is correct by default, so the register workload is valid under partitions and
kills; ``-o mode=stale-backup-reads`` serves reads from backups, which a partition makes
stale, and every run that partitions is found invalid. Measured on this shared 2-core
machine: 13/13 seeds found invalid with 6-8 s runs, 6/6 correct runs valid under
partition and kill (see the server branch's report).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import ssh_fixtures
from ssh_fixtures import SshTestCluster

import splitbrain
from conftest import REPO, FreshVenv

PLUGIN = REPO / "examples" / "kvexample"
RUN = ["--workload", "register", "--concurrency", "4", "--keys", "3", "--rate", "50"]
FAULTS = ["--nemesis-interval", "2"]


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) for every import statement of a source file."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.module, [a.name for a in node.names]))
    return out


def test_the_plugin_uses_only_public_names_and_the_server_only_the_stdlib() -> None:
    for module, names in imports(PLUGIN / "kvexample" / "target.py"):
        top = module.split(".")[0]
        if top == "splitbrain":
            assert module == "splitbrain", f"imports internal module {module}"
            assert set(names) <= set(splitbrain.__all__), set(names) - set(splitbrain.__all__)
        else:
            assert top in sys.stdlib_module_names or top == "kvexample", module
    server_imports = {m.split(".")[0] for m, _ in imports(PLUGIN / "kvexample" / "server.py")}
    assert server_imports and server_imports <= set(sys.stdlib_module_names)


@pytest.fixture(scope="module")
def plugin_env(fresh_venv: FreshVenv) -> FreshVenv:
    """The session's fresh virtual environment, with the example plugin and pytest in it."""
    fresh_venv.install("-e", str(PLUGIN), "pytest>=8")
    return fresh_venv


def no_servers_left(store: Path) -> bool:
    """No process still runs from the store (every server's data directory is in it)."""
    found = subprocess.run(["pgrep", "-f", str(store)], capture_output=True, text=True)
    return found.stdout.strip() == ""


def latest_run(store: Path) -> Path:
    runs = sorted(p.parent for p in store.glob("*/*/results.json"))
    assert runs, f"no run in {store}"
    return runs[-1]


def nemesis_fs(run_dir: Path) -> set[str]:
    ops = [json.loads(line) for line in (run_dir / "history.jsonl").read_text().splitlines()]
    return {o["f"] for o in ops if o["process"] == "nemesis" and o["type"] != "invoke"}


@pytest.mark.real
@pytest.mark.slow
@pytest.mark.timeout(900)
class TestInstalledPlugin:
    def test_the_plugin_is_listed_and_a_workload_it_cannot_run_is_refused(
        self, plugin_env: FreshVenv, tmp_path: Path
    ) -> None:
        listed = plugin_env.run(["splitbrain", "list"], cwd=tmp_path)
        assert listed.returncode == 0, listed.stderr
        rows = [line.split() for line in listed.stdout.splitlines()]
        assert ["kvexample", "splitbrain-kvexample", "0.1.0", "cas", "read", "write"] in [
            r[:6] for r in rows
        ]
        refused = plugin_env.run(
            ["splitbrain", "test", "--target", "kvexample", "--workload", "set"], cwd=tmp_path
        )
        assert refused.returncode == 254
        assert refused.stderr.strip() == (
            "splitbrain: target 'kvexample' does not implement 'set.add', which workload 'set' needs"
        )

    def test_cli_correct_mode_is_valid_under_partition_and_kill(
        self, plugin_env: FreshVenv, tmp_path: Path
    ) -> None:
        store = tmp_path / "store"
        done = plugin_env.run(
            ["splitbrain", "test", "--target", "kvexample", *RUN, "--nemesis", "partition,kill",
             *FAULTS, "--time-limit", "8", "--seed", "2", "--store", str(store)],
            cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        run_dir = latest_run(store)
        assert json.loads((run_dir / "results.json").read_text())["valid"] is True
        assert {"start-partition", "kill", "start"} <= nemesis_fs(run_dir)
        assert (run_dir / "logs" / "n1" / "kv.log").read_text().count("primary on") >= 1
        assert no_servers_left(store)

    def test_cli_buggy_mode_is_found_invalid(self, plugin_env: FreshVenv, tmp_path: Path) -> None:
        store = tmp_path / "store"
        done = plugin_env.run(
            ["splitbrain", "test", "--target", "kvexample", *RUN, "--nemesis", "partition",
             *FAULTS, "--time-limit", "8", "--seed", "3", "--store", str(store),
             "-o", "mode=stale-backup-reads"],
            cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == 1, done.stdout + done.stderr
        results = json.loads((latest_run(store) / "results.json").read_text())
        assert results["valid"] is False
        assert no_servers_left(store)

    def test_gate_holds_the_correct_mode_and_catches_the_bug(
        self, plugin_env: FreshVenv, tmp_path: Path
    ) -> None:
        claims = tmp_path / "kv.yaml"
        claims.write_text(
            textwrap.dedent("""\
            defaults:
              target: kvexample
              workload: register
              time_limit: 6
              concurrency: 4
              keys: 3
              rate: 50
              nemesis_interval: 2
            claims:
              - name: kv-linearizable-under-pause-and-packet-loss
                nemesis: [pause, packet-loss]
                time_limit: 10
                seed: 4
                expect: holds
              - name: kv-backup-reads-are-stale
                nemesis: [partition]
                options: {mode: stale-backup-reads}
                seed: 5
                expect: violated
            """)
        )
        done = plugin_env.run(
            ["splitbrain", "gate", str(claims), "--store", str(tmp_path / "store")], cwd=tmp_path
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.count("pass") >= 2, done.stdout
        held = next((tmp_path / "store" / "kv-linearizable-under-pause-and-packet-loss").glob("*/"))
        assert {"pause", "resume", "start-packet", "stop-packet"} <= nemesis_fs(held)

    def test_pytest_fixture_and_marker(self, plugin_env: FreshVenv, tmp_path: Path) -> None:
        (tmp_path / "test_kv.py").write_text(
            textwrap.dedent("""\
            import pytest

            RUN = dict(target="kvexample", workload="register", concurrency=4, keys=3,
                       rate=50, nemesis_interval=2, time_limit=6)


            def test_correct_mode_is_linearizable(splitbrain):
                result = splitbrain.run(nemesis=["partition", "kill"], seed=6, **RUN)
                assert result.valid, result.explain()


            @pytest.mark.consistency(nemesis=["partition"], seed=7, expect="violated",
                                     options={"mode": "stale-backup-reads"}, **RUN)
            def test_backup_reads_are_stale(splitbrain_result):
                assert splitbrain_result.valid is False
            """)
        )
        done = plugin_env.run(
            [str(plugin_env.bin / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
             "--splitbrain-store", str(tmp_path / "store"), "test_kv.py"],
            cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert "2 passed" in done.stdout, done.stdout


@pytest.fixture
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshTestCluster]:
    with ssh_fixtures.running(tmp_path_factory, count=2) as cluster:
        yield cluster


@pytest.mark.real
@pytest.mark.ssh
@pytest.mark.timeout(300)
def test_the_example_runs_on_ssh_nodes_under_every_fault(
    sshd: SshTestCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kv example's server is a file of its package; ``ServerTarget`` ships it (a
    ``NodeFile``) to every node before starting it, so an SSH node needs only ``python3``.
    (The test's sshd nodes are namespaces of this machine: the proof that the shipped copy
    runs is each server's argv, which names the node's own directory.)"""
    monkeypatch.syspath_prepend(str(PLUGIN))
    from kvexample.target import KvTarget

    class Watched(KvTarget):
        def after_start(self) -> None:
            for node in self._nodes:
                (daemon,) = self.daemons[node.name].values()
                script = daemon.argv[1]
                shipped = node.run(["test", "-f", script], timeout=10).ok
                self.started[node.name] = (script == f"{self.node_dir(node)}/kvserver.py", shipped)

    target = Watched()
    target.started = {}
    result = splitbrain.run(
        splitbrain.TestSpec(
            target=target, workload="register", concurrency=4, keys=3, rate=50, seed=8,
            nemesis=["kill", "pause", "partition", "packet-loss"], nemesis_interval=0.5,
            time_limit=11, options={"nodes": "2"}, ssh=sshd.options().to_dict(),
            store=str(tmp_path / "store"),
        )
    )  # fmt: skip
    assert result.verdict is splitbrain.Verdict.VALID, result.results
    assert target.started == {host: (True, True) for host in sshd.addresses}
    done = {o.f for o in result.history if o.process == "nemesis" and o.type != "invoke"}
    assert {"kill", "start", "pause", "resume", "start-partition", "start-packet"} <= done, done
    assert "primary on" in (result.run_dir / "logs" / sshd.addresses[0] / "kv.log").read_text()
    assert ssh_fixtures.leftovers(sshd) == []
