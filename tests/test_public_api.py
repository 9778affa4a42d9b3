"""The public surface, pinned: what ``splitbrain`` exports, and that it runs the user's objects."""

from __future__ import annotations

import importlib.metadata
import inspect
import json
import re
import threading
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pytest

import splitbrain
from splitbrain import (
    Context,
    ExitCode,
    HarnessFailure,
    HarnessInputError,
    Invocation,
    NemesisKind,
    Op,
    PluginError,
    RunContext,
    SplitbrainError,
    TestSpec,
    Verdict,
    WorkloadDefinition,
    WorkloadSpec,
)

PUBLIC = [
    "CheckResult",
    "Checker",
    "CheckerFailed",
    "Client",
    "Configurable",
    "Context",
    "ContributesResults",
    "ExitCode",
    "HarnessFailure",
    "HarnessInputError",
    "HasDefaultRate",
    "HasLogs",
    "HasNetworkNodes",
    "HasWorkloadRates",
    "HashesStates",
    "Invocation",
    "Killable",
    "LimitsNemeses",
    "Model",
    "Nemesis",
    "NemesisKind",
    "Op",
    "OwnsNemeses",
    "OwnsTime",
    "Pausable",
    "PluginError",
    "RefusesWorkloads",
    "RunContext",
    "RunResult",
    "RunsOnHosts",
    "Runtime",
    "SplitbrainError",
    "Target",
    "TestSpec",
    "Verdict",
    "Workload",
    "WorkloadDefinition",
    "WorkloadSpec",
    "__version__",
    "check",
    "run",
]

PUBLIC += [  # the server-per-node target base
    "ClientContext",
    "ConfigFile",
    "ConfigValueError",
    "NodeFile",
    "ReadyCommand",
    "ReadyPort",
    "Server",
    "ServerNode",
    "ServerTarget",
    "bare",
    "double_quoted",
]

SIGNATURES = {
    "run": "(spec: 'TestSpec', *, on_start: 'Callable[[Path], None] | None' = None) -> 'RunResult'",
    "check": "(history: 'list[Op] | str | Path', model: 'Any' = None, *, init: 'Any' = None, "
    "timeout: 'float | None' = None, data_type: 'Any' = None, "
    "consistency: 'tuple[str, ...] | list[str]' = (), spectrum: 'bool' = False, assume: 'Iterable[str]' = ()) -> 'CheckResult'",
}

SPEC_FIELDS = [
    "target",
    "workload",
    "nemesis",
    "concurrency",
    "time_limit",
    "rate",
    "keys",
    "seed",
    "store",
    "name",
    "options",
    "workload_options",
    "model",
    "consistency",
    "nemesis_interval",
    "settle",
    "op_timeout",
    "final_time_limit",
    "check_timeout",
    "ssh",
    "assume",
]

PROTOCOL_MEMBERS = {
    "Target": ["name", "operations", "setup", "teardown", "nodes", "client"],
    "Client": ["invoke", "close"],
    "Workload": [
        "name",
        "operations",
        "generator",
        "final_generator",
        "checkers",
        "read_every_node",
    ],
    "Nemesis": ["name", "setup", "invoke", "teardown"],
    "Model": ["init", "step"],
    "Checker": ["__call__"],
    "Killable": ["kill", "start"],
    "Pausable": ["pause", "resume"],
    "HasLogs": ["collect_logs"],
    "HasNetworkNodes": ["node"],
    "RunsOnHosts": ["run_on"],
    "Configurable": ["options", "configure"],
    "LimitsNemeses": ["supported_nemeses"],
    "HasDefaultRate": ["default_rate"],
    "HasWorkloadRates": ["default_rate_for"],
    "RefusesWorkloads": ["refuse_workload"],
    "OwnsTime": ["runtime"],
    "OwnsNemeses": ["nemesis"],
    "ContributesResults": ["extra_results"],
    "Runtime": ["reads_nodes", "stopped", "nodes", "faults", "run_phase", "nemesis_op", "settle"],
    "HashesStates": ["hash", "equal"],
}


def test_the_public_names_are_exactly_these() -> None:
    assert splitbrain.__all__ == PUBLIC
    assert all(hasattr(splitbrain, name) for name in PUBLIC)
    assert splitbrain.__version__ == importlib.metadata.version("splitbrain")
    assert (Path(splitbrain.__file__).parent / "py.typed").is_file()


def test_the_tutorial_names_every_public_name_and_only_those() -> None:
    page = (Path(__file__).parents[1] / "docs" / "extending.md").read_text()
    section = page.split("## 10. The public API, name by name")[1]
    named = set(re.findall(r"`(\w+)(?:\(|`)", section))
    assert set(PUBLIC) - named == set()
    top_level = {n for n in named if n[0].isupper() or n in ("run", "check", "bare")}
    assert top_level - set(PUBLIC) == set()


