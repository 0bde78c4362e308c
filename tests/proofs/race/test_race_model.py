"""The race model: scenarios replay, planted bugs are caught, BMC agrees with the interpreter."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest

import statusguard as sg
from statusguard.race import (
    OBLIGATIONS,
    PROTOCOLS,
    REGISTRY,
    RaceInterpreter,
    RaceProblem,
    race_checks,
    render_schedule,
)
from statusguard.race import _interp as interp_module
from statusguard.race._bmc import bmc
from statusguard.race._check import check_obligation
from statusguard.race._induction import induction
from statusguard.race._interp import step_violations
from statusguard.race._scenarios import check_scenario
from statusguard.results import Verdict

GLANCE = sg.load("model/glance_image.py")
TASK = sg.load("model/glance_task.py")
GLANCE_SCENARIOS = GLANCE.race_scenarios
GUARDED = [p for p in PROTOCOLS if REGISTRY[p].guarded]


def _interp(lc: Any, protocol: str, cex: Any, scenario: Any = None, **kw: Any) -> RaceInterpreter:
    workers = max(s["worker"] for s in cex.schedule)
    return RaceInterpreter(
        lc,
        protocol,
        cex.config,
        start=scenario.start if scenario else None,
        workers=workers,
        roles=scenario.roles if scenario else None,
        **kw,
    )


@pytest.mark.parametrize("scenario", GLANCE_SCENARIOS, ids=lambda s: s.name)
def test_unguarded_scenario_counterexample_replays_to_an_illegal_transition(scenario: Any) -> None:
    res = check_scenario(GLANCE, scenario, "unguarded")
    assert res.status is Verdict.VIOLATED
    cex = res.counterexample
    assert cex is not None
    steps = _interp(GLANCE, "unguarded", cex, scenario).replay(cex.schedule)
    last = steps[-1]
    assert last["action"] == "write"
    assert {"legal_steps", "absorbing"} & set(last["violates"])
    # the interpreter reproduces the stored statuses BMC reported, step by step
    assert [s["status"] for s in steps] == [s["status"] for s in cex.schedule]
    # the committed target was decided on a status that is no longer stored
    assert last["read_status"] != last["from"]
    if last["event"] is None:  # a metadata save changed the status
        assert last["status"] != last["from"]
    else:
        with pytest.raises(sg.IllegalTransition):
            GLANCE.next(last["from"], last["event"], {**cex.config, **last["facts"]})


def test_delete_during_upload_is_a_resurrection() -> None:
    sc = next(s for s in GLANCE_SCENARIOS if s.name == "delete_during_upload")
    cex = check_scenario(GLANCE, sc, "unguarded").counterexample
    assert cex is not None
    last = _interp(GLANCE, "unguarded", cex, sc).replay(cex.schedule)[-1]
    assert (last["from"], last["status"]) == ("deleted", "active")
    assert "absorbing" in last["violates"]
    text = render_schedule(cex)
    assert "commits deleted -> active" in text
    assert "violates race.legal_steps" in text


@pytest.mark.parametrize("protocol", GUARDED)
@pytest.mark.parametrize("scenario", GLANCE_SCENARIOS, ids=lambda s: s.name)
def test_the_guard_rejects_the_unguarded_race(scenario: Any, protocol: str) -> None:
    """The unguarded race, replayed through the real Guard: the late write never commits."""
    cex = check_scenario(GLANCE, scenario, "unguarded").counterexample
    assert cex is not None
    schedule = [s for s in cex.schedule if s.get("request") != "save"]
    workers = {s["worker"] for s in schedule}
    schedule = [s for s in schedule if s["worker"] in workers]
    interp = _interp(GLANCE, protocol, cex, scenario, backend="guard")
    steps = interp.replay(schedule)
    for s in steps:
        if s["action"] != "read":
            assert not {"legal_steps", "absorbing"} & set(s["violates"]), s
    assert steps[-1]["action"] in ("rejected", "write")


@pytest.mark.parametrize("scenario", GLANCE_SCENARIOS, ids=lambda s: s.name)
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_scenario_verdicts_match_expectations(scenario: Any, protocol: str) -> None:
    res = check_scenario(GLANCE, scenario, protocol)
    assert res.status is scenario.expected[protocol], res.detail
    if res.status is Verdict.PROVED:
        assert "any number of workers" in res.detail


def test_cas_status_counterexamples_are_aba() -> None:
    for sc in GLANCE_SCENARIOS:
        if sc.expected["cas_status"] is not Verdict.VIOLATED:
            continue
        res = check_scenario(GLANCE, sc, "cas_status")
        cex = res.counterexample
        assert cex is not None
        steps = _interp(GLANCE, "cas_status", cex, sc).replay(cex.schedule)
        last = steps[-1]
        # every step is legal, but the winner decided on a status that left and came back
        assert all(not {"legal_steps", "absorbing"} & set(s.get("violates", ())) for s in steps)
        assert last["violates"] == ["fresh_decision"]
        assert last["read_status"] == last["from"]
        assert last["read_version"] < last["version"] - 1


@pytest.mark.parametrize("lc", [GLANCE, TASK], ids=lambda lc: lc.name)
@pytest.mark.parametrize("protocol", ["cas_version", "atomic_event"])
def test_guarded_protocols_are_proved_for_any_number_of_workers(lc: Any, protocol: str) -> None:
    ind = induction(RaceProblem(lc, protocol))
    assert all(ind.verdicts[o] is Verdict.PROVED for o in OBLIGATIONS), ind.details


def test_cas_status_keeps_steps_legal_but_not_fresh_on_glance() -> None:
    ind = induction(RaceProblem(GLANCE, "cas_status"))
    for o in ("legal_steps", "absorbing", "progress"):
        assert ind.verdicts[o] is Verdict.PROVED
    res = check_obligation(RaceProblem(GLANCE, "cas_status"), "fresh_decision")
    assert res.status is Verdict.VIOLATED
    assert res.counterexample is not None
    assert len(res.counterexample.schedule) == 6  # the shortest ABA


def test_cas_status_is_fresh_on_an_acyclic_lifecycle() -> None:
    ind = induction(RaceProblem(TASK, "cas_status"))
    assert ind.verdicts["fresh_decision"] is Verdict.PROVED
    assert ind.invariant == "rank"


TOGGLE = sg.Lifecycle(
    "toggle",
    states=["off", "on"],
    initial="off",
    transitions=[sg.Transition("toggle", "off", "on"), sg.Transition("toggle", "on", "off")],
)


@pytest.mark.parametrize(
    ("lc", "protocol", "mutation"),
    [
        (GLANCE, "cas_version", "skip_compare"),
        (GLANCE, "cas_status", "skip_compare"),
        (GLANCE, "atomic_event", "skip_compare"),
        # fire() computing the target from the stale read: harmless on Glance (every event
        # has one target per fact setting, and z3 proves it), caught where it matters
        (TOGGLE, "atomic_event", "stale_target"),
    ],
    ids=["cas_version-skip", "cas_status-skip", "atomic_event-skip", "atomic_event-stale"],
)
def test_a_planted_bug_breaks_the_unbounded_proof(lc: Any, protocol: str, mutation: str) -> None:
    sound = induction(RaceProblem(lc, protocol))
    assert sound.verdicts["legal_steps"] is Verdict.PROVED
    buggy = RaceProblem(lc, protocol, mutation=mutation)
    ind = induction(buggy)
    assert ind.verdicts["legal_steps"] is not Verdict.PROVED
    # and the bug is real: BMC finds an interleaving the explicit interpreter confirms
    res = bmc(buggy, ["legal_steps", "absorbing"], workers=2, depth=8)
    assert res.status is Verdict.VIOLATED
    assert res.counterexample is not None
    last = res.counterexample.schedule[-1]
    assert {"legal_steps", "absorbing"} & step_violations(
        lc, last, protocol, res.counterexample.config
    )


def test_stale_target_is_provably_harmless_on_glance() -> None:
    ind = induction(RaceProblem(GLANCE, "atomic_event", mutation="stale_target"))
    assert ind.verdicts["legal_steps"] is Verdict.PROVED


def test_a_planted_bug_in_the_ghost_version_breaks_cas_version_freshness() -> None:
    """Without a version compare, cas_version is cas_status: the ABA comes back."""
    buggy = RaceProblem(GLANCE, "cas_version", mutation="skip_compare")
    res = check_obligation(buggy, "fresh_decision")
    assert res.status is Verdict.VIOLATED


TINY = sg.Lifecycle(
    "tiny",
    states=["a", "b", "c", "z"],
    initial="a",
    terminal=["z"],
    flags=[sg.Flag("soft", sg.FlagKind.CONFIG), sg.Flag("big", sg.FlagKind.FACT)],
    transitions=[
        sg.Transition("go", "a", "b"),
        sg.Transition("back", "b", "a"),
        sg.Transition("jump", "a", "c", when={"big": True}),
        sg.Transition("end", ["b", "c"], "z", when={"soft": False}),
        sg.Transition("end", ["b", "c"], "a", when={"soft": True}),
    ],
)


@pytest.mark.parametrize("lc", [TINY, TASK], ids=lambda lc: lc.name)
@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("workers", [2, pytest.param(3, marks=pytest.mark.slow)])
def test_bmc_agrees_with_the_explicit_interpreter(lc: Any, protocol: str, workers: int) -> None:
    depth = 6
    for config in lc.config_settings():
        for obligation in OBLIGATIONS:
            problem = RaceProblem(lc, protocol, config=config)
            res = bmc(problem, [obligation], workers=workers, depth=depth)
            bfs = RaceInterpreter(lc, protocol, config, workers=workers).shortest_violation(
                [obligation], depth
            )
            if bfs is None:
                assert res.status is Verdict.PROVED, (config, obligation, res)
            else:
                assert res.status is Verdict.VIOLATED, (config, obligation)
                assert res.depth == bfs, (config, obligation)


def test_bmc_agrees_with_the_interpreter_on_glance_scenarios() -> None:
    for sc in GLANCE_SCENARIOS:
        for protocol in PROTOCOLS:
            cfg = {"delayed_delete": sc.config.get("delayed_delete", False)}
            problem = RaceProblem(GLANCE, protocol, sc.start, sc.roles, cfg)
            res = bmc(problem, ["legal_steps", "absorbing", "fresh_decision"], depth=6)
            bfs = RaceInterpreter(
                GLANCE, protocol, cfg, start=sc.start, roles=sc.roles
            ).shortest_violation(["legal_steps", "absorbing", "fresh_decision"], 6)
            assert (res.depth if res.status is Verdict.VIOLATED else None) == bfs, (
                sc.name,
                protocol,
            )


@pytest.mark.parametrize("protocol", GUARDED)
def test_model_and_guard_backends_agree_on_random_schedules(protocol: str) -> None:
    config = {"delayed_delete": True}
    model = RaceInterpreter(GLANCE, protocol, config, workers=3)
    guard = RaceInterpreter(GLANCE, protocol, config, workers=3, backend="guard")
    assert _backends_disagree(model, guard) is None


def _backends_disagree(model: RaceInterpreter, guard: RaceInterpreter) -> Any:
    """The first write on which the two backends differ over 60 random schedules, or None."""
    rng = random.Random(7)
    for _ in range(60):
        wm, wg = model.initial(), guard.initial()
        for _ in range(14):
            w = rng.randrange(3)
            if wm.pending[w] is None:
                choices = model.choices(wm, w)
                if not choices:
                    continue
                req, facts = rng.choice(choices)
                wm, _ = model.read(wm, w, req, facts)
                wg, _ = guard.read(wg, w, req, facts)
            else:
                wm, em = model.write(wm, w)
                wg, eg = guard.write(wg, w)
                if em != eg or wm != wg:
                    return em, eg
    return None


def test_the_backend_comparison_catches_a_wrong_guard_call(monkeypatch: Any) -> None:
    """A record whose guard call drops the version compare disagrees with its own step."""
    sound = REGISTRY["cas_version"]
    broken = dataclasses.replace(
        sound,
        guard_call=lambda guard, key, d: guard.move(key, d.target, d.status, facts=dict(d.facts)),
    )
    monkeypatch.setattr(interp_module, "protocol_named", lambda name: broken)
    config = {"delayed_delete": True}
    model = RaceInterpreter(GLANCE, "cas_version", config, workers=3)
    guard = RaceInterpreter(GLANCE, "cas_version", config, workers=3, backend="guard")
    found = _backends_disagree(model, guard)
    assert found is not None
    em, eg = found
    assert (em["action"], eg["action"]) == ("rejected", "write")  # the stale write got through


def test_the_guard_adapter_writes_with_the_registry_protocols() -> None:
    from statusguard.testing import GuardAdapter
    from statusguard.testing._adapters import WRITE_PROTOCOLS

    assert WRITE_PROTOCOLS == ("cas_status", "cas_version")
    guard: sg.Guard[Any, Any] = sg.Guard(GLANCE, sg.MemoryStore(), {"delayed_delete": False})
    for name in WRITE_PROTOCOLS:
        GuardAdapter(guard, name)
    with pytest.raises(ValueError, match="expected one of: 'cas_status', 'cas_version'"):
        GuardAdapter(guard, "atomic_event")


def test_race_checks_pass_the_gate_on_the_shipped_models() -> None:
    for lc in (GLANCE, TASK):
        checks = race_checks(lc)
        assert all(c.ok for c in checks), [c.result.to_json() for c in checks if not c.ok]
        gated = [c for c in checks if c.expected is not None]
        assert gated
    names = [c.result.obligation for c in race_checks(GLANCE, protocols=["unguarded"])]
    assert "race.scenario.delete_during_upload.unguarded" in names


def test_negative_control_fails_the_gate_if_the_race_disappears() -> None:
    """If the unguarded model stopped finding the race, the gate would say so."""
    sc = next(s for s in GLANCE.race_scenarios if s.name == "delete_during_upload")
    res = check_scenario(GLANCE, sc, "cas_version")  # a protocol without the race
    assert res.status is not sc.expected["unguarded"]


def test_unknown_protocol_is_a_typed_error() -> None:
    with pytest.raises(sg.errors.UnknownName, match="expected one of"):
        RaceProblem(GLANCE, "optimistic")


@pytest.mark.parametrize("lc", [GLANCE, TASK], ids=lambda lc: lc.name)
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_quantified_invariant_gives_the_same_verdicts(lc: Any, protocol: str) -> None:
    """The hand-instantiated queries agree with a real forall that z3 instantiates itself."""
    inst = induction(RaceProblem(lc, protocol))
    quant = induction(RaceProblem(lc, protocol), quantified=True, timeout=30)
    assert dict(quant.verdicts) == dict(inst.verdicts)
