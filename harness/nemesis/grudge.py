"""Partition grudges, as in Jepsen: which nodes each node drops packets from.

One module for the simulator and for real nodes, so ``--nemesis partition-KIND`` cuts the
same links in both for the same random stream.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

Grudge = dict[str, frozenset[str]]
"""Each node, mapped to the nodes whose packets it drops."""


def complete_grudge(components: Sequence[Sequence[str]]) -> Grudge:
    """Every node drops every node outside its own component."""
    everyone = frozenset(n for c in components for n in c)
    return {n: everyone - frozenset(c) for c in components for n in c}


def bisect(nodes: Sequence[str]) -> tuple[list[str], list[str]]:
    """Split into a smaller first half and a larger second half (Jepsen's ``bisect``)."""
    half = len(nodes) // 2
    return list(nodes[:half]), list(nodes[half:])


def halves(nodes: Sequence[str], rng: random.Random) -> Grudge:
    return complete_grudge(bisect(nodes))


def random_halves(nodes: Sequence[str], rng: random.Random) -> Grudge:
    shuffled = list(nodes)
    rng.shuffle(shuffled)
    return complete_grudge(bisect(shuffled))


def one(nodes: Sequence[str], rng: random.Random) -> Grudge:
    """Isolate one random node from all others."""
    lonely = rng.choice(list(nodes))
    return complete_grudge([[lonely], [n for n in nodes if n != lonely]])


def majorities_ring(nodes: Sequence[str], rng: random.Random) -> Grudge:
    """Each node sees a majority, and no two nodes see the same majority (Jepsen's ring):
    a window of a majority slides round a shuffled ring, and its middle node drops the rest."""
    ring = list(nodes)
    rng.shuffle(ring)
    size = len(ring)
    majority = size // 2 + 1
    everyone = frozenset(ring)
    grudge: Grudge = {}
    for i in range(size):
        window = [ring[(i + j) % size] for j in range(majority)]
        grudge[window[len(window) // 2]] = everyone - frozenset(window)
    return grudge


def bridge(nodes: Sequence[str], rng: random.Random) -> Grudge:
    """Two halves that cannot talk, and one node of the larger half that talks to both."""
    shuffled = list(nodes)
    rng.shuffle(shuffled)
    first, second = bisect(shuffled)
    middle = second[0]
    grudge = complete_grudge([first, second])
    grudge[middle] = frozenset()
    return {n: drops - {middle} for n, drops in grudge.items()}


GRUDGES: dict[str, Callable[[Sequence[str], random.Random], Grudge]] = {
    "halves": halves,
    "random-halves": random_halves,
    "one": one,
    "majorities-ring": majorities_ring,
    "bridge": bridge,
}
KINDS = tuple(GRUDGES)


def describe(grudge: Grudge) -> dict[str, list[str]]:
    """The grudge as recorded in a nemesis op: only nodes that drop something, sorted."""
    return {node: sorted(drops) for node, drops in sorted(grudge.items()) if drops}
