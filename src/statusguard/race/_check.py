"""One race obligation's verdict: the unbounded proof, else the shortest counterexample.

What it owns: :func:`check_obligation` and :func:`combined` (induction first; for what it
cannot prove, BMC for a real interleaving; ``unknown`` when neither settles it, never
``proved``), :func:`without_unrolling` (what a model-dependent obligation gets without
encoding the model for z3: the explicit search's shortest run, or the rank argument),
:func:`rank_proof` (the rank argument alone, with no counterexample built) and
the method names reported with each result.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from graphlib import CycleError, TopologicalSorter
from typing import Any

from statusguard.lifecycle._paths import Hop, bfs, graph, walk
from statusguard.race._bmc import bmc, explicit_violation, schedule_counterexample
from statusguard.race._induction import VACUOUS, InductionResult, induction
from statusguard.race._interp import RaceInterpreter, step_violations
from statusguard.race._problem import RaceProblem
from statusguard.results import ObligationResult, Verdict

__all__ = [
    "BMC_METHOD",
    "CYCLE_METHOD",
    "EXPLICIT_METHOD",
    "INDUCTION_METHOD",
    "RANK_METHOD",
    "check_obligation",
    "combined",
    "rank_proof",
    "without_unrolling",
]

INDUCTION_METHOD = (
    "one-step induction, workers an uninterpreted sort (any number of workers, any length); z3"
)
BMC_METHOD = "bounded model checking, shortest interleaving; z3 QF_BV"
EXPLICIT_METHOD = (
    "explicit breadth-first search of the interleavings, shortest first (the run bounded "
    "model checking reports)"
)
CYCLE_METHOD = (
    "a reachable cycle walked under a stale read, the schedule replayed by the explicit interpreter"
)
RANK_METHOD = (
    "rank argument: the transitions reachable from the start form no cycle, so a status "
    "unchanged since the read means no write since (any number of workers, any length)"
)


def check_obligation(
    problem: RaceProblem,
    obligation: str,
    *,
    workers: int = 2,
    depth: int = 12,
    timeout: float = 10.0,
    proof: InductionResult | None = None,
) -> ObligationResult:
    """One obligation: the unbounded proof, else the shortest BMC counterexample.

    ``proof`` reuses an :func:`induction` run of the same problem (it times the share).
    """
    name = f"race.{obligation}.{problem.protocol}"
    return combined(problem, name, [[obligation]], workers, depth, timeout, proof)


def combined(
    problem: RaceProblem,
    name: str,
    groups: Sequence[Sequence[str]],
    workers: int,
    depth: int,
    timeout: float,
    proof: InductionResult | None = None,
) -> ObligationResult:
    """The obligations of ``groups`` as one result ``name``: proved if induction proves them
    all; else BMC per group (in order) for the first violation; else ``unknown``.

    Without a finished proof, the explicit search goes first: a run it finds is the
    violation BMC would report (the same shortest, canonical schedule) without any z3.
    """
    t0 = time.perf_counter()
    all_obl = [o for g in groups for o in g]
    if proof is None or not all(o in proof.verdicts for o in all_obl):
        for group in groups:
            found = _explicit(problem, name, group, workers, depth, t0)
            if found is None:  # it cannot tell: prove and search with z3
                break
            if found.status is Verdict.VIOLATED:
                return found
    if proof is not None and all(o in proof.verdicts for o in all_obl):
        ind = proof
        t0 -= proof.seconds / max(1, len(proof.verdicts))
    else:
        ind = induction(problem, all_obl, timeout=timeout)
    if ind.vacuous:
        return ObligationResult(
            name, Verdict.UNKNOWN, time.perf_counter() - t0, INDUCTION_METHOD, VACUOUS
        )
    if all(ind.verdicts[o] is Verdict.PROVED for o in all_obl):
        return ObligationResult(
            name,
            Verdict.PROVED,
            time.perf_counter() - t0,
            INDUCTION_METHOD,
            f"proved for any number of workers and any length ({ind.invariant} invariant; "
            f"{', '.join(all_obl)})",
        )
    notes = []
    for group in groups:
        open_ = [o for o in group if ind.verdicts[o] is not Verdict.PROVED]
        if not open_:
            continue
        res = bmc(problem, open_, workers=workers, depth=depth, timeout=timeout)
        if res.status is Verdict.VIOLATED:
            return ObligationResult(
                name,
                Verdict.VIOLATED,
                time.perf_counter() - t0,
                BMC_METHOD,
                f"race.{res.obligation} violated: {res.detail}",
                res.counterexample,
            )
        notes.append(
            f"{', '.join(open_)}: induction failed ({ind.details[open_[0]]}); {res.detail}"
        )
    return ObligationResult(
        name,
        Verdict.UNKNOWN,
        time.perf_counter() - t0,
        f"{INDUCTION_METHOD} + {BMC_METHOD}",
        "; ".join(notes),
    )


def _explicit(
    problem: RaceProblem,
    name: str,
    group: Sequence[str],
    workers: int,
    depth: int,
    t0: float,
) -> ObligationResult | None:
    """The explicit search's shortest run breaking ``group`` as result ``name``: ``violated``;
    ``proved`` only within the bound, so an ``unknown``-free caller must still prove it;
    ``None`` when the search cannot tell."""
    hit = explicit_violation(problem, group, workers=workers, depth=depth)
    if hit is None:
        return None
    if hit.status is not Verdict.VIOLATED:
        return ObligationResult(name, hit.status, time.perf_counter() - t0, EXPLICIT_METHOD, "")
    return ObligationResult(
        name,
        Verdict.VIOLATED,
        time.perf_counter() - t0,
        EXPLICIT_METHOD,
        f"race.{hit.obligation} violated: {hit.detail}",
        hit.counterexample,
    )


def without_unrolling(
    problem: RaceProblem, obligation: str, *, workers: int = 2, depth: int = 12
) -> ObligationResult | None:
    """``obligation``'s verdict on ``problem`` when the model's graph settles it.

    For an obligation that depends on the model (not one of the protocol's theorems). A
    status-compare protocol's ``fresh_decision`` (ABA): every committed write follows a
    transition, so the stored status can come back to the one a worker read only along a
    cycle. With no cycle reachable from the start it is proved (the rank argument); with
    one, a worker reads at the cycle while another walks it: that schedule, replayed by the
    interpreter, is the counterexample (one cycle's, not necessarily the shortest). Other
    obligations: the explicit search's shortest run breaking it (the run BMC would report,
    bounded by :data:`~statusguard.race._bmc.CANONICAL_BUDGET` states and ``depth``).
    ``None`` when neither settles it: then the obligation is proved or searched with z3.
    Linear in the model's size (the search: in the states of the interleavings it visits).
    """
    t0 = time.perf_counter()
    name = f"race.{obligation}.{problem.protocol}"
    if problem.mutation is not None:
        return None
    if obligation == "fresh_decision" and problem.proto.fresh_when_acyclic:
        return _rank(problem, name, t0)
    found = _explicit(problem, name, [obligation], workers, depth, t0)
    return found if found is not None and found.status is Verdict.VIOLATED else None


def rank_proof(problem: RaceProblem) -> ObligationResult | None:
    """A status compare's ``fresh_decision`` proved by the rank argument when no cycle is
    reachable from the start through the problem's requests, under every config setting;
    ``None`` when one is (no counterexample is built: the caller searches, or asks
    :func:`without_unrolling` for the cycle's schedule). Linear in the model's size."""
    t0 = time.perf_counter()
    if problem.mutation is not None or not problem.proto.fresh_when_acyclic:
        return None
    if _reachable_cycle(problem) is not None:
        return None
    return _acyclic(problem, f"race.fresh_decision.{problem.protocol}", t0)


def _reachable_cycle(
    problem: RaceProblem,
) -> tuple[dict[str, bool], dict[str, list[Hop]], tuple[Hop, ...], list[str]] | None:
    """The first config setting with a cycle reachable from the start through the
    problem's requests: the setting, its request graph, the walk from the start to the
    cycle and the cycle (its first status repeated last); ``None`` if there is none."""
    lc, requests, start = problem.lifecycle, set(problem.requests()), problem.start_status
    for cfg in problem.config_settings():
        adj = {s: [h for h in hops if h.event in requests] for s, hops in graph(lc, cfg).items()}
        parent = bfs(start, adj)
        try:  # graphlib reads the mapping as node -> predecessors: its cycles run backwards
            TopologicalSorter({s: {h.target for h in adj[s]} for s in parent}).prepare()
        except CycleError as exc:
            cycle = list(reversed(exc.args[1]))
            return cfg, adj, walk(parent, start, cycle[0]), cycle
    return None


def _rank(problem: RaceProblem, name: str, t0: float) -> ObligationResult | None:
    """``fresh_decision`` for a status compare: proved without a reachable cycle, else the
    schedule that walks one under a stale read (``None`` if the interpreter disagrees)."""
    found = _reachable_cycle(problem)
    if found is None:
        return _acyclic(problem, name, t0)
    cfg, adj, prefix, cycle = found
    schedule = _walk_under_stale_read(problem, cfg, adj, prefix, cycle)
    if schedule is None:
        return None
    return ObligationResult(
        name,
        Verdict.VIOLATED,
        time.perf_counter() - t0,
        CYCLE_METHOD,
        f"race.fresh_decision violated: a counterexample: {len(schedule)} steps, 2 workers "
        f"(the status comes back along {' -> '.join(cycle)})",
        schedule_counterexample(cfg, schedule),
    )


def _acyclic(problem: RaceProblem, name: str, t0: float) -> ObligationResult:
    return ObligationResult(
        name,
        Verdict.PROVED,
        time.perf_counter() - t0,
        RANK_METHOD,
        "proved for any number of workers and any length: no status reachable from "
        f"{problem.start_status!r} can come back to itself, under every config setting",
    )


def _walk_under_stale_read(
    problem: RaceProblem,
    cfg: dict[str, bool],
    adj: dict[str, list[Hop]],
    prefix: Sequence[Hop],
    cycle: Sequence[str],
) -> list[dict[str, Any]] | None:
    """Worker 1 walks ``prefix`` to the cycle's first status, worker 2 reads there and
    decides its first step, worker 1 walks the cycle back, worker 2 commits. The
    interpreter runs every step (its own choices of facts); the schedule is returned only
    if its last write breaks ``fresh_decision``."""
    interp = RaceInterpreter(
        problem.lifecycle, problem.protocol, cfg, start=problem.start_status, workers=2
    )
    world = interp.initial()
    schedule: list[dict[str, Any]] = []

    def decide(w: int, target: str, events: set[str]) -> bool:
        nonlocal world
        for request, facts in interp.choices(world, w):
            if request in events:
                nxt, entry = interp.read(world, w, request, facts)
                decided = nxt.pending[w]
                if decided is not None and decided.target == target:
                    world = nxt
                    schedule.append(entry)
                    return True
        return False

    def commit(w: int) -> dict[str, Any]:
        nonlocal world
        world, entry = interp.write(world, w)
        schedule.append(entry)
        return entry

    def events(src: str, dst: str) -> set[str]:
        return {h.event for h in adj[src] if h.target == dst}

    for hop in prefix:  # a walk from the start to cycle[0]
        if not decide(0, hop.target, {hop.event}):
            return None
        commit(0)
    if not decide(1, cycle[1], events(cycle[0], cycle[1])):
        return None
    for src, dst in itertools.pairwise(cycle):
        if not decide(0, dst, events(src, dst)):
            return None
        commit(0)
    last = commit(1)
    broken = step_violations(problem.lifecycle, last, problem.protocol, cfg)
    if "fresh_decision" not in broken:
        return None
    last["violates"] = "fresh_decision"
    return schedule
