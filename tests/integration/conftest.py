"""Stores for the contract suite: MemoryStore, SQLite (file and memory), PostgreSQL, MariaDB,
and their async twins (AsyncMemoryStore, AsyncSQLStore on aiosqlite, psycopg, aiomysql)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from statusguard import AsyncGuard, Guard, MemoryStore
from statusguard.guard import AsyncMemoryStore, Record
from statusguard.testing import EventLoopThread, blocking
from tests.integration._reliab_db import galera_urls, server_url

ENGINES = ["memory", "sqlite-memory", "sqlite-file", "postgresql", "mysql"]
SQL_ENGINES = ENGINES[1:]


def unique(prefix: str = "sg") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def engine_url(engine: str, tmp_path: Path) -> str:
    if engine == "sqlite-memory":
        return "sqlite://"
    if engine == "sqlite-file":
        return f"sqlite:///{tmp_path / 'guard.db'}"
    if engine.startswith("galera-"):  # galera-1, galera-2, galera-3: one node of the cluster
        return galera_urls()[int(engine.removeprefix("galera-")) - 1]
    return server_url(engine)


StoreFactory = Callable[..., Any]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_store(engine: str, tmp_path: Path) -> Iterator[StoreFactory]:
    """``make_store(version=True, token=True, audit=True)``: a fresh store on ``engine``."""
    made: list[Any] = []

    def factory(
        *, version: bool = True, token: bool = True, audit: bool = False, **options: Any
    ) -> Any:
        if engine == "memory":
            return MemoryStore(audit=audit)
        from statusguard import SQLStore

        store = SQLStore(
            engine_url(engine, tmp_path),
            unique("sg_t"),
            key="image_id",
            status="status",
            version="version" if version else None,
            token="last_token" if token else None,
            audit=unique("sg_a") if audit else None,
            **options,
        )
        store.create_schema()
        made.append(store)
        return store

    yield factory
    for store in made:
        try:
            store.drop_schema()
        finally:
            store.dispose()


def async_url(url: str) -> str:
    """The async driver's URL for a sync test URL: aiosqlite, psycopg (its async mode is
    chosen by create_async_engine), aiomysql."""
    import sqlalchemy as sa

    parsed = sa.engine.make_url(url)
    driver = {"sqlite": "aiosqlite", "postgresql": "psycopg", "mysql": "aiomysql"}
    name = parsed.get_backend_name()
    return parsed.set(drivername=f"{name}+{driver[name]}").render_as_string(hide_password=False)


@pytest.fixture
def event_loop_thread() -> Iterator[EventLoopThread]:
    """An event loop in a thread of its own, for the async stores (closed after the test)."""
    loop = EventLoopThread()
    yield loop
    loop.close()


@pytest.fixture
def make_async_store(
    engine: str, tmp_path: Path, event_loop_thread: EventLoopThread
) -> Iterator[StoreFactory]:
    """``make_store``'s async twin: an AsyncMemoryStore or AsyncSQLStore on ``engine``
    (tables prefixed ``async_``), made and dropped on ``event_loop_thread``."""
    made: list[Any] = []

    def factory(
        *, version: bool = True, token: bool = True, audit: bool = False, **options: Any
    ) -> Any:
        if engine == "memory":
            return AsyncMemoryStore(audit=audit)
        from statusguard.sql import AsyncSQLStore

        async def make() -> Any:
            store = AsyncSQLStore(
                async_url(engine_url(engine, tmp_path)),
                unique("async_t"),
                key="image_id",
                status="status",
                version="version" if version else None,
                token="last_token" if token else None,
                audit=unique("async_a") if audit else None,
                **options,
            )
            await store.create_schema()
            return store

        store = event_loop_thread.run(make())
        made.append(store)
        return store

    yield factory
    for store in made:

        async def drop(store: Any = store) -> None:
            try:
                await store.drop_schema()
            finally:
                await store.dispose()

        event_loop_thread.run(drop())


@pytest.fixture(params=["sync", "async"])
def make_guard(request: pytest.FixtureRequest, make_store: StoreFactory, glance: Any) -> Any:
    """``make_guard(config, tokens=False, **store_options)``: a Guard on ``make_store``'s
    store, or an AsyncGuard on the async twin of that store (its calls blocking on an event
    loop thread), so every case below runs unchanged against both."""

    def factory(config: Any, *, tokens: bool = False, **store_options: Any) -> Any:
        if request.param == "sync":
            return Guard(glance, make_store(**store_options), config, tokens=tokens)
        loop = request.getfixturevalue("event_loop_thread")
        store = request.getfixturevalue("make_async_store")(**store_options)
        return blocking(AsyncGuard(glance, store, config, tokens=tokens), loop)

    return factory


def force_status(store: Any, key: str, status: str) -> None:
    """Write ``status`` behind the guard's back (what unguarded code does)."""
    from statusguard.testing._async import Blocking

    if isinstance(store, Blocking):  # an async store behind statusguard.testing.blocking()
        inner = store.wrapped
        if isinstance(inner, AsyncMemoryStore):
            force_status(inner.sync, key, status)
            return
        import sqlalchemy as sa

        async def write() -> None:
            async with inner.engine.begin() as conn:
                await conn.execute(
                    sa.update(inner.table)
                    .where(inner.table.c[inner.key_column] == key)
                    .values({inner.status_column: status})
                )

        store.event_loop.run(write())
        return
    if isinstance(store, MemoryStore):
        old = store.get(key)
        assert store.swap(key, old, Record(status, old.version, old.token))
        return
    import sqlalchemy as sa

    with store.engine.connect() as conn:
        conn.execute(
            sa.update(store.table)
            .where(store.table.c[store.key_column] == key)
            .values({store.status_column: status})
        )
        conn.commit()


@pytest.fixture
def force() -> Callable[[Any, str, str], None]:
    return force_status


@pytest.fixture
def glance() -> Any:
    import statusguard

    root = Path(__file__).resolve().parents[2]
    return statusguard.load(str(root / "model" / "glance_image.py"))


@pytest.fixture
def db_url(engine: str, tmp_path: Path) -> str:
    """The SQLAlchemy URL of ``engine`` (skips when its environment variable is unset)."""
    if engine == "memory":
        pytest.skip("needs a SQL engine")
    return engine_url(engine, tmp_path)


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    return unique
