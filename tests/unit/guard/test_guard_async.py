"""What only the AsyncGuard has to get right: its store is an AsyncStore (typed errors for a
synchronous or incomplete one), its optional keywords reach the store or are refused as
Guard refuses them, and many tasks of one loop each commit or are refused, never both.

The shared cases (hooks, logging, spans) run against it through ``make_guard``; the store
contract, races and faults in tests/integration.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import statusguard
from statusguard import AsyncGuard, Committed, IllegalTransition, MemoryStore
from statusguard.errors import InvalidArgument, UnknownColumn
from statusguard.guard import AsyncMemoryStore, AsyncStore, Record

ROOT = Path(__file__).resolve().parents[3]
NO_DELAY = {"delayed_delete": False}


@pytest.fixture(scope="module")
def glance() -> Any:
    return statusguard.load(str(ROOT / "model" / "glance_image.py"))


def test_a_synchronous_store_is_refused_naming_the_async_ones(glance: Any) -> None:
    with pytest.raises(InvalidArgument) as info:
        AsyncGuard(glance, MemoryStore(), NO_DELAY)  # type: ignore[arg-type]
    assert isinstance(info.value, TypeError)
    assert "MemoryStore is a synchronous Store" in str(info.value)
    assert "AsyncMemoryStore or AsyncSQLStore" in str(info.value)


def test_an_incomplete_store_is_told_what_it_lacks(glance: Any) -> None:
    class Half:
        async def get(self, key: Any) -> Record:
            raise NotImplementedError

    with pytest.raises(InvalidArgument, match="Half is not an AsyncStore: it lacks apply"):
        AsyncGuard(glance, Half(), NO_DELAY)  # type: ignore[arg-type]


def test_a_subclass_of_the_protocol_inherits_its_defaults(glance: Any) -> None:
    class Mine(AsyncStore):
        def __init__(self) -> None:
            self.inner = AsyncMemoryStore()

        async def create(self, key: Any, status: str, token: str | None = None) -> Record:
            return await self.inner.create(key, status, token)

        async def get(self, key: Any) -> Record:
            return await self.inner.get(key)

        async def apply(self, key: Any, moves: Any, token: Any = None, event: Any = None) -> Any:
            return await self.inner.apply(key, moves, token, event)

        async def compare_and_set(self, key: Any, *args: Any) -> Any:
            return await self.inner.compare_and_set(key, *args)

    async def run() -> None:
        store = Mine()
        guard = AsyncGuard(glance, store, NO_DELAY)
        await guard.create("img")
        assert (await guard.fire("img", "upload_started")).target == "saving"
        with pytest.raises(ValueError, match="keeps no history"):
            await store.history("img")
        with pytest.raises(TypeError, match=r"Mine.apply\(\) takes no actor="):
            await guard.fire("img", "upload_succeeded", actor="ops")
        assert await guard.status("img") == "saving"  # refused before anything was written
        await store.dispose()

    asyncio.run(run())


def test_values_actor_and_reason_reach_the_store(glance: Any) -> None:
    async def run() -> None:
        store = AsyncMemoryStore(audit=True, columns=["size"])
        guard = AsyncGuard(glance, store, NO_DELAY, tokens=True)
        await guard.create("img")
        await guard.fire("img", "upload_started", values={"size": 5}, actor="ops", reason="r")
        await guard.move("img", "active", actor="bot")
        assert await store.values("img") == {"size": 5}
        history = await store.history("img")
        assert [(h.target, h.actor, h.reason) for h in history] == [
            ("saving", "ops", "r"),
            ("active", "bot", None),
        ]
        with pytest.raises(UnknownColumn):
            await guard.fire("img", "deactivate", values={"sise": 1})
        assert await guard.version("img") == 2
        with pytest.raises(TypeError, match="cannot join a caller's transaction"):
            guard.bind(object())

    asyncio.run(run())


def test_many_tasks_one_winner(glance: Any) -> None:
    """Nine tasks fire conflicting events on one queued image: exactly one commits."""

    async def run() -> tuple[list[Committed], list[IllegalTransition]]:
        guard = AsyncGuard(glance, AsyncMemoryStore(audit=True), NO_DELAY, tokens=True)
        await guard.create("img")
        events = ["upload_started", "web_download_import", "location_added"] * 3
        done = await asyncio.gather(*(guard.fire("img", e) for e in events), return_exceptions=True)
        wins = [d for d in done if isinstance(d, Committed)]
        losses = [d for d in done if isinstance(d, IllegalTransition)]
        assert [h.token for h in await guard.store.history("img")] == [wins[0].token]
        return wins, losses

    wins, losses = asyncio.run(run())
    assert (len(wins), len(losses)) == (1, 8)
    assert all(loss.state == wins[0].target for loss in losses)
