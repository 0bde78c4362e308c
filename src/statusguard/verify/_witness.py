"""One z3 check of a lifecycle and the counterexamples its violations get.

What it owns: :class:`Run` (the encoding, its solver, and the explicit graphs a
counterexample is read from) and the judging every edge-shaped obligation shares
(:func:`edge_witness`). z3's Datalog fixpoint gives every verdict; a violation's shortest
counterexample is then found by breadth-first search of the explicit graph (linear in the
edges, the same search the oracle and ``explain`` use), so a found violation never becomes
``unknown`` while its trace is built. Imports the lifecycle layer, :mod:`statusguard.results`
and :mod:`statusguard.verify._smt` / :mod:`~statusguard.verify._solve`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from statusguard._text import format_flags
from statusguard.lifecycle._deadline import out_of_time, remaining
from statusguard.lifecycle._model import Lifecycle
from statusguard.lifecycle._paths import Graph, Path, graph, reach_from, shortest_paths
from statusguard.results import Counterexample, ObligationResult, TraceStep, Verdict
from statusguard.verify._smt import UNREACHED, Encoding, Query
from statusguard.verify._solve import Fixpoint, SolverUnknown

__all__ = ["METHOD_FIXPOINT", "Run", "edge_witness", "fmt_setting"]

METHOD_FIXPOINT = "z3-datalog-fixpoint"
"""Verdict by z3's Datalog engine (least fixpoint, complete); shortest traces by graph BFS."""

Tuple = tuple[Any, ...]


def fmt_setting(setting: Mapping[str, bool]) -> str:
    return format_flags(setting) or "(no config flags)"


