"""Proof obligations of a lifecycle and :func:`check_lifecycle`, the one place to extend.

Built-in obligations (stable names; they appear in JSON and in ``proofs/``):

``reachable``       every state is reachable from the initial state under some config setting
``no_dead_ends``    under every setting, every reachable non-terminal state has an enabled event
``can_terminate``   under every setting, every reachable state can still reach a terminal state
``deterministic``   under every setting and fact values, no (state, event) enables two targets
``terminal_final``  no transition leaves a terminal state
``<invariant name>`` each declared invariant (its kind is in the result's ``detail``)

"Enabled" means enabled for some values of the fact flags (the environment chooses
facts). ``deterministic``, ``terminal_final``, ``absorbing``, ``never`` and ``closed``
are properties of every state, reachable or not; their counterexample is the shortest
run to the offending state, and when that state is unreachable under every setting in
which the defect exists the result is still ``violated`` but has no trace (the detail
says so). ``reachable`` violations have no trace either: no run reaches the state.

Other checkers (race obligations, ...) append a provider to :data:`PROVIDERS`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from statusguard._text import format_flags
from statusguard.lifecycle._invariants import (
    BUILTIN_OBLIGATIONS,
    Invariant,
    OnlyThrough,
    Unreachable,
)
from statusguard.lifecycle._model import Lifecycle
from statusguard.race import race_obligations
from statusguard.results import (
    Counterexample,
    ObligationResult,
    TraceStep,
    Verdict,
)

__all__ = [
    "BUILTIN_OBLIGATIONS",
    "METHOD_FIXPOINT",
    "PROVIDERS",
    "Provider",
    "builtin_obligations",
    "check_lifecycle",
    "export_programs",
]

METHOD_FIXPOINT = "z3-datalog-fixpoint"
"""Verdict by z3's Datalog engine (least fixpoint, complete); shortest traces by graph BFS."""

Provider = Callable[..., list[ObligationResult]]
"""``provider(lc, *, timeout) -> results``: one more family of obligations."""


def check_lifecycle(lc: Lifecycle[Any, Any], *, timeout: float = 30.0) -> list[ObligationResult]:
    """Prove every obligation of ``lc``; ``timeout`` (seconds) bounds each obligation.

    A result is ``proved`` only when z3 proved it for every path length and every
    config setting; ``unknown`` (timeout, solver gave up, vacuous) never counts as proved.
    """
    results: list[ObligationResult] = []
    for provider in PROVIDERS:
        results.extend(provider(lc, timeout=timeout))
    return results


