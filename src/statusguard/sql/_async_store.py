"""``AsyncSQLStore``: :class:`SQLStore` for asyncio, on SQLAlchemy's asyncio extension.

Not a second store: every call runs :class:`SQLStore`'s own code (the dialect's
statements, one conditional ``UPDATE`` per write, the error classification, the
retries, the settling of a lost connection) inside SQLAlchemy's greenlet bridge
(``sqlalchemy.util.greenlet_spawn``, what ``AsyncSession`` and
``AsyncConnection.run_sync`` are built on: the synchronous code runs in a greenlet and
each driver call is awaited on the event loop; SQLAlchemy's "Asyncio" documentation,
"Running synchronous methods and functions under asyncio"). The engine is an async
driver's: aiosqlite, psycopg's async mode, aiomysql or asyncmy.

What differs from the sync store, all here: waits between retries yield to the event
loop (:class:`AsyncConnector`); the one connection of an in-memory SQLite database is
taken in turns by an ``asyncio.Lock`` (a thread lock would block the loop); there is no
``write_timeout`` (the sync store's deadline cancels from a thread); ``transaction()``
is an async context manager yielding an ``AsyncConnection``; ``bind()`` takes an
``AsyncConnection`` or ``AsyncSession``.

A task cancelled while its write runs leaves that write's outcome unknown, as a lost
connection does: the connection is discarded, and with ``tokens=True`` the token says
what happened (``history()`` or the token column).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.util import await_only, greenlet_spawn

from statusguard.errors import InvalidArgument, StoreUnavailable
from statusguard.guard._async_store import AsyncOverSync
from statusguard.sql._classify import describe
from statusguard.sql._engine import Connector
from statusguard.sql._store import SQLStore

__all__ = ["AsyncConnector", "AsyncSQLStore"]

T = TypeVar("T")


def _yield_sleep(seconds: float) -> None:
    """Sleep inside the greenlet bridge: the event loop runs other tasks meanwhile."""
    await_only(asyncio.sleep(seconds))


class AsyncConnector(Connector):
    """:class:`Connector` on an async driver's engine, called inside the greenlet bridge."""

    asynchronous = True
    sleep = staticmethod(_yield_sleep)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # no connections kept aside from the pool: a task waiting on the pool for one
        # would never see those come back (the sync store's threads are few; tasks are not)
        self._idle = None

    def _within_deadline(self, conn: Connection, op: Callable[[Connection], T]) -> T:
        return op(conn)  # no write deadline on the async store (see the module doc)


class _Bridged(SQLStore):
    """The sync store on an :class:`AsyncConnector`: only ever called inside the bridge."""

    _connector = AsyncConnector


def _options(options: dict[str, Any]) -> dict[str, Any]:
    """``SQLStore``'s options for the bridged store: no write deadline (refused if given), an
    async read engine as its ``sync_engine``."""
    if options.get("write_timeout") is not None:
        raise InvalidArgument(
            "write_timeout",
            options["write_timeout"],
            "None: AsyncSQLStore has no write deadline; bound the call with "
            "asyncio.timeout() and settle a cancelled write by its token",
        )
    read = options.get("read_engine")
    return {**options, "write_timeout": None, "read_engine": getattr(read, "sync_engine", read)}


