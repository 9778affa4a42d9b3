"""Broadcast topologies, by Maelstrom's names: each node's neighbours."""

from __future__ import annotations

import math
from collections.abc import Callable

Topology = dict[str, list[str]]


def line(nodes: list[str]) -> Topology:
    return {
        n: [nodes[j] for j in (i - 1, i + 1) if 0 <= j < len(nodes)] for i, n in enumerate(nodes)
    }


def total(nodes: list[str]) -> Topology:
    return {n: [m for m in nodes if m != n] for n in nodes}


def grid(nodes: list[str]) -> Topology:
    """Rows of ceil(sqrt(N)) nodes; each node's neighbours are up, down, left and right."""
    width = max(1, math.ceil(math.sqrt(len(nodes))))
    out: Topology = {}
    for i, n in enumerate(nodes):
        row, col = divmod(i, width)
        near = []
        for r, c in ((row - 1, col), (row + 1, col), (row, col - 1), (row, col + 1)):
            j = r * width + c
            if 0 <= c < width and 0 <= j < len(nodes) and r >= 0:
                near.append(nodes[j])
        out[n] = near
    return out


def tree(fanout: int) -> Callable[[list[str]], Topology]:
    def build(nodes: list[str]) -> Topology:
        out: Topology = {n: [] for n in nodes}
        for i in range(1, len(nodes)):
            parent = nodes[(i - 1) // fanout]
            out[parent].append(nodes[i])
            out[nodes[i]].append(parent)
        return out

    return build


TOPOLOGIES: dict[str, Callable[[list[str]], Topology]] = {
    "grid": grid,
    "line": line,
    "total": total,
    "tree": tree(2),
    "tree2": tree(2),
    "tree3": tree(3),
    "tree4": tree(4),
}
