"""The recorded race proofs: current, and their counterexamples replay."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

import statusguard as sg
from statusguard._race import manifest_differences, race_checks
from statusguard._race_interp import RaceInterpreter
from statusguard._race_scenarios import GLANCE_SCENARIOS

ROOT = Path(__file__).resolve().parents[2]
GLANCE = sg.load(str(ROOT / "model/glance_image.py"))


def _recorded(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((ROOT / "proofs" / name / "race.json").read_text())
    return doc


def test_recorded_race_proofs_match_a_fresh_run() -> None:
    recorded = _recorded("glance-image")
    assert manifest_differences(GLANCE, recorded, race_checks(GLANCE)) == []


def test_a_stale_or_changed_record_is_reported() -> None:
    checks = race_checks(GLANCE, protocols=["unguarded", "atomic_event"])
    recorded = copy.deepcopy(_recorded("glance-image"))
    recorded["fingerprint"] = "sha256:0"
    for entry in recorded["obligations"]:
        if entry["obligation"] == "race.scenario.delete_during_upload.unguarded":
            entry["expected"] = "proved"  # as if the race had been "fixed" in the unguarded model
    diffs = manifest_differences(GLANCE, recorded, checks)
    assert any("model changed" in d for d in diffs)
    assert any("delete_during_upload.unguarded: expected proved" in d for d in diffs)


@pytest.mark.parametrize("scenario", GLANCE_SCENARIOS, ids=lambda s: s.name)
def test_recorded_unguarded_schedules_replay_to_an_illegal_step(scenario: Any) -> None:
    recorded = _recorded("glance-image")
    (entry,) = [
        e
        for e in recorded["obligations"]
        if e["obligation"] == f"race.scenario.{scenario.name}.unguarded"
    ]
    assert entry["expected"] == "violated"
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
    replay = [s for s in schedule if s.get("request") != "save"]
    for s in guarded.replay(replay):
        assert not set(s.get("violates", ())) & {"legal_steps", "absorbing"}
