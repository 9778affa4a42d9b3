"""``splitbrain gate CLAIMS.yaml``: run a file of consistency claims, as a CI gate.

A claim names a test (target, workload, nemeses, options, time limit, model) and what is
expected of it: ``holds`` (the default) or ``violated`` (a documented weakness, so the gate
also proves the harness still catches it). Every claim is checked against the schema and
the registries before any runs; a bad file exits 254 with one line naming file, claim and key.
Exit codes: 0 every claim met its expectation, 1 some did not, 254 bad input, 255 the
harness itself failed.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import traceback
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from splitbrain import workloads
from splitbrain.checkers import cap
from splitbrain.harness.base import plugins, safeyaml
from splitbrain.harness.base.bounds import brief
from splitbrain.harness.base.errors import CheckerFailed, SplitbrainError
from splitbrain.harness.base.history import Valid
from splitbrain.harness.base.outputs import writable_dir, writable_file
from splitbrain.harness.base.protocols import Configurable, HarnessInputError
from splitbrain.harness.base.values import Choice, Flag, NameList, Number, Problem, has_control
from splitbrain.harness.base.verdict import (
    EXIT_BAD_INPUT,
    EXIT_HARNESS,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_VALID,
    verdict_word,
)
from splitbrain.harness.engine import assemble, core
from splitbrain.harness.engine import spec as test_spec
from splitbrain.harness.front import limits, present, progress
from splitbrain.harness.front.command_shared import argument_type

EXIT_PASS, EXIT_FAIL = EXIT_VALID, EXIT_INVALID
EXPECTATIONS = ("holds", "violated")
TOP_LEVEL_KEYS = ("claims", "defaults")

# ---------------------------------------------------------------- schema


def _description(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 2000 or has_control(value.replace("\n", " ")):
        raise Problem(f"must be a text of at most 2000 characters, got {brief(value)}")
    return value.strip()


AVAILABILITY: dict[str, Any] = {
    "during": Choice(cap.DURING),
    "min_ok": Number(0, 1),
    "ops": NameList(empty="all"),
}
"""The keys of a claim's ``availability:`` and their kinds (``ops`` may be left out: all)."""


def _availability(value: Any) -> cap.Requirement:
    """``{during: partition, min_ok: 0.9, ops: [read]}``, as Maelstrom's ``--availability``;
    ``total`` or a bare fraction is Maelstrom's own form, the whole run's share."""
    if value == "total" or (isinstance(value, int | float) and not isinstance(value, bool)):
        value = {"during": "run", "min_ok": 1.0 if value == "total" else value}
    if not isinstance(value, dict):
        raise Problem(
            f"must be total, a fraction, or a mapping of {', '.join(AVAILABILITY)}, got {brief(value)}"
        )
    for key in value:
        if key not in AVAILABILITY:
            raise Problem(f"unknown key {brief(key)}; known: {', '.join(AVAILABILITY)}")
    parsed: dict[str, Any] = {}
    for key, kind in AVAILABILITY.items():
        if key not in value and key != "ops":
            raise Problem(f"missing required key {key!r}")
        try:
            parsed[key] = kind.from_value(value.get(key, "all"))
        except Problem as e:
            raise Problem(f"{key}: {e}") from None
    return cap.Requirement(parsed["during"], parsed["min_ok"], tuple(parsed["ops"]))


CLAIM_ONLY: dict[str, Callable[[Any], Any]] = {
    "description": _description,
    "availability": _availability,
    "expect": Choice(EXPECTATIONS).from_value,
    "allow_unknown": Flag().from_value,
}
FIELDS: dict[str, Callable[[Any], Any]] = (
    {key: partial(test_spec.claim_value, key) for key in test_spec.CLAIM_KEYS}
    | CLAIM_ONLY
    | {key: limit.parse for key, limit in limits.KINDS.items()}
)
"""Every key a claim (or ``defaults:``) may have, with its parser: the TestSpec fields a
claim may set (``harness.spec.CLAIM_KEYS``), the claim's own keys, and the limits on what
the run measured (``harness.limits``)."""

SPEC_KEYS = frozenset(test_spec.CLAIM_KEYS) - {"name"}


