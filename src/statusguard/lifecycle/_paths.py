"""Explicit-graph questions about a lifecycle: shortest paths and reachability.

Breadth-first search over the states under one config setting, with fact flags
free at every step (an edge is usable when some fact values enable it). The
``explain`` and ``diff`` commands answer with these paths, which are witnesses
that replay through :meth:`Lifecycle.next` with the facts they record.
Imports :mod:`statusguard._text`, :mod:`statusguard.results`, ``_conditions`` and ``_model``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from statusguard._text import format_flags
from statusguard.lifecycle._conditions import merged_conditions
from statusguard.lifecycle._model import AnyLifecycle
from statusguard.results import TraceStep

__all__ = [
    "Path",
    "Paths",
    "all_settings",
    "bfs",
    "bits_to_names",
    "graph",
    "reach_bits",
    "reach_from",
    "shortest_paths",
    "walk",
]


@dataclass(frozen=True)
class Hop:
    """``event`` moves to ``target`` when the fact flags take the values in ``facts``."""

    event: str
    target: str
    facts: Mapping[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class Path:
    """A walk ``start --hops--> end`` under ``config``."""

    config: Mapping[str, bool]
    start: str
    hops: tuple[Hop, ...]

    @property
    def end(self) -> str:
        return self.hops[-1].target if self.hops else self.start

    @property
    def events(self) -> list[str]:
        return [h.event for h in self.hops]

    def trace(self) -> list[TraceStep]:
        """The walk as trace steps (the shape counterexamples use)."""
        steps: list[TraceStep] = []
        state = self.start
        for hop in self.hops:
            steps.append(TraceStep(state, hop.event, dict(hop.facts)))
            state = hop.target
        steps.append(TraceStep(state, None, {}))
        return steps

    def to_json(self) -> dict[str, Any]:
        return {
            "config": dict(sorted(self.config.items())),
            "events": self.events,
            "trace": [s.to_json() for s in self.trace()],
        }

    def render(self) -> str:
        """``deleted --undelete--> queued --location_added--> active``."""
        out = self.start
        for hop in self.hops:
            facts = format_flags(hop.facts.items())
            out += f" --{hop.event}{f' [{facts}]' if facts else ''}--> {hop.target}"
        return out


Graph = Mapping[str, Sequence[Hop]]
Parents = dict[str, tuple[str, Hop] | None]


def graph(lc: AnyLifecycle, config: Mapping[str, bool]) -> dict[str, list[Hop]]:
    """Adjacency under ``config``; flags it leaves out (and fact flags) may take any value.

    One hop per ``(source, event, target)``, recording the fact values of the first
    transition that enables it (so a walk replays through :meth:`Lifecycle.next`).
    """
    facts = set(lc.fact_flags)
    adj: dict[str, list[Hop]] = {str(s): [] for s in lc.states}
    for (s, e, t), conds in merged_conditions(lc, config, drop_fixed=False).items():
        adj[s].append(Hop(e, t, {n: v for n, v in conds[0] if n in facts}))
    return adj


def bfs(start: str, adj: Graph, *, avoid: Iterable[str] = (), strict: bool = False) -> Parents:
    """Breadth-first shortest-walk parents from ``start`` over ``adj``.

    States in ``avoid`` are reached but not expanded. With ``strict`` only walks of
    one step or more count: ``start`` is then present only when it lies on a cycle;
    otherwise it maps to ``None``.
    """
    blocked = set(avoid)
    parent: Parents = {} if strict else {start: None}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        if state in blocked:
            continue
        for hop in adj.get(state, ()):
            if hop.target not in parent:
                parent[hop.target] = (state, hop)
                queue.append(hop.target)
    return parent


def walk(parent: Parents, start: str, goal: str) -> tuple[Hop, ...]:
    """The hops from ``start`` to ``goal`` that :func:`bfs`'s ``parent`` records."""
    hops: list[Hop] = []
    cur = goal
    while (link := parent[cur]) is not None:
        src, hop = link
        hops.append(hop)
        if src == start:
            break
        cur = src
    return tuple(reversed(hops))