class Run:
    """Shared state of one built-in check: the encoding, its solver, and the explicit graphs."""

    def __init__(self, lc: Lifecycle[Any, Any], timeout: float) -> None:
        self.lc = lc
        self.timeout = timeout
        self.enc = Encoding(lc)
        self._fp: Fixpoint | None = None
        self._gave_up = ""
        self._graphs: dict[tuple[bool, ...], Graph] = {}
        self._asked: frozenset[str] = frozenset()
        self._unreached: frozenset[int] | None = None

    def solve(self, queries: Sequence[Query]) -> None:
        """Load the base program and ``queries`` into z3 (unless the time budget is spent:
        then every :meth:`ask` is :class:`SolverUnknown`)."""
        self._asked = frozenset(q.relation for q in queries)
        if remaining(self.timeout) > 0:
            try:
                self._fp = Fixpoint(self.enc, queries, remaining(self.timeout))
            except SolverUnknown as exc:  # the budget ran out while loading
                self._gave_up = str(exc)

    def ask(self, rel: str) -> list[Tuple] | None:
        """The tuples of ``rel`` (``None`` if empty), within the timeout and the budget."""
        left = remaining(self.timeout)
        if self._gave_up:
            raise SolverUnknown(self._gave_up)
        if self._fp is None or left <= 0:
            raise SolverUnknown(out_of_time(f"the query {rel}"))
        return self._fp.ask(rel, left)

    def any_reached(self, states: Sequence[int], premise: Query) -> bool:
        """Whether one of ``states`` is reachable under some setting: read off the answer
        to ``unreach`` (the states no setting reaches) when this run asks it, which is
        exact (``unreach`` is every state without ``anyreach``); else ``premise``'s own
        query, non-empty iff one is."""
        if UNREACHED not in self._asked:
            return self.ask(premise.relation) is not None
        gone = self.unreached()
        return any(s not in gone for s in states)

    def unreached(self) -> frozenset[int]:
        """The numbers of the states no config setting reaches (``reachable``'s answer)."""
        if self._unreached is None:
            self._unreached = frozenset(int(t[0]) for t in self.ask(UNREACHED) or ())
        return self._unreached

    def result(
        self, name: str, status: Verdict, detail: str = "", cex: Counterexample | None = None
    ) -> ObligationResult:
        return ObligationResult(name, status, 0.0, METHOD_FIXPOINT, detail, cex)

    def violated(
        self,
        name: str,
        best: tuple[dict[str, bool], list[TraceStep]] | None,
        describe: Callable[[list[TraceStep]], str],
    ) -> ObligationResult:
        """``violated`` with the run ``best`` (setting, steps) as counterexample; the detail
        is ``describe(steps)`` plus the setting. ``best`` is ``None`` only if the graph
        search disagrees with z3 (:class:`SolverUnknown`)."""
        if best is None:
            raise SolverUnknown(f"{name}: no run reaches the reported state")
        setting, steps = best
        return self.result(
            name,
            Verdict.VIOLATED,
            f"{describe(steps)} under {fmt_setting(setting)}",
            Counterexample(setting, tuple(steps)),
        )

    # -- explicit graphs ----------------------------------------------------------------------

    def graph(self, setting: Mapping[str, bool], avoid: Sequence[str] = ()) -> Graph:
        """The explicit graph under ``setting``; ``avoid`` states are neither entered nor left."""
        key = self.enc.setting_tuple(setting)
        if key not in self._graphs:
            self._graphs[key] = graph(self.lc, setting)
        adj = self._graphs[key]
        if not avoid:
            return adj
        skip = set(avoid)
        return {
            s: ([] if s in skip else [h for h in hops if h.target not in skip])
            for s, hops in adj.items()
        }

    def steps(self, path: Path) -> list[TraceStep]:
        """A :class:`statusguard.lifecycle._paths.Path` as trace steps, every fact flag set.

        Facts the taken transition tests keep their values; the others are ``false``
        (any value works), so recorded counterexamples do not depend on the solver.
        """
        return [
            TraceStep(st.state, st.event, self.full_facts(st.facts) if st.event else {})
            for st in path.trace()
        ]

    def full_facts(self, tested: Mapping[str, bool]) -> dict[str, bool]:
        """Every fact of a step: those tested, the others at their default (else false)."""
        defaults = self.lc.fact_defaults
        return {n: bool(tested.get(n, defaults.get(n, False))) for n in self.enc.facts}

    def walk(
        self,
        setting: Mapping[str, bool],
        start: str,
        goal: str,
        *,
        avoid: Sequence[str] = (),
        min_steps: int = 0,
    ) -> list[TraceStep] | None:
        """A shortest walk ``start -> goal`` under ``setting`` (``min_steps`` 0 or 1)."""
        adj = self.graph(setting, avoid)
        find = reach_from if min_steps else shortest_paths
        path = find(self.lc, start, setting, adj=adj).get(goal)
        return None if path is None else self.steps(path)

    def shortest(
        self, targets: Mapping[tuple[bool, ...], set[int]]
    ) -> tuple[dict[str, bool], list[TraceStep]] | None:
        """The shortest run from the initial state to a target over every setting with targets."""
        enc = self.enc
        best: tuple[dict[str, bool], list[TraceStep]] | None = None
        for setting in enc.settings:
            goals = targets.get(enc.setting_tuple(setting))
            if not goals:
                continue
            paths = shortest_paths(self.lc, str(self.lc.initial), setting, adj=self.graph(setting))
            reached = [g for g in sorted(goals) if enc.states[g] in paths]
            if not reached:
                continue
            # the first goal of the fewest hops (lengths only: a walk is built once)
            g = min(reached, key=lambda g: paths.hops(enc.states[g]))
            if best is None or paths.hops(enc.states[g]) + 1 < len(best[1]):
                best = (dict(setting), self.steps(paths[enc.states[g]]))
        return best

    def by_setting(self, tuples: Sequence[Tuple]) -> dict[tuple[bool, ...], set[int]]:
        """The state column of ``(config..., state, ...)`` tuples, grouped by setting."""
        out: dict[tuple[bool, ...], set[int]] = {}
        for tup in tuples:
            out.setdefault(tuple(tup[: self.enc.ncfg]), set()).add(int(tup[self.enc.ncfg]))
        return out

    # -- edge witnesses -----------------------------------------------------------------------

    def edge_facts(
        self, tup: Sequence[Any], targets: Sequence[int], *, noops: bool = False
    ) -> dict[str, bool]:
        """The facts of an edge witness: those its transition(s) (and, with ``noops``, the
        no-ops of its state and event) test, the others at their default (else false)."""
        return self.full_facts(self.tested_facts(tup, targets, noops=noops))

    def tested_facts(
        self, tup: Sequence[Any], targets: Sequence[int], *, noops: bool = False
    ) -> dict[str, bool]:
        """The fact values of an edge witness that its transition(s) to ``targets`` test."""
        enc = self.enc
        c = enc.ncfg
        setting = enc.setting_of(tup[:c])
        facts = {n: bool(tup[c + 2 + j]) for j, n in enumerate(enc.facts)}
        src, ev = enc.states[int(tup[c])], enc.events[int(tup[c + 1])]
        names = {enc.states[t] for t in targets}
        tested: dict[str, bool] = {}
        for t in self.lc.transitions:
            if str(t.event) != ev or str(t.target) not in names:
                continue
            if src not in {str(x) for x in t.sources}:
                continue
            flags = {**setting, **facts}
            if all(flags.get(n, v) == v for n, v in t.when):
                tested.update({n: v for n, v in t.when if n in facts})
        for n in self.lc.noops if noops else ():
            if str(n.event) == ev and src in {str(x) for x in n.sources}:
                flags = {**setting, **facts}
                if all(flags.get(k, v) == v for k, v in n.when):
                    tested.update({k: v for k, v in n.when if k in facts})
        return tested

    def _facts_text(self, tup: Tuple, targets: Sequence[int]) -> str:
        vals = self.tested_facts(tup, targets)
        return f" [{format_flags(vals)}]" if vals else ""

    def targets_of(self, tup: Tuple) -> list[int]:
        """The target(s) of an edge witness (two for a ``nondet`` one)."""
        first = self.enc.ncfg + 2 + len(self.enc.facts)
        return [int(x) for x in tup[first:]]

    def edge_text(self, tup: Tuple) -> str:
        """``a --ev [facts]--> b`` for an edge witness."""
        enc, c = self.enc, self.enc.ncfg
        (tgt,) = self.targets_of(tup)
        return (
            f"{enc.states[int(tup[c])]} --{enc.events[int(tup[c + 1])]}"
            f"{self._facts_text(tup, [tgt])}--> {enc.states[tgt]}"
        )

    def nondet_text(self, tup: Tuple) -> str:
        """``in a, event ev [facts] enables both b and c`` for a ``nondet`` witness."""
        enc, c = self.enc, self.enc.ncfg
        both = self.targets_of(tup)
        return (
            f"in {enc.states[int(tup[c])]}, event {enc.events[int(tup[c + 1])]}"
            f"{self._facts_text(tup, both)} "
            f"enables both {enc.states[both[0]]} and {enc.states[both[1]]}"
        )


