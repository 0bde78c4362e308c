"""The store protocol the guard writes through, and the records stores exchange.

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

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import NamedTuple, Protocol, runtime_checkable

__all__ = ["Applied", "AuditEntry", "Record", "Rejected", "Store"]


class Record(NamedTuple):
    """What a store holds for a key (immutable; a NamedTuple because it is on the hot path)."""

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


class Applied(NamedTuple):
    """A committed write: the status moved from ``source`` to ``target``."""

    source: str
    target: str
    version: int


class Rejected(NamedTuple):
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
