"""statusguard.testing drives async persistence code: an AsyncGuard through GuardAdapter, and
a user's async adapter through ``blocking()``, raced by run_stress's threads as tasks of one
event loop. The check has teeth there too: an async read-await-blind-write adapter fails it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

import statusguard
from statusguard import AsyncGuard
from statusguard.guard import AsyncMemoryStore
from statusguard.testing import (
    EventLoopThread,
    GuardAdapter,
    Outcome,
    Snapshot,
    blocking,
    run_stress,
)

ROOT = Path(__file__).resolve().parents[3]
GLANCE = statusguard.load(str(ROOT / "model" / "glance_image.py"))
CONFIG = {"delayed_delete": True}
SMALL = {"workers": 4, "rounds": 6, "hot_keys": 2, "ops": 10, "weights": {"delete": 0.05}}


def test_guard_adapter_drives_an_async_guard() -> None:
    adapters: list[GuardAdapter] = []

    def make() -> GuardAdapter:
        adapter = GuardAdapter(AsyncGuard(GLANCE, AsyncMemoryStore(), CONFIG))
        adapters.append(adapter)
        return adapter

    report = run_stress(make, GLANCE, CONFIG, pause=0.0005, **SMALL)
    assert report.errors == 0, report.error_samples
    assert report.commits > 0
    assert report.ok, report.check.problems
    (adapter,) = adapters
    assert adapter.guard.event_loop.run  # its calls ran on the adapter's own loop ...
    assert all(t.name != "statusguard-loop" for t in threading.enumerate())  # ... now closed


class AsyncBlindWriter:
    """A user's async adapter: read, await (other tasks run), write blindly."""

    supports_fire = False

    def __init__(self) -> None:
        self.rows: dict[str, str] = {}
        self.events: list[str] = []

    async def create(self, key: str) -> Snapshot:
        self.rows[key] = "queued"
        return Snapshot("queued")

    async def read(self, key: str) -> Snapshot:
        return Snapshot(self.rows[key])

    async def write(self, key: str, seen: Snapshot, target: str, *, event: str) -> Outcome:
        self.events.append(event)
        await asyncio.sleep(0.0005)  # the window
        self.rows[key] = target
        return Outcome(True, None, target)

    async def fire(self, key: str, event: str, facts: Mapping[str, bool]) -> Outcome:
        raise NotImplementedError


def test_an_async_lost_update_is_caught() -> None:
    inner = AsyncBlindWriter()
    adapter = blocking(inner)
    report = run_stress(lambda: adapter, GLANCE, CONFIG, **SMALL)
    assert report.errors == 0, report.error_samples
    assert not report.ok
    assert report.check.lost + report.check.reordered + report.check.illegal > 0
    assert inner.events  # write's keyword event= was seen through blocking()


def test_blocking_wraps_nested_async_objects_and_raises_their_errors() -> None:
    loop = EventLoopThread()
    try:
        guard = blocking(AsyncGuard(GLANCE, AsyncMemoryStore(), CONFIG), loop)
        guard.create("img")
        assert guard.fire("img", "upload_started").target == "saving"
        assert guard.store.get("img").version == 1  # the store comes back blocking too
        with pytest.raises(statusguard.IllegalTransition):
            guard.fire("img", "upload_started")

        async def inside() -> Any:
            return loop.run(asyncio.sleep(0))

        with pytest.raises(RuntimeError, match="its own loop"):
            loop.run(inside())
    finally:
        loop.close()


class AsyncPlainWriter(AsyncBlindWriter):
    """The same adapter with a ``write`` that takes no ``event=``."""

    async def write(self, key: str, seen: Snapshot, target: str) -> Outcome:  # type: ignore[override]
        self.rows[key] = target
        return Outcome(True, None, target)


def test_each_wrapped_adapter_is_asked_for_its_own_keywords() -> None:
    """Two async adapters behind blocking() share its type: the keywords write() takes are
    the wrapped adapter's (a cache per wrapper type once passed event= to the second)."""
    from statusguard.testing._adapters import call_write

    seen = Snapshot("queued")
    named, plain = blocking(AsyncBlindWriter()), blocking(AsyncPlainWriter())
    try:
        for adapter in (named, plain):
            adapter.create("k")
            assert call_write(adapter, "k", seen, "saving", "upload_started", {}).committed
    finally:
        named.close()
        plain.close()