class _Run:
    """Shared state of one built-in check: the encoding, its solver, and the explicit graphs.

    z3's Datalog fixpoint gives every verdict; a violation's shortest counterexample
    is then read off the explicit graph by breadth-first search (linear in the edges,
    the same search the oracle and ``explain`` use), so a found violation never
    becomes ``unknown`` while its trace is built.
    """

    def __init__(self, lc: Lifecycle[Any, Any], timeout: float) -> None:
        from statusguard.verify._smt import Encoding

        self.lc = lc
        self.timeout = timeout
        self.enc = Encoding(lc)
        self._graphs: dict[tuple[bool, ...], Any] = {}

    def graph(self, setting: Mapping[str, bool], avoid: Sequence[str] = ()) -> Any:
        """The explicit graph under ``setting``; ``avoid`` states are neither entered nor left."""
        from statusguard.lifecycle._paths import graph

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

    def steps(self, path: Any) -> list[TraceStep]:
        """A :class:`statusguard.lifecycle._paths.Path` as trace steps, every fact flag set.

        Facts the taken transition tests keep their values; the others are ``false``
        (any value works), so recorded counterexamples do not depend on the solver.
        """
        return [
            TraceStep(st.state, st.event, self.full_facts(st.facts) if st.event else {})
            for st in path.trace()
        ]

    def full_facts(self, tested: Mapping[str, bool]) -> dict[str, bool]:
        return {n: bool(tested.get(n, False)) for n in self.enc.facts}

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
        from statusguard.lifecycle._paths import reach_from, shortest_paths

        adj = self.graph(setting, avoid)
        find = reach_from if min_steps else shortest_paths
        path = find(self.lc, start, setting, adj=adj).get(goal)
        return None if path is None else self.steps(path)

    def shortest(
        self,
        targets: Mapping[tuple[bool, ...], set[int]],
        *,
        avoid: Sequence[int] = (),
    ) -> tuple[dict[str, bool], list[TraceStep]] | None:
        """The shortest run from the initial state to a target over every setting with targets."""
        from statusguard.lifecycle._paths import shortest_paths

        enc = self.enc
        best: tuple[dict[str, bool], list[TraceStep]] | None = None
        avoid_names = [enc.states[a] for a in avoid]
        for setting in enc.settings:
            goals = targets.get(enc.setting_tuple(setting))
            if not goals:
                continue
            paths = shortest_paths(
                self.lc, str(self.lc.initial), setting, adj=self.graph(setting, avoid_names)
            )
            for g in sorted(goals):
                path = paths.get(enc.states[g])
                if path is None:
                    continue
                if best is None or len(path.hops) + 1 < len(best[1]):
                    best = (dict(setting), self.steps(path))
        return best

    def edge_facts(self, tup: Sequence[Any], targets: Sequence[int]) -> dict[str, bool]:
        """The facts of an edge witness: those its transition(s) test, the others ``false``."""
        return self.full_facts(self.tested_facts(tup, targets))

    def tested_facts(self, tup: Sequence[Any], targets: Sequence[int]) -> dict[str, bool]:
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
        return tested


def _by_setting(enc: Any, tuples: Sequence[tuple[Any, ...]]) -> dict[tuple[bool, ...], set[int]]:
    out: dict[tuple[bool, ...], set[int]] = {}
    for tup in tuples:
        out.setdefault(tuple(tup[: enc.ncfg]), set()).add(int(tup[enc.ncfg]))
    return out


def _fmt_setting(setting: Mapping[str, bool]) -> str:
    return format_flags(setting) or "(no config flags)"


