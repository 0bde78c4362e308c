"""The race obligations in the gate: what each check is expected to give.

What it owns: :class:`RaceCheck` (a result and the verdict the gate expects),
:func:`race_checks` (the four obligations per protocol, expected proved where they are the
protocol's theorems, then each declared scenario per protocol with its expected verdict),
:func:`race_results`, and :func:`race_obligations` / :func:`as_gate_obligation`, the race
provider of ``check_lifecycle`` (an expected race becomes a ``.race_found`` negative
control).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from statusguard.lifecycle._deadline import OUT_OF_TIME, expired, out_of_time, remaining
from statusguard.lifecycle._model import Lifecycle
from statusguard.race._check import check_obligation, without_unrolling
from statusguard.race._induction import InductionResult, induction
from statusguard.race._parametric import (
    METHODS,
    PARAMETRIC,
    PARAMETRIC_METHOD,
    premises,
    theorems_proof,
)
from statusguard.race._problem import RaceProblem
from statusguard.race._protocols import OBLIGATIONS, PROTOCOLS, protocol_named
from statusguard.race._scenarios import check_scenario, scenario_named, scenarios_of
from statusguard.results import ObligationResult, Verdict

__all__ = [
    "GAVE_UP",
    "RaceCheck",
    "as_gate_obligation",
    "race_checks",
    "race_obligations",
    "race_results",
]

GAVE_UP = "z3 returned"
"""How a detail starts when the solver gave up (not a lost negative control)."""


@dataclass(frozen=True)
class RaceCheck:
    """A race obligation's result and the verdict the gate expects (``None``: not gated)."""

    result: ObligationResult
    expected: Verdict | None
    protocol: str
    scenario: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the gate passes this check."""
        return self.expected is None or self.result.status is self.expected


def race_checks(
    lc: Lifecycle[Any, Any],
    *,
    config: Mapping[str, bool] | None = None,
    protocols: Sequence[str] = PROTOCOLS,
    obligations: Sequence[str] = OBLIGATIONS,
    scenarios: bool | Sequence[str] = True,
    workers: int = 2,
    depth: int = 12,
    timeout: float = 10.0,
    gated_only: bool = False,
    scenario_workers: int | None = None,
    method: str = PARAMETRIC,
) -> list[RaceCheck]:
    """Every race obligation of ``lc`` with the verdict the gate expects.

    ``obligations`` per protocol, then the scenarios ``lc`` declares (``scenarios``: all,
    none, or the ones named), per protocol. ``config`` fixes config flags; the rest range
    over every setting. ``gated_only`` skips the checks with no expected verdict
    (they depend on the lifecycle, e.g. ``unguarded`` legal_steps). A scenario runs with
    one worker per role unless ``scenario_workers`` is given.

    ``method`` (:data:`~statusguard.race._parametric.METHODS`): ``lifecycle-parametric``
    (the default) takes each obligation proved once for every lifecycle when ``lc`` meets
    the proof's premises, so its cost does not grow with the model; what it cannot take
    (an obligation that depends on the model, a premise that fails) is proved per model,
    as ``per-model`` does for everything. An obligation that depends on the model gets,
    before any per-model z3 work, what its graph settles
    (:func:`~statusguard.race._check.without_unrolling`: the shortest run that breaks it, or
    the rank argument for a status compare on an acyclic lifecycle).
    """
    if method not in METHODS:
        raise ValueError(f"unknown race method {method!r}; expected one of: {', '.join(METHODS)}")
    records = [protocol_named(p) for p in protocols]
    cfg = dict(config or {})
    out: list[RaceCheck] = []
    unmet: dict[Any, list[str]] = {}  # the premises each problem fails
    for proto in records if obligations else ():
        p = proto.name
        problem = RaceProblem(lc, p, None, None, cfg)
        wanted = [o for o in obligations if not (gated_only and o not in proto.theorems)]
        inherited = _inherited(problem, wanted, timeout, unmet) if method == PARAMETRIC else {}
        ind: InductionResult | None = None
        for o in wanted:
            expected = Verdict.PROVED if o in proto.theorems else None
            res = inherited.get(o)
            if res is None and expired():
                res = _out_of_time(f"race.{o}.{p}", "the race proof")
            if res is None and method == PARAMETRIC and expected is None:
                res = without_unrolling(problem, o, workers=workers, depth=depth)
            if res is None:
                if ind is None:
                    ind = induction(problem, timeout=remaining(timeout))
                res = check_obligation(
                    problem, o, workers=workers, depth=depth, timeout=remaining(timeout), proof=ind
                )
            out.append(RaceCheck(res, expected, p))
    if scenarios is True:
        chosen = scenarios_of(lc)
    elif scenarios is False:
        chosen = ()
    else:
        chosen = tuple(scenario_named(lc, name) for name in scenarios)
    for sc in chosen:
        if any(k in cfg and cfg[k] != v for k, v in sc.config.items()):
            continue
        for p in protocols:
            if gated_only and p not in sc.expected:
                continue
            if expired():  # never skipped: a scenario not searched in time is unknown
                res = _out_of_time(f"race.scenario.{sc.name}.{p}", "the scenario's search")
            else:
                res = check_scenario(
                    lc,
                    sc,
                    p,
                    config=cfg,
                    workers=scenario_workers,
                    depth=depth,
                    timeout=remaining(timeout),
                    method=method,
                )
            out.append(RaceCheck(res, sc.expected.get(p), p, sc.name))
    return out


def _out_of_time(name: str, doing: str) -> ObligationResult:
    return ObligationResult(name, Verdict.UNKNOWN, 0.0, "not run", out_of_time(doing))


def _inherited(
    problem: RaceProblem,
    obligations: Sequence[str],
    timeout: float,
    memo: dict[Any, list[str]],
) -> dict[str, ObligationResult]:
    """The obligations ``problem`` inherits from the lifecycle-parametric proof (proved for
    every lifecycle meeting the premises, which ``problem``'s lifecycle does)."""
    if not obligations or expired():
        return {}
    t0 = time.perf_counter()
    key = (problem.start_status, tuple(sorted(problem.config.items())), problem.requests())
    if key not in memo:  # the protocols of one run share them unless their requests differ
        memo[key] = premises(problem)
    if memo[key]:
        return {}
    fresh = theorems_proof(problem.protocol, timeout=remaining(timeout))
    share = (time.perf_counter() - t0) / len(obligations)
    return {
        o: ObligationResult(
            f"race.{o}.{problem.protocol}",
            Verdict.PROVED,
            share,
            PARAMETRIC_METHOD,
            "proved for any number of workers and any length, once for every lifecycle that "
            "meets the premises, as this one does (the absorbing states it reaches are "
            "closed; a write can happen)",
        )
        for o in obligations
        if fresh.proved(o)
    }


def race_results(
    lc: Lifecycle[Any, Any],
    *,
    config: Mapping[str, bool] | None = None,
    timeout: float = 10.0,
) -> list[ObligationResult]:
    """The race obligations' results (see :func:`race_checks` for the expected verdicts)."""
    return [c.result for c in race_checks(lc, config=config, timeout=timeout)]


def as_gate_obligation(check: RaceCheck) -> ObligationResult:
    """``check`` as an obligation that is ``proved`` exactly when the gate passes.

    A check expected to be *violated* (the unguarded negative controls, cas_status's
    known ABA) becomes ``<name>.race_found``: proved by its counterexample (kept as the
    witness), violated if the race is no longer found.
    """
    res = check.result
    if check.expected is not Verdict.VIOLATED:
        return res
    name = f"{res.obligation}.race_found"
    if res.status is Verdict.VIOLATED:
        return ObligationResult(
            name,
            Verdict.PROVED,
            res.seconds,
            res.method,
            f"expected race found (negative control): {res.detail}",
            res.counterexample,
        )
    if res.status is Verdict.UNKNOWN and (GAVE_UP in res.detail or OUT_OF_TIME in res.detail):
        return ObligationResult(name, Verdict.UNKNOWN, res.seconds, res.method, res.detail)
    return ObligationResult(
        name,
        Verdict.VIOLATED,
        res.seconds,
        res.method,
        "expected race NOT found, so the negative control is lost (did the protocol model, "
        f"the scenario or the lifecycle change?): {res.detail}",
    )


def race_obligations(
    lc: Lifecycle[Any, Any], *, timeout: float = 30.0, method: str = PARAMETRIC
) -> list[ObligationResult]:
    """The gated race obligations of ``lc`` for ``check_lifecycle``: all proved = gate passes."""
    return [
        as_gate_obligation(c)
        for c in race_checks(lc, timeout=timeout, gated_only=True, method=method)
    ]
