"""Declared invariants: each kind writes its z3 query; this module judges the answers.

A kind's violation is step-shaped (a transition breaks it: the counterexample ends on
that step, like ``terminal_final``'s) or walk-shaped (a walk breaks it: the counterexample
is the shortest run from the initial state through the walk). Either way a proof whose
premise states are unreachable under every setting is vacuous, reported ``unknown``.
Imports :mod:`statusguard.verify._smt`, :mod:`~statusguard.verify._solve` and
:mod:`~statusguard.verify._witness` (and the layers below).
"""

from __future__ import annotations

from statusguard.lifecycle._invariants import Invariant
from statusguard.results import ObligationResult, TraceStep, Verdict
from statusguard.verify._smt import InvariantQuery, Walk
from statusguard.verify._solve import SolverUnknown
from statusguard.verify._witness import Run, edge_witness

__all__ = ["judge_invariant"]


def judge_invariant(run: Run, inv: Invariant, iq: InvariantQuery) -> ObligationResult:
    """The verdict on ``inv`` from the answers to its queries ``iq``."""
    kind = f"{inv.kind}: {inv.describe()}"
    if iq.walk is None:
        assert iq.reached is not None
        res = edge_witness(
            run, inv.name, iq.query, iq.reached, lambda t: f"violated by {run.edge_text(t)}", kind
        )
    else:
        res = _walk_witness(run, inv.name, kind, iq, iq.walk)
    if res.status is Verdict.PROVED and not run.any_reached(iq.premise_states, iq.premise):
        return run.result(
            inv.name,
            Verdict.UNKNOWN,
            f"vacuous: {kind}, but the state(s) it is about are unreachable "
            "under every config setting",
        )
    return res


def _walk_witness(
    run: Run, name: str, kind: str, iq: InvariantQuery, walk: Walk
) -> ObligationResult:
    enc = run.enc
    found = run.ask(iq.query.relation)
    if not found:
        return run.result(name, Verdict.PROVED, kind)
    reached = found if iq.reached is None else run.ask(iq.reached.relation)
    if not reached:
        return run.result(
            name,
            Verdict.VIOLATED,
            f"{kind}; a path exists but {walk.start} is unreachable from the "
            "initial state there, so there is no trace",
        )
    keys = {tuple(t) for t in reached}
    best: tuple[dict[str, bool], list[TraceStep]] | None = None
    for setting in enc.settings:
        if enc.setting_tuple(setting) not in keys:
            continue
        head = run.walk(setting, str(run.lc.initial), walk.start)
        tail = run.walk(setting, walk.start, walk.goal, avoid=walk.avoid, min_steps=walk.min_steps)
        if head is None or tail is None:
            raise SolverUnknown(f"{name}: no run reaches the reported state")
        path = head[:-1] + tail
        if best is None or len(path) < len(best[1]):
            best = (dict(setting), path)
    return run.violated(name, best, lambda _: f"{kind}; {walk.says}")
