"""The race model and no-ops: an event accepted without a change writes nothing.

Glance skips the save of a deactivate on a deactivated image and of a reactivate on an
active one (glance/api/v2/image_actions.py:61-65 and 90-94 at c76abb08e). In the race a
no-op is therefore no decision to write: a worker reading such a status has nothing to
race with, and a decided write that finds the no-op's status at write time (atomic_event,
through a real Guard) writes nothing and bumps no version.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from statusguard import Lifecycle, load
from statusguard.race import RaceInterpreter

ROOT = Path(__file__).resolve().parents[3]
GLANCE: Lifecycle[Any, Any] = load(ROOT / "model" / "glance_image.py")
CONFIG = {"delayed_delete": False}


def test_a_noop_is_no_choice_to_write() -> None:
    race = RaceInterpreter(GLANCE, "atomic_event", CONFIG, start="deactivated")
    requests = {r for r, _ in race.choices(race.initial(), 0)}
    assert "deactivate" not in requests  # accepted there, but nothing to write
    assert "reactivate" in requests


@pytest.mark.parametrize("backend", ["model", "guard"])
def test_two_deactivates_commit_once(backend: str) -> None:
    race = RaceInterpreter(
        GLANCE,
        "atomic_event",
        CONFIG,
        start="active",
        roles=[["deactivate"], ["deactivate"]],
        backend=backend,
    )
    w = race.initial()
    w, _ = race.read(w, 0, "deactivate", {})
    w, _ = race.read(w, 1, "deactivate", {})
    w, first = race.write(w, 0)
    w, second = race.write(w, 1)
    assert (first["action"], first["status"], first["version"]) == ("write", "deactivated", 1)
    # the late deactivate finds deactivated: a no-op, no write and no version
    assert (second["action"], second["status"], second["version"]) == (
        "rejected",
        "deactivated",
        1,
    )
    assert (w.status, w.version) == ("deactivated", 1)


def test_the_guard_backend_agrees_with_the_model_on_noop_races() -> None:
    schedule_of: dict[str, list[dict[str, Any]]] = {}
    for backend in ("model", "guard"):
        race = RaceInterpreter(
            GLANCE,
            "atomic_event",
            CONFIG,
            start="active",
            roles=[["deactivate", "reactivate"], ["reactivate", "deactivate"]],
            backend=backend,
        )
        found = race.first_violation(["legal_steps", "absorbing", "progress"], 8)
        schedule_of[backend] = [] if found is None else found
    assert schedule_of["model"] == schedule_of["guard"] == []