def builtin_obligations(  # noqa: PLR0915 - one closure per obligation reads best together
    lc: Lifecycle[Any, Any], *, timeout: float
) -> list[ObligationResult]:
    """The built-in structural obligations and every declared invariant, proved by z3."""
    from statusguard.verify._smt import SolverUnknown

    start = time.perf_counter()
    run = _Run(lc, timeout)
    enc = run.enc
    q_reach, q_partial = enc.q_reachable(), enc.q_partial()
    q_dead, q_trap = enc.q_dead(), enc.q_trap()
    q_nd = enc.q_nondet()
    q_nd_r = enc.reached_variant(q_nd)
    q_tx = enc.q_terminal_exit()
    q_tx_r = enc.reached_variant(q_tx)
    queries = [q_reach, q_partial, q_dead, q_trap, q_nd, q_nd_r, q_tx, q_tx_r]
    inv_queries: list[tuple[Invariant, Any, Any, Any]] = []
    for i, inv in enumerate(lc.invariants):
        try:
            q, q_r, premise = enc.q_invariant(i, inv)
        except SolverUnknown as exc:
            inv_queries.append((inv, None, None, str(exc)))
            continue
        q_p = enc.q_premise(i, premise)
        queries += [q, q_p] + ([q_r] if q_r is not None else [])
        inv_queries.append((inv, q, q_r, q_p))
    enc.solver(queries, timeout)
    setup = time.perf_counter() - start

    results: list[ObligationResult] = []

    def timed(name: str, fn: Callable[[], ObligationResult], extra: float = 0.0) -> None:
        t0 = time.perf_counter()
        try:
            res = fn()
        except SolverUnknown as exc:
            res = ObligationResult(name, Verdict.UNKNOWN, 0.0, METHOD_FIXPOINT, str(exc))
        secs = time.perf_counter() - t0 + extra
        results.append(dataclasses.replace(res, seconds=secs))

    def result(
        name: str,
        status: Verdict,
        detail: str = "",
        cex: Counterexample | None = None,
    ) -> ObligationResult:
        return ObligationResult(name, status, 0.0, METHOD_FIXPOINT, detail, cex)

    # reachable ------------------------------------------------------------------------------
    def reachable() -> ObligationResult:
        missing = enc.ask(q_reach.relation, timeout)
        partial = enc.ask(q_partial.relation, timeout) if lc.config_flags else None
        gone = {int(t[0]) for t in missing or ()}
        not_under: dict[int, set[tuple[bool, ...]]] = {}
        for tup in partial or ():
            not_under.setdefault(int(tup[enc.ncfg]), set()).add(tuple(tup[: enc.ncfg]))
        reached_under = {
            enc.states[s]: tuple(
                dict(st)
                for st in enc.settings
                if s not in gone and enc.setting_tuple(st) not in not_under.get(s, set())
            )
            for s in range(len(enc.states))
        }
        notes = [
            f"{enc.states[s]} is reached only under "
            + " | ".join(_fmt_setting(st) for st in reached_under[enc.states[s]])
            for s in sorted(not_under)
        ]
        if missing:
            names = sorted((enc.states[s] for s in gone), key=enc.sidx.__getitem__)
            detail = (
                f"unreachable from {lc.initial} under every config setting: {', '.join(names)}"
                " (no run reaches them, so there is no trace)"
            )
            res = result("reachable", Verdict.VIOLATED, "; ".join([detail, *notes]))
        else:
            res = result("reachable", Verdict.PROVED, "; ".join(notes))
        return dataclasses.replace(res, reached_under=reached_under)

    # no_dead_ends / can_terminate -----------------------------------------------------------
    def stuck(name: str, rel: str, what: str) -> Callable[[], ObligationResult]:
        def go() -> ObligationResult:
            tuples = enc.ask(rel, timeout)
            if not tuples:
                return result(name, Verdict.PROVED)
            best = run.shortest(_by_setting(enc, tuples))
            if best is None:
                raise SolverUnknown(f"{name}: no run reaches the reported state")
            setting, steps = best
            state = steps[-1].state
            return result(
                name,
                Verdict.VIOLATED,
                f"{state} {what} under {_fmt_setting(setting)}",
                Counterexample(setting, tuple(steps)),
            )

        return go

    # edge-witness obligations ---------------------------------------------------------------
    def edge_witness(
        name: str, rel: str, rel_r: str, describe: Callable[[tuple[Any, ...]], str], kind: str = ""
    ) -> Callable[[], ObligationResult]:
        def go() -> ObligationResult:
            prefix = f"{kind}: " if kind else ""
            anywhere = enc.ask(rel, timeout)
            if not anywhere:
                return result(name, Verdict.PROVED, kind)
            reached = enc.ask(rel_r, timeout)
            if not reached:
                tup = min(anywhere)
                return result(
                    name,
                    Verdict.VIOLATED,
                    f"{prefix}{describe(tup)} under {_fmt_setting(enc.setting_of(tup))}; "
                    f"{enc.states[int(tup[enc.ncfg])]} is unreachable there, so there is no trace",
                )
            best = run.shortest(_by_setting(enc, reached))
            if best is None:
                raise SolverUnknown(f"{name}: no run reaches the reported state")
            setting, steps = best
            last = enc.sidx[steps[-1].state]
            key = enc.setting_tuple(setting)
            tup = min(
                t for t in reached if tuple(t[: enc.ncfg]) == key and int(t[enc.ncfg]) == last
            )
            ev = enc.events[int(tup[enc.ncfg + 1])]
            nf = len(enc.facts)
            if rel.startswith("nondet"):
                # End on the offending event and the facts under which it enables two targets.
                both = [int(tup[enc.ncfg + 2 + nf]), int(tup[enc.ncfg + 3 + nf])]
                steps[-1] = TraceStep(steps[-1].state, ev, run.edge_facts(tup, both))
            else:
                tgt = int(tup[enc.ncfg + 2 + nf])
                steps[-1] = TraceStep(steps[-1].state, ev, run.edge_facts(tup, [tgt]))
                steps.append(TraceStep(enc.states[tgt]))
            return result(
                name,
                Verdict.VIOLATED,
                f"{prefix}{describe(tup)} under {_fmt_setting(setting)}",
                Counterexample(setting, tuple(steps)),
            )

        return go

    nf = len(enc.facts)

    def facts_of(tup: tuple[Any, ...], targets: Sequence[int]) -> str:
        vals = run.tested_facts(tup, targets)
        return f" [{format_flags(vals)}]" if vals else ""

    def edge_text(tup: tuple[Any, ...]) -> str:
        c = enc.ncfg
        tgt = int(tup[c + 2 + nf])
        return (
            f"{enc.states[int(tup[c])]} --{enc.events[int(tup[c + 1])]}{facts_of(tup, [tgt])}--> "
            f"{enc.states[tgt]}"
        )

    def nondet_text(tup: tuple[Any, ...]) -> str:
        c = enc.ncfg
        return (
            f"in {enc.states[int(tup[c])]}, event {enc.events[int(tup[c + 1])]}"
            f"{facts_of(tup, [int(tup[c + 2 + nf]), int(tup[c + 3 + nf])])} "
            f"enables both {enc.states[int(tup[c + 2 + nf])]} and "
            f"{enc.states[int(tup[c + 3 + nf])]}"
        )

    def terminal_final() -> ObligationResult:
        if not lc.terminal:
            return result(
                "terminal_final",
                Verdict.UNKNOWN,
                "vacuous: the lifecycle declares no terminal state",
            )
        go = edge_witness(
            "terminal_final",
            q_tx.relation,
            q_tx_r.relation,
            lambda t: f"terminal state has an exit: {edge_text(t)}",
        )
        return go()

    timed("reachable", reachable, setup)
    timed(
        "no_dead_ends", stuck("no_dead_ends", q_dead.relation, "is a dead end (no enabled event)")
    )
    timed(
        "can_terminate",
        stuck("can_terminate", q_trap.relation, "cannot reach a terminal state (trap)"),
    )
    timed(
        "deterministic",
        edge_witness("deterministic", q_nd.relation, q_nd_r.relation, nondet_text),
    )
    timed("terminal_final", terminal_final)

    # invariants ------------------------------------------------------------------------------
    for inv, q, q_r, q_p in inv_queries:
        name = inv.name
        if q is None:
            results.append(ObligationResult(name, Verdict.UNKNOWN, 0.0, METHOD_FIXPOINT, q_p))
            continue
        timed(name, _invariant(run, inv, q, q_r, q_p, edge_witness, edge_text, result))
    return results


