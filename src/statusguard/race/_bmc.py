"""Bounded model checking: the shortest interleaving of N workers that breaks an obligation.

What it owns: :func:`bmc` (one step unrolled per depth over ``QF_BV``, "violated at exactly
step k" asked for k = 1, 2, ..., so the first hit is a shortest run), :class:`BmcResult`,
and the canonical counterexample: z3's model depends on what the process solved before,
so the recorded schedule is the first one of that depth in the explicit interpreter's
fixed search order, re-checked against the step BMC found.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from statusguard.lifecycle._deadline import expired, out_of_time, solver_ms
from statusguard.race._encoding import Encoding, solve, z3_module
from statusguard.race._interp import RaceInterpreter, step_violations
from statusguard.race._problem import RaceProblem
from statusguard.race._schedule import decode
from statusguard.results import Counterexample, TraceStep, Verdict

__all__ = [
    "CANONICAL_BUDGET",
    "BmcResult",
    "bmc",
    "explicit_violation",
    "schedule_counterexample",
]


@dataclass(frozen=True)
class BmcResult:
    """``status`` violated (with the shortest schedule), proved-to-bound, or unknown."""

    status: Verdict
    depth: int
    workers: int
    seconds: float
    counterexample: Counterexample | None = None
    obligation: str | None = None
    detail: str = ""


def bmc(
    problem: RaceProblem,
    obligations: Sequence[str],
    *,
    workers: int = 2,
    depth: int = 12,
    timeout: float = 30.0,
    symmetry: bool = False,
    budget: float | None = None,
    on_depth: Callable[[int, float], None] | None = None,
    canonical: bool = True,
) -> BmcResult:
    """Search for the shortest run (at most ``depth`` steps) breaking one of ``obligations``.

    Returns ``violated`` with the schedule, or ``proved`` meaning only "no violation
    within ``workers`` workers and ``depth`` steps" (bounded), or ``unknown``.
    """
    z3 = z3_module()
    t0 = time.perf_counter()
    enc = Encoding(problem, z3)
    N = workers
    vbits = max(8, (depth + 1).bit_length() + 1)
    S, R = enc.S(), enc.R()
    solver = z3.SolverFor("QF_BV")
    solver.set("timeout", max(1, int(timeout * 1000)))
    roles = [problem.role(w) for w in range(N)]

    def frame(k: int) -> dict[str, Any]:
        return {
            "g": z3.Const(f"g_{k}", S),
            "v": z3.BitVec(f"v_{k}", vbits),
            "pend": [z3.Bool(f"pend_{k}_{w}") for w in range(N)],
            "rs": [z3.Const(f"rs_{k}_{w}", S) for w in range(N)],
            "rv": [z3.BitVec(f"rv_{k}_{w}", vbits) for w in range(N)],
            "rq": [z3.Const(f"rq_{k}_{w}", R) for w in range(N)],
            "tgt": [z3.Const(f"tgt_{k}_{w}", S) for w in range(N)],
            "F": [{f: z3.Bool(f"fact_{f}_{k}_{w}") for f in enc.facts} for w in range(N)],
        }

    frames = [frame(0)]
    f0 = frames[0]
    solver.add(f0["g"] == enc.sval(problem.start_status), f0["v"] == 0)
    solver.add(*[z3.Not(p) for p in f0["pend"]])
    steps: list[dict[str, Any]] = []
    # Symmetry: workers with the same role are interchangeable, so only runs in which
    # such a worker first acts after the previous one (in numbering) are explored.
    started = [z3.BoolVal(False)] * N
    for k in range(depth):
        frames.append(frame(k + 1))
        step, violation = _unroll(enc, solver, frames[k], frames[k + 1], k, roles, obligations)
        steps.append(step)
        if symmetry:
            for w in range(1, N):
                if set(roles[w]) == set(roles[w - 1]):
                    solver.add(z3.Implies(step["who"] == w, started[w - 1]))
            started = [z3.Or(started[w], step["who"] == w) for w in range(N)]
        if expired():
            return BmcResult(
                Verdict.UNKNOWN,
                k,
                N,
                time.perf_counter() - t0,
                detail=f"z3 returned no answer: {out_of_time(f'the search at depth {k + 1}')}",
            )
        solver.set("timeout", solver_ms(timeout))
        solver.push()
        solver.add(violation)
        r = solve(solver)
        if r == "sat":
            m = solver.model()
            cex = decode(enc, m, frames, steps)
            which = _classify(enc, cex.schedule, obligations, cex.config)
            if cex.schedule and cex.schedule[-1]["action"] in ("write", "rejected"):
                last = {**cex.schedule[-1], "violates": which}
                cex = replace(cex, schedule=(*cex.schedule[:-1], last))
            solver.pop()
            found = _canonical(enc, obligations, N, k + 1) if canonical else None
            if found is not None:
                cex, which = found
            return BmcResult(
                Verdict.VIOLATED,
                k + 1,
                N,
                time.perf_counter() - t0,
                cex,
                which,
                f"shortest counterexample: {k + 1} steps, {N} workers",
            )
        solver.pop()
        if r != "unsat":
            return BmcResult(
                Verdict.UNKNOWN,
                k + 1,
                N,
                time.perf_counter() - t0,
                detail=f"z3 returned {r} at depth {k + 1}",
            )
        solver.add(z3.Not(violation))  # proved at this depth: keep it as a lemma
        elapsed = time.perf_counter() - t0
        if on_depth is not None:
            on_depth(k + 1, elapsed)
        if budget is not None and elapsed > budget and k + 1 < depth:
            return BmcResult(
                Verdict.UNKNOWN,
                k + 1,
                N,
                elapsed,
                detail=f"stopped after depth {k + 1}: over the {budget:g} s budget",
            )
    return BmcResult(
        Verdict.PROVED,
        depth,
        N,
        time.perf_counter() - t0,
        detail=f"no counterexample with {N} workers up to depth {depth} (bounded)",
    )


def _unroll(
    enc: Encoding,
    solver: Any,
    a: dict[str, Any],
    b: dict[str, Any],
    k: int,
    roles: Sequence[Sequence[str]],
    obligations: Sequence[str],
) -> tuple[dict[str, Any], Any]:
    """Add step ``k`` (frame ``a`` to ``b``); return its choices and "it violates" term."""
    z3 = enc.z3
    N = len(roles)
    R = enc.R()
    one = z3.BitVecVal(1, a["v"].size())
    who = z3.BitVec(f"who_{k}", 8)
    is_read = z3.Bool(f"isread_{k}")
    c_r = z3.Const(f"creq_{k}", R)
    c_F = {f: z3.Bool(f"cfact_{f}_{k}") for f in enc.facts}
    solver.add(z3.ULT(who, N))
    # the acting worker's read or write
    g_cases: list[tuple[Any, Any]] = []
    v_cases: list[tuple[Any, Any]] = []
    step_ok, step_g2, step_basis = [], [], []
    for w in range(N):
        act = who == w
        rd, wr = z3.And(act, is_read), z3.And(act, z3.Not(is_read))
        Fw = a["F"][w]
        ok, g2, basis = enc.write(
            a["g"], a["v"], a["rs"][w], a["rv"][w], a["rq"][w], Fw, a["tgt"][w]
        )
        step_ok.append(ok)
        step_g2.append(g2)
        step_basis.append(basis)
        solver.add(
            z3.Implies(
                rd,
                z3.And(
                    z3.Not(a["pend"][w]),
                    enc.valid_req(c_r, roles[w]),
                    enc.enabled(a["g"], c_r, c_F),
                    b["pend"][w],
                    b["rs"][w] == a["g"],
                    b["rv"][w] == a["v"],
                    b["rq"][w] == c_r,
                    b["tgt"][w] == enc.nxt(a["g"], c_r, c_F),
                    *[b["F"][w][f] == c_F[f] for f in enc.facts],
                ),
            )
        )
        keep = z3.And(
            b["rs"][w] == a["rs"][w],
            b["rv"][w] == a["rv"][w],
            b["rq"][w] == a["rq"][w],
            b["tgt"][w] == a["tgt"][w],
            *[b["F"][w][f] == a["F"][w][f] for f in enc.facts],
        )
        solver.add(z3.Implies(wr, z3.And(a["pend"][w], z3.Not(b["pend"][w]), keep)))
        solver.add(z3.Implies(z3.Not(act), z3.And(b["pend"][w] == a["pend"][w], keep)))
        g_cases.append((wr, g2))
        v_cases.append((wr, z3.If(ok, a["v"] + one, a["v"])))
    g_next, v_next = a["g"], a["v"]
    for cond, val in g_cases:
        g_next = z3.If(cond, val, g_next)
    for cond, val in v_cases:
        v_next = z3.If(cond, val, v_next)
    solver.add(b["g"] == g_next, b["v"] == v_next)
    step = {"who": who, "read": is_read, "creq": c_r, "cF": c_F}
    # violation at step k: some worker's write breaks an obligation
    bad = []
    for w in range(N):
        wr = z3.And(who == w, z3.Not(is_read))
        for name in obligations:
            obl = enc.obligation(
                name,
                step_ok[w],
                a["g"],
                step_g2[w],
                a["v"],
                step_basis[w],
                a["rv"][w],
                a["rq"][w],
                a["F"][w],
            )
            bad.append(z3.And(wr, z3.Not(obl)))
    violation = z3.Or(bad)
    return step, violation


CANONICAL_BUDGET = 20_000
"""States the explicit search may visit to canonicalise a counterexample."""


def _canonical(
    enc: Encoding, obligations: Sequence[str], workers: int, depth: int
) -> tuple[Counterexample, str] | None:
    """The first shortest counterexample in the explicit interpreter's fixed search order.

    z3's model depends on what the process solved before, so recorded counterexamples
    are taken from a deterministic breadth-first search of the same depth instead (config
    settings in order, then workers, requests, fact values). ``None`` if the search
    would exceed :data:`CANONICAL_BUDGET` states or the problem carries a planted bug.
    """
    p = enc.p
    if p.mutation is not None:
        return None
    for cfg in p.config_settings():
        interp = RaceInterpreter(
            p.lifecycle, p.protocol, cfg, start=p.start_status, workers=workers, roles=p.roles
        )
        try:
            schedule = interp.first_violation(obligations, depth, budget=CANONICAL_BUDGET)
        except OverflowError:
            return None
        if schedule is not None:
            trace = [
                TraceStep(s["from"], s["event"] or "save", s["facts"])
                for s in schedule
                if s["action"] == "write"
            ]
            trace.append(TraceStep(schedule[-1]["status"]))
            which = str(schedule[-1]["violates"])
            return Counterexample(dict(cfg), tuple(trace), tuple(schedule)), which
    return None


def explicit_violation(
    problem: RaceProblem, obligations: Sequence[str], *, workers: int, depth: int
) -> BmcResult | None:
    """The shortest run breaking one of ``obligations``, by the explicit interpreter alone.

    The same run :func:`bmc` reports (its counterexample *is* this search's first
    shortest schedule: config settings in order, then the search order), found without
    z3: ``violated``; ``proved`` (bounded) when there is none within ``depth`` steps;
    ``None`` when it cannot tell (the search would exceed :data:`CANONICAL_BUDGET`
    states, or the problem plants a bug: the interpreter runs only the real protocols).
    A run it finds is real, so no proof can contradict it.
    """
    if problem.mutation is not None:
        return None
    t0 = time.perf_counter()
    best: tuple[int, dict[str, bool], list[dict[str, Any]]] | None = None
    for cfg in problem.config_settings():
        interp = RaceInterpreter(
            problem.lifecycle,
            problem.protocol,
            cfg,
            start=problem.start_status,
            workers=workers,
            roles=problem.roles,
        )
        try:
            schedule = interp.first_violation(
                obligations, depth if best is None else best[0], budget=CANONICAL_BUDGET
            )
        except OverflowError:
            return None
        if schedule is not None and (best is None or len(schedule) < best[0]):
            best = (len(schedule), cfg, schedule)
    if best is None:
        return BmcResult(
            Verdict.PROVED,
            depth,
            workers,
            time.perf_counter() - t0,
            detail=f"no counterexample with {workers} workers up to depth {depth} (bounded)",
        )
    steps, cfg, schedule = best
    return BmcResult(
        Verdict.VIOLATED,
        steps,
        workers,
        time.perf_counter() - t0,
        schedule_counterexample(cfg, schedule),
        str(schedule[-1]["violates"]),
        f"shortest counterexample: {steps} steps, {workers} workers",
    )


def schedule_counterexample(
    config: Mapping[str, bool], schedule: Sequence[dict[str, Any]]
) -> Counterexample:
    """A counterexample from an interpreter's schedule (its writes are the trace)."""
    trace = [
        TraceStep(s["from"], s["event"] or "save", s["facts"])
        for s in schedule
        if s["action"] == "write"
    ]
    trace.append(TraceStep(schedule[-1]["status"]))
    return Counterexample(dict(config), tuple(trace), tuple(schedule))


def _classify(
    enc: Encoding,
    schedule: Sequence[Mapping[str, Any]],
    obligations: Sequence[str],
    config: Mapping[str, bool],
) -> str:
    """Name the obligation the last step breaks (re-checked by the explicit interpreter)."""
    found = step_violations(enc.p.lifecycle, schedule[-1], enc.p.protocol, config)
    for name in obligations:
        if name in found:
            return name
    raise AssertionError(
        f"BMC and the explicit interpreter disagree on step {schedule[-1]!r}: "
        f"the interpreter finds {sorted(found)}, BMC searched {list(obligations)}"
    )
