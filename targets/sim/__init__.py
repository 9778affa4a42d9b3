"""The simulated cluster: N replicas in one process, a deterministic network, every nemesis.

``splitbrain test --target sim -o replication=MODE -o nodes=N ...`` runs the whole test in
virtual time on a single-threaded event loop driven only by the seed, so the same command
and seed give the same history byte for byte. Modes: leader-sync (a small Raft),
leader-async, multi-leader (LWW on wall clocks) and leaderless (Dynamo-style quorums).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from splitbrain.harness.history import HistoryWriter
from splitbrain.harness.protocols import HarnessInputError, RunContext
from splitbrain.targets.sim.cluster import DEFAULTS, Cluster, parse_config

LEADERLESS_WORKLOADS = ("register", "eventual")


class SimTarget:
    """A target that runs the whole test itself (``drive``) instead of through threads."""

    name = "sim"
    options = dict(DEFAULTS)
    reads_every_node = True

    def __init__(self, audit: bool = False) -> None:
        self.audit = audit
        self.cluster: Cluster | None = None

    def drive(self, spec: Any, workload: Any, writer: HistoryWriter, ctx: RunContext) -> None:
        from splitbrain.targets.sim.driver import simulate

        ctx.log.info(
            "sim: %s", ", ".join(f"{k}={v}" for k, v in sorted((DEFAULTS | ctx.options).items()))
        )
        self.cluster = simulate(spec, workload, writer, ctx.options, self.audit)
        ctx.log.info("sim: done: %s", json.dumps(self.cluster.summary(), sort_keys=True))

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

    def teardown(self) -> None:
        pass

    def nodes(self) -> list[str]:
        return list(self.cluster.names) if self.cluster else []

    def client(self, process: int) -> Any:
        raise HarnessInputError("the sim target runs only in virtual time, through drive()")

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