def _invariant(
    run: _Run,
    inv: Invariant,
    q: Any,
    q_r: Any,
    q_p: Any,
    edge_witness: Any,
    edge_text: Any,
    result: Callable[..., ObligationResult],
) -> Callable[[], ObligationResult]:
    from statusguard.verify._smt import SolverUnknown

    enc = run.enc
    timeout = run.timeout
    kind = f"{inv.kind}: {inv.describe()}"

    def vacuity(res: ObligationResult) -> ObligationResult:
        if res.status is Verdict.PROVED and enc.ask(q_p.relation, timeout) is None:
            return result(
                inv.name,
                Verdict.UNKNOWN,
                f"vacuous: {kind}, but the state(s) it is about are unreachable "
                "under every config setting",
            )
        return res

    if q_r is not None and not isinstance(inv, Unreachable):

        def step_kind() -> ObligationResult:
            res: ObligationResult = edge_witness(
                inv.name, q.relation, q_r.relation, lambda t: f"violated by {edge_text(t)}", kind
            )()
            return vacuity(res)

        return step_kind

    def path_kind() -> ObligationResult:
        if isinstance(inv, Unreachable):
            if not enc.ask(q.relation, timeout):
                return vacuity(result(inv.name, Verdict.PROVED, kind))
            reached = enc.ask(q_r.relation, timeout)
            if not reached:
                return result(
                    inv.name,
                    Verdict.VIOLATED,
                    f"{kind}; a path exists but {inv.source} is unreachable from the "
                    "initial state there, so there is no trace",
                )
            a, b = str(inv.source), str(inv.target)
            best: tuple[dict[str, bool], list[TraceStep]] | None = None
            keys = {tuple(t) for t in reached}
            for setting in enc.settings:
                if tuple(enc.setting_tuple(setting)) not in keys:
                    continue
                p1 = run.walk(setting, str(run.lc.initial), a)
                p2 = run.walk(setting, a, b, min_steps=1)
                if p1 is None or p2 is None:
                    raise SolverUnknown(f"{inv.name}: no run reaches the reported state")
                path = p1[:-1] + p2
                if best is None or len(path) < len(best[1]):
                    best = (dict(setting), path)
            assert best is not None
            setting, path = best
            return result(
                inv.name,
                Verdict.VIOLATED,
                f"{kind}; {inv.target} is reached from {inv.source} under {_fmt_setting(setting)}",
                Counterexample(setting, tuple(path)),
            )
        assert isinstance(inv, OnlyThrough)
        reached = enc.ask(q.relation, timeout)
        if not reached:
            return vacuity(result(inv.name, Verdict.PROVED, kind))
        x = enc.sidx[str(inv.target)]
        targets = {tuple(t): {x} for t in reached}
        best2 = run.shortest(targets, avoid=[enc.sidx[str(v)] for v in inv.via])
        if best2 is None:
            raise SolverUnknown(f"{inv.name}: no run reaches the reported state")
        setting, path = best2
        return result(
            inv.name,
            Verdict.VIOLATED,
            f"{kind}; {inv.target} is reached without passing {', '.join(map(str, inv.via))} "
            f"under {_fmt_setting(setting)}",
            Counterexample(setting, tuple(path)),
        )

    return path_kind


