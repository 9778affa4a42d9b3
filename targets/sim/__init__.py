"""The simulated cluster: N replicas in one process, a deterministic network, every nemesis.

``splitbrain test --target sim -o replication=MODE -o nodes=N ...`` runs the whole test in
virtual time on a single-threaded event loop driven only by the seed, so the same command
and seed give the same history byte for byte. Modes: leader-sync (a small Raft),
leader-async, multi-leader (LWW on wall clocks) and leaderless (Dynamo-style quorums).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from splitbrain.harness.base.history import HistoryWriter
from splitbrain.harness.base.protocols import HarnessInputError, RunContext, data_type
from splitbrain.targets.sim.cluster import DEFAULTS, Cluster, parse_config
from splitbrain.targets.sim.driver import KINDS, SimRuntime
from splitbrain.targets.sim.nemesis import NAMES

OPERATIONS = frozenset(
    {"read", "write", "cas", "txn", "set.add", "set.read", "counter.add", "counter.read"}
    | {"enqueue", "dequeue", "drain", "read-node"}
)
"""What the simulated nodes implement (``nodes.step``), one data type per run."""

LEADERLESS_WORKLOADS = ("register", "eventual")

WORKLOAD_RATES = {"set": 200.0}
"""Ops/s of a run without ``--rate``, by workload (the rest: as fast as virtual time goes,
about 900 ops/s and 2.4 MB for 10 s). Set reads return the whole set: even with reads
thinned (``workloads.set``), a 60 s set run at full speed is about 25 MB; at 200 ops/s it is
a few MB, and the lost writes of leader-async failovers are still found in every seed tried
(``benchmarks/bench_detection.py --target sim --workload set``); at 100 they were not."""


class SimTarget:
    """A target in virtual time: the engine's phases run on its ``runtime``, not on threads."""

    name = "sim"
    operations = OPERATIONS
    supported_nemeses = NAMES
    options = dict(DEFAULTS)
    reads_every_node = True

    def __init__(self, audit: bool = False) -> None:
        self.audit = audit
        self.cluster: Cluster | None = None
        self.log = logging.getLogger("splitbrain")

    def runtime(self, ctx: RunContext, writer: HistoryWriter) -> SimRuntime:
        """The run's cluster, formed in virtual time; the engine's phases run on it."""
        config = parse_config(ctx.options)
        ctx.log.info(
            "sim: %s", ", ".join(f"{k}={v}" for k, v in sorted((DEFAULTS | ctx.options).items()))
        )
        runtime = SimRuntime(
            config,
            ctx.seed,
            KINDS.get(kind := data_type(ctx.operations), kind),
            writer,
            ctx.concurrency,
            ctx.op_timeout,
            self.audit,
        )
        self.cluster = runtime.cluster
        return runtime

    def default_rate_for(self, workload: str) -> float | None:
        return WORKLOAD_RATES.get(workload)

    def configure(self, options: dict[str, str]) -> None:
        """Validate ``-o`` values before the run directory exists."""
        parse_config(options)

    def refuse_workload(self, workload: str, model: str | None, options: dict[str, str]) -> None:
        """Leaderless nodes serve only reads and writes: refuse, before the run, a workload that
        needs more, instead of failing every one of its operations."""
        if (DEFAULTS | options).get("replication") != "leaderless":
            return
        if workload == "register" and (model or "cas-register") == "cas-register":
            raise HarnessInputError(
                "-o replication=leaderless has no compare-and-set: run the register workload "
                "with --model register (reads and writes only)"
            )
        if workload not in LEADERLESS_WORKLOADS:
            raise HarnessInputError(
                f"-o replication=leaderless serves only reads and writes, so it cannot run workload "
                f"{workload!r}; it runs: {', '.join(LEADERLESS_WORKLOADS)}"
            )

    def setup(self, ctx: RunContext) -> None:
        parse_config(ctx.options)
        self.log = ctx.log

    def teardown(self) -> None:
        if self.cluster is not None:
            self.log.info("sim: done: %s", json.dumps(self.cluster.summary(), sort_keys=True))

    def nodes(self) -> list[str]:
        return list(self.cluster.names) if self.cluster else []

    def client(self, process: int) -> Any:
        raise HarnessInputError("the sim target runs only in virtual time, through runtime()")

    def kill(self, node: str) -> None:
        self._cluster().kill(node)

    def start(self, node: str) -> None:
        self._cluster().restart(node)

    def pause(self, node: str) -> None:
        self._cluster().nodes[node].pause()

    def resume(self, node: str) -> None:
        self._cluster().nodes[node].resume()

    def _cluster(self) -> Cluster:
        if self.cluster is None:
            raise HarnessInputError("the sim cluster exists only while drive() runs")
        return self.cluster

    def collect_logs(self, dest: Path) -> None:
        if self.cluster is None:
            return
        dest.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.cluster.summary(), indent=2, sort_keys=True)
        (dest / "sim.json").write_text(text + "\n", encoding="utf-8")
