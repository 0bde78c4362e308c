"""Transition hooks of the AsyncGuard on AsyncSQLStore: the outbox row an in-transaction hook
writes on the ``AsyncConnection`` commits and rolls back with the status change; a guard
bound to the caller's ``AsyncConnection`` runs after-commit hooks only once that
transaction commits, never after a rollback. SQLite (memory, file), PostgreSQL, MariaDB.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import statusguard
from statusguard import AsyncGuard, IllegalTransition
from statusguard.errors import HookFailed
from statusguard.guard import Committed, after_commit, in_transaction
from tests.integration.conftest import SQL_ENGINES, async_url, engine_url, unique

sa = pytest.importorskip("sqlalchemy")
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from statusguard.sql import AsyncSQLStore  # noqa: E402

NO_DELAY = {"delayed_delete": False}
ROOT = Path(__file__).resolve().parents[2]
GLANCE = statusguard.load(str(ROOT / "model" / "glance_image.py"))

Scenario = Callable[[Any, AsyncSQLStore, sa.Table], Awaitable[None]]


@pytest.fixture(params=SQL_ENGINES)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return async_url(engine_url(str(request.param), tmp_path))


def run_with(url: str, scenario: Scenario) -> None:
    """``scenario(app_engine, store, outbox)`` on fresh ``async_`` tables, dropped after."""

    async def main() -> None:
        if url.startswith("sqlite+aiosqlite://") and url.count("/") == 2:  # in memory
            engine = create_async_engine(url, poolclass=sa.pool.StaticPool)
        else:
            engine = create_async_engine(url)
        outbox = sa.Table(
            unique("async_outbox"),
            sa.MetaData(),
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("image", sa.String(64), nullable=False),
            sa.Column("event", sa.String(64)),
            sa.Column("version", sa.Integer, nullable=False),
        )
        async with engine.begin() as conn:
            await conn.run_sync(outbox.create)
        store = AsyncSQLStore(engine, unique("async_hooks"), version="version")
        await store.create_schema()
        try:
            await scenario(engine, store, outbox)
        finally:
            await store.drop_schema()
            async with engine.begin() as conn:
                await conn.run_sync(outbox.drop)
            await engine.dispose()

    asyncio.run(main())


def outbox_writer(outbox: sa.Table) -> Any:
    async def hook(conn: Any, c: Committed) -> None:
        await conn.execute(outbox.insert().values(image=c.key, event=c.event, version=c.version))

    return hook


async def rows(engine: Any, outbox: sa.Table) -> list[tuple[Any, ...]]:
    async with engine.connect() as conn:
        result = await conn.execute(sa.select(outbox.c.image, outbox.c.event, outbox.c.version))
        return [tuple(r) for r in result]


def test_the_outbox_row_commits_with_the_status(url: str) -> None:
    async def scenario(engine: Any, store: AsyncSQLStore, outbox: sa.Table) -> None:
        guard = AsyncGuard(GLANCE, store, NO_DELAY, hooks=[in_transaction(outbox_writer(outbox))])
        await guard.create("img")
        await guard.fire("img", "upload_started")
        await guard.move("img", "active")
        with pytest.raises(IllegalTransition):
            await guard.fire("img", "upload_started")  # refused: no row
        assert await rows(engine, outbox) == [
            ("img", "upload_started", 1),
            ("img", None, 2),
        ]

    run_with(url, scenario)


def test_a_raising_hook_rolls_the_status_back_with_the_outbox(url: str) -> None:
    async def scenario(engine: Any, store: AsyncSQLStore, outbox: sa.Table) -> None:
        write = outbox_writer(outbox)

        async def then_fail(conn: Any, c: Committed) -> None:
            await write(conn, c)
            raise OSError("broker down")

        guard = AsyncGuard(GLANCE, store, NO_DELAY, hooks=[in_transaction(then_fail)])
        await guard.create("img")
        with pytest.raises(HookFailed) as caught:
            await guard.fire("img", "upload_started")
        assert caught.value.rolled_back is True
        assert await guard.status("img") == "queued"
        assert await guard.version("img") == 0
        assert await rows(engine, outbox) == []

    run_with(url, scenario)


def test_bound_after_commit_hooks_wait_for_the_callers_commit(url: str) -> None:
    async def scenario(engine: Any, store: AsyncSQLStore, outbox: sa.Table) -> None:
        seen: list[str] = []

        async def notify(c: Committed) -> None:
            await asyncio.sleep(0)
            seen.append(c.target)

        guard = AsyncGuard(GLANCE, store, NO_DELAY, hooks=[after_commit(notify)])
        await guard.create("img")
        async with engine.connect() as conn:
            bound = guard.bind(conn)
            await bound.fire("img", "upload_started")
            assert seen == []  # not yet committed
            await conn.rollback()
        assert seen == []  # rolled back: never
        assert await guard.status("img") == "queued"
        async with engine.connect() as conn:
            bound = guard.bind(conn)
            await bound.fire("img", "upload_started")
            assert seen == []
            await conn.commit()
        assert seen == ["saving"]  # once, at the commit
        assert await guard.status("img") == "saving"

    run_with(url, scenario)


def test_a_guard_bound_to_an_async_session_commits_with_it(url: str) -> None:
    from sqlalchemy.ext.asyncio import AsyncSession

    async def scenario(engine: Any, store: AsyncSQLStore, outbox: sa.Table) -> None:
        seen: list[str] = []
        guard = AsyncGuard(GLANCE, store, NO_DELAY, hooks=[after_commit(seen.append)])
        await guard.create("img")
        async with AsyncSession(engine) as session:
            bound = guard.bind(session)
            done = await bound.fire("img", "upload_started")
            await session.execute(outbox.insert().values(image="img", event=done.event, version=1))
            assert seen == []
            await session.rollback()  # both the status change and the row go
        assert (await guard.status("img"), await rows(engine, outbox), seen) == ("queued", [], [])
        async with AsyncSession(engine) as session:
            bound = guard.bind(session)
            done = await bound.fire("img", "upload_started")
            await session.execute(outbox.insert().values(image="img", event=done.event, version=1))
            await session.commit()
        assert seen == [done]
        assert await guard.status("img") == "saving"
        assert await rows(engine, outbox) == [("img", "upload_started", 1)]

    run_with(url, scenario)


def test_hooked_and_plain_tasks_at_once(url: str) -> None:
    """Tasks with in-transaction hooks and tasks without, on one loop at once: every hooked
    transition has its outbox row, nothing fails (in-memory SQLite: one shared connection,
    which a hook's transaction holds for its whole turn)."""

    async def scenario(engine: Any, store: AsyncSQLStore, outbox: sa.Table) -> None:
        hooked = AsyncGuard(GLANCE, store, NO_DELAY, hooks=[in_transaction(outbox_writer(outbox))])
        plain = AsyncGuard(GLANCE, store, NO_DELAY)
        keys = [f"img-{i}" for i in range(8)]
        for key in keys:
            await plain.create(key)

        async def walk(guard: AsyncGuard[Any, Any], key: str) -> list[Committed]:
            return [
                await guard.fire(key, event)
                for event in ("upload_started", "upload_succeeded", "deactivate")
            ]

        done = await asyncio.gather(
            *(walk(hooked if i % 2 else plain, key) for i, key in enumerate(keys))
        )
        expected = sorted(
            (c.key, c.event, c.version) for i, steps in enumerate(done) if i % 2 for c in steps
        )
        assert sorted(await rows(engine, outbox)) == expected
        for key in keys:
            assert await plain.status(key) == "deactivated"

    run_with(url, scenario)
