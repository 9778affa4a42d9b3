"""pytest plugin: consistency claims as tests (loaded through the ``pytest11`` entry point).

Two forms:

- the ``splitbrain`` fixture: ``result = splitbrain.run(target=..., workload=..., ...)``,
  then assert on ``result.valid`` (True only if every checker said valid: an ``unknown``
  verdict is not valid), with ``result.explain()`` as the message;
- the ``consistency`` marker: ``@pytest.mark.consistency(target=..., expect="holds")`` runs
  the claim before the test body and fails the test if the outcome is not the expected one.
  The body may be empty, or take the ``splitbrain_result`` fixture to look at the result.

Both take the keys of a claim (``harness.gate.FIELDS``: the TestSpec fields a claim may
set, and the marker also ``expect``, ``allow_unknown``, ``description``), checked by the
same schema as a claims file.

Every run made by a test is listed in a "splitbrain" section of its report (verdict and
report path), and linked from its row when pytest-html is installed.
"""

from __future__ import annotations

import inspect
import math
import os
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from splitbrain.harness.base.errors import CheckerFailed
from splitbrain.harness.base.protocols import HarnessInputError
from splitbrain.harness.base.store import safe_name
from splitbrain.harness.base.verdict import verdict_word
from splitbrain.harness.engine import core
from splitbrain.harness.engine import spec as test_spec
from splitbrain.harness.front import limits, progress
from splitbrain.harness.front.gate import (
    FIELDS,
    availability_met,
    check_claim,
    claim_from_fields,
    expectation_met,
    expectation_text,
    explain,
    report_path,
)

MARKER = "consistency"
_MARKER_HELP = (
    f"{MARKER}({', '.join(f'{key}=...' for key in FIELDS)}): run this consistency claim "
    "with splitbrain; the test fails if the outcome is not the expected one"
)
_POSITIONAL = ("target", "workload", "nemesis")


def _run_signature() -> inspect.Signature:
    """``Splitbrain.run``'s parameters: every claim key of the TestSpec and every limit
    (``harness.limits``), None meaning its default."""
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)]
    for key in (*test_spec.CLAIM_KEYS, *limits.KINDS):
        kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
        if key not in _POSITIONAL:
            kind = inspect.Parameter.KEYWORD_ONLY
        params.append(inspect.Parameter(key, kind, default=None))
    return inspect.Signature(params)


@dataclass(frozen=True)
class Settings:
    """The plugin's options, from the command line or the ini file."""

    store: Path
    time_limit: float | None = None
    """Every run's time limit, in seconds, whatever the test says."""
    time_scale: float | None = None
    """Factor applied to every run's time limit."""
    seed: int | None = None
    """Seed of every run whose test does not fix one."""


@dataclass(repr=False)
class SplitbrainResult:
    """What one run found. ``valid`` is True only if the verdict is True."""

    verdict: Any
    """True, False or "unknown", as in results.json."""
    results: dict[str, Any]
    run_dir: Path
    spec: Any
    history: list[Any] = field(default_factory=list, repr=False)
    interrupted: bool = False

    @property
    def valid(self) -> bool:
        return self.verdict is True

    @property
    def unknown(self) -> bool:
        return self.verdict == "unknown"

    @property
    def checkers(self) -> dict[str, Any]:
        """Each checker's result by name (``stats`` included)."""
        return self.results.get("checkers", {})

    @property
    def report_path(self) -> Path:
        """The run's report.html, or the run directory if no report was written."""
        return report_path(self.run_dir)

    def explain(self) -> str:
        """A short readable counterexample, the report path and the command that replays it."""
        return explain(self.results, self.run_dir, self.spec.command())

    def summary(self) -> str:
        return f"{self.spec.run_name}: {verdict_word(self.verdict)}  report: {self.report_path}"

    def __repr__(self) -> str:
        return f"<SplitbrainResult {self.summary()}>"


_RUNS = pytest.StashKey[list[SplitbrainResult]]()
_CLAIM = pytest.StashKey[tuple[Any, SplitbrainResult]]()
_SETTINGS = pytest.StashKey[Settings]()


