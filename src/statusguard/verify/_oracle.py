"""The explicit-state oracle: breadth-first search over states x config settings.

An independent second implementation of every built-in obligation and invariant
(same names, same meaning as :mod:`statusguard.verify._obligations`), written without z3
so that the two can be compared on random lifecycles. Fact flags are enumerated
exhaustively at every step, so it is meant for models with a handful of flags.

What it owns: :func:`oracle_check` and :func:`reachable_sets`; an invariant's check is its
kind's :meth:`~statusguard.lifecycle._kind.Invariant.oracle`, which reads the explicit
graphs through :class:`_Explicit`. Imports the lifecycle layer and
:mod:`statusguard.results` only (no z3).
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from statusguard.lifecycle._kind import Defect, ExplicitSetting
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


def _noop_keys(
    lc: Lifecycle[Any, Any], config: Mapping[str, bool]
) -> set[tuple[str, str, tuple[bool, ...]]]:
    """Every (source, event, fact values) a no-op accepts under ``config``."""
    facts = lc.fact_flags
    out: set[tuple[str, str, tuple[bool, ...]]] = set()
    for bits in itertools.product((False, True), repeat=len(facts)):
        flags = {**config, **dict(zip(facts, bits, strict=True))}
        for n in lc.noops:
            if all(flags[k] == v for k, v in n.when):
                out.update((str(s), str(n.event), bits) for s in n.sources)
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


Finding = tuple[Verdict, Counterexample | None]
"""An obligation's oracle verdict and, when violated and shown by a run, its counterexample."""


class _Setting:
    """The explicit graph under one config setting (an :class:`ExplicitSetting`)."""

    def __init__(self, lc: Lifecycle[Any, Any], config: dict[str, bool]) -> None:
        self.config = config
        self.init = str(lc.initial)
        self.edges = _edges(lc, config)
        self.noops = _noop_keys(lc, config)
        self.parent = _bfs(self.init, self.edges)

    def run_to(self, state: str) -> list[TraceStep] | None:
        """The shortest run from the initial state to ``state``."""
        return _path(self.parent, state, self.init) if state in self.parent else None

    def walk(
        self, start: str, goal: str, *, avoid: Sequence[str] = (), strict: bool = False
    ) -> tuple[TraceStep, ...] | None:
        if start == self.init and not avoid and not strict:
            parent = self.parent
        else:
            parent = bfs(start, _adjacency(self.edges), avoid=avoid, strict=strict)
        return tuple(_path(parent, goal, start)) if goal in parent else None


class _Explicit:
    """Every setting's explicit graph (the :class:`Explicit` an invariant kind's oracle reads)."""

    def __init__(self, lc: Lifecycle[Any, Any]) -> None:
        self.lc = lc
        self.initial = str(lc.initial)
        self.terminal = {str(s) for s in lc.terminal}
        self.per = [_Setting(lc, cfg) for cfg in lc.config_settings()]
        self.anywhere = set().union(*(set(g.parent) for g in self.per))

    def best_to(self, goals_by_setting: Sequence[set[str]]) -> Counterexample | None:
        """The shortest run to any goal of its setting."""
        best: Counterexample | None = None
        for g, goals in zip(self.per, goals_by_setting, strict=True):
            for goal in goals:
                trace = g.run_to(goal)
                if trace is not None and (best is None or len(trace) < len(best.trace)):
                    best = Counterexample(g.config, tuple(trace))
        return best

    def edge_defect(self, bad: Sequence[Sequence[Edge]], *, last_event: bool = True) -> Finding:
        """Violated when a setting has a bad edge; the trace is the shortest run ending on one
        (with its step, or stopping on its source when not ``last_event``)."""
        if not any(bad):
            return Verdict.PROVED, None
        best: Counterexample | None = None
        for g, edges in zip(self.per, bad, strict=True):
            for s, ev, fv, t in edges:
                head = g.run_to(s)
                if head is None:
                    continue
                tail = [TraceStep(s, ev, fv), TraceStep(t)] if last_event else [TraceStep(s)]
                trace = (*head[:-1], *tail)
                if best is None or len(trace) < len(best.trace):
                    best = Counterexample(g.config, trace)
        return Verdict.VIOLATED, best

    def bad_steps(self, is_bad: Callable[[str, str], bool]) -> Finding:
        return self.edge_defect([[e for e in g.edges if is_bad(e[0], e[3])] for g in self.per])

    def bad_walks(self, under: Callable[[ExplicitSetting], Defect | None]) -> Finding:
        violated = False
        best: Counterexample | None = None
        for g in self.per:
            found = under(g)
            if found is None:
                continue
            violated = True
            trace = found.trace
            if trace is not None and (best is None or len(trace) < len(best.trace)):
                best = Counterexample(g.config, trace)
        return (Verdict.VIOLATED if violated else Verdict.PROVED), best