def race_provider(lc: Lifecycle[Any, Any], *, timeout: float) -> list[ObligationResult]:
    """The race obligations (:func:`statusguard.race.race_obligations`)."""
    return race_obligations(lc, timeout=timeout)


PROVIDERS: list[Provider] = [builtin_obligations, race_provider]
"""Obligation providers, run in order by :func:`check_lifecycle`; append to extend."""


def export_programs(lc: Lifecycle[Any, Any]) -> dict[str, str]:
    """Each built-in obligation as a self-contained SMT-LIB2 fixedpoint program.

    The first ``(query ...)`` of each program is the obligation: ``sat`` means
    violated, ``unsat`` proved. Invariant programs have a second query, the
    premise: ``unsat`` there means the proof is vacuous (reported ``unknown``).
    ``terminal_final`` of a lifecycle without terminal states is vacuous too.
    """
    from statusguard.verify._smt import Encoding, z3_version

    head = [
        f"statusguard obligation program for lifecycle {lc.name!r}",
        f"fingerprint {lc.fingerprint}; written with z3 {z3_version()}",
        "run: z3 FILE.smt2  -> first answer sat = violated, unsat = proved",
    ]
    builtin: dict[str, Callable[[Encoding], Any]] = {
        "reachable": Encoding.q_reachable,
        "no_dead_ends": Encoding.q_dead,
        "can_terminate": Encoding.q_trap,
        "deterministic": Encoding.q_nondet,
        "terminal_final": Encoding.q_terminal_exit,
    }
    out: dict[str, str] = {}
    # A fresh encoding per program: each file declares only the relations it uses.
    for name, make in builtin.items():
        enc = Encoding(lc)
        out[name] = enc.program([make(enc)], comment=[*head, f"obligation {name}"])
    for i, inv in enumerate(lc.invariants):
        enc = Encoding(lc)
        q, _, premise = enc.q_invariant(i, inv)
        q_p = enc.q_premise(i, premise)
        out[inv.name] = enc.program(
            [q, q_p],
            comment=[
                *head,
                f"obligation {inv.name} ({inv.kind}: {inv.describe()})",
                "second answer unsat = vacuous (its states are unreachable)",
            ],
        )
    return out
