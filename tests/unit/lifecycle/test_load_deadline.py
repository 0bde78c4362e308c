"""Loading a lifecycle looks at the time budget in every step (inside ``bounded()``).

A fake clock that ticks once per reading lets the budget run out at each checkpoint in
turn: every step of the load must stop there with ``OutOfTime`` naming itself (never
another error, never a half-built lifecycle), and outside ``bounded()`` nothing stops.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from statusguard.errors import OutOfTime
from statusguard.lifecycle import _deadline
from statusguard.lifecycle._deadline import bounded, budget, check
from statusguard.lifecycle._loading import scan

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "benchmarks"))
from lifecycles import lifecycle_document, write_document  # noqa: E402

STEPS = (
    "reading",
    "parsing the JSON",
    "finding the lines",
    "validating",
    "decoding the transitions",
    "checking the transitions",
    "building the tables",
    "writing the document",
    "the fingerprint",
)
"""Each loading step's words in its ``OutOfTime``."""


class Ticks:
    """A monotonic clock that advances one second per reading."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        self.now += 1.0
        return self.now


def load(path: Path) -> str:
    [(lc, _)] = scan(path).found
    return lc.fingerprint


def test_every_loading_step_stops_when_the_budget_runs_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_document(lifecycle_document(40), tmp_path)
    full = load(path)
    stopped: list[str] = []
    messages: list[str] = []
    for ticks in range(1, 200):
        clock = Ticks()
        monkeypatch.setattr(_deadline, "time", clock)
        try:
            with budget(ticks), bounded():
                assert load(path) == full  # the last run: every checkpoint passed
            break
        except OutOfTime as exc:
            stopped.append(exc.doing)
            messages.append(str(exc))
    else:
        pytest.fail("the load never finished")
    assert all("raise --timeout" in m for m in messages)
    for step in STEPS:
        assert any(step in doing for doing in stopped), (step, stopped)


def test_outside_bounded_an_expired_budget_never_stops_a_load(tmp_path: Path) -> None:
    path = write_document(lifecycle_document(40), tmp_path)
    with budget(1e-9):
        assert load(path).startswith("sha256:")
        check("anything")  # no error
    with budget(1e-9), bounded(), pytest.raises(OutOfTime, match="the step"):
        check("the step")