@dataclass
class Claim:
    """One consistency claim: the test to run and the outcome it must have."""

    name: str
    spec: dict[str, Any] = field(default_factory=dict)
    """TestSpec fields the claim sets; the rest keep TestSpec's defaults."""
    expect: str = "holds"
    allow_unknown: bool = False
    description: str = ""
    availability: cap.Requirement | None = None
    """The share of ops that must be served (``ok``) during some windows of the run."""
    limits: dict[str, Any] = field(default_factory=dict)
    """Limits on what the run measured (``harness.limits``), already in ``spec``'s options."""
    where: str = ""
    """``FILE:LINE`` of the claim, for messages."""

    def build_spec(
        self,
        store: str | Path = "reports",
        time_limit: float | None = None,
        time_scale: float | None = None,
        seed: int | None = None,
    ) -> Any:
        """The TestSpec to run; ``time_limit`` overrides, ``time_scale`` multiplies it."""
        values = dict(self.spec)
        values.setdefault("name", self.name)
        if seed is not None and "seed" not in values:
            values["seed"] = seed
        spec = test_spec.TestSpec(store=str(store), **values)
        retime(spec, time_limit=time_limit, time_scale=time_scale)
        return spec


def retime(spec: Any, time_limit: float | None = None, time_scale: float | None = None) -> None:
    """Set or scale a spec's time limit; the fault schedule shrinks or grows with it.

    The fault interval never drops below a quarter of the new limit (unless it was shorter
    already), so a drastic cut still leaves a couple of whole fault cycles, not a strobe,
    nor below the smallest interval a spec may have.
    """
    old = spec.time_limit
    new = old
    if time_limit is not None:
        new = time_limit
    if time_scale is not None:
        new = new * time_scale
    if new == old:
        return
    if old > 0:
        interval = spec.nemesis_interval
        floor = test_spec.PARAMS["nemesis_interval"].kind.low  # type: ignore[attr-defined]
        spec.nemesis_interval = max(interval * new / old, min(interval, new / 4), floor)
    spec.time_limit = new


def expectation_met(claim: Claim, valid: Valid) -> bool:
    if valid == "unknown":
        return claim.allow_unknown
    return valid is (claim.expect == "holds")


def expectation_text(claim: Claim) -> str:
    return claim.expect + (" (unknown ok)" if claim.allow_unknown else "")


def availability_met(claim: Claim, results: dict[str, Any]) -> tuple[bool, str]:
    """Whether the run served what the claim's ``availability`` requires, and the measured
    share in words ("" when the claim requires nothing)."""
    if claim.availability is None:
        return True, ""
    profile = results.get("cap")
    if not isinstance(profile, dict) or "during" not in profile:
        return False, "the run has no CAP profile to measure availability on"
    return cap.requirement_met(profile, claim.availability)


# ---------------------------------------------------------------- loading


def _mapping_get(node: Any, key: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return k, v
    return None


def _claim_line(root: Any, index: int, key: str | None) -> int | None:
    found = _mapping_get(root, "claims")
    if found is None or not isinstance(found[1], yaml.SequenceNode):
        return None
    items = found[1].value
    if index >= len(items):
        return None
    node = items[index]
    if key is not None:
        pair = _mapping_get(node, key)
        if pair is not None:
            return pair[0].start_mark.line + 1
    return node.start_mark.line + 1


def _parse_fields(raw: Any, what: str, allowed: Iterable[str]) -> dict[str, Any]:
    """Check keys and types of one mapping; raise ValueError('key ...: problem')."""
    if not isinstance(raw, dict):
        raise ValueError(f"{what} must be a mapping, got {type(raw).__name__}")
    allowed = set(allowed)
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in allowed:
            raise _KeyProblem(
                str(key), f"unknown key {brief(key)}; known: {', '.join(sorted(allowed))}"
            )
        try:
            out[key] = FIELDS[key](value)
        except ValueError as e:
            raise _KeyProblem(key, f"key {key!r}: {e}") from None
    return out


class _KeyProblem(ValueError):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def parse_claims(path: str | Path) -> list[Claim]:
    """Read and schema-check a claims file; raises HarnessInputError naming file, claim and key."""
    path = Path(path)
    data, root = safeyaml.load(path, "claims file")
    if not isinstance(data, dict) or "claims" not in data:
        raise HarnessInputError(f"{path}: expected a mapping with a top-level 'claims:' list")
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            raise HarnessInputError(
                f"{path}: unknown top-level key {brief(key)}; known: {', '.join(TOP_LEVEL_KEYS)}"
            )
    try:
        defaults = _parse_fields(data.get("defaults") or {}, "defaults", set(FIELDS) - {"name"})
    except ValueError as e:
        raise HarnessInputError(f"{path}: defaults: {e}") from None
    raw_claims = data["claims"]
    if not isinstance(raw_claims, list) or not raw_claims:
        raise HarnessInputError(f"{path}: 'claims' must be a non-empty list of claims")
    claims: list[Claim] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_claims):
        claim = _parse_claim(path, root, i, raw, defaults)
        if claim.name in seen:
            raise HarnessInputError(
                f"{claim.where}: claim {claim.name!r}: duplicate name (also claim #{seen[claim.name] + 1})"
            )
        seen[claim.name] = i
        claims.append(claim)
    return claims


