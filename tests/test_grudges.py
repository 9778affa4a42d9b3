"""A partition kind cuts the same links in the simulator as on real nodes, for every kind
and cluster size, given the same random stream."""

from __future__ import annotations

import random

import pytest

from splitbrain.harness.base.history import NEMESIS, Op
from splitbrain.harness.nemesis.grudge import KINDS
from splitbrain.harness.nemesis.partition import PartitionNemesis
from splitbrain.targets.sim.cluster import Cluster, parse_config
from splitbrain.targets.sim.nemesis import SimNemesis


def simulated(kind: str, size: int, seed: int) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(what the simulated network drops, what the nemesis op recorded)."""
    config = parse_config({"nodes": str(size), "n": str(min(3, size))})
    cluster = Cluster(config, random.Random(0), "register")
    nemesis = SimNemesis(cluster, random.Random(seed))
    done = nemesis.invoke(Op(type="invoke", f="start-partition", process=NEMESIS, value=kind))
    dropped = {dst: sorted(srcs) for dst, srcs in cluster.net.grudge.items()}
    return dropped, done.value["drops"]


def real(kind: str, names: list[str], seed: int) -> dict[str, list[str]]:
    nemesis = PartitionNemesis(kind)
    nemesis.rng = random.Random(seed)
    grudge = nemesis.grudge_of(kind, names)
    return {node: sorted(drops) for node, drops in sorted(grudge.items()) if drops}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size", range(2, 10))
def test_simulated_and_real_grudges_are_identical(kind: str, size: int) -> None:
    names = [f"n{i + 1}" for i in range(size)]
    for seed in range(5):
        dropped, recorded = simulated(kind, size, seed)
        expected = real(kind, names, seed)
        assert dropped == expected == recorded, (kind, size, seed)


@pytest.mark.parametrize("size", [3, 5, 6, 7])
def test_majorities_ring_leaves_every_node_a_majority_of_its_own(size: int) -> None:
    names = [f"n{i + 1}" for i in range(size)]
    dropped, _ = simulated("majorities-ring", size, 1)
    assert sorted(dropped) == names, "every node drops someone"
    seen = {node: frozenset(names) - set(drops) for node, drops in dropped.items()}
    assert all(len(v) == size // 2 + 1 for v in seen.values())
    assert len(set(seen.values())) == size, "no two nodes see the same majority"
