"""The store protocol the guard writes through, and the records stores exchange.

A store keeps, per key, a status and a version that grows by one with every
committed transition. Its two writes are atomic:

* ``apply``: given the moves an event makes (``{source: target}`` for every source
  the event is enabled in), move the stored status if it is one of the sources,
  in one step. This is statusguard's ``atomic_event`` protocol.
* ``compare_and_set``: move to ``target`` only if the stored status (and version,
  when given) still equal the expected ones: the ``cas_status`` / ``cas_version``
  protocols.

:class:`Store` declares everything the guard (or a tool built on it) may use, so a
third-party store stands beside :class:`MemoryStore` and :class:`SQLStore`.
:class:`SwapStore` is an optional capability on top: an in-process store whose
records can be read without a lock and replaced by compare-and-swap; the guard
then decides a ``fire`` itself and needs no ``apply`` call on its hot path.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from numbers import Number
from typing import NamedTuple, Protocol, TypeGuard, runtime_checkable

from statusguard.errors import InvalidArgument, InvalidKey

__all__ = [
    "MAX_VERSION",
    "STORE_MEMBERS",
    "Applied",
    "AuditEntry",
    "Record",
    "Rejected",
    "Store",
    "SwapStore",
    "aliased_key",
    "check_audit_text",
    "check_key",
    "check_store",
    "check_version",
    "check_window",
    "in_window",
    "swaps",
    "takes_keyword",
    "takes_values",
]


class Record(NamedTuple):
    """What a store holds for a key (immutable; a NamedTuple because it is on the hot path)."""

    status: str
    version: int
    token: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One committed transition in a key's history (``event`` is ``None`` for a move).

    ``at`` is when it committed: an aware UTC ``datetime`` (``None`` only from a store
    that keeps no time). It is left out of ``==``, so entries of two stores compare
    equal when they record the same transitions. SQL stores keep what the database's
    clock said (SQLite: whole seconds). ``actor`` and ``reason`` are what the caller
    passed to ``Guard.fire``/``move`` (``None`` when not given).
    """

    source: str
    event: str | None
    target: str
    version: int
    token: str | None = None
    at: datetime | None = field(default=None, compare=False)
    actor: str | None = None
    reason: str | None = None


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
    """Persistence for statuses. Implement this to guard your own storage.

    The four methods are required. ``versioned``, :meth:`history` and :meth:`dispose`
    are required too, with defaults a store inherits by subclassing ``Store``
    explicitly: versioned, no history (``ValueError``), nothing to release.
    Keys are any hashable the store accepts; a store refuses others with
    :class:`InvalidKey` before touching its storage.
    """

    #: whether :meth:`get` returns real versions, so that ``Guard.move`` without an
    #: expected version compares the version it read too (closing ABA); a store
    #: without a version column says ``False`` and reports version 0
    versioned: bool = True

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

        Optional: a store that keeps other columns also takes a keyword ``values``
        (``Guard.fire(..., values=...)``) here and in :meth:`compare_and_set`, and
        writes them in the same atomic step or not at all (as :class:`MemoryStore` and
        :class:`SQLStore` do). Likewise the keywords ``actor`` and ``reason``, recorded
        in the audit history. The guard passes them only when its caller does.
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
        """Atomically set ``target`` if the status (and version) still match.

        ``expected_version`` is ``None`` or a version number (:func:`check_version`:
        :class:`InvalidArgument` otherwise, before the storage is touched).
        """
        ...

    def history(
        self, key: Hashable, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[AuditEntry]:
        """Committed transitions of ``key``, oldest first.

        ``since``/``until`` (aware datetimes, :func:`check_window`) keep the entries with
        ``since <= at < until``. ``ValueError`` if this store keeps no history (the default).
        """
        raise ValueError(f"{type(self).__name__} keeps no history")

    def dispose(self) -> None:
        """Release what the store holds (connections); the default holds nothing.

        Call it when done with the store; a store may reconnect if used again.
        """


@runtime_checkable
class SwapStore(Store, Protocol):
    """A :class:`Store` whose records can be read lock-free and replaced by compare-and-swap.

    The guard's fast path: when its store is a ``SwapStore``, ``Guard.fire`` reads the
    record with :meth:`peek`, decides the event itself (a refusal then needs no
    write at all) and commits with :meth:`swap`; only when the swap loses a race
    does it fall back to :meth:`Store.apply`. Meant for stores in process memory
    (:class:`MemoryStore`); a store whose reads cost I/O gains nothing from it.
    A wrapper forwarding every attribute to a ``SwapStore`` is one too: set
    ``peek = swap = None`` on it to route every ``fire`` through its ``apply``.
    (:class:`MemoryStore` also offers ``swap_inline``, its records and lock, which the
    guard uses in place of a ``swap`` call while that store's own ``swap`` is in use.)
    """

    def peek(self, key: Hashable) -> Record | None:
        """The record stored for ``key`` at some instant during the call, or ``None``.

        Must not block on writers and must never return a record that was not stored
        (records are immutable, so a reader needs no lock).
        """
        ...

    def swap(self, key: Hashable, old: Record, new: Record, event: str | None = None) -> bool:
        """Atomically store ``new`` for ``key`` if the stored record is still ``old``.

        True if it did (and, for a store with a history, recorded the transition
        ``old.status -> new.status`` caused by ``event``); False, changing nothing, if
        any write happened since ``old`` was read. ``old`` must come from :meth:`peek`
        or :meth:`Store.get`, and ``new.version`` is ``old.version + 1``.
        """
        ...


#: every member of the Store protocol, read off the protocol itself
STORE_MEMBERS = tuple(sorted(n for n in vars(Store) if not n.startswith("_")))


#: the largest version a store holds (a signed 64-bit column: SQL ``BIGINT``)
MAX_VERSION = (1 << 63) - 1
_VERSIONS = "an int from 0 to 2**63 - 1 (a version the store reported), or None"


def check_version(version: object) -> None:
    """:class:`InvalidArgument` unless ``version`` is ``None`` or a version number.

    A version number is an ``int`` (not a ``bool``) from 0 to :data:`MAX_VERSION`: every
    store refuses anything else the same way, before it is touched, so no database
    coerces ``'0'`` or ``False`` into a number and no 65-bit int overflows a driver.
    """
    if version is not None and (
        isinstance(version, bool) or not isinstance(version, int) or not 0 <= version <= MAX_VERSION
    ):
        raise InvalidArgument("expected_version", version, _VERSIONS)


#: the longest ``actor`` an audit row holds (the SQL column is VARCHAR(255))
MAX_ACTOR = 255


def check_audit_text(actor: object, reason: object) -> None:
    """:class:`InvalidArgument` unless ``actor`` (at most 255 characters) and ``reason``
    are ``None`` or strings: every store refuses the same way, before writing."""
    if actor is not None and (not isinstance(actor, str) or len(actor) > MAX_ACTOR):
        raise InvalidArgument("actor", actor, f"a str of at most {MAX_ACTOR} characters, or None")
    if reason is not None and not isinstance(reason, str):
        raise InvalidArgument("reason", reason, "a str, or None")


def aliased_key(key: object) -> str | None:
    """Why ``key`` is a key on no store, or ``None`` (the rule every store applies).

    A bool, or a number that is not an int (``float``, ``Decimal``, ``Fraction``, ...),
    is never a key: Python calls ``True``, ``1.0`` and ``Decimal(1)`` equal to ``1``,
    with equal hashes, so a dict of records would give them key 1's record, while a SQL
    key column of integers or text refuses them (and a float NaN equals no key at all,
    not even itself). Refused everywhere, the same input gets the same answer from
    every store.
    """
    if isinstance(key, bool):
        return "its type is bool (Python calls True equal to 1 and False to 0)"
    if isinstance(key, Number) and not isinstance(key, int):
        return (
            f"its type is {type(key).__name__}, a number that is not an int "
            "(Python calls 1.0 and Decimal(1) equal to 1)"
        )
    return None


def check_key(key: object, allowed: str) -> None:
    """:class:`InvalidKey` for a key no store takes (:func:`aliased_key`); ``allowed``
    says what the store's keys may be."""
    problem = aliased_key(key)
    if problem is not None:
        raise InvalidKey(key, problem, allowed)


def check_window(since: object, until: object) -> None:
    """:class:`InvalidArgument` unless ``since`` and ``until`` are ``None`` or aware datetimes."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and (not isinstance(value, datetime) or value.utcoffset() is None):
            raise InvalidArgument(
                name, value, "an aware datetime (with a tzinfo, e.g. datetime.now(UTC)), or None"
            )


def in_window(
    entries: list[AuditEntry], since: datetime | None, until: datetime | None
) -> list[AuditEntry]:
    """The ``entries`` with ``since <= at < until`` (a bound of ``None``: no bound)."""
    if since is None and until is None:
        return entries
    return [
        e
        for e in entries
        if e.at is not None and (since is None or e.at >= since) and (until is None or e.at < until)
    ]


def check_store(store: object) -> None:
    """:class:`InvalidArgument` (a ``TypeError``) naming what ``store`` lacks of the
    :class:`Store` protocol, if anything.

    The same question as ``isinstance(store, Store)``, with an answer that says what to
    add, at a fraction of its cost.
    """
    missing = [n for n in STORE_MEMBERS if not hasattr(store, n)]
    if missing:
        raise InvalidArgument(
            "store",
            store,
            "a Store",
            message=f"{type(store).__name__} is not a Store: it lacks {', '.join(missing)}; "
            "implement them, or subclass statusguard.Store to inherit the defaults of "
            "versioned, history and dispose",
        )


def swaps(store: Store) -> TypeGuard[SwapStore]:
    """Whether ``store`` offers :class:`SwapStore`'s ``peek`` and ``swap`` (callable, not None).

    What ``isinstance(store, SwapStore)`` answers for a :class:`Store`, without the
    cost of a runtime protocol check (tens of microseconds on Python 3.11, paid by
    every ``Guard()``).
    """
    return callable(getattr(store, "peek", None)) and callable(getattr(store, "swap", None))


@functools.lru_cache(maxsize=256)
def _function_takes(function: Callable[..., object], name: str) -> bool:
    try:
        params = inspect.signature(function).parameters
    except (TypeError, ValueError):  # a builtin without a signature: let the call decide
        return True
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def takes_keyword(method: Callable[..., object], name: str) -> bool:
    """Whether a store's ``apply``/``compare_and_set`` takes the optional keyword ``name``
    (``values``, ``actor``, ``reason``)."""
    function = getattr(method, "__func__", method)
    try:
        return _function_takes(function, name)
    except TypeError:  # unhashable
        return True


def takes_values(method: Callable[..., object]) -> bool:
    """Whether a store's ``apply``/``compare_and_set`` takes the optional ``values=``."""
    return takes_keyword(method, "values")