def _parse_claim(path: Path, root: Any, index: int, raw: Any, defaults: dict[str, Any]) -> Claim:
    label = f"claim #{index + 1}"
    if isinstance(raw, dict) and isinstance(raw.get("name"), str):
        label = f"claim {brief(raw['name'])}"
    try:
        values = _parse_fields(raw, label, FIELDS)
    except _KeyProblem as e:
        raise HarnessInputError(
            f"{path}:{_claim_line(root, index, e.key) or '?'}: {label}: {e}"
        ) from None
    except ValueError as e:
        raise HarnessInputError(f"{path}:{_claim_line(root, index, None) or '?'}: {e}") from None
    where = f"{path}:{_claim_line(root, index, None) or '?'}"
    if "name" not in values:
        raise HarnessInputError(f"{where}: {label}: missing required key 'name'")
    merged = defaults | values
    if "options" in defaults and "options" in values:
        merged["options"] = defaults["options"] | values["options"]
    return _claim(merged, where)


def _claim(values: dict[str, Any], where: str) -> Claim:
    moved = test_spec.consistency_in_model(values)
    if moved is not None:
        print(
            f"splitbrain: deprecated: {where}: model: {moved} names a consistency model; "
            f"use consistency: {moved}",
            file=sys.stderr,
        )
    set_limits = {k: values[k] for k in limits.KINDS if k in values}
    try:
        spec = limits.apply({k: v for k, v in values.items() if k in SPEC_KEYS}, set_limits)
    except Problem as e:
        raise HarnessInputError(f"{where}: claim {brief(values['name'])}: {e}") from None
    return Claim(
        name=values["name"],
        spec=spec,
        limits=set_limits,
        expect=values.get("expect", "holds"),
        allow_unknown=values.get("allow_unknown", False),
        description=values.get("description", ""),
        availability=values.get("availability"),
        where=where,
    )


def claim_from_fields(raw: dict[str, Any], where: str) -> Claim:
    """A claim from keyword arguments (the pytest marker and fixture); same schema as a file."""
    try:
        values = _parse_fields(raw, where, FIELDS)
    except ValueError as e:
        raise HarnessInputError(f"{where}: {e}") from None
    if "name" not in values:
        raise HarnessInputError(f"{where}: missing required key 'name'")
    return _claim(values, where)


def check_claim(claim: Claim) -> None:
    """Check a claim's names and options against the registries, before anything runs."""
    spec = claim.build_spec()
    named = [("target", spec.target), ("workload", spec.workload)]
    for key, value in [*named, *(("nemesis", n) for n in spec.nemesis)]:
        try:
            assemble.check_name(key, value)
        except HarnessInputError as e:
            raise HarnessInputError(
                f"{claim.where}: claim {claim.name!r}: key {key!r}: {e}"
            ) from None
    if "model" in claim.spec:
        try:
            assemble.workload(spec.workload, workloads.WorkloadSpec(model=spec.model))
        except HarnessInputError as e:
            raise HarnessInputError(
                f"{claim.where}: claim {claim.name!r}: key 'model': {e}"
            ) from None
    for key in claim.limits:
        refusal = _limit_refusal(key, spec)
        if refusal:
            raise HarnessInputError(f"{claim.where}: claim {claim.name!r}: key {key!r}: {refusal}")
    try:
        parts = core.prepare(spec)
    except HarnessInputError as e:
        raise HarnessInputError(f"{claim.where}: claim {claim.name!r}: {e}") from None
    unknown = sorted(set(claim.availability.ops) - parts.operations) if claim.availability else []
    if unknown:
        raise HarnessInputError(
            f"{claim.where}: claim {claim.name!r}: key 'availability': ops: the workload issues "
            f"no {unknown[0]!r}; it issues: {', '.join(sorted(parts.operations))}"
        )


