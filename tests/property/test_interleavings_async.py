"""The stateful machine drives async persistence code (an AsyncGuard through GuardAdapter, a
user's async adapter through ``blocking()``), and its check keeps its teeth there: the
AsyncGuard keeps every schedule legal; an async read-then-blind-write adapter fails.

``split_fire="off"``: the split pauses a fire inside the calling thread's code, and an async
adapter's coroutines run on the event loop thread instead (the race of tasks inside one fire
is tests/integration/test_guard_race_async.py's and run_stress's).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

import statusguard
from statusguard import AsyncGuard
from statusguard.guard import Applied, AsyncMemoryStore
from statusguard.lifecycle import Lifecycle
from statusguard.testing import Adapter, GuardAdapter, Outcome, Snapshot, blocking
from statusguard.testing import lifecycle_machine as machine_for
from tests.property.test_interleavings import FAILING

ROOT = Path(__file__).resolve().parents[2]
GLANCE = statusguard.load(str(ROOT / "model" / "glance_image.py"))
CONFIG = {"delayed_delete": False}


def async_guard_adapter(lc: Lifecycle[Any, Any], config: Mapping[str, bool]) -> Adapter:
    return GuardAdapter(AsyncGuard(lc, AsyncMemoryStore(), config))


class AsyncUnguarded:
    """An async service's read-then-overwrite: ``write`` ignores what was read."""

    supports_fire = False

    def __init__(self, lc: Lifecycle[Any, Any]) -> None:
        self.initial = str(lc.initial)
        self.store = AsyncMemoryStore()

    async def create(self, key: str) -> Snapshot:
        record = await self.store.create(key, self.initial)
        return Snapshot(record.status, record.version)

    async def read(self, key: str) -> Snapshot:
        record = await self.store.get(key)
        return Snapshot(record.status, record.version)

    async def write(self, key: str, seen: Snapshot, target: str) -> Outcome:
        while True:  # a blind overwrite
            current = await self.store.get(key)
            done = await self.store.compare_and_set(key, current.status, target)
            if isinstance(done, Applied):
                return Outcome(True, done.source, done.target, done.version)

    async def fire(self, key: str, event: str, facts: Mapping[str, bool]) -> Outcome:
        raise NotImplementedError


def test_async_guard_keeps_glance_legal_under_any_schedule() -> None:
    machine = machine_for(GLANCE, async_guard_adapter, config=CONFIG, split_fire="off")
    run_state_machine_as_test(
        machine, settings=settings(stateful_step_count=30, max_examples=15, deadline=None)
    )


def test_an_async_unguarded_adapter_fails() -> None:
    machine = machine_for(
        GLANCE,
        lambda lc, config: blocking(AsyncUnguarded(lc)),
        config=CONFIG,
        max_keys=1,
        split_fire="off",
        name="AsyncOpenRace",
    )
    with pytest.raises(AssertionError, match="illegal step"):
        run_state_machine_as_test(machine, settings=FAILING)