def edge_witness(
    run: Run,
    name: str,
    q: Query,
    q_r: Query,
    describe: Callable[[Tuple], str],
    kind: str = "",
    *,
    noops: bool = False,
) -> ObligationResult:
    """Judge an edge-shaped violation query ``q`` (``q_r``: its reachable witnesses).

    The counterexample is the shortest run to a reachable witness's source, ending on the
    offending event; a ``nondet`` witness ends there, any other takes the step.
    """
    enc = run.enc
    prefix = f"{kind}: " if kind else ""
    anywhere = run.ask(q.relation)
    if not anywhere:
        return run.result(name, Verdict.PROVED, kind)
    reached = run.ask(q_r.relation)
    if not reached:
        tup = min(anywhere)
        return run.result(
            name,
            Verdict.VIOLATED,
            f"{prefix}{describe(tup)} under {fmt_setting(enc.setting_of(tup))}; "
            f"{enc.states[int(tup[enc.ncfg])]} is unreachable there, so there is no trace",
        )
    best = run.shortest(run.by_setting(reached))
    if best is None:
        raise SolverUnknown(f"{name}: no run reaches the reported state")
    setting, steps = best
    last = enc.sidx[steps[-1].state]
    key = enc.setting_tuple(setting)
    tup = min(t for t in reached if tuple(t[: enc.ncfg]) == key and int(t[enc.ncfg]) == last)
    ev = enc.events[int(tup[enc.ncfg + 1])]
    targets = run.targets_of(tup)
    steps[-1] = TraceStep(steps[-1].state, ev, run.edge_facts(tup, targets, noops=noops))
    if len(targets) == 1:
        steps.append(TraceStep(enc.states[targets[0]]))
    return run.result(
        name,
        Verdict.VIOLATED,
        f"{prefix}{describe(tup)} under {fmt_setting(setting)}",
        Counterexample(setting, tuple(steps)),
    )