def _limit_refusal(key: str, spec: Any) -> str | None:
    """Why the claim's target or workload cannot judge limit ``key``; None when it can."""
    limit = limits.KINDS[key]
    if limit.flag == "-o":
        target = assemble.target(spec.target)
        if not isinstance(target, Configurable) or limit.option not in target.options:
            return f"target {assemble.label(spec.target)!r} does not measure it (maelstrom does)"
        return None
    if not isinstance(spec.workload, str):
        return None  # a workload given built: its options are its own
    declared = workloads.declared_options(plugins.load("workload", spec.workload))
    if limit.option not in declared:
        return f"workload {spec.workload!r} does not measure it (the Maelstrom workloads do)"
    return None


def load_claims(path: str | Path) -> list[Claim]:
    """Parse a claims file and check every claim against the registries."""
    claims = parse_claims(path)
    for claim in claims:
        check_claim(claim)
    return claims


# ---------------------------------------------------------------- explaining


def report_path(run_dir: Path) -> Path:
    """The run's HTML report if one was written, else the run directory."""
    page = run_dir / "report.html"
    return page if page.is_file() else run_dir


def explain(results: dict[str, Any], run_dir: Path, command: str | None = None) -> str:
    """A short readable account of a run: each checker's verdict and reason, the report."""
    return present.explanation(results, report_path(run_dir), command)


# ---------------------------------------------------------------- running


@dataclass
class Outcome:
    claim: Claim
    valid: Valid | None = None
    """None when the harness failed before a verdict."""
    passed: bool = False
    seconds: float = 0.0
    run_dir: Path | None = None
    explanation: str = ""
    error: str | None = None
    interrupted: bool = False
    availability_met: bool = True
    availability: str = ""
    """The measured share of ops served, against the claim's ``availability``."""
    bad_input: bool = False
    """The error is the claim's fault (found only once it ran), not the harness's."""
    results: dict[str, Any] | None = None

    @property
    def verdict(self) -> str:
        return verdict_word(self.valid)

    @property
    def report(self) -> str:
        return str(report_path(self.run_dir)) if self.run_dir is not None else "-"


def run_claim(
    claim: Claim, store: str | Path, time_scale: float | None, on_start: Callable[[Path], None]
) -> tuple[Outcome, bool]:
    """Run one claim; returns its outcome and whether the run was interrupted."""
    spec = claim.build_spec(store=store, time_scale=time_scale)
    started = time.monotonic()
    watch = progress.Progress(spec.time_limit)

    def begun(run_dir: Path) -> None:
        on_start(run_dir)
        watch.start(run_dir)

    try:
        result = core.run(spec, on_start=begun)
    except HarnessInputError as e:
        message = f"{claim.where}: claim {claim.name!r}: {e}"
        print(f"splitbrain: {message}", file=sys.stderr)
        return Outcome(
            claim, seconds=time.monotonic() - started, error=message, bad_input=True
        ), False
    except CheckerFailed as e:  # a checker raised: no verdict, 255, the run stored and named
        print(f"splitbrain: {claim.where}: claim {claim.name!r}: {e}", file=sys.stderr)
        run = e.result
        return Outcome(
            claim,
            seconds=time.monotonic() - started,
            run_dir=getattr(run, "run_dir", None),
            results=getattr(run, "results", None),
            error=f"the harness failed: {e.what}",
        ), bool(getattr(run, "interrupted", False))
    except SplitbrainError as e:  # the harness's or its environment's (a node that will not start)
        print(f"splitbrain: {claim.where}: claim {claim.name!r}: {e}", file=sys.stderr)
        return Outcome(
            claim, seconds=time.monotonic() - started, error=f"the harness failed: {e}"
        ), False
    except Exception as e:
        traceback.print_exc()
        return Outcome(
            claim,
            seconds=time.monotonic() - started,
            error=f"the harness failed: {type(e).__name__}: {e}",
        ), False
    finally:
        watch.stop()
    problems = [*result.teardown_errors, *result.store_errors]  # the harness's: exit 255
    served, measured = availability_met(claim, result.results)
    met = expectation_met(claim, result.valid) and served
    outcome = Outcome(
        claim,
        valid=result.valid,
        passed=met and not result.interrupted and not problems,
        seconds=time.monotonic() - started,
        run_dir=result.run_dir,
        explanation=explain(result.results, result.run_dir, spec.command()),
        results=result.results,
        error="; ".join(problems) or None,
        interrupted=result.interrupted,
        availability_met=served,
        availability=measured,
    )
    return outcome, result.interrupted


