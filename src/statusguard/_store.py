"""The store protocol the guard writes through, and the in-memory store.

A store keeps, per key, a status and a version that grows by one with every
committed transition. Its two writes are atomic:

* ``apply``: given the moves an event makes (``{source: target}`` for every source
  the event is enabled in), move the stored status if it is one of the sources,
  in one step. This is statusguard's ``atomic_event`` protocol.
* ``compare_and_set``: move to ``target`` only if the stored status (and version,
  when given) still equal the expected ones: the ``cas_status`` / ``cas_version``
  protocols.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from statusguard._errors import DuplicateKey, UnknownKey

__all__ = ["Applied", "AuditEntry", "MemoryStore", "Record", "Rejected", "Store"]


@dataclass(frozen=True, slots=True)
class Record:
    """What a store holds for a key."""

    status: str
    version: int
    token: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One committed transition in a key's history (``event`` is ``None`` for a move)."""

    source: str
    event: str | None
    target: str
    version: int
    token: str | None = None


@dataclass(frozen=True, slots=True)
class Applied:
    """A committed write: the status moved from ``source`` to ``target``."""

    source: str
    target: str
    version: int


@dataclass(frozen=True, slots=True)
class Rejected:
    """A write that changed nothing, with what the store held at that moment."""

    current: Record


@runtime_checkable
class Store(Protocol):
    """Persistence for statuses. Implement this to guard your own storage."""

    def create(self, key: Hashable, status: str, token: str | None = None) -> Record:
        """Insert ``key`` with ``status`` at version 0; :class:`DuplicateKey` if present."""
        ...

    def get(self, key: Hashable) -> Record:
        """The current record; :class:`UnknownKey` if absent."""
        ...

    def apply(
        self,
        key: Hashable,
        moves: Mapping[str, str],
        token: str | None = None,
        event: str | None = None,
    ) -> Applied | Rejected:
        """Atomically move the status along ``moves`` if it is one of its sources.

        ``event`` names the cause, for stores that keep an audit history.
        """
        ...

    def compare_and_set(
        self,
        key: Hashable,
        expected: str,
        target: str,
        expected_version: int | None = None,
        token: str | None = None,
    ) -> Applied | Rejected:
        """Atomically set ``target`` if the status (and version) still match."""
        ...


class MemoryStore:
    """A thread-safe in-process store: one lock, held only for the compare and the write.

    With ``audit=True`` it also keeps every committed transition, in commit order,
    for :meth:`history` (the in-memory counterpart of :class:`SQLStore`'s audit table).
    """

    __slots__ = ("_audit", "_lock", "_rows")

    versioned = True

    def __init__(self, *, audit: bool = False) -> None:
        self._rows: dict[Hashable, Record] = {}
        self._lock = threading.Lock()
        self._audit: dict[Hashable, list[AuditEntry]] | None = {} if audit else None

    def history(self, key: Hashable) -> list[AuditEntry]:
        """Committed transitions of ``key``, oldest first (needs ``audit=True``)."""
        if self._audit is None:
            raise ValueError("this MemoryStore keeps no history; create it with audit=True")
        with self._lock:
            return list(self._audit.get(key, ()))

    def create(self, key: Hashable, status: str, token: str | None = None) -> Record:
        record = Record(status, 0, token)
        with self._lock:
            existing = self._rows.get(key)
            if existing is not None:
                raise DuplicateKey(key, existing.status)
            self._rows[key] = record
        return record

    def get(self, key: Hashable) -> Record:
        try:
            return self._rows[key]
        except KeyError:
            raise UnknownKey(key) from None

    def apply(
        self,
        key: Hashable,
        moves: Mapping[str, str],
        token: str | None = None,
        event: str | None = None,
    ) -> Applied | Rejected:
        with self._lock:
            try:
                current = self._rows[key]
            except KeyError:
                raise UnknownKey(key) from None
            target = moves.get(current.status)
            if target is None:
                return Rejected(current)
            version = current.version + 1
            self._rows[key] = Record(target, version, token)
            if self._audit is not None:
                entry = AuditEntry(current.status, event, target, version, token)
                self._audit.setdefault(key, []).append(entry)
        return Applied(current.status, target, version)

    def compare_and_set(
        self,
        key: Hashable,
        expected: str,
        target: str,
        expected_version: int | None = None,
        token: str | None = None,
    ) -> Applied | Rejected:
        with self._lock:
            try:
                current = self._rows[key]
            except KeyError:
                raise UnknownKey(key) from None
            if current.status != expected or (
                expected_version is not None and current.version != expected_version
            ):
                return Rejected(current)
            version = current.version + 1
            self._rows[key] = Record(target, version, token)
            if self._audit is not None:
                entry = AuditEntry(expected, None, target, version, token)
                self._audit.setdefault(key, []).append(entry)
        return Applied(expected, target, version)

    def __len__(self) -> int:
        return len(self._rows)
