"""``MemoryStore``: the in-process store, the reference implementation of the protocol."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from datetime import UTC, datetime
from queue import SimpleQueue
from typing import Any

from statusguard.errors import DuplicateKey, ReservedColumn, UnknownKey
from statusguard.guard._store import (
    Applied,
    AuditEntry,
    Record,
    Rejected,
    check_audit_text,
    check_key,
    check_version,
    check_window,
    in_window,
)
from statusguard.guard._values import MEMORY_RESERVED, check_values

__all__ = ["MemoryStore", "writers_lock"]

now = datetime.now
#: what a MemoryStore takes as a key (:func:`check_key` says why not a bool or a float)
MEMORY_KEYS = "any hashable value but a bool or a number that is not an int"
_record = Record._make
Row = tuple[str, int, str | None]  # a stored record: a Record or a plain tuple of its fields


def writers_lock() -> SimpleQueue[None]:
    """The lock a MemoryStore's writers hold: a queue of one token.

    ``get()`` takes the token, waiting while another writer holds it; ``put_nowait(None)``
    gives it back. While nobody waits, neither touches an OS lock (the queue takes one only
    to put a waiter to sleep), where ``threading.Lock``'s ``acquire`` and ``release`` lock
    and unlock a semaphore every time: about 20 ns less per hold. Not reentrant, as
    ``threading.Lock`` is not. (A subclass with ``__enter__``/``__exit__`` would read
    better, but its ``get`` and ``put_nowait`` cost about 180 instructions more a hold.)
    """
    lock: SimpleQueue[None] = SimpleQueue()
    lock.put(None)
    return lock


class MemoryStore:
    """A thread-safe in-process store: one lock, held only for the compare and the write.

    With ``audit=True`` it also keeps every committed transition, in commit order,
    for :meth:`history` (the in-memory counterpart of :class:`SQLStore`'s audit table).
    It is a :class:`SwapStore`: records are immutable and every write stores a new
    one, so :meth:`peek` reads without the lock and :meth:`swap` compares what it read.
    Inside, a key's record is a ``(status, version, token)`` tuple (a :class:`Record`, or
    a plain tuple from the guard's inline path: a tuple subclass costs several plain
    tuples to build and free); :meth:`get`, :meth:`peek` and :meth:`create` return
    :class:`Record` objects.

    ``columns`` names the other columns a transition may write (``values=`` of
    ``Guard.fire``/``move``), as a SQL table's columns would be: a mapping of names
    (such as the ``columns=`` of :class:`SQLStore`) or a list of them. They are
    written under the same lock as the status; :meth:`values` reads them.
    """

    __slots__ = ("_audit", "_columns", "_lock", "_rows", "_swap", "_values")

    versioned = True

    def __init__(self, *, audit: bool = False, columns: Iterable[str] = ()) -> None:
        self._rows: dict[Hashable, Row] = {}
        self._lock = writers_lock()
        self._audit: dict[Hashable, list[AuditEntry]] | None = {} if audit else None
        self._swap = self._make_swap()
        self._columns: tuple[str, ...] = tuple(columns)
        for name in self._columns:
            role = MEMORY_RESERVED.get(name.lower())
            if role is not None:
                raise ReservedColumn(name, role)
        self._values: dict[Hashable, dict[str, Any]] = {}

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns ``values=`` may write."""
        return self._columns

    def values(self, key: Hashable) -> dict[str, Any]:
        """The current values of :attr:`columns` for ``key`` (``None``: never written)."""
        self._lock.get()
        try:
            self.get(key)
            stored = self._values.get(key, {})
            return {c: stored.get(c) for c in self._columns}
        finally:
            self._lock.put_nowait(None)

    def _check(self, values: Mapping[str, Any] | None) -> dict[str, Any] | None:
        if values is None:
            return None
        return check_values(values, self._columns, MEMORY_RESERVED) or None

    def history(
        self, key: Hashable, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[AuditEntry]:
        """Committed transitions of ``key``, oldest first (needs ``audit=True``).

        ``since``/``until``: only those with ``since <= at < until`` (aware datetimes).
        """
        check_window(since, until)
        if key.__class__ is not str and key.__class__ is not int:
            check_key(key, MEMORY_KEYS)
        if self._audit is None:
            raise ValueError("this MemoryStore keeps no history; create it with audit=True")
        self._lock.get()
        try:
            entries = list(self._audit.get(key, ()))
        finally:
            self._lock.put_nowait(None)
        return in_window(entries, since, until)

    def dispose(self) -> None:
        """Nothing to release (the records stay readable)."""

    def create(self, key: Hashable, status: str, token: str | None = None) -> Record:
        """Insert ``key`` with ``status`` at version 0; :class:`DuplicateKey` if present."""
        if key.__class__ is not str and key.__class__ is not int:
            check_key(key, MEMORY_KEYS)
        record = Record(status, 0, token)
        self._lock.get()
        try:
            existing = self._rows.get(key)
            if existing is not None:
                raise DuplicateKey(key, existing[0])
            self._rows[key] = record
        finally:
            self._lock.put_nowait(None)
        return record

    def get(self, key: Hashable) -> Record:
        """The current record; :class:`UnknownKey` if absent (:class:`InvalidKey` for a
        bool or a number that is not an int, which a dict would take for an int key)."""
        if key.__class__ is not str and key.__class__ is not int:
            check_key(key, MEMORY_KEYS)
        try:
            row = self._rows[key]
        except KeyError:
            raise UnknownKey(key) from None
        return row if row.__class__ is Record else _record(row)

    def peek(self, key: Hashable) -> Record | None:
        """The current record, or ``None``; never blocks (a dict read is atomic)."""
        row = self._rows.get(key)
        if row is None or row.__class__ is Record:
            return row
        return _record(row)

    @property
    def swap_inline(
        self,
    ) -> (
        tuple[dict[Hashable, Row], SimpleQueue[None], Callable[..., bool], Callable[..., Any]]
        | None
    ):
        """The records, the lock every writer holds, :attr:`swap` and :attr:`peek`, for the guard.

        The guard then compares and swaps with them inline (one call less on its hot
        path), but only while this store's own :meth:`peek` and :attr:`swap` are the ones
        it was given. A record there is a ``(status, version, token)`` tuple, a
        :class:`Record` or a plain one (the guard stores plain ones); a swap replaces the
        very object it read, under the lock. ``None`` with an audit: a swap must then also
        record the transition.
        """
        if self._audit is not None:
            return None
        return (self._rows, self._lock, self._swap, self.peek)

    @property
    def swap(self) -> Callable[[Hashable, Record, Record, str | None], bool]:
        """``swap(key, old, new, event=None)``: store ``new`` if the stored record is still
        the one ``old`` was read from (the same status, version and token: every write
        makes a higher version); whether it did.

        A closure over the rows, the lock and the audit (made once per store), so the
        guard's hot path pays no attribute lookups.
        """
        return self._swap

    def _make_swap(self) -> Callable[[Hashable, Record, Record, str | None], bool]:
        rows, audit = self._rows, self._audit
        get, take, give = rows.get, self._lock.get, self._lock.put_nowait

        def swap(key: Hashable, old: Record, new: Record, event: str | None = None) -> bool:
            take()
            try:
                stored = get(key)
                # peek() copies a plain stored tuple into a Record: equal, not the same
                if stored is not old and (stored is None or stored != old):
                    return False
                rows[key] = new
                if audit is not None:
                    entry = AuditEntry(old[0], event, new[0], new[1], new[2], now(UTC))
                    audit.setdefault(key, []).append(entry)
            finally:
                give(None)
            return True

        return swap

    def _commit(
        self,
        key: Hashable,
        current: Record,
        target: str,
        token: str | None,
        event: str | None,
        values: dict[str, Any] | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> int:
        """Store the successor of ``current`` (the lock is held); its version."""
        version = current.version + 1
        if values:
            self._values.setdefault(key, {}).update(values)
        self._rows[key] = (target, version, token)
        if self._audit is not None:
            entry = AuditEntry(
                current.status, event, target, version, token, now(UTC), actor, reason
            )
            self._audit.setdefault(key, []).append(entry)
        return version

    def apply(
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
        """Atomically move the status along ``moves`` if it is one of its sources.

        ``values`` (other columns) are written with it, or not at all; ``actor`` and
        ``reason`` go to the history entry (with ``audit=True``).
        """
        check_audit_text(actor, reason)
        checked = self._check(values)
        self._lock.get()
        try:
            current = self.get(key)
            target = moves.get(current.status)
            if target is None:
                return Rejected(current)
            version = self._commit(key, current, target, token, event, checked, actor, reason)
        finally:
            self._lock.put_nowait(None)
        return Applied(current.status, target, version)

    def compare_and_set(
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
        """Atomically set ``target`` if the status (and version) still match.

        ``values`` (other columns) are written with it, or not at all; ``actor`` and
        ``reason`` go to the history entry (with ``audit=True``).
        """
        check_version(expected_version)
        check_audit_text(actor, reason)
        checked = self._check(values)
        self._lock.get()
        try:
            current = self.get(key)
            if current.status != expected or (
                expected_version is not None and current.version != expected_version
            ):
                return Rejected(current)
            version = self._commit(key, current, target, token, None, checked, actor, reason)
        finally:
            self._lock.put_nowait(None)
        return Applied(expected, target, version)

    def __len__(self) -> int:
        return len(self._rows)