def failure_message(outcome: Outcome) -> str:
    if outcome.error:
        return outcome.error
    claim = outcome.claim
    if outcome.interrupted:
        return "interrupted: only the history recorded so far was checked"
    if not outcome.availability_met and expectation_met(claim, outcome.valid):
        return f"availability not met: {outcome.availability}"
    if outcome.valid == "unknown":
        return "verdict unknown, and the claim does not allow unknown"
    if claim.expect == "holds":
        return f"claimed to hold, but the checkers found it {outcome.verdict}"
    return "claimed to be violated, but no violation was found"


def _result_word(o: Outcome) -> str:
    if o.interrupted:
        return "interrupted"
    return "error" if o.error else ("pass" if o.passed else "FAIL")


def render_table(outcomes: list[Outcome], fmt: str = "text") -> str:
    """One row per claim; an ``availability`` column when some claim requires availability."""
    served = any(o.claim.availability is not None for o in outcomes)
    rows = [
        (
            o.claim.name,
            o.verdict,
            expectation_text(o.claim),
            *((_availability_cell(o),) if served else ()),
            _result_word(o),
            f"{o.seconds:.1f}s",
            o.report,
        )
        for o in outcomes
    ]
    headers = ("claim", "verdict", "expected", *(("availability",) if served else ()))
    return present.table(rows, (*headers, "result", "duration", "report"), fmt)


def _availability_cell(o: Outcome) -> str:
    req = o.claim.availability
    if req is None:
        return "-"
    if not o.availability:
        return req.describe()
    return ("met: " if o.availability_met else "NOT met: ") + o.availability


def render_gate(outcomes: list[Outcome], claims: list[Claim], fmt: str = "text") -> str:
    """The table, why each unmet claim is unmet, and the count met."""
    if fmt == "json":
        return present.to_json([outcome_record(o) for o in outcomes])
    out = [render_table(outcomes, fmt)]
    measured = [(o.claim.name, limits.report_lines(o.claim.limits, o.results)) for o in outcomes]
    if any(lines for _, lines in measured):
        out += ["", "limits:"]
        out += [f"  {name}: {line}" for name, lines in measured for line in lines]
    for o in outcomes:
        if not o.passed:
            out += ["", f"{o.claim.name}: {failure_message(o)}"]
            if o.explanation:
                body = o.explanation.splitlines()
                out += ["```", *body, "```"] if fmt == "markdown" else ["  " + b for b in body]
    failed = sum(1 for o in outcomes if not o.passed)
    out += ["", f"{len(outcomes) - failed} of {len(claims)} claim(s) met their expectation"]
    return "\n".join(out)


