"""``MemoryStore``: the in-process store, the reference implementation of the protocol."""

from __future__ import annotations

import threading
from collections.abc import Hashable, Mapping

from statusguard.errors import DuplicateKey, UnknownKey
from statusguard.guard._store import Applied, AuditEntry, Record, Rejected

__all__ = ["MemoryStore"]


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

    def _apply_fast(
        self, key: Hashable, moves: Mapping[str, str], token: str | None, event: str | None
    ) -> tuple[str, str, int] | Record:
        """:meth:`apply` without building an :class:`Applied` (the guard's in-memory hot path)."""
        with self._lock:
            try:
                current = self._rows[key]
            except KeyError:
                raise UnknownKey(key) from None
            target = moves.get(current[0])
            if target is None:
                return current
            version = current[1] + 1
            self._rows[key] = Record(target, version, token)
            if self._audit is not None:
                entry = AuditEntry(current[0], event, target, version, token)
                self._audit.setdefault(key, []).append(entry)
        return (current[0], target, version)

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
