"""The async store protocol :class:`AsyncGuard` writes through, and :class:`AsyncMemoryStore`.

:class:`AsyncStore` is :class:`Store` with coroutine methods: the same arguments, the same
records (:class:`Record`, :class:`Applied`, :class:`Rejected`, :class:`AuditEntry`), the
same errors. :class:`AsyncMemoryStore` is the in-process reference: it wraps a
:class:`MemoryStore`, whose every write takes its lock for the compare and the write
only and never awaits inside, so a write is one atomic step for the tasks of an event
loop and for threads alike. The SQL one is :class:`statusguard.sql.AsyncSQLStore`.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from statusguard.errors import InvalidArgument
from statusguard.guard._memory import MemoryStore
from statusguard.guard._store import Applied, AuditEntry, Record, Rejected

__all__ = ["ASYNC_STORE_MEMBERS", "AsyncMemoryStore", "AsyncStore", "check_async_store"]


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


class AsyncMemoryStore:
    """An :class:`AsyncStore` in process memory: a :class:`MemoryStore` behind coroutines.

    ``audit`` and ``columns`` as for :class:`MemoryStore`; :attr:`sync` is that store
    (read it from synchronous code, or share it with a :class:`Guard`).
    """

    __slots__ = ("sync",)

    versioned = True

    def __init__(self, *, audit: bool = False, columns: Iterable[str] = ()) -> None:
        self.sync = MemoryStore(audit=audit, columns=columns)

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns ``values=`` may write."""
        return self.sync.columns

    async def values(self, key: Hashable) -> dict[str, Any]:
        """The current values of :attr:`columns` for ``key``."""
        return self.sync.values(key)

    async def create(self, key: Hashable, status: str, token: str | None = None) -> Record:
        """Insert ``key`` with ``status`` at version 0; :class:`DuplicateKey` if present."""
        return self.sync.create(key, status, token)

    async def get(self, key: Hashable) -> Record:
        """The current record; :class:`UnknownKey` if absent."""
        return self.sync.get(key)

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
        """:meth:`MemoryStore.apply`."""
        return self.sync.apply(key, moves, token, event, values=values, actor=actor, reason=reason)

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
        """:meth:`MemoryStore.compare_and_set`."""
        return self.sync.compare_and_set(
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
        """:meth:`MemoryStore.history` (needs ``audit=True``)."""
        return self.sync.history(key, since=since, until=until)

    async def dispose(self) -> None:
        """Nothing to release."""

    def __len__(self) -> int:
        return len(self.sync)