def outcome_record(o: Outcome) -> dict[str, Any]:
    return {
        "claim": o.claim.name,
        "where": o.claim.where,
        "expected": expectation_text(o.claim),
        "valid": o.valid,
        "passed": o.passed,
        "result": _result_word(o),
        "seconds": round(o.seconds, 3),
        "run_dir": str(o.run_dir) if o.run_dir else None,
        "report": o.report,
        "error": o.error,
        "explanation": o.explanation,
        "availability": None
        if o.claim.availability is None
        else {
            "required": asdict(o.claim.availability),
            "met": o.availability_met,
            "measured": o.availability,
        },
        "limits": limits.report_lines(o.claim.limits, o.results),
    }


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 cannot carry, not even escaped (control characters, lone surrogates)."""


def xml_text(text: str) -> str:
    """``text`` with each character XML cannot carry written as Python writes it (``\\x07``),
    so the file stays well-formed."""
    return _NOT_XML.sub(lambda m: repr(m.group())[1:-1], text)


def junit_xml(source: Path, outcomes: list[Outcome], skipped: list[Claim]) -> ET.ElementTree:
    """One testcase per claim; a failure (or error) element carries the explanation."""
    suite = ET.Element(
        "testsuite",
        name=xml_text(f"splitbrain gate {source.name}"),
        tests=str(len(outcomes) + len(skipped)),
        failures=str(sum(1 for o in outcomes if not o.passed and not o.error)),
        errors=str(sum(1 for o in outcomes if o.error)),
        skipped=str(len(skipped)),
        time=f"{sum(o.seconds for o in outcomes):.3f}",
    )
    classname = xml_text(f"splitbrain.gate.{source.stem}")
    for o in outcomes:
        name = xml_text(o.claim.name)
        case = ET.SubElement(
            suite, "testcase", classname=classname, name=name, time=f"{o.seconds:.3f}"
        )
        if o.error:
            ET.SubElement(case, "error", message=xml_text(o.error)).text = xml_text(o.error)
        elif not o.passed:
            failure = ET.SubElement(case, "failure", message=xml_text(failure_message(o)))
            failure.text = xml_text(o.explanation)
        out = [f"expected: {expectation_text(o.claim)}", f"verdict: {o.verdict}"]
        out += limits.report_lines(o.claim.limits, o.results)
        out.append(f"report: {o.report}")
        ET.SubElement(case, "system-out").text = xml_text("\n".join(out))
    for claim in skipped:
        name = xml_text(claim.name)
        case = ET.SubElement(suite, "testcase", classname=classname, name=name, time="0")
        ET.SubElement(case, "skipped", message="not run: the gate was interrupted")
    root = ET.Element("testsuites")
    root.append(suite)
    tree = ET.ElementTree(root)
    ET.indent(tree)
    return tree


def write_junit(path: Path, tree: ET.ElementTree) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tree.write(path, encoding="utf-8", xml_declaration=True)


def gate_exit_code(outcomes: list[Outcome], interrupted: bool) -> int:
    if interrupted:
        return EXIT_INTERRUPTED
    if any(o.error and not o.bad_input for o in outcomes):
        return EXIT_HARNESS
    if any(o.bad_input for o in outcomes):
        return EXIT_BAD_INPUT
    return EXIT_PASS if all(o.passed for o in outcomes) else EXIT_FAIL


def run_gate(
    path: Path,
    junit: Path | None,
    time_scale: float | None,
    store: str | Path,
    fmt: str = "text",
) -> int:
    claims = load_claims(path)
    writable_dir(Path(store), "--store")
    if junit is not None:
        writable_file(junit, "--junit-xml")
    outcomes: list[Outcome] = []
    interrupted = False
    for i, claim in enumerate(claims, 1):
        print(f"[{i}/{len(claims)}] {claim.name} ...", file=sys.stderr, flush=True)
        outcome, interrupted = run_claim(
            claim,
            store,
            time_scale,
            on_start=lambda d: print(f"  run directory: {d}", file=sys.stderr, flush=True),
        )
        outcomes.append(outcome)
        if interrupted:
            break
    skipped = claims[len(outcomes) :]
    print(render_gate(outcomes, claims, fmt))
    try:
        present.append_step_summary(
            f"### splitbrain gate {path.name}\n\n{render_gate(outcomes, claims, 'markdown')}"
        )
    except OSError as e:
        print(f"splitbrain: cannot append to $GITHUB_STEP_SUMMARY: {e}", file=sys.stderr)
    if interrupted:
        print(f"\ninterrupted: {len(skipped)} claim(s) not run", file=sys.stderr)
    if junit is not None:
        write_junit(junit, junit_xml(path, outcomes, skipped))
    return gate_exit_code(outcomes, interrupted)


# ---------------------------------------------------------------- command line


TIME_SCALE = Number(0, 1000, above=True)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("claims", metavar="CLAIMS.yaml", help="the claims file")
    p.add_argument("--junit-xml", metavar="FILE", default=None, help="write JUnit XML here")
    p.add_argument(
        "--time-scale",
        type=argument_type(TIME_SCALE),
        default=None,
        metavar="X",
        help="multiply every claim's time limit (and fault schedule) by X (default: 1)",
    )
    p.add_argument("--store", default="reports", help="directory of runs (default: reports/)")
    p.add_argument(
        "--format",
        choices=present.FORMATS,
        default="text",
        help="output: text, markdown or json (default: text)",
    )
    p.set_defaults(func=cmd_gate)


def cmd_gate(args: argparse.Namespace) -> int:
    junit = Path(args.junit_xml) if args.junit_xml else None
    return run_gate(Path(args.claims), junit, args.time_scale, args.store, args.format)
