"""The interleaving state machine against the guard, and its negative controls.

Hypothesis draws the schedule of simulated workers (read, decide, write; or one
atomic fire). Against the guard nothing may fail; against an unguarded
read-then-write adapter the machine must find the race and shrink it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import Phase, settings
from hypothesis.stateful import run_state_machine_as_test

import statusguard
from statusguard import Guard, Lifecycle, MemoryStore
from statusguard.testing import (
    Adapter,
    GuardAdapter,
    RandomLifecycleMachine,
    Request,
    UnguardedAdapter,
    lifecycle_machine,
)

ROOT = Path(__file__).resolve().parents[2]
GLANCE = statusguard.load(str(ROOT / "model" / "glance_image.py"))
GLANCE_CONFIGS = list(GLANCE.config_settings())
# Failing runs: no explain phase (it replays the failure thousands of times), one bug.
FAILING = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]


def guard_adapter(lc: Lifecycle[Any, Any], config: Mapping[str, bool]) -> Adapter:
    return GuardAdapter(Guard(lc, MemoryStore(), config))


def cas_status_adapter(lc: Lifecycle[Any, Any], config: Mapping[str, bool]) -> Adapter:
    return GuardAdapter(Guard(lc, MemoryStore(), config), "cas_status")


def unguarded_adapter(lc: Lifecycle[Any, Any], config: Mapping[str, bool]) -> Adapter:
    return UnguardedAdapter(lc, MemoryStore())


def schedule(machine: type[Any]) -> list[tuple[str, ...]]:
    """The last run's steps after key creation, as (worker, action, event, before, after)."""
    return [
        (f"w{s.worker}", s.action, str(s.event), str(s.before), str(s.after))
        for s in machine.last_schedule
        if s.action != "create"
    ]


@pytest.mark.parametrize("config", GLANCE_CONFIGS, ids=str)
def test_guard_keeps_glance_legal_under_any_schedule(config: dict[str, bool]) -> None:
    machine = lifecycle_machine(GLANCE, guard_adapter, config=config)
    run_state_machine_as_test(machine, settings=settings(stateful_step_count=40))


def test_guard_keeps_random_lifecycles_legal_under_any_schedule() -> None:
    class Random(RandomLifecycleMachine):
        def make_adapter(self) -> Adapter:
            return guard_adapter(self.lifecycle, self.config)

    run_state_machine_as_test(Random, settings=settings(stateful_step_count=30))


def test_cas_status_is_legal_but_admits_aba() -> None:
    """Status-only compare-and-set keeps every step legal (fresh by status)..."""
    machine = lifecycle_machine(
        GLANCE, cas_status_adapter, config={"delayed_delete": False}, fresh="status"
    )
    run_state_machine_as_test(machine, settings=settings(stateful_step_count=40))


def test_cas_status_aba_is_caught_by_version_freshness() -> None:
    """...but a status that left and came back lets a stale decision commit (ABA)."""
    requests = [
        Request("upload_started", style="move"),
        Request("upload_started", style="fire"),
        Request("upload_failed", style="fire"),
    ]
    machine = lifecycle_machine(
        GLANCE, cas_status_adapter, config={"delayed_delete": False}, requests=requests
    )
    with pytest.raises(AssertionError, match="2 commit\\(s\\) had landed since"):
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=300, stateful_step_count=20, phases=FAILING, report_multiple_bugs=False
            ),
        )
    assert schedule(machine) == [
        ("w0", "read", "upload_started", "queued", "queued"),
        ("w1", "fire", "upload_started", "queued", "saving"),
        ("w2", "fire", "upload_failed", "saving", "queued"),
        ("w0", "write", "upload_started", "queued", "saving"),
    ]
    # The same schedule against cas_version: the stale write is refused.
    versioned = lifecycle_machine(
        GLANCE, guard_adapter, config={"delayed_delete": False}, requests=requests
    )
    run_state_machine_as_test(versioned, settings=settings(stateful_step_count=20))


def test_unguarded_glance_race_shrinks_to_delete_between_upload_read_and_write() -> None:
    """The negative control: delete lands between an upload's read and its write."""
    machine = lifecycle_machine(
        GLANCE,
        unguarded_adapter,
        config={"delayed_delete": False},
        requests=[Request("delete"), Request("upload_started")],
    )
    with pytest.raises(AssertionError, match="illegal step deleted -> saving"):
        run_state_machine_as_test(
            machine, settings=settings(phases=FAILING, report_multiple_bugs=False)
        )
    assert schedule(machine) == [
        ("w0", "read", "delete", "queued", "queued"),
        ("w1", "read", "upload_started", "queued", "queued"),
        ("w0", "write", "delete", "queued", "deleted"),
        ("w1", "write", "upload_started", "deleted", "saving"),
    ]
    assert [s.action for s in machine.last_schedule].count("create") == 1


def test_unguarded_adapter_fails_the_open_machine_in_four_steps() -> None:
    """With requests drawn freely, the shortest race is two reads and two writes."""
    machine = lifecycle_machine(GLANCE, unguarded_adapter, config={"delayed_delete": False})
    with pytest.raises(AssertionError, match="illegal step"):
        run_state_machine_as_test(
            machine, settings=settings(phases=FAILING, report_multiple_bugs=False)
        )
    steps = schedule(machine)
    assert [(w, action) for w, action, *_ in steps] == [
        ("w0", "read"),
        ("w1", "read"),
        ("w0", "write"),
        ("w1", "write"),
    ]
    # The last write was decided from the status both read, which w0 had changed.
    assert steps[1][3] == steps[0][3]
    assert steps[3][3] == steps[2][4] != steps[1][3]


def test_unguarded_random_lifecycles_fail_too() -> None:
    class Random(RandomLifecycleMachine):
        def make_adapter(self) -> Adapter:
            return unguarded_adapter(self.lifecycle, self.config)

    # Generation only: shrinking a drawn lifecycle is slow and the Glance tests pin shrinking.
    with pytest.raises(AssertionError):
        run_state_machine_as_test(
            Random,
            settings=settings(phases=[Phase.generate], report_multiple_bugs=False),
        )
    actions = [s.action for s in Random.last_schedule if s.action != "create"]
    assert actions.count("write") >= 1
