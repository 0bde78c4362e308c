"""The async store protocol :class:`AsyncGuard` writes through, and :class:`AsyncMemoryStore`.

:class:`AsyncStore` is :class:`Store` with coroutine methods: the same arguments, the same
records (:class:`Record`, :class:`Applied`, :class:`Rejected`, :class:`AuditEntry`), the
same errors. :class:`AsyncMemoryStore` is the in-process reference: it wraps a
:class:`MemoryStore`, whose every write takes its lock for the compare and the write
only and never awaits inside, so a write is one atomic step for the tasks of an event
loop and for threads alike. The SQL one is :class:`statusguard.sql.AsyncSQLStore`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol, TypeVar, runtime_checkable

from statusguard.errors import InvalidArgument
from statusguard.guard._memory import MemoryStore
from statusguard.guard._store import Applied, AuditEntry, Record, Rejected

__all__ = [
    "ASYNC_STORE_MEMBERS",
    "AsyncMemoryStore",
    "AsyncOverSync",
    "AsyncStore",
    "check_async_store",
]

T = TypeVar("T")


@runtime_checkable
class AsyncStore(Protocol):
    """Async persistence for statuses: :class:`Store`'s members, as coroutines.

    Each method means what the :class:`Store` method of the same name means, takes the
    same arguments (``values``, ``actor`` and ``reason`` optionally, as there) and
    raises the same errors; ``versioned`` likewise. Implement it to guard your own
    async storage with :class:`AsyncGuard`.
    """

    versioned: bool = True

    async def create(self, key: Hashable, status: str, token: str | None = None) -> Record:
        """Insert ``key`` with ``status`` at version 0; :class:`DuplicateKey` if present."""
        ...

    async def get(self, key: Hashable) -> Record:
        """The current record; :class:`UnknownKey` if absent."""
        ...

    async def apply(
        self,
        key: Hashable,
        moves: Mapping[str, str],
        token: str | None = None,
        event: str | None = None,
    ) -> Applied | Rejected:
        """Atomically move the status along ``moves`` if it is one of its sources."""
        ...

    async def compare_and_set(
        self,
        key: Hashable,
        expected: str,
        target: str,
        expected_version: int | None = None,
        token: str | None = None,
    ) -> Applied | Rejected:
        """Atomically set ``target`` if the status (and version) still match."""
        ...

    async def history(
        self, key: Hashable, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[AuditEntry]:
        """Committed transitions of ``key``, oldest first (``ValueError``: no history)."""
        raise ValueError(f"{type(self).__name__} keeps no history")

    async def dispose(self) -> None:
        """Release what the store holds (connections); the default holds nothing."""


#: every member of the AsyncStore protocol
ASYNC_STORE_MEMBERS = tuple(sorted(n for n in vars(AsyncStore) if not n.startswith("_")))


def check_async_store(store: object) -> None:
    """:class:`InvalidArgument` (a ``TypeError``) unless ``store`` is an :class:`AsyncStore`:
    naming what it lacks, or that it is a synchronous :class:`Store`."""
    missing = [n for n in ASYNC_STORE_MEMBERS if not hasattr(store, n)]
    if not missing and not _is_coroutine_function(getattr(store, "apply", None)):
        raise InvalidArgument(
            "store",
            store,
            "an AsyncStore",
            message=f"{type(store).__name__} is a synchronous Store (its apply() is not a "
            "coroutine function); give AsyncGuard an AsyncMemoryStore or AsyncSQLStore, "
            "or use Guard",
        )
    if missing:
        raise InvalidArgument(
            "store",
            store,
            "an AsyncStore",
            message=f"{type(store).__name__} is not an AsyncStore: it lacks "
            f"{', '.join(missing)}; implement them (as coroutines), or subclass "
            "statusguard.guard.AsyncStore to inherit the defaults of versioned, history "
            "and dispose",
        )


def _is_coroutine_function(method: object) -> bool:
    import inspect

    return inspect.iscoroutinefunction(method) or inspect.iscoroutinefunction(
        getattr(method, "__call__", None)  # noqa: B004 - a callable object's own method
    )


class AsyncOverSync:
    """The :class:`AsyncStore` members over a synchronous store held in :attr:`sync`.

    Each coroutine runs the sync method of the same name through :meth:`_call`: a plain
    call here, for a store whose writes never block on I/O; a store whose methods must
    run elsewhere (:class:`statusguard.sql.AsyncSQLStore`: inside SQLAlchemy's greenlet
    bridge) overrides it. Same arguments, records and errors as the sync store's.
    """

    __slots__ = ("sync",)

    sync: Any

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)``, one of :attr:`sync`'s methods."""
        return fn(*args, **kwargs)

    @property
    def versioned(self) -> bool:
        """Whether the store keeps a version per key."""
        return bool(self.sync.versioned)

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns ``values=`` may write."""
        return tuple(self.sync.columns)

    async def values(self, key: Hashable) -> dict[str, Any]:
        """The current values of :attr:`columns` for ``key``."""
        return await self._call(self.sync.values, key)

    async def create(self, key: Hashable, status: str, token: str | None = None) -> Record:
        """Insert ``key`` with ``status`` at version 0; :class:`DuplicateKey` if present."""
        return await self._call(self.sync.create, key, status, token)

    async def get(self, key: Hashable) -> Record:
        """The current record; :class:`UnknownKey` if absent."""
        return await self._call(self.sync.get, key)

    async def apply(
        self,
        key: Hashable,
        moves: Mapping[str, str],
        token: str | None = None,
        event: str | None = None,
        *,
        values: Mapping[str, Any] | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> Applied | Rejected:
        """The sync store's ``apply``: the event's moves, atomically."""
        return await self._call(
            self.sync.apply, key, moves, token, event, values=values, actor=actor, reason=reason
        )

    async def compare_and_set(
        self,
        key: Hashable,
        expected: str,
        target: str,
        expected_version: int | None = None,
        token: str | None = None,
        *,
        values: Mapping[str, Any] | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> Applied | Rejected:
        """The sync store's ``compare_and_set``: ``target`` if status (and version) match."""
        return await self._call(
            self.sync.compare_and_set,
            key,
            expected,
            target,
            expected_version,
            token,
            values=values,
            actor=actor,
            reason=reason,
        )

    async def history(
        self, key: Hashable, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[AuditEntry]:
        """The sync store's ``history``: committed transitions of ``key``, oldest first."""
        return await self._call(self.sync.history, key, since=since, until=until)


class AsyncMemoryStore(AsyncOverSync):
    """An :class:`AsyncStore` in process memory: a :class:`MemoryStore` behind coroutines.

    ``audit`` and ``columns`` as for :class:`MemoryStore`; :attr:`sync` is that store
    (read it from synchronous code, or share it with a :class:`Guard`).
    """

    __slots__ = ()

    sync: MemoryStore

    def __init__(self, *, audit: bool = False, columns: Iterable[str] = ()) -> None:
        self.sync = MemoryStore(audit=audit, columns=columns)

    async def dispose(self) -> None:
        """Nothing to release."""

    def __len__(self) -> int:
        return len(self.sync)
