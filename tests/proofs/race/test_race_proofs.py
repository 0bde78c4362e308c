"""The race obligations in the gate: recorded in proofs/, current, and replayable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import statusguard as sg
from statusguard.race import RaceCheck, RaceInterpreter, race_obligations
from statusguard.race._gate import as_gate_obligation
from statusguard.results import ObligationResult, Verdict

ROOT = Path(__file__).resolve().parents[3]
GLANCE = sg.load(str(ROOT / "model/glance_image.py"))
GLANCE_SCENARIOS = GLANCE.race_scenarios


def _recorded() -> dict[str, dict[str, Any]]:
    doc = json.loads((ROOT / "proofs/glance-image/manifest.json").read_text())
    return {o["obligation"]: o for o in doc["obligations"] if o["obligation"].startswith("race.")}


def test_check_lifecycle_includes_the_race_obligations() -> None:
    names = [r.obligation for r in sg.verify.check_lifecycle(GLANCE)]
    assert "race.legal_steps.atomic_event" in names
    assert "race.scenario.delete_during_upload.unguarded.race_found" in names


def test_recorded_race_obligations_match_a_fresh_run() -> None:
    recorded = _recorded()
    fresh = race_obligations(GLANCE)
    assert sorted(recorded) == sorted(r.obligation for r in fresh)
    for r in fresh:
        assert r.status is Verdict.PROVED, r.to_json()
        entry = recorded[r.obligation]
        assert entry["status"] == "proved"
        assert entry["method"] == r.method
        assert entry["counterexample"] == (
            r.counterexample.to_json() if r.counterexample is not None else None
        )


@pytest.mark.parametrize("scenario", GLANCE_SCENARIOS, ids=lambda s: s.name)
def test_recorded_negative_controls_replay_to_an_illegal_step(scenario: Any) -> None:
    entry = _recorded()[f"race.scenario.{scenario.name}.unguarded.race_found"]
    cex = entry["counterexample"]
    schedule = cex["schedule"]
    interp = RaceInterpreter(
        GLANCE,
        "unguarded",
        cex["config"],
        start=scenario.start,
        workers=max(s["worker"] for s in schedule),
        roles=scenario.roles,
    )
    steps = interp.replay(schedule)
    assert {"legal_steps", "absorbing"} & set(steps[-1]["violates"])
    # the same interleaving through the real Guard (atomic_event) commits no illegal step
    guarded = RaceInterpreter(
        GLANCE,
        "atomic_event",
        cex["config"],
        start=scenario.start,
        workers=interp.workers,
        roles=scenario.roles,
        backend="guard",
    )
    for s in guarded.replay([s for s in schedule if s.get("request") != "save"]):
        assert not set(s.get("violates", ())) & {"legal_steps", "absorbing"}


def test_a_lost_negative_control_fails_the_gate() -> None:
    """If the unguarded model stopped finding the race, its gate obligation is violated."""
    safe = ObligationResult("race.scenario.x.unguarded", Verdict.PROVED, 0.1, "m", "proved")
    gate = as_gate_obligation(RaceCheck(safe, Verdict.VIOLATED, "unguarded", "x"))
    assert gate.obligation == "race.scenario.x.unguarded.race_found"
    assert gate.status is Verdict.VIOLATED
    assert "NOT found" in gate.detail
    # a bounded search that found nothing is a lost control; a solver that gave up is unknown
    bounded = ObligationResult("race.scenario.x.unguarded", Verdict.UNKNOWN, 0.1, "m", "bound")
    assert as_gate_obligation(RaceCheck(bounded, Verdict.VIOLATED, "unguarded")).status is (
        Verdict.VIOLATED
    )
    unknown = ObligationResult(
        "race.scenario.x.unguarded", Verdict.UNKNOWN, 0.1, "m", "z3 returned unknown at depth 3"
    )
    assert as_gate_obligation(RaceCheck(unknown, Verdict.VIOLATED, "unguarded")).status is (
        Verdict.UNKNOWN
    )


def test_a_broken_guarded_proof_fails_the_gate() -> None:
    bad = ObligationResult("race.legal_steps.atomic_event", Verdict.VIOLATED, 0.1, "m")
    assert as_gate_obligation(RaceCheck(bad, Verdict.PROVED, "atomic_event")).status is (
        Verdict.VIOLATED
    )