def test_the_public_signatures_are_pinned() -> None:
    from splitbrain.harness.base.protocols import required_members

    for name, text in SIGNATURES.items():
        assert str(inspect.signature(getattr(splitbrain, name))) == text, name
    assert [f.name for f in fields(TestSpec)] == SPEC_FIELDS
    for name, members in PROTOCOL_MEMBERS.items():
        assert required_members(getattr(splitbrain, name)) == members, name
    assert [v.value for v in Verdict] == [True, False, "unknown"]
    assert {e.name: int(e) for e in ExitCode} == {
        "VALID": 0,
        "INVALID": 1,
        "UNKNOWN": 2,
        "INTERRUPTED": 130,
        "BAD_INPUT": 254,
        "HARNESS": 255,
    }


def test_one_root_exception_and_each_error_knows_its_exit_code() -> None:
    assert issubclass(HarnessInputError, SplitbrainError)
    assert issubclass(PluginError, HarnessInputError)
    assert issubclass(HarnessFailure, SplitbrainError)
    assert HarnessInputError("x").exit_code == 254
    assert PluginError("x").exit_code == 254
    assert HarnessFailure("x").exit_code == 255


def test_a_verdict_is_true_false_or_unknown_in_json() -> None:
    from splitbrain.harness.base.verdict import json_default

    doc = {"a": Verdict.VALID, "b": Verdict.INVALID, "c": Verdict.UNKNOWN}
    assert json.loads(json.dumps(doc, default=json_default)) == {
        "a": True,
        "b": False,
        "c": "unknown",
    }
    assert Verdict.of("unknown") is Verdict.UNKNOWN and Verdict.of(False).exit_code == 1
    assert bool(Verdict.VALID) and not bool(Verdict.UNKNOWN)


# ---------------------------------------------------------------- a user's own objects


class Journal:
    """A user's list-valued model: ``append`` v, ``read`` returns the whole list."""

    name = "journal"

    def init(self) -> list[Any]:
        return []

    def step(self, state: list[Any], f: str, value: Any, result: Any) -> tuple[bool, list[Any]]:
        if f == "append":
            return True, [*state, value]
        return result is None or result == state, state


class Bag(Journal):
    """A list whose order does not count, saying so itself (porcupine's ``Equal``): the
    search's cache then takes [1, 2] and [2, 1] for one state."""

    def __init__(self) -> None:
        self.compared = 0

    def step(self, state: list[Any], f: str, value: Any, result: Any) -> tuple[bool, list[Any]]:
        if f == "read":
            return result is None or sorted(result) == sorted(state), state
        return super().step(state, f, value, result)

    def hash(self, state: list[Any]) -> int:
        return hash(tuple(sorted(state)))

    def equal(self, a: list[Any], b: list[Any]) -> bool:
        self.compared += 1
        return sorted(a) == sorted(b)


def _history(*steps: tuple[str, str, int, Any]) -> list[Op]:
    return [Op(type=t, f=f, process=p, value=v, index=i) for i, (t, f, p, v) in enumerate(steps)]


CONCURRENT_APPENDS = [
    ("invoke", "append", 0, 1),
    ("invoke", "append", 1, 2),
    ("ok", "append", 0, 1),
    ("ok", "append", 1, 2),
    ("invoke", "read", 2, None),
]


@pytest.mark.parametrize("model", [Journal(), Bag()], ids=["frozen", "own-equal"])
def test_a_model_with_list_valued_states_is_checked(model: Journal) -> None:
    good = _history(*CONCURRENT_APPENDS, ("ok", "read", 2, [2, 1]))
    bad = _history(*CONCURRENT_APPENDS, ("ok", "read", 2, [1]))
    assert splitbrain.check(good, model).verdict is Verdict.VALID
    result = splitbrain.check(bad, model)
    assert result.verdict is Verdict.INVALID
    assert result.result["counterexample"]["state"] in ([1, 2], [2, 1])
    if isinstance(model, Bag):
        assert model.compared > 0


def test_the_list_model_used_to_crash_the_search_on_unhashable_states() -> None:
    from splitbrain.checkers import wgl

    with pytest.raises(TypeError, match="unhashable"):
        wgl.search([wgl.Call(0, 1, ("append", 1))], [], lambda s, a: [*s, a[1]], max_bytes=1 << 20)


@dataclass(frozen=True)
class Appends:
    """A user's generator: appends of 1, 2, 3, ... and whole-list reads."""

    next_value: int = 1

    def op(self, ctx: Context) -> tuple[Invocation, Appends]:
        if ctx.rng.random() < 0.3:
            return Invocation("read"), self
        return Invocation("append", self.next_value), Appends(self.next_value + 1)


class JournalClient:
    def __init__(self, target: JournalTarget) -> None:
        self.target = target

    def invoke(self, op: Op) -> Op:
        if not self.target.up:
            return op.completion("fail", op.value, error="down")
        with self.target.lock:
            if op.f == "append":
                self.target.entries.append(op.value)
                return op.completion("ok", op.value, node="j1")
            return op.completion("ok", list(self.target.entries), node="j1")

    def close(self) -> None:
        pass


