"""A transaction dependency graph and Elle-style cycle search.

Nodes are integers. ``succ[u][v]`` is a bit mask of the relations from ``u`` to ``v``. Cycle
search runs per strongly connected component: for each anomaly class (G0, G1c, G-single,
G-nonadjacent, G2-item and their -process / -realtime variants) it picks a first edge of the
class's defining type and looks for the shortest way back by breadth-first search over
(node, automaton state), the state counting anti-dependency edges and required edge types.
Search effort is counted in edge relaxations, so results do not depend on machine speed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

WW, WR, RW, PROCESS, REALTIME = 1, 2, 4, 8, 16
DATA = WW | WR | RW
REL_NAMES = {WW: "ww", WR: "wr", RW: "rw", PROCESS: "process", REALTIME: "realtime"}
_TYPES = (WW, WR, PROCESS, REALTIME, RW)


class SearchBudgetExceeded(Exception):
    """The cycle search used up its budget of edge relaxations."""


@dataclass
class Budget:
    remaining: int

    def spend(self, n: int = 1) -> None:
        self.remaining -= n
        if self.remaining < 0:
            raise SearchBudgetExceeded


@dataclass
class Graph:
    n: int
    succ: list[dict[int, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.succ:
            self.succ = [{} for _ in range(self.n)]

    def link(self, a: int, b: int, rel: int) -> None:
        if a != b:
            s = self.succ[a]
            s[b] = s.get(b, 0) | rel

    def has_rel(self, nodes: Iterable[int], rel: int) -> bool:
        succ = self.succ
        return any(m & rel for u in nodes for m in succ[u].values())


def sccs(g: Graph, mask: int, nodes: Iterable[int] | None = None) -> list[list[int]]:
    """Tarjan's strongly connected components (iterative) of the edges in ``mask``; size > 1 only."""
    succ = g.succ
    allowed: set[int] | None = None if nodes is None else set(nodes)
    order = range(g.n) if allowed is None else sorted(allowed)
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    for root in order:
        if root in index:
            continue
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        work: list[tuple[int, Iterator[tuple[int, int]]]] = [(root, iter(succ[root].items()))]
        while work:
            v, it = work[-1]
            pushed = False
            for w, m in it:
                if not m & mask or (allowed is not None and w not in allowed):
                    continue
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(succ[w].items())))
                    pushed = True
                    break
                if w in on_stack and index[w] < low[v]:
                    low[v] = index[w]
            if pushed:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                if low[v] < low[parent]:
                    low[parent] = low[v]
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(comp)
    return out


def component_map(g: Graph, mask: int, nodes: Iterable[int]) -> dict[int, int]:
    """Node -> number of its nontrivial SCC under ``mask``; nodes in no cycle are absent."""
    comp: dict[int, int] = {}
    for i, c in enumerate(sccs(g, mask, nodes)):
        for v in c:
            comp[v] = i
    return comp


# ---------------------------------------------------------------- cycle specifications


@dataclass(frozen=True)
class CycleSpec:
    """One anomaly class as a constraint on a cycle's edges."""

    name: str
    allowed: int
    first: int
    rw: str  # "none" | "one" | "multi"
    nonadjacent: bool = False
    adjacent: bool = False
    required: int = 0


BASE_SPECS = (
    CycleSpec("G0", WW, WW, "none"),
    CycleSpec("G1c", WW | WR, WR, "none"),
    CycleSpec("G-single", DATA, RW, "one"),
    CycleSpec("G-nonadjacent", DATA, RW, "multi", nonadjacent=True),
    CycleSpec("G2-item", DATA, RW, "multi", adjacent=True),
)


def _variant(spec: CycleSpec, suffix: str, extra: int, required: int) -> CycleSpec:
    return CycleSpec(
        f"{spec.name}-{suffix}",
        spec.allowed | extra,
        spec.first,
        spec.rw,
        spec.nonadjacent,
        spec.adjacent,
        spec.required | required,
    )


PROCESS_SPECS = tuple(_variant(s, "process", PROCESS, PROCESS) for s in BASE_SPECS)
REALTIME_SPECS = tuple(_variant(s, "realtime", REALTIME | PROCESS, REALTIME) for s in BASE_SPECS)
ALL_SPECS = BASE_SPECS + PROCESS_SPECS + REALTIME_SPECS


def classify(types: list[int]) -> str:
    """Name a cycle from its edge types, as Elle's cycle explainer does."""
    rw = types.count(RW)
    if rw == 1:
        base = "G-single"
    elif rw > 1:
        adjacent = any(types[i] == RW and types[i - 1] == RW for i in range(len(types)))
        base = "G2-item" if adjacent else "G-nonadjacent"
    elif WR in types:
        base = "G1c"
    else:
        base = "G0"
    if REALTIME in types:
        return base + "-realtime"
    if PROCESS in types:
        return base + "-process"
    return base


# state bits: nrw (2 bits, capped at 2) | last_rw << 2 | adjacent << 3 | required seen << 4
def _step(spec: CycleSpec, state: int, t: int) -> int:
    nrw = state & 3
    last_rw = state & 4
    adj = state & 8
    req = state >> 4
    if t == RW:
        if spec.nonadjacent and last_rw:
            return -1
        nrw = min(nrw + 1, 2)
        if spec.rw == "one" and nrw > 1:
            return -1
        if last_rw:
            adj = 8
        last_rw = 4
    else:
        last_rw = 0
    req |= t & spec.required
    return nrw | last_rw | adj | (req << 4)


