"""``AsyncSQLStore`` without a server (aiosqlite): what it is handed, and that it is the sync
store's code behind the greenlet bridge, not a copy (same statements, same errors).

The contract, race and fault suites run it on every engine in tests/integration.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest

sa = pytest.importorskip("sqlalchemy")
pytest.importorskip("aiosqlite")

from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

import statusguard  # noqa: E402
from statusguard import AsyncGuard, Committed  # noqa: E402
from statusguard.errors import (  # noqa: E402
    DuplicateKey,
    InvalidArgument,
    StoreRejected,
    StoreUnavailable,
)
from statusguard.sql import AsyncSQLStore, SQLStore  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
NO_DELAY = {"delayed_delete": False}


@pytest.fixture(scope="module")
def glance() -> Any:
    return statusguard.load(str(ROOT / "model" / "glance_image.py"))


def test_sqlstore_points_an_async_engine_to_the_async_store() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    try:
        with pytest.raises(InvalidArgument) as info:
            SQLStore(engine, "images")  # type: ignore[arg-type]
    finally:
        engine.sync_engine.dispose()
    assert "AsyncSQLStore" in str(info.value)
    with pytest.raises(InvalidArgument, match="AsyncSQLStore"):
        SQLStore("sqlite+aiosqlite://", "images")


@pytest.mark.parametrize(
    "engine",
    ["sqlite://", "mysql+pymysql://u@127.0.0.1:1/x", None, 5, "not a url"],
    ids=repr,
)
def test_what_the_async_store_refuses(engine: Any) -> None:
    with pytest.raises(InvalidArgument) as info:
        AsyncSQLStore(engine, "images")
    assert info.value.parameter == "engine"
    assert "async" in str(info.value)


def test_a_sync_engine_is_refused() -> None:
    engine = sa.create_engine("sqlite://")
    with pytest.raises(InvalidArgument, match="AsyncEngine"):
        AsyncSQLStore(engine, "images")
    engine.dispose()


def test_no_write_deadline() -> None:
    with pytest.raises(InvalidArgument, match="no write deadline"):
        AsyncSQLStore("sqlite+aiosqlite://", "images", write_timeout=5.0)


def test_the_sync_stores_statements_run_through_the_bridge(
    glance: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The async store's fire is the sync store's code: its one UPDATE goes through
    ``SQLStore``'s own ``run`` with the text the sync store renders."""
    from statusguard.sql import _store

    sent: list[str] = []
    real = _store.run

    def spy(conn: Any, text: str, params: Any = None) -> Any:
        sent.append(text)
        return real(conn, text, params)

    monkeypatch.setattr(_store, "run", spy)

    async def run() -> tuple[list[str], list[str]]:
        engine = create_async_engine("sqlite+aiosqlite://")
        store = AsyncSQLStore(engine, "async_images", version="version", token="tok")
        await store.create_schema()
        guard = AsyncGuard(glance, store, NO_DELAY, tokens=True)
        await guard.create("img")
        sent.clear()
        done = await guard.fire("img", "upload_started")
        assert isinstance(done, Committed)
        fired = list(sent)
        sync = SQLStore("sqlite://", "async_images", version="version", token="tok")
        rendered, _, _ = sync._sql.apply(("queued",), ("saving",))
        sync.dispose()
        await store.drop_schema()
        await store.dispose()
        await engine.dispose()
        return fired, [rendered.text]

    fired, expected = asyncio.run(run())
    assert fired == expected  # one statement: the sync store's UPDATE


def test_errors_are_classified_as_the_sync_store_classifies_them(glance: Any) -> None:
    async def run() -> None:
        store = AsyncSQLStore("sqlite+aiosqlite://", "async_images", version="version")
        await store.create_schema()
        guard = AsyncGuard(glance, store, NO_DELAY)
        await guard.create("img")
        with pytest.raises(DuplicateKey, match="already exists"):
            await guard.create("img")
        async with store.engine.begin() as conn:  # a CHECK the table refuses writes with
            await conn.exec_driver_sql(
                "CREATE TRIGGER async_no_saving BEFORE UPDATE ON async_images "
                "WHEN NEW.status = 'saving' BEGIN SELECT RAISE(ABORT, 'no saving'); END"
            )
        with pytest.raises(StoreRejected, match="no saving"):
            await guard.fire("img", "upload_started")
        assert await guard.status("img") == "queued"
        await store.drop_schema()
        await store.dispose()

    asyncio.run(run())


@pytest.mark.parametrize("ticks", [2, 4, 6])
def test_a_cancelled_write_discards_its_connection(glance: Any, tmp_path: Path, ticks: int) -> None:
    """A task cancelled while its write runs: the connection is invalidated, never handed
    back to the pool mid-statement (its session's state is unknown; without this the
    pool got it back and a later write was lost); the next call connects afresh."""

    async def run() -> None:
        url = f"sqlite+aiosqlite:///{tmp_path / 'cancel.db'}"
        store = AsyncSQLStore(url, "async_images", version="version", token="tok")
        await store.create_schema()
        invalidated: list[object] = []
        pool = store.engine.sync_engine.pool
        sa.event.listen(pool, "invalidate", lambda *args: invalidated.append(args))
        guard = AsyncGuard(glance, store, NO_DELAY, tokens=True)
        await guard.create("img")
        task = asyncio.create_task(guard.fire("img", "upload_started"))
        for _ in range(ticks):  # the write is under way (it takes more than 10 ticks)
            await asyncio.sleep(0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert task.cancelled()
        assert len(invalidated) == 1
        # whatever the cancelled write did, the row says it, and the store works on
        record = await store.get("img")
        done = await guard.fire("img", "upload_succeeded" if record.version else "upload_started")
        assert done.version == record.version + 1
        assert pool.checkedout() == 0
        await store.drop_schema()
        await store.dispose()

    asyncio.run(run())


def test_a_lost_server_is_store_unavailable() -> None:
    async def run() -> None:
        store = AsyncSQLStore("postgresql+psycopg://u@127.0.0.1:1/x", "async_images")
        with pytest.raises(StoreUnavailable, match="cannot connect") as info:
            await store.get("img")
        assert info.value.committed is False
        await store.dispose()

    asyncio.run(run())


def test_reflect_adopts_an_existing_table(glance: Any, tmp_path: Path) -> None:
    async def run() -> None:
        url = f"sqlite+aiosqlite:///{tmp_path / 'reflect.db'}"
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.exec_driver_sql(
                "CREATE TABLE async_mine (id VARCHAR(64) PRIMARY KEY, status VARCHAR(32) "
                "NOT NULL, version BIGINT NOT NULL DEFAULT 0, owner VARCHAR(40))"
            )
        store = await AsyncSQLStore.reflect(engine, "async_mine", version="version")
        assert store.columns == ("owner",)
        guard = AsyncGuard(glance, store, NO_DELAY)
        await guard.create("img")
        await guard.fire("img", "upload_started", values={"owner": "ops"})
        assert await store.values("img") == {"owner": "ops"}
        with pytest.raises(ValueError, match="no table"):
            await AsyncSQLStore.reflect(engine, "async_missing")
        with pytest.raises(InvalidArgument, match="no write deadline"):
            await AsyncSQLStore.reflect(engine, "async_mine", write_timeout=1.0)
        await store.dispose()
        await engine.dispose()

    asyncio.run(run())
