"""One source of truth for a test: TestSpec's fields give the flags, the claim keys, the
fixture's keywords and the replay command, and a spec survives the trip through its command."""

from __future__ import annotations

import inspect
import re
import shlex
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from splitbrain import workloads
from splitbrain.harness.base import plugins
from splitbrain.harness.base.errors import HarnessInputError
from splitbrain.harness.base.values import (
    ChoiceList,
    FilePath,
    Integer,
    NameList,
    Number,
    Optional,
    Problem,
    Text,
    TextMap,
)
from splitbrain.harness.engine import assemble, core
from splitbrain.harness.engine import spec as test_spec
from splitbrain.harness.engine.core import TestSpec as CoreTestSpec
from splitbrain.harness.engine.spec import PARAMS, Part, Parts, RunName, TestSpec
from splitbrain.harness.front import cli, gate, limits
from splitbrain.harness.front.pytest_plugin import Splitbrain
from splitbrain.workloads import maelstrom

_TEXT = st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn"))
_ANY_BUT_NUL = st.characters(blacklist_categories=("Cs",), blacklist_characters="\0")


def _fits(kind: Any) -> Any:
    def ok(value: Any) -> bool:
        try:
            kind.from_value(value)
        except Problem:
            return False
        return True

    return ok


def strategy(kind: Any) -> st.SearchStrategy[Any]:
    """Values that fit ``kind``, drawn over its whole range; an unknown kind fails loudly."""
    if isinstance(kind, Optional):
        return st.none() | strategy(kind.kind)
    if isinstance(kind, Integer):
        return st.integers(kind.low, kind.high)
    if isinstance(kind, Number):
        numbers = st.floats(kind.low, kind.high, allow_nan=False, allow_infinity=False)
        return numbers.filter(lambda n: not (kind.above and n == kind.low))
    if isinstance(kind, Part):
        return strategy(kind.text)
    if isinstance(kind, Parts):
        return strategy(kind.names)
    if isinstance(kind, RunName | Text):
        return st.text(_TEXT, min_size=1, max_size=30).filter(_fits(kind))
    if isinstance(kind, FilePath):
        return st.text(_ANY_BUT_NUL, min_size=1, max_size=30)
    if isinstance(kind, NameList):
        names = st.text(_TEXT, min_size=1, max_size=12).filter(
            lambda n: "," not in n and n.strip() == n and n != "none"
        )
        return st.lists(names, max_size=4, unique=True)
    if isinstance(kind, ChoiceList):
        return st.lists(st.sampled_from(kind.choices), unique=True)
    if isinstance(kind, TextMap):
        keys = st.text(_TEXT, min_size=1, max_size=12).filter(_fits_key)
        return st.dictionaries(keys, st.text(_ANY_BUT_NUL, max_size=20), max_size=4)
    raise AssertionError(f"no strategy for {kind!r}: add one when adding a kind")


def _fits_key(key: str) -> bool:
    try:
        TextMap().key(key)
    except Problem:
        return False
    return True


_HOST = st.from_regex(r"\A[a-z][a-z0-9.]{0,12}(:[1-9][0-9]{0,3})?\Z")
SSH = st.none() | st.fixed_dictionaries(
    {
        "hosts": st.lists(_HOST, min_size=1, max_size=3),
        "user": st.from_regex(r"\A[a-z_][a-z0-9_]{0,8}\Z"),
        "port": st.integers(1, 65535),
        "key": st.none(),
        "known_hosts": st.none(),
        "no_host_key_check": st.booleans(),
        "sudo": st.booleans(),
        "connect_timeout": st.just(10.0),
        "connect_attempts": st.just(3),
    }
)
SPECS = st.builds(
    TestSpec,
    **{p.name: strategy(p.kind) for p in PARAMS.values() if p.name != "ssh"},
    ssh=SSH,
)


PARSER = cli.build_parser()


def parse(argv: list[str]) -> TestSpec:
    assert argv[:2] == ["splitbrain", "test"], argv
    return test_spec.from_args(PARSER.parse_args(argv[1:]))


@settings(max_examples=200, deadline=None)
@given(SPECS)
def test_a_spec_survives_the_trip_through_its_replay_command(spec: TestSpec) -> None:
    assert parse(shlex.split(spec.command())) == spec


def test_the_replay_command_has_every_setting_that_changes_the_run() -> None:
    spec = TestSpec(seed=4, op_timeout=0.25, check_timeout=9, settle=1.5, final_time_limit=2)
    spec.workload_options = {"memory-limit-mb": "64"}
    words = spec.argv()
    for flag, text in [
        ("--op-timeout", "0.25"),
        ("--check-timeout", "9"),
        ("--settle", "1.5"),
        ("--final-time-limit", "2"),
        ("-w", "memory-limit-mb=64"),
        ("--seed", "4"),
    ]:
        assert words[words.index(flag) + 1] == text
    assert parse(words) == spec


def test_flags_claim_keys_and_fixture_keywords_all_come_from_the_fields() -> None:
    fields = set(TestSpec.__dataclass_fields__)
    assert set(PARAMS) == fields
    flags = {
        a.dest
        for a in PARSER._subparsers._group_actions[0].choices["test"]._actions  # type: ignore[union-attr]
    }
    assert fields - {"ssh"} <= flags
    claimable = fields - {"store", "ssh"}
    assert set(test_spec.CLAIM_KEYS) == claimable
    limit_keys = set(limits.KINDS)
    assert (
        set(gate.FIELDS)
        == claimable
        | {
            "description",
            "expect",
            "allow_unknown",
            "availability",
        }
        | limit_keys
    )
    fixture = set(inspect.signature(Splitbrain.run).parameters) - {"self"}
    assert fixture == claimable | limit_keys
    assert CoreTestSpec is TestSpec


def test_library_specs_are_validated_like_flags() -> None:
    for bad, message in [
        (TestSpec(time_limit=float("nan")), "time_limit must be a finite number from 0 to 86400"),
        (TestSpec(keys=10**12), "keys must be an integer from 1 to 10000"),
        (TestSpec(name="latest"), "name must be a name without '/'"),
        (TestSpec(nemesis=["kill"], time_limit=1000, nemesis_interval=0.01), "10000 fault cycles"),
        (TestSpec(workload_options={"k": ["list"]}), "option values must be scalars"),
    ]:
        try:
            bad.validate()
        except ValueError as e:
            assert message in str(e), str(e)
        else:
            raise AssertionError(f"{bad} was accepted")


def test_the_readme_lists_every_workload_option_with_its_default() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    rows = re.findall(r"^\| `([\w-]+)` \| `([\w-]+)` \| ([^|]+) \|", readme, re.MULTILINE)
    listed = {(w, o): d.strip() for w, o, d in rows}
    declared = {
        # options every Maelstrom workload shares are listed once, as workload `maelstrom`
        ("maelstrom" if maelstrom.OPTIONS.get(o) is option else w, o): (
            "none" if option.default is None else option.kind.to_text(option.default)
        )
        for w in plugins.names("workload")
        for o, option in workloads.declared_options(plugins.load("workload", w)).items()
    }
    assert listed == declared


def test_a_workload_given_built_refuses_workload_options() -> None:
    built = assemble.workload("set", workloads.WorkloadSpec())
    assert core.prepare(TestSpec(workload=built)).workload is built
    try:
        core.prepare(TestSpec(workload=built, workload_options={"linearizable": "true"}))
    except HarnessInputError as e:
        assert str(e) == "workload 'set' is given built, so it takes no -w options"
    else:
        raise AssertionError("a built workload took -w options")