# ---------------------------------------------------------------- options


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("splitbrain", "splitbrain consistency tests")
    group.addoption(
        "--splitbrain-store",
        metavar="DIR",
        default=None,
        help="directory of splitbrain runs (ini: splitbrain_store; default: ROOTDIR/reports)",
    )
    group.addoption(
        "--splitbrain-time-limit",
        metavar="S|xF",
        default=None,
        help="every splitbrain run lasts S seconds, or (xF, e.g. x0.1) F times its own limit "
        "(ini: splitbrain_time_limit)",
    )
    group.addoption(
        "--splitbrain-seed",
        metavar="N",
        default=None,
        help="seed for splitbrain runs that do not fix one (ini: splitbrain_seed)",
    )
    parser.addini("splitbrain_store", "directory of splitbrain runs", default=None)
    parser.addini("splitbrain_time_limit", "S seconds, or xF to scale", default=None)
    parser.addini("splitbrain_seed", "seed for runs that do not fix one", default=None)


def parse_time_limit(text: str) -> tuple[float | None, float | None]:
    """``"5"`` -> (5.0, None): set; ``"x0.5"`` or ``"0.5x"`` -> (None, 0.5): scale."""
    raw = text.strip().lower()
    scale = raw.startswith("x") or raw.endswith("x")
    number = raw.strip("x").removesuffix("s").strip()
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"expected seconds (5) or a factor (x0.5), got {text!r}") from None
    if not math.isfinite(value) or value < 0 or (scale and value == 0):
        raise ValueError(f"must be positive, got {text!r}")
    return (None, value) if scale else (value, None)


def _setting(config: pytest.Config, name: str) -> tuple[str | None, Path]:
    """The option's value and the directory a relative path in it is relative to."""
    value = config.getoption(name)
    if value is not None:
        return str(value), config.invocation_params.dir
    ini = config.getini(name)
    base = config.inipath.parent if config.inipath else config.rootpath
    return (str(ini).strip() or None) if ini else None, base


def read_settings(config: pytest.Config) -> Settings:
    store, base = _setting(config, "splitbrain_store")
    store_path = base / store if store else config.rootpath / "reports"
    time_limit = time_scale = seed = None
    limit, _ = _setting(config, "splitbrain_time_limit")
    if limit is not None:
        try:
            time_limit, time_scale = parse_time_limit(limit)
        except ValueError as e:
            raise pytest.UsageError(f"--splitbrain-time-limit: {e}") from None
    seed_text, _ = _setting(config, "splitbrain_seed")
    if seed_text is not None:
        try:
            seed = int(seed_text)
        except ValueError:
            raise pytest.UsageError(
                f"--splitbrain-seed: expected an integer, got {seed_text!r}"
            ) from None
    return Settings(store_path, time_limit, time_scale, seed)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _MARKER_HELP)
    config.stash[_SETTINGS] = read_settings(config)


# ---------------------------------------------------------------- running claims


def _run_claim(item: pytest.Item, claim: Any) -> SplitbrainResult:
    settings = item.config.stash[_SETTINGS]
    try:
        check_claim(claim)
        spec = claim.build_spec(
            store=settings.store,
            time_limit=settings.time_limit,
            time_scale=settings.time_scale,
            seed=settings.seed,
        )
        run = _run_watched(item.config, spec)
    except HarnessInputError as e:
        pytest.fail(f"splitbrain: {e}", pytrace=False)
    except CheckerFailed as e:  # a bug, not a verdict: the test errors, its run still listed
        _stash_run(item, e.result)
        raise e.with_traceback(None) from None  # the harness's frames say nothing; its log does
    result = _stash_run(item, run)
    if run.interrupted:
        raise KeyboardInterrupt
    problems = [*run.teardown_errors, *run.store_errors]
    if problems:
        pytest.fail(f"splitbrain: {'; '.join(problems)}", pytrace=False)
    return result


def _stash_run(item: pytest.Item, run: Any) -> SplitbrainResult:
    result = SplitbrainResult(
        run.valid, run.results, run.run_dir, run.spec, run.history, run.interrupted
    )
    item.stash.setdefault(_RUNS, []).append(result)
    return result


def _run_watched(config: pytest.Config, spec: Any) -> Any:
    """``core.run``, with the status line on stderr when pytest does not capture it (``-s``):
    captured, it would only reach the failure report, after the fact."""
    if config.getoption("capture", "fd") != "no":
        return core.run(spec)
    watch = progress.Progress(spec.time_limit)
    try:
        return core.run(spec, on_start=watch.start)
    finally:
        watch.stop()


def _claim(raw: dict[str, Any], where: str, default_name: str) -> Any:
    try:
        return claim_from_fields({"name": safe_name(default_name)} | raw, where)
    except HarnessInputError as e:
        pytest.fail(f"splitbrain: {e}", pytrace=False)


