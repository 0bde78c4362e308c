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

What it owns: the order of obligations, their timing, :func:`check_lifecycle` and
:func:`export_programs`; each obligation's query and judgement live in
:mod:`statusguard.verify._builtin` and :mod:`statusguard.verify._declared` (invariants,
whose queries their kinds write). Imports the rest of :mod:`statusguard.verify` and,
when race obligations are checked, :mod:`statusguard.race`.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable
from typing import Any

from statusguard.lifecycle._deadline import budget, expired, out_of_time
from statusguard.lifecycle._invariants import BUILTIN_OBLIGATIONS, Invariant
from statusguard.lifecycle._model import Lifecycle
from statusguard.race import race_obligations
from statusguard.results import ObligationResult, Verdict
from statusguard.verify._builtin import BUILTINS
from statusguard.verify._declared import judge_invariant
from statusguard.verify._smt import Encoding, InvariantQuery, invariant_query, z3_version
from statusguard.verify._solve import SolverUnknown
from statusguard.verify._witness import METHOD_FIXPOINT, Run

__all__ = [
    "BUILTIN_OBLIGATIONS",
    "METHOD_FIXPOINT",
    "PROVIDERS",
    "Provider",
    "builtin_obligations",
    "check_lifecycle",
    "export_programs",
]

Provider = Callable[..., list[ObligationResult]]
"""``provider(lc, *, timeout) -> results``: one more family of obligations."""


def check_lifecycle(
    lc: Lifecycle[Any, Any], *, timeout: float = 30.0, race_method: str | None = None
) -> list[ObligationResult]:
    """Prove every obligation of ``lc``; ``timeout`` (seconds) bounds them all together
    (encoding, graph searches and solving; an enclosing :func:`budget` too): what does not
    finish in time is ``unknown``.

    ``race_method`` picks how the race provider proves its obligations
    (``lifecycle-parametric``, the default, or ``per-model``).

    A result is ``proved`` only when z3 proved it for every path length and every
    config setting; ``unknown`` (timeout, solver gave up, vacuous) never counts as proved.
    """
    results: list[ObligationResult] = []
    with budget(timeout):
        for provider in PROVIDERS:
            if provider is race_provider and race_method is not None:
                results.extend(race_obligations(lc, timeout=timeout, method=race_method))
            else:
                results.extend(provider(lc, timeout=timeout))
    return results


def builtin_obligations(lc: Lifecycle[Any, Any], *, timeout: float) -> list[ObligationResult]:
    """The built-in structural obligations and every declared invariant, proved by z3
    (all within ``timeout`` seconds and the enclosing budget; the rest ``unknown``)."""
    with budget(timeout):
        if expired():
            detail = out_of_time("encoding the lifecycle")
            return [
                ObligationResult(name, Verdict.UNKNOWN, 0.0, METHOD_FIXPOINT, detail)
                for name in [*(b.name for b in BUILTINS), *(i.name for i in lc.invariants)]
            ]
        return _builtin_obligations(lc, timeout)


def _builtin_obligations(lc: Lifecycle[Any, Any], timeout: float) -> list[ObligationResult]:
    start = time.perf_counter()
    run = Run(lc, timeout)
    enc = run.enc
    builtin = []
    for b in BUILTINS:
        if not b.applies(lc):
            continue
        q = b.query(enc)
        builtin.append((b, q, b.helpers(enc, q)))
    queries = [q for _, main, helpers in builtin for q in (main, *helpers)]
    declared: list[tuple[Invariant, InvariantQuery | str]] = []
    for i, inv in enumerate(lc.invariants):
        try:
            iq = invariant_query(enc, i, inv)
        except NotImplementedError as exc:
            declared.append((inv, str(exc)))
            continue
        queries += [iq.query, iq.premise] + ([iq.reached] if iq.reached is not None else [])
        declared.append((inv, iq))
    run.solve(queries)
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

    for n, (b, q, helpers) in enumerate(builtin):
        timed(b.name, functools.partial(b.judge, run, q, helpers), setup if n == 0 else 0.0)
    for inv, asked in declared:
        if isinstance(asked, str):
            results.append(ObligationResult(inv.name, Verdict.UNKNOWN, 0.0, METHOD_FIXPOINT, asked))
        else:
            timed(inv.name, functools.partial(judge_invariant, run, inv, asked))
    return results


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
    head = [
        f"statusguard obligation program for lifecycle {lc.name!r}",
        f"fingerprint {lc.fingerprint}; written with z3 {z3_version()}",
        "run: z3 FILE.smt2  -> first answer sat = violated, unsat = proved",
    ]
    out: dict[str, str] = {}
    # A fresh encoding per program: each file declares only the relations it uses.
    for b in BUILTINS:
        if not b.applies(lc):
            continue
        enc = Encoding(lc)
        out[b.name] = enc.program([b.query(enc)], comment=[*head, f"obligation {b.name}"])
    for i, inv in enumerate(lc.invariants):
        enc = Encoding(lc)
        iq = invariant_query(enc, i, inv)
        out[inv.name] = enc.program(
            [iq.query, iq.premise],
            comment=[
                *head,
                f"obligation {inv.name} ({inv.kind}: {inv.describe()})",
                "second answer unsat = vacuous (its states are unreachable)",
            ],
        )
    return out
