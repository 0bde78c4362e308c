"""Running the race scenarios a lifecycle declares (``Lifecycle.race_scenarios``).

What it owns: :func:`scenarios_of` (a lifecycle's scenarios, their expected verdicts
checked against the protocol registry), :func:`scenario_named`, :func:`check_scenario`
(a scenario's harm under one protocol) and :func:`idle_roles` (roles that can never act,
so a scenario that no longer applies says so). The scenarios themselves are data of the
lifecycle layer (:class:`statusguard.lifecycle.RaceScenario`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from statusguard._text import did_you_mean
from statusguard.errors import InvalidLifecycle, UnknownScenario
from statusguard.lifecycle._model import Lifecycle
from statusguard.lifecycle._scenarios import KEY, SAVE, RaceScenario
from statusguard.race._check import combined, rank_proof
from statusguard.race._parametric import PARAMETRIC, PARAMETRIC_METHOD, premises, theorems_proof
from statusguard.race._problem import RaceProblem
from statusguard.race._protocols import PROTOCOLS, REGISTRY
from statusguard.results import ObligationResult, Verdict

__all__ = ["RANKED_METHOD", "check_scenario", "idle_roles", "scenario_named", "scenarios_of"]

RANKED_METHOD = (
    "lifecycle-parametric (legal_steps, absorbing) + rank argument (fresh_decision: the "
    "transitions reachable from the scenario's start through its requests form no cycle); z3"
)
"""The ``method`` of a status compare's scenario proved from the parametric proof and the
rank argument."""


def scenarios_of(lc: Lifecycle[Any, Any]) -> tuple[RaceScenario, ...]:
    """The scenarios ``lc`` declares; :class:`InvalidLifecycle` (naming the JSON path) if
    one expects a verdict under a protocol statusguard does not model."""
    for i, sc in enumerate(lc.race_scenarios):
        for name in sc.expected:
            if name not in REGISTRY:
                raise InvalidLifecycle(
                    f"race scenario {sc.name!r} expects a verdict under unknown protocol "
                    f"{name!r}; expected one of: {', '.join(repr(p) for p in PROTOCOLS)}"
                    + did_you_mean(name, PROTOCOLS),
                    (KEY, i, "expected", name),
                    lifecycle=lc.name,
                )
    return lc.race_scenarios


def scenario_named(lc: Lifecycle[Any, Any], name: str) -> RaceScenario:
    """The scenario ``name`` of ``lc``; :class:`UnknownScenario` otherwise."""
    scenarios = scenarios_of(lc)
    for sc in scenarios:
        if sc.name == name:
            return sc
    raise UnknownScenario(name, [s.name for s in scenarios], lifecycle=lc.name)


def check_scenario(
    lc: Lifecycle[Any, Any],
    scenario: RaceScenario,
    protocol: str,
    *,
    config: Mapping[str, bool] | None = None,
    workers: int | None = None,
    depth: int = 12,
    timeout: float = 10.0,
    method: str = PARAMETRIC,
) -> ObligationResult:
    """A scenario's harm (illegal step, absorbing state left, stale decision) under a protocol.

    Illegal steps are searched first, so a counterexample shows the illegal
    transition when there is one; stale decisions after. With ``method``
    ``lifecycle-parametric``, a protocol that is harmless on every lifecycle (all three
    proved once, for any start and any requests) is harmless here when the scenario
    meets the premises, and so is a status compare when, besides, no cycle is reachable
    from the start through the scenario's requests (:data:`RANKED_METHOD`); otherwise
    (and with ``per-model``) the scenario is searched.
    """
    problem = RaceProblem(
        lc,
        protocol,
        scenario.start,
        scenario.roles,
        {**scenario.config, **(config or {})},
    )
    name = f"race.scenario.{scenario.name}.{protocol}"
    groups = [["legal_steps", "absorbing"], ["fresh_decision"]]
    res = _inherited(problem, name, [o for g in groups for o in g], timeout, method)
    if res is None:
        res = combined(problem, name, groups, workers or len(scenario.roles), depth, timeout)
    idle = idle_roles(problem)
    if idle:
        names = "; ".join(f"role {i + 1} ({', '.join(problem.roles[i])})" for i in idle)  # type: ignore[index]
        note = (
            f"scenario no longer applies to this lifecycle: {names} can never act from "
            f"{problem.start_status}; update or drop the scenario"
        )
        res = replace(res, detail=f"{note}. {res.detail}" if res.detail else note)
    return res


def _inherited(
    problem: RaceProblem, name: str, obligations: list[str], timeout: float, method: str
) -> ObligationResult | None:
    """``proved`` from the lifecycle-parametric proof, or ``None`` (search the scenario).

    A status compare's ``fresh_decision`` is no theorem (ABA needs a cycle), but within a
    scenario its graph may settle it: the rank argument proves it when no cycle is
    reachable from the scenario's start through its requests. A cycle (or a failed
    premise) leaves the scenario to the search, which finds the shortest run its roles
    allow.
    """
    if method != PARAMETRIC:
        return None
    t0 = time.perf_counter()
    proof = theorems_proof(problem.protocol, timeout=timeout)
    open_ = [o for o in obligations if not proof.proved(o)]
    by_rank = open_ == ["fresh_decision"] and problem.proto.fresh_when_acyclic
    if (open_ and not by_rank) or premises(problem):
        return None
    ranked = rank_proof(problem) if by_rank else None
    if by_rank and ranked is None:
        return None
    inherited = [o for o in obligations if o not in open_]
    how = (
        "proved for any number of workers and any length, once for every lifecycle, start "
        f"and requests ({', '.join(inherited)}); this scenario meets the premises (the "
        "absorbing states it reaches are closed; a write can happen)"
    )
    if ranked is None:
        return ObligationResult(
            name, Verdict.PROVED, time.perf_counter() - t0, PARAMETRIC_METHOD, how
        )
    return ObligationResult(
        name,
        Verdict.PROVED,
        time.perf_counter() - t0,
        RANKED_METHOD,
        f"{how}; fresh_decision {ranked.detail.removeprefix('proved ')}",
    )


def idle_roles(problem: RaceProblem) -> list[int]:
    """Roles (0-based) none of whose requests is ever enabled in a status reachable
    from the start through the problem's requests, under any allowed config."""
    if problem.roles is None:
        return []
    lc = problem.lifecycle
    reqs = set(problem.requests())
    cfg = problem.config

    def usable(t: Any) -> bool:
        return str(t.event) in reqs and all(cfg.get(n, v) == v for n, v in t.when)

    reach, frontier = {problem.start_status}, [problem.start_status]
    while frontier:
        s = frontier.pop()
        for t in lc.transitions:
            if usable(t) and s in {str(x) for x in t.sources} and str(t.target) not in reach:
                reach.add(str(t.target))
                frontier.append(str(t.target))
    out = []
    for i, role in enumerate(problem.roles):
        acts = SAVE in role  # a save acts unguarded, and by design writes no status under a guard
        acts = acts or any(
            usable(t) and str(t.event) in role and reach & {str(x) for x in t.sources}
            for t in lc.transitions
        )
        if not acts:
            out.append(i)
    return out
