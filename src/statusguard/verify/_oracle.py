"""The explicit-state oracle: breadth-first search over states x config settings.

An independent second implementation of every built-in obligation and invariant
(same names, same meaning as :mod:`statusguard.verify._obligations`), written without z3
so that the two can be compared on random lifecycles. Fact flags are enumerated
exhaustively at every step, so it is meant for models with a handful of flags.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from statusguard.lifecycle._invariants import Absorbing, Closed, Never, OnlyThrough, Unreachable
from statusguard.lifecycle._model import Lifecycle
from statusguard.lifecycle._paths import Hop, Parents, Path, bfs, walk
from statusguard.results import Counterexample, ObligationResult, TraceStep, Verdict

__all__ = ["METHOD_BFS", "oracle_check", "reachable_sets"]

METHOD_BFS = "explicit-bfs"

Edge = tuple[str, str, dict[str, bool], str]  # source, event, facts, target


def _edges(lc: Lifecycle[Any, Any], config: Mapping[str, bool]) -> list[Edge]:
    """Every (source, event, fact values, target) enabled under ``config``."""
    facts = lc.fact_flags
    out: list[Edge] = []
    for bits in itertools.product((False, True), repeat=len(facts)):
        fv = dict(zip(facts, bits, strict=True))
        flags = {**config, **fv}
        for t in lc.transitions:
            if all(flags[n] == v for n, v in t.when):
                out.extend((str(s), str(t.event), fv, str(t.target)) for s in t.sources)
    return out


def _adjacency(edges: list[Edge]) -> dict[str, list[Hop]]:
    """The edges as successor lists (in edge order) for :func:`statusguard.lifecycle._paths.bfs`."""
    succ: dict[str, list[Hop]] = {}
    for s, ev, fv, t in edges:
        succ.setdefault(s, []).append(Hop(ev, t, fv))
    return succ


def _bfs(start: str, edges: list[Edge], *, avoid: Iterable[str] = ()) -> Parents:
    """Shortest-path parents from ``start``; states in ``avoid`` are reached but not expanded."""
    return bfs(start, _adjacency(edges), avoid=avoid)


def _path(parent: Parents, goal: str, start: str) -> list[TraceStep]:
    """The trace ``start`` ... ``goal`` that ``parent`` records (the goal last, no event)."""
    return Path({}, start, walk(parent, start, goal)).trace()


def reachable_sets(lc: Lifecycle[Any, Any]) -> list[tuple[dict[str, bool], set[str]]]:
    """Each config setting with the states reachable under it."""
    return [(cfg, set(_bfs(str(lc.initial), _edges(lc, cfg)))) for cfg in lc.config_settings()]


def oracle_check(lc: Lifecycle[Any, Any]) -> list[ObligationResult]:  # noqa: PLR0915
    """Every built-in obligation and invariant of ``lc`` by explicit search."""
    init = str(lc.initial)
    terminal = {str(s) for s in lc.terminal}
    settings = list(lc.config_settings())
    per: list[tuple[dict[str, bool], list[Edge], dict[str, Any]]] = []
    for cfg in settings:
        edges = _edges(lc, cfg)
        per.append((cfg, edges, _bfs(init, edges)))
    out: list[ObligationResult] = []

    def add(name: str, t0: float, status: Verdict, cex: Counterexample | None = None) -> None:
        out.append(ObligationResult(name, status, time.perf_counter() - t0, METHOD_BFS, "", cex))

    def best_to(goals_by_cfg: list[set[str]]) -> Counterexample | None:
        best: Counterexample | None = None
        for (cfg, _, parent), goals in zip(per, goals_by_cfg, strict=True):
            for g in goals:
                if g in parent:
                    trace = _path(parent, g, init)
                    if best is None or len(trace) < len(best.trace):
                        best = Counterexample(cfg, tuple(trace))
        return best

    def edge_defect(name: str, t0: float, bad: list[list[Edge]], last_event: bool = True) -> None:
        if not any(bad):
            add(name, t0, Verdict.PROVED)
            return
        best: Counterexample | None = None
        for (cfg, _, parent), edges in zip(per, bad, strict=True):
            for s, ev, fv, t in edges:
                if s in parent:
                    prefix = _path(parent, s, init)[:-1]
                    tail = [TraceStep(s, ev, fv), TraceStep(t)] if last_event else [TraceStep(s)]
                    trace = (*prefix, *tail)
                    if best is None or len(trace) < len(best.trace):
                        best = Counterexample(cfg, trace)
        add(name, t0, Verdict.VIOLATED, best)

    t0 = time.perf_counter()
    anywhere = set().union(*(set(p) for _, _, p in per))
    status = Verdict.PROVED if anywhere == {str(s) for s in lc.states} else Verdict.VIOLATED
    add("reachable", t0, status)

    t0 = time.perf_counter()
    dead = []
    for _, edges, parent in per:
        has_exit = {e[0] for e in edges}
        dead.append({s for s in parent if s not in terminal and s not in has_exit})
    cex = best_to(dead)
    add("no_dead_ends", t0, Verdict.VIOLATED if any(dead) else Verdict.PROVED, cex)

    t0 = time.perf_counter()
    traps = []
    for _, edges, parent in per:
        pred: dict[str, set[str]] = {}
        for s, _, _, t in edges:
            pred.setdefault(t, set()).add(s)
        co = set(terminal)
        queue = deque(terminal)
        while queue:
            t = queue.popleft()
            for s in pred.get(t, ()):
                if s not in co:
                    co.add(s)
                    queue.append(s)
        traps.append({s for s in parent if s not in co})
    add("can_terminate", t0, Verdict.VIOLATED if any(traps) else Verdict.PROVED, best_to(traps))

    t0 = time.perf_counter()
    nondet: list[list[Edge]] = []
    for _, edges, _ in per:
        seen: dict[tuple[str, str, tuple[bool, ...]], set[str]] = {}
        for s, ev, fv, t in edges:
            seen.setdefault((s, ev, tuple(fv.values())), set()).add(t)
        nondet.append([e for e in edges if len(seen[(e[0], e[1], tuple(e[2].values()))]) > 1])
    edge_defect("deterministic", t0, nondet, last_event=False)

    t0 = time.perf_counter()
    if not terminal:
        add("terminal_final", t0, Verdict.UNKNOWN)
    else:
        edge_defect("terminal_final", t0, [[e for e in ed if e[0] in terminal] for _, ed, _ in per])

    for inv in lc.invariants:
        t0 = time.perf_counter()
        if isinstance(inv, Absorbing):
            x = str(inv.state)
            bad = [[e for e in ed if e[0] == x and e[3] != x] for _, ed, _ in per]
            premise = {x}
        elif isinstance(inv, Never):
            a, b = str(inv.source), str(inv.target)
            bad = [[e for e in ed if e[0] == a and e[3] == b] for _, ed, _ in per]
            premise = {a}
        elif isinstance(inv, Closed):
            inside = {str(m) for m in inv.states}
            bad = [[e for e in ed if e[0] in inside and e[3] not in inside] for _, ed, _ in per]
            premise = inside
        elif isinstance(inv, Unreachable):
            a, b = str(inv.source), str(inv.target)
            best: Counterexample | None = None
            violated = False
            for cfg, edges, parent in per:
                from_a = bfs(a, _adjacency(edges), strict=True)
                if b in from_a:
                    violated = True
                    if a in parent:
                        trace = (*_path(parent, a, init)[:-1], *_path(from_a, b, a))
                        if best is None or len(trace) < len(best.trace):
                            best = Counterexample(cfg, trace)
            status = Verdict.VIOLATED if violated else Verdict.PROVED
            if status is Verdict.PROVED and a not in anywhere:
                status = Verdict.UNKNOWN
            add(inv.name, t0, status, best)
            continue
        elif isinstance(inv, OnlyThrough):
            x = str(inv.target)
            via = {str(v) for v in inv.via}
            best = None
            for cfg, edges, _ in per:
                if init in via:
                    continue
                parent = _bfs(init, edges, avoid=via)
                if x in parent:
                    trace = tuple(_path(parent, x, init))
                    if best is None or len(trace) < len(best.trace):
                        best = Counterexample(cfg, trace)
            status = Verdict.VIOLATED if best is not None else Verdict.PROVED
            if status is Verdict.PROVED and x not in anywhere:
                status = Verdict.UNKNOWN
            add(inv.name, t0, status, best)
            continue
        else:  # pragma: no cover - every kind is handled above
            raise TypeError(inv)
        edge_defect(inv.name, t0, bad)
        if out[-1].status is Verdict.PROVED and not premise & anywhere:
            out[-1] = ObligationResult(inv.name, Verdict.UNKNOWN, out[-1].seconds, METHOD_BFS)
    return out