class JournalTarget:
    """A user's one-node in-process target that can be killed."""

    name = "journal"
    operations = frozenset({"append", "read"})

    def __init__(self) -> None:
        self.entries: list[Any] = []
        self.lock = threading.Lock()
        self.up = True
        self.kills = 0

    def setup(self, ctx: RunContext) -> None:
        self.entries.clear()

    def teardown(self) -> None:
        self.up = True

    def nodes(self) -> list[str]:
        return ["j1"]

    def client(self, process: int) -> JournalClient:
        return JournalClient(self)

    def kill(self, node: str) -> None:
        self.up = False
        self.kills += 1

    def start(self, node: str) -> None:
        self.up = True


def journal_workload(spec: WorkloadSpec) -> WorkloadDefinition:
    return WorkloadDefinition(
        name="journal",
        generator=Appends(),
        final_generator=None,
        checkers={"journal": lambda history: splitbrain.check(history, Journal()).result},
        operations=frozenset({"append", "read"}),
    )


class CrashJournal:
    """A user's own nemesis: crash the journal's one node, and bring it back."""

    name = "crash"

    def setup(self, target: Any, ctx: RunContext) -> None:
        self.target, self.down = target, False

    def invoke(self, op: Op) -> Op:
        if op.f == "kill":
            self.target.kill("j1")
        else:
            self.target.start("j1")
        self.down = op.f == "kill"
        return op.completion("info", "j1")

    def teardown(self) -> None:
        if self.down:
            self.target.start("j1")


def test_run_takes_the_users_own_target_workload_and_nemesis(tmp_path: Path) -> None:
    target = JournalTarget()
    crash = NemesisKind(CrashJournal, (("kill", "start"),), (splitbrain.Killable,))
    spec = TestSpec(
        target=target,
        workload=journal_workload,
        nemesis=[crash],
        time_limit=1.2,
        nemesis_interval=0.3,
        rate=100,
        seed=7,
        store=str(tmp_path),
    )
    result = splitbrain.run(spec)
    assert result.verdict is Verdict.VALID, result.results
    assert target.kills >= 1
    assert {op.f for op in result.history} >= {"append", "read", "kill", "start"}
    stored = json.loads((result.run_dir / "test.json").read_text())
    assert stored["target"] == "journal" and stored["workload"] == "journal_workload"
    assert json.loads((result.run_dir / "results.json").read_text())["valid"] is True


class HostedJournal(JournalTarget):
    """A user's own target that takes its nodes from a provider (``RunsOnHosts``)."""

    def __init__(self) -> None:
        super().__init__()
        self.providers: list[str] = []

    def run_on(self, provider: Any) -> None:
        self.providers.append(type(provider).__name__)


def test_ssh_nodes_are_handed_over_through_the_declared_run_on(tmp_path: Path) -> None:
    """``--nodes`` gives the target its SSH provider through ``RunsOnHosts.run_on``, the one
    declared way (it used to set the base class's private flag); a target that is not
    ``RunsOnHosts`` is refused in one line."""
    hosted = HostedJournal()
    ssh = {"hosts": ["192.0.2.1"], "known_hosts": str(tmp_path / "known_hosts")}
    spec = TestSpec(
        target=hosted, workload=journal_workload, time_limit=0.3, rate=50, ssh=ssh,
        store=str(tmp_path / "runs"),
    )  # fmt: skip
    assert splitbrain.run(spec).verdict is Verdict.VALID
    assert hosted.providers == ["SshCluster"]
    with pytest.raises(HarnessInputError, match="target 'journal' runs no servers on nodes"):
        splitbrain.run(TestSpec(target=JournalTarget(), workload=journal_workload, ssh=ssh))


def test_an_object_that_breaks_its_protocol_is_refused_before_anything_is_set_up(
    tmp_path: Path,
) -> None:
    class NoClient:
        name = "half"
        operations = frozenset({"read"})

        def setup(self, ctx: RunContext) -> None:
            raise AssertionError("set up a target that breaks its protocol")

        def teardown(self) -> None: ...

        def nodes(self) -> list[str]:
            return []

    with pytest.raises(
        PluginError, match=r"target 'half': NoClient lacks client\(\), which a Target requires"
    ):
        splitbrain.run(TestSpec(target=NoClient(), store=str(tmp_path)))
    with pytest.raises(HarnessInputError, match="target 'journal' cannot take nemesis 'pause'"):
        splitbrain.run(
            TestSpec(
                target=JournalTarget(),
                workload=journal_workload,
                nemesis=["pause"],
                store=str(tmp_path),
            )
        )
    with pytest.raises(
        HarnessInputError,
        match="target 'journal' does not implement 'cas', which workload 'register' needs",
    ):
        splitbrain.run(TestSpec(target=JournalTarget(), store=str(tmp_path)))
    assert list(tmp_path.iterdir()) == []
