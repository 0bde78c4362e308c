"""One race obligation's verdict: the unbounded proof, else the shortest counterexample.

What it owns: :func:`check_obligation` and :func:`combined` (induction first; for what it
cannot prove, BMC for a real interleaving; ``unknown`` when neither settles it, never
``proved``) and the method names reported with each result.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from statusguard.race._bmc import bmc, explicit_violation
from statusguard.race._induction import VACUOUS, InductionResult, induction
from statusguard.race._problem import RaceProblem
from statusguard.results import ObligationResult, Verdict

__all__ = ["BMC_METHOD", "EXPLICIT_METHOD", "INDUCTION_METHOD", "check_obligation", "combined"]

INDUCTION_METHOD = (
    "one-step induction, workers an uninterpreted sort (any number of workers, any length); z3"
)
BMC_METHOD = "bounded model checking, shortest interleaving; z3 QF_BV"
EXPLICIT_METHOD = (
    "explicit breadth-first search of the interleavings, shortest first (the run bounded "
    "model checking reports)"
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
            hit = explicit_violation(problem, group, workers=workers, depth=depth)
            if hit is None:  # it cannot tell: prove and search with z3
                break
            if hit.status is Verdict.VIOLATED:
                return ObligationResult(
                    name,
                    Verdict.VIOLATED,
                    time.perf_counter() - t0,
                    EXPLICIT_METHOD,
                    f"race.{hit.obligation} violated: {hit.detail}",
                    hit.counterexample,
                )
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