def _accepts(spec: CycleSpec, state: int) -> bool:
    nrw = state & 3
    last_rw = state & 4
    if spec.rw == "one" and nrw != 1:
        return False
    if spec.rw == "multi" and nrw < 2:
        return False
    if spec.nonadjacent and last_rw:
        return False
    if spec.adjacent and not (state & 8 or (last_rw and spec.first == RW)):
        return False
    return (state >> 4) == spec.required


def _bfs_back(
    g: Graph, spec: CycleSpec, u: int, v: int, comp: dict[int, int], budget: Budget
) -> list[tuple[int, int, int]] | None:
    """Shortest simple cycle u -first-> v ... -> u obeying ``spec``; as (from, to, type) triples."""
    start = _step(spec, 0, spec.first)
    if start < 0:
        return None
    cid = comp[u]
    succ = g.succ
    allowed = spec.allowed
    parent: dict[tuple[int, int], tuple[int, int, int] | None] = {(v, start): None}
    queue: deque[tuple[int, int]] = deque([(v, start)])
    while queue:
        node, state = queue.popleft()
        items = succ[node].items()
        budget.spend(len(items))
        for w, m in items:
            m &= allowed
            if not m or comp.get(w) != cid:
                continue
            for t in _TYPES:
                if not m & t:
                    continue
                s2 = _step(spec, state, t)
                if s2 < 0:
                    continue
                if w == u:
                    if _accepts(spec, s2):
                        path = _unwind(parent, (node, state), t, u)
                        cycle = [(u, v, spec.first), *path]
                        if len({a for a, _, _ in cycle}) == len(cycle):
                            return cycle
                    continue
                key = (w, s2)
                if key not in parent:
                    parent[key] = (node, state, t)
                    queue.append(key)
    return None


def _unwind(
    parent: dict[tuple[int, int], tuple[int, int, int] | None],
    last: tuple[int, int],
    t_last: int,
    u: int,
) -> list[tuple[int, int, int]]:
    edges = [(last[0], u, t_last)]
    key = last
    while (p := parent[key]) is not None:
        pn, ps, t = p
        edges.append((pn, key[0], t))
        key = (pn, ps)
    edges.reverse()
    return edges


def find_cycle(
    g: Graph, spec: CycleSpec, nodes: list[int], budget: Budget
) -> list[tuple[int, int, int]] | None:
    """One shortest-per-first-edge cycle of class ``spec`` among ``nodes``, or None if there is none."""
    if spec.required and not g.has_rel(nodes, spec.required):
        return None
    comp = component_map(g, spec.allowed, nodes)
    if not comp:
        return None
    budget.spend(len(nodes))
    reach = _reachability(g, spec.allowed & ~RW, comp) if spec.rw == "one" else None
    best: list[tuple[int, int, int]] | None = None
    tries_after_hit = 0
    try:
        for u, v in _first_edges(g, spec, nodes, comp):
            if reach is not None and not reach(v, u):
                continue
            cycle = _bfs_back(g, spec, u, v, comp, budget)
            if cycle is not None and (best is None or len(cycle) < len(best)):
                best = cycle
            if best is not None:
                tries_after_hit += 1
                if len(best) == 2 or tries_after_hit > SHORTER_CYCLE_TRIES:
                    break
    except SearchBudgetExceeded:
        if best is None:
            raise
    return best


SHORTER_CYCLE_TRIES = 8
"""After finding a cycle, how many more first edges to try for a shorter one."""


def _first_edges(
    g: Graph, spec: CycleSpec, nodes: list[int], comp: dict[int, int]
) -> Iterator[tuple[int, int]]:
    succ = g.succ
    for u in nodes:
        cu = comp.get(u)
        if cu is None:
            continue
        for v, m in succ[u].items():
            if m & spec.first and comp.get(v) == cu:
                yield u, v


def _reachability(g: Graph, mask: int, comp: dict[int, int]):  # noqa: ANN202
    """A test ``reach(a, b)``: can ``a`` reach ``b`` using only ``mask`` edges (within comp's nodes)?

    Bitsets over the condensation; used to skip first edges that cannot close a cycle.
    """
    nodes = list(comp)
    sub = component_map(g, mask, nodes)
    cid: dict[int, int] = {}
    next_id = max(sub.values(), default=-1) + 1
    for v in nodes:
        if v in sub:
            cid[v] = sub[v]
        else:
            cid[v] = next_id
            next_id += 1
    if next_id > 20000:
        return lambda a, b: True
    dag: list[set[int]] = [set() for _ in range(next_id)]
    succ = g.succ
    for v in nodes:
        for w, m in succ[v].items():
            if m & mask and w in cid and cid[w] != cid[v]:
                dag[cid[v]].add(cid[w])
    reach: list[int] = [0] * next_id
    for c in _topo_reverse(dag):
        r = 1 << c
        for d in dag[c]:
            r |= reach[d]
        reach[c] = r
    return lambda a, b: bool(reach[cid[a]] >> cid[b] & 1)


def _topo_reverse(dag: list[set[int]]) -> list[int]:
    """Nodes of a DAG, each after all its successors."""
    seen = [False] * len(dag)
    out: list[int] = []
    for root in range(len(dag)):
        if seen[root]:
            continue
        seen[root] = True
        work = [(root, iter(dag[root]))]
        while work:
            c, it = work[-1]
            for d in it:
                if not seen[d]:
                    seen[d] = True
                    work.append((d, iter(dag[d])))
                    break
            else:
                work.pop()
                out.append(c)
    return out
