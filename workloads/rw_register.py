"""Elle's rw-register: transactions of register reads and writes over a rotating pool of keys.

The generator is list-append's with ``["w", k, v]`` for appends: values written are unique per
key, and each key retires after ``max-writes`` writes. The claimed models (``--consistency``,
Elle's names) default to strict-serializable; ``--assume`` asserts properties of the keys
(``sequential-keys``, ``linearizable-keys``, ``wfr-keys``) from which the checker infers
more of each key's version order (``checkers.txn.rw_register``).
"""

from __future__ import annotations

from typing import Any

from splitbrain.checkers.txn import rw_register
from splitbrain.checkers.txn.models import DEFAULT_MODELS, validate_models
from splitbrain.harness.base.history import Op
from splitbrain.workloads import Workload, WorkloadSpec
from splitbrain.workloads.list_append import OPTIONS as OPTIONS
from splitbrain.workloads.list_append import ListAppendOps

OPERATION = "rw.txn"
"""Invoked as ``txn``, as list-append's transactions are; the type tells targets the micro-ops."""


def workload(spec: WorkloadSpec) -> Workload:
    keys = max(1, spec.keys)
    models = list(spec.consistency) or ([spec.model] if spec.model else list(DEFAULT_MODELS))
    validate_models(models)
    assume = rw_register.validate_assumptions(spec.assume)
    budget = spec.options["cycle-search-budget"]

    def check(history: list[Op]) -> dict[str, Any]:
        return rw_register.check(
            history, consistency_models=models, assume=assume, cycle_search_budget=budget
        )

    return Workload(
        name="rw-register",
        generator=ListAppendOps(
            tuple(range(keys)),
            max_writes=spec.options["max-writes"],
            max_len=spec.options["max-len"],
            next_key=keys,
            write="w",
        ),
        final_generator=None,
        checkers={"elle-rw-register": check},
        operations=frozenset({OPERATION}),
        assumptions=frozenset(rw_register.ASSUMPTIONS),
        data_type="rw-register",
        decides={"elle-rw-register": tuple(models)},
    )