def _reachable(x: _Explicit) -> Finding:
    everything = {str(s) for s in x.lc.states}
    return (Verdict.PROVED if x.anywhere == everything else Verdict.VIOLATED), None


def _stuck(x: _Explicit, stuck: Sequence[set[str]]) -> Finding:
    return (Verdict.VIOLATED if any(stuck) else Verdict.PROVED), x.best_to(stuck)


def _no_dead_ends(x: _Explicit) -> Finding:
    dead = []
    for g in x.per:
        has_exit = {e[0] for e in g.edges}
        dead.append({s for s in g.parent if s not in x.terminal and s not in has_exit})
    return _stuck(x, dead)


def _can_terminate(x: _Explicit) -> Finding:
    traps = []
    for g in x.per:
        pred: dict[str, set[str]] = {}
        for s, _, _, t in g.edges:
            pred.setdefault(t, set()).add(s)
        co = set(x.terminal)
        queue = deque(x.terminal)
        while queue:
            t = queue.popleft()
            for s in pred.get(t, ()):
                if s not in co:
                    co.add(s)
                    queue.append(s)
        traps.append({s for s in g.parent if s not in co})
    return _stuck(x, traps)


def _deterministic(x: _Explicit) -> Finding:
    nondet: list[list[Edge]] = []
    for g in x.per:
        seen: dict[tuple[str, str, tuple[bool, ...]], set[str]] = {}
        for s, ev, fv, t in g.edges:
            seen.setdefault((s, ev, tuple(fv.values())), set()).add(t)
        nondet.append([e for e in g.edges if len(seen[(e[0], e[1], tuple(e[2].values()))]) > 1])
    return x.edge_defect(nondet, last_event=False)


def _terminal_final(x: _Explicit) -> Finding:
    if not x.terminal:
        return Verdict.UNKNOWN, None
    return x.edge_defect([[e for e in g.edges if e[0] in x.terminal] for g in x.per])


def _noop_unchanged(x: _Explicit) -> Finding:
    """Violated where an event a no-op accepts also has a transition (same facts)."""
    return x.edge_defect(
        [[e for e in g.edges if (e[0], e[1], tuple(e[2].values())) in g.noops] for g in x.per]
    )


_BUILTIN: tuple[tuple[str, Callable[[_Explicit], Finding]], ...] = (
    ("reachable", _reachable),
    ("no_dead_ends", _no_dead_ends),
    ("can_terminate", _can_terminate),
    ("deterministic", _deterministic),
    ("terminal_final", _terminal_final),
    ("noop_unchanged", _noop_unchanged),
)


def oracle_check(lc: Lifecycle[Any, Any]) -> list[ObligationResult]:
    """Every built-in obligation and invariant of ``lc`` by explicit search."""
    x = _Explicit(lc)
    out: list[ObligationResult] = []
    for name, check in _BUILTIN:
        if name == "noop_unchanged" and not lc.noops:
            continue  # only a lifecycle that declares no-ops has it (as in z3)
        t0 = time.perf_counter()
        status, cex = check(x)
        out.append(ObligationResult(name, status, time.perf_counter() - t0, METHOD_BFS, "", cex))
    for inv in lc.invariants:
        t0 = time.perf_counter()
        status, cex = inv.oracle(x)
        if status is Verdict.PROVED and not {str(s) for s in inv.premise()} & x.anywhere:
            status = Verdict.UNKNOWN  # vacuous: the states it is about are never reached
        out.append(
            ObligationResult(inv.name, status, time.perf_counter() - t0, METHOD_BFS, "", cex)
        )
    return out