class Splitbrain:
    """The ``splitbrain`` fixture: runs tests and returns their results."""

    def __init__(self, item: pytest.Item) -> None:
        self._item = item

    @property
    def settings(self) -> Settings:
        return self._item.config.stash[_SETTINGS]

    def run(self, *args: Any, **fields: Any) -> SplitbrainResult:
        """Run one test. Takes every TestSpec field a claim may set (``harness.spec.CLAIM_KEYS``;
        ``target``, ``workload`` and ``nemesis`` also by position); None keeps the default."""
        try:
            bound = _RUN_SIGNATURE.bind(self, *args, **fields)
        except TypeError as e:
            known = ", ".join(test_spec.CLAIM_KEYS)
            pytest.fail(f"splitbrain.run(): {e}; it takes: {known}", pytrace=False)
        raw = {k: v for k, v in bound.arguments.items() if k != "self" and v is not None}
        return _run_claim(self._item, _claim(raw, "splitbrain.run()", self._item.name))


_RUN_SIGNATURE = _run_signature()
Splitbrain.run.__signature__ = _RUN_SIGNATURE  # type: ignore[attr-defined]


def _marker_fields(item: pytest.Item) -> dict[str, Any] | None:
    """The merged ``consistency`` markers: class or module ones first, the function's last."""
    markers = list(item.iter_markers(MARKER))
    if not markers:
        return None
    raw: dict[str, Any] = {}
    for mark in reversed(markers):
        if mark.args:
            pytest.fail(
                f"{item.nodeid}: @pytest.mark.{MARKER} takes keyword arguments only",
                pytrace=False,
            )
        raw |= mark.kwargs
    return raw


@pytest.fixture
def splitbrain(request: pytest.FixtureRequest) -> Splitbrain:
    """Runs splitbrain tests: ``splitbrain.run(target=..., workload=..., ...)``."""
    return Splitbrain(request.node)


@pytest.fixture
def splitbrain_result(request: pytest.FixtureRequest) -> SplitbrainResult:
    """The result of the test's ``@pytest.mark.consistency`` claim, run before the body."""
    item = request.node
    if _CLAIM in item.stash:
        return item.stash[_CLAIM][1]
    raw = _marker_fields(item)
    if raw is None:
        pytest.fail(
            f"splitbrain_result needs @pytest.mark.{MARKER}(...) on {item.nodeid}", pytrace=False
        )
    claim = _claim(raw, f"@pytest.mark.{MARKER} on {item.nodeid}", item.name)
    result = _run_claim(item, claim)
    item.stash[_CLAIM] = (claim, result)
    return result


@pytest.fixture(autouse=True)
def _splitbrain_consistency(request: pytest.FixtureRequest) -> None:
    """Runs a marked test's claim even when the body does not ask for its result."""
    if request.node.get_closest_marker(MARKER) is not None:
        request.getfixturevalue("splitbrain_result")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    outcome = yield
    if _CLAIM in item.stash:
        claim, result = item.stash[_CLAIM]
        if not expectation_met(claim, result.verdict):
            pytest.fail(
                f"consistency claim {claim.name!r} not met: expected {expectation_text(claim)}, "
                f"verdict {verdict_word(result.verdict)}\n{result.explain()}",
                pytrace=False,
            )
        served, measured = availability_met(claim, result.results)
        if not served:
            pytest.fail(
                f"consistency claim {claim.name!r} not met: availability: {measured}\n"
                f"{result.explain()}",
                pytrace=False,
            )
    return outcome


# ---------------------------------------------------------------- reporting


def _link(config: pytest.Config, path: Path) -> str:
    """Relative to the pytest-html page when there is one, so a moved artifact keeps working."""
    html = getattr(config.option, "htmlpath", None)
    if html:
        page_dir = Path(os.path.abspath(html)).parent
        return os.path.relpath(path.resolve(), page_dir)
    return path.resolve().as_uri()


def _add_html_links(item: pytest.Item, report: pytest.TestReport) -> None:
    try:
        import pytest_html
    except ImportError:
        return
    extras = getattr(report, "extras", [])
    for run in item.stash.get(_RUNS, []):
        link = _link(item.config, run.report_path)
        extras.append(pytest_html.extras.url(link, name=f"splitbrain: {run.spec.run_name}"))
    report.extras = extras


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    runs = item.stash.get(_RUNS, [])
    if runs and (report.when == "call" or (report.when == "setup" and report.failed)):
        report.sections.append(("splitbrain", "\n".join(r.summary() for r in runs)))
        _add_html_links(item, report)
    return report