class AsyncSQLStore(AsyncOverSync):
    """An :class:`AsyncStore` keeping statuses in a SQL table (SQLite, PostgreSQL, MariaDB).

    ``engine`` is a SQLAlchemy ``AsyncEngine`` or a URL with an async driver
    (``sqlite+aiosqlite://...``, ``postgresql+psycopg://...`` (psycopg's async mode is
    chosen for it), ``mysql+aiomysql://...``, ``mysql+asyncmy://...``);
    :class:`InvalidArgument` otherwise. ``table`` and every keyword (``key``, ``status``,
    ``version``, ``token``, ``audit``, ``columns``, ``lock_timeout``, ``retries``, ...)
    mean what they mean for :class:`SQLStore`, except ``write_timeout``, which this store
    does not have. :attr:`sync` is the underlying store (its methods only work inside
    SQLAlchemy's greenlet bridge).
    """

    __slots__ = ("_target", "_turns", "engine")

    sync: SQLStore

    def __init__(self, engine: AsyncEngine | str | sa.URL, table: str | sa.Table, **options: Any):
        self._adopt(_Bridged(engine, table, **_options(options)), engine)  # type: ignore[arg-type]

    def _adopt(self, sync: SQLStore, engine: object) -> None:
        self.sync = sync
        #: the AsyncEngine: the one given, or the one made from the URL
        self.engine: AsyncEngine = (
            engine if isinstance(engine, AsyncEngine) else AsyncEngine(sync.engine)
        )
        self._turns: asyncio.Lock | None = asyncio.Lock() if sync._conn.shared else None
        self._target: AsyncConnection | AsyncSession | None = None

    @classmethod
    async def reflect(
        cls, engine: AsyncEngine | str | sa.URL, table: str, **options: Any
    ) -> AsyncSQLStore:
        """Adopt the existing table named ``table``, its columns read from the database
        (:meth:`SQLStore.reflect`, run through the bridge)."""
        sync = await greenlet_spawn(_Bridged.reflect, engine, table, **_options(options))
        store = cls.__new__(cls)
        store._adopt(sync, engine)
        return store

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` (the sync store's) inside the greenlet bridge."""
        turns = self._turns
        if turns is None or self._target is not None:
            return await greenlet_spawn(fn, *args, **kwargs)
        async with turns:  # one shared connection: the tasks take turns
            return await greenlet_spawn(fn, *args, **kwargs)

    # -- the AsyncStore protocol: AsyncOverSync's, through _call ------------------------

    async def dispose(self) -> None:
        """Close the engine's pooled connections; on a bound store, nothing."""
        await self._call(self.sync.dispose)

    # -- schema -------------------------------------------------------------------------

    async def create_schema(self) -> None:
        """:meth:`SQLStore.create_schema`."""
        await self._call(self.sync.create_schema)

    async def drop_schema(self, *, existing: bool = False) -> None:
        """:meth:`SQLStore.drop_schema`."""
        await self._call(self.sync.drop_schema, existing=existing)

    # -- the caller's transaction ---------------------------------------------------------

    def bind(self, target: AsyncConnection | AsyncSession) -> AsyncSQLStore:
        """This store inside the caller's transaction on ``target`` (as :meth:`SQLStore.bind`):
        an ``AsyncConnection`` (started) or an ``AsyncSession``."""
        if isinstance(target, AsyncConnection):
            inner: Any = target.sync_connection
            if inner is None:
                raise ValueError("the AsyncConnection is not started; bind it inside 'async with'")
        elif isinstance(target, AsyncSession):
            inner = target.sync_session
        else:
            raise TypeError(
                "bind() takes a SQLAlchemy AsyncConnection or AsyncSession, "
                f"not {type(target).__name__}"
            )
        bound = copy.copy(self)
        bound.sync = self.sync.bind(inner)
        bound._target = target
        return bound

    @property
    def bound(self) -> bool:
        """Whether this store runs inside a caller's transaction (:meth:`bind`)."""
        return self._target is not None

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[tuple[AsyncSQLStore, AsyncConnection]]:
        """A transaction to write in: this store bound to it, and its ``AsyncConnection``
        (what in-transaction hooks receive); as :meth:`SQLStore.transaction`."""
        target = self._target
        if target is not None:
            if isinstance(target, AsyncSession):
                where = {"clause": self.sync.table}
                yield self, await target.connection(bind_arguments=where)
            else:
                yield self, target
            return
        turns = self._turns  # one shared connection: the whole transaction is this turn
        if turns is not None:
            await turns.acquire()
        try:
            async with self._transaction() as opened:
                yield opened
        finally:
            if turns is not None:
                turns.release()

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[tuple[AsyncSQLStore, AsyncConnection]]:
        catch = self.sync._conn.catch
        conn = self.engine.connect()
        try:
            await conn.start()
        except catch as exc:
            raise StoreUnavailable(
                f"{describe(exc)} (connecting for a transition with in-transaction hooks)",
                committed=False,
            ) from exc
        try:
            inner = conn.sync_connection
            assert inner is not None
            await conn.execution_options(isolation_level=inner.default_isolation_level)
            tx = await conn.begin()
            try:
                yield self.bind(conn), conn
            except BaseException:
                with contextlib.suppress(*catch):
                    await tx.rollback()
                raise
            try:
                await tx.commit()
            except catch as exc:
                raise StoreUnavailable(
                    f"{describe(exc)} (at the COMMIT of a transition with in-transaction "
                    "hooks, which is not retried)",
                    committed=None,
                ) from exc
        finally:
            await conn.close()

    async def after_commit(self, callback: Callable[[], Awaitable[object]]) -> None:
        """Await ``callback()`` once this store's writes are committed: at once unbound;
        bound, when the caller's transaction commits (never if it rolls back)."""
        if self._target is None:
            await callback()
            return
        await self._call(self.sync.after_commit, lambda: await_only(callback()))

    # -- what the sync store says ----------------------------------------------------------

    @property
    def table(self) -> sa.Table:
        """The status table."""
        return self.sync.table

    @property
    def table_name(self) -> str:
        """The status table's name."""
        return self.sync.table_name

    @property
    def dialect(self) -> str:
        """The dialect's name: ``sqlite``, ``postgresql`` or ``mysql``."""
        return self.sync.dialect

    @property
    def key_column(self) -> str:
        """The key column's name."""
        return self.sync.key_column

    @property
    def status_column(self) -> str:
        """The status column's name."""
        return self.sync.status_column

    @property
    def audit_table(self) -> str | None:
        """The audit table's name, if any."""
        return self.sync.audit_table

    def __repr__(self) -> str:
        bound = " bound" if self.bound else ""
        return f"<AsyncSQLStore {self.dialect} table={self.table_name!r}{bound}>"