class Paths(Mapping[str, Path]):
    """The shortest walk from one start to each state a search reached, read off its
    parents when asked (building every walk up front is quadratic on a long chain)."""

    def __init__(self, parent: Parents, start: str, config: Mapping[str, bool]) -> None:
        self._parent = parent
        self._start = start
        self._config = dict(config)
        self._hops: dict[str, int] = {}

    def hops(self, state: str) -> int:
        """``len(self[state].hops)`` without building the walk (memoised: linear in all
        the states asked about together)."""
        memo, chain, cur = self._hops, [], state
        while True:
            if cur in memo:
                base = memo[cur]
                break
            link = self._parent[cur]
            if link is None:
                base = memo[cur] = 0
                break
            chain.append(cur)
            if link[0] == self._start:  # walk() stops here
                base = 0
                break
            cur = link[0]
        for i, s in enumerate(reversed(chain), 1):
            memo[s] = base + i
        return memo[state]

    def __getitem__(self, state: str) -> Path:
        if state not in self._parent:
            raise KeyError(state)
        return Path(dict(self._config), self._start, walk(self._parent, self._start, state))

    def __contains__(self, state: object) -> bool:
        return state in self._parent

    def __iter__(self) -> Iterator[str]:
        return iter(self._parent)

    def __len__(self) -> int:
        return len(self._parent)


def shortest_paths(
    lc: AnyLifecycle, start: str, config: Mapping[str, bool], *, adj: Graph | None = None
) -> Paths:
    """The shortest walk from ``start`` to every state it reaches (``start`` by the empty walk)."""
    adj = graph(lc, config) if adj is None else adj
    return Paths(bfs(start, adj), start, config)


def reach_from(
    lc: AnyLifecycle, start: str, config: Mapping[str, bool], *, adj: Graph | None = None
) -> Paths:
    """States reachable from ``start`` by a walk of one step or more, with a shortest one.

    ``start`` itself is included only when it lies on a cycle.
    """
    adj = graph(lc, config) if adj is None else adj
    return Paths(bfs(start, adj, strict=True), start, config)


def _components(succ: Sequence[Sequence[int]]) -> tuple[list[int], list[list[int]]]:
    """Tarjan's SCCs, iteratively: each vertex's component, and the components in
    reverse topological order (every edge leads to the same or an earlier one)."""
    order = [-1] * len(succ)
    low = [0] * len(succ)
    comp = [-1] * len(succ)
    on_stack = [False] * len(succ)
    stack: list[int] = []
    comps: list[list[int]] = []  # in reverse topological order (Tarjan's output order)
    counter = 0
    for root in range(len(succ)):
        if order[root] != -1:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                order[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack[v] = True
            if i < len(succ[v]):
                work.append((v, i + 1))
                w = succ[v][i]
                if order[w] == -1:
                    work.append((w, 0))
                elif on_stack[w]:
                    low[v] = min(low[v], order[w])
                continue
            if low[v] == order[v]:
                members: list[int] = []
                while True:
                    w = stack.pop()
                    on_stack[w] = False
                    comp[w] = len(comps)
                    members.append(w)
                    if w == v:
                        break
                comps.append(members)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return comp, comps


def reach_bits(adj: Graph, index: Mapping[str, int]) -> dict[str, int]:
    """For every state, the states a walk of one step or more reaches from it, as a
    bitset over ``index`` (state name -> bit; it may hold more states than ``adj``).

    Tarjan's strongly connected components, then one pass over the condensation in
    reverse topological order: linear in the edges, not quadratic in the states.
    """
    names = list(adj)
    local = {n: i for i, n in enumerate(names)}
    succ = [[local[h.target] for h in adj[n]] for n in names]
    comp, comps = _components(succ)
    bits = [0] * len(comps)
    for c, members in enumerate(comps):
        acc = 0
        cyclic = len(members) > 1
        for v in members:
            for w in succ[v]:
                if comp[w] == c:
                    cyclic = True
                else:
                    acc |= bits[comp[w]] | (1 << index[names[w]])
        if cyclic:
            for v in members:
                acc |= 1 << index[names[v]]
        bits[c] = acc
    return {name: bits[comp[v]] for v, name in enumerate(names)}


def bits_to_names(bits: int, names: Sequence[str]) -> list[str]:
    """The names whose bit is set (``names[i]`` is bit ``i``)."""
    out: list[str] = []
    while bits:
        low = bits & -bits
        out.append(names[low.bit_length() - 1])
        bits ^= low
    return out


def all_settings(
    *lifecycles: AnyLifecycle, fixed: Mapping[str, bool] | None = None
) -> list[dict[str, bool]]:
    """Every assignment of the config flags any of ``lifecycles`` declares (built from
    each one's :meth:`Lifecycle.config_settings`), keeping those that agree with ``fixed``."""
    out: list[dict[str, bool]] = [{}]
    for lc in lifecycles:
        out = [
            {**have, **cfg}
            for have in out
            for cfg in lc.config_settings()
            if all(have.get(n, v) == v for n, v in cfg.items())
        ]
    given = fixed or {}
    return [cfg for cfg in out if all(given.get(n, v) == v for n, v in cfg.items())]
