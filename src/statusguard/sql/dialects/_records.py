"""The dialect-neutral records statement builders exchange, and the bind-parameter names.

:class:`Layout` (a store's quoted names) goes in, :class:`Statement` and SQL text
come out, :class:`Outcome` (what a driver reported) is read back; :class:`Connecting`
says how to connect, :class:`Trigger` what a trigger enforces. No SQLAlchemy, no I/O.

Bind parameters, the same on every dialect: ``k`` key, ``st`` initial status, ``tok``
token, ``ev`` event, ``s0, t0, s1, t1, ...`` the moves of an event (source, target),
``exp`` / ``tgt`` / ``ver`` a compare-and-set's expected status, target and expected
version, ``src`` an audit row's source, ``x0, x1, ...`` the values of other columns a
write sets (``values=``). :func:`apply_params`, :func:`cas_params`, :func:`audit_params`
and :func:`value_params` build them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ABSENT",
    "AUDIT_COLUMNS",
    "Connecting",
    "Layout",
    "Moved",
    "Outcome",
    "Seen",
    "Server",
    "Session",
    "Statement",
    "Trigger",
    "apply_params",
    "audit_params",
    "cas_params",
    "value_params",
]

AUDIT_COLUMNS = (
    "id",
    "resource_key",
    "source",
    "event",
    "target",
    "version",
    "token",
    "at",
    "actor",
    "reason",
)

Moved = tuple[str, str, int]  # what a committed write did: (source, target, version)

#: what a write's own statement read of the row when it moved nothing: ``(status, version,
#: token)``, :data:`ABSENT` (no such row), or ``None`` (the statement did not read the row:
#: the store reads it)
Seen = tuple[Any, ...] | None
ABSENT: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class Server:
    """Which database server a connection is on, as far as the server can tell.

    ``host`` and ``port`` are what the server reports (``@@hostname``/``@@port``,
    ``inet_server_addr()``/``inet_server_port()``); ``instance`` changes when the server
    process restarts (a Galera node's ``wsrep_gcomm_uuid``, PostgreSQL's postmaster start
    time); ``started`` is a start time known to the second only (MariaDB/MySQL without
    Galera: ``UNIX_TIMESTAMP() - Uptime``, which two reads may see one second apart).
    ``galera``: the server is a Galera node (``wsrep_on``).
    """

    host: str | None
    port: int | None
    instance: str | None = None
    started: float | None = None
    galera: bool = False

    def same(self, other: Server) -> bool:
        """Whether ``other`` is provably this server process (session ids mean the same)."""
        if self.host != other.host or self.port != other.port:
            return False
        if self.instance is not None or other.instance is not None:
            return self.instance == other.instance
        if self.started is None or other.started is None:
            return False  # nothing tells a restarted server from this one
        return abs(self.started - other.started) <= 2.0


@dataclass(frozen=True, slots=True)
class Session:
    """A server session: its id (``CONNECTION_ID()``, ``pg_backend_pid()``) on ``server``."""

    id: int
    server: Server


@dataclass(frozen=True, slots=True)
class Layout:
    """A store's table, columns and audit table: validated names, or quoted ones.

    Statement builders take the quoted form, :meth:`quoted`, which also lists the
    audit table's insert columns.
    """

    table: str
    key: str
    status: str
    version: str | None = None
    token: str | None = None
    audit: str | None = None
    audit_columns: str = ""  # the audit table's insert columns (all but ``id``), joined

    def quoted(self, quote: Callable[[str], str]) -> Layout:
        """Every name passed through ``quote`` (a dialect's :meth:`Dialect.quote`)."""

        def opt(name: str | None) -> str | None:
            return None if name is None else quote(name)

        audit = opt(self.audit)
        columns = ", ".join(quote(c) for c in AUDIT_COLUMNS[1:]) if audit is not None else ""
        t, k, s = quote(self.table), quote(self.key), quote(self.status)
        return Layout(t, k, s, opt(self.version), opt(self.token), audit, columns)


@dataclass(frozen=True, slots=True)
class Statement:
    """An event's conditional UPDATE: its text and the moves it was built for.

    ``inverse`` maps target -> source when no two sources share a target (the
    target then names the source the row held). ``batch``: see :meth:`Dialect.unbatch`.
    """

    text: str
    sources: tuple[str, ...]
    targets: tuple[str, ...]
    inverse: Mapping[str, str] | None = None
    #: the same write as one multi-statement batch (one round trip, with its audit row and
    #: the read of the row on a miss), for connections that allow it (``None``: none)
    batch: str | None = None


class Outcome:
    """What the driver reported for one statement: rows (if any), rowcount, lastrowid.

    ``ask(sql)`` runs one more query in the same session and returns its first column
    (``None``: no row); a dialect calls it only when the report lacks something, such
    as MySQL's insert id behind a trigger (:mod:`statusguard.sql.dialects.mysql`).
    """

    __slots__ = ("ask", "lastrowid", "rowcount", "rows")

    def __init__(
        self,
        rows: list[Any],
        rowcount: int,
        lastrowid: Any,
        ask: Callable[[str], Any] | None = None,
    ) -> None:
        self.rows = rows
        self.rowcount = rowcount
        self.lastrowid = lastrowid
        self.ask = ask

    def first(self) -> Any:
        """The first row, or ``None``."""
        return self.rows[0] if self.rows else None

    def all(self) -> list[Any]:
        """Every row."""
        return self.rows

    def scalar(self) -> Any:
        """The first column of the first row, or ``None``."""
        return self.rows[0][0] if self.rows else None


@dataclass(frozen=True, slots=True)
class Connecting:
    """How a store connects to a database of this dialect.

    ``shared``: one connection serves the whole process (an in-memory SQLite database),
    so calls are serialized. ``keep_idle``: the database is in-process, so the store
    keeps the connections it used between calls instead of going through the pool.
    ``on_connect``: statements for every new DBAPI connection. ``driver_args``: the
    DBAPI ``connect()`` arguments a shared connection needs. ``client_flags``: driver
    client flags an engine the store builds from a URL adds to the URL's ``client_flag``
    (MySQL-family drivers: multi-statement batches).
    """

    shared: bool = False
    keep_idle: bool = False
    on_connect: tuple[str, ...] = ()
    driver_args: Mapping[str, Any] = field(default_factory=dict)
    client_flags: int = 0


@dataclass(frozen=True, slots=True)
class Trigger:
    """What a trigger enforces: quoted names, the allowed status changes, the lifecycle."""

    table: str  # quoted
    column: str  # quoted
    name: str  # the trigger's quoted name
    plain_name: str  # the same, unquoted (PostgreSQL derives its function name from it)
    edges: Sequence[tuple[str, str]]  # allowed (old, new) status pairs
    lifecycle: str  # the lifecycle's name, for the error message
    insert_name: str = ""  # the quoted name of the trigger checking INSERTs
    creatable: Sequence[str] = ()  # the statuses a row may be inserted with


def apply_params(
    key: Hashable,
    moves: Mapping[str, str],
    token: str | None,
    event: str | None,
    actor: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """The bind parameters of :meth:`Dialect.apply`'s statement."""
    values: dict[str, Any] = {"k": key, "tok": token, "ev": event, "actor": actor, "why": reason}
    for i, (src, tgt) in enumerate(moves.items()):
        values[f"s{i}"] = src
        values[f"t{i}"] = tgt
    return values


def cas_params(
    key: Hashable,
    expected: str,
    target: str,
    version: int | None,
    token: str | None,
    actor: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """The bind parameters of :meth:`Dialect.cas`'s statement."""
    return {
        "k": key,
        "exp": expected,
        "tgt": target,
        "ver": version,
        "tok": token,
        "actor": actor,
        "why": reason,
    }


def audit_params(
    key: Hashable,
    source: str,
    event: str | None,
    target: str,
    version: int,
    token: str | None,
    actor: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """The bind parameters of :meth:`Dialect.audit_insert`'s statement."""
    return {
        "k": key,
        "src": source,
        "ev": event,
        "tgt": target,
        "ver": version,
        "tok": token,
        "actor": actor,
        "why": reason,
    }


def value_params(values: Sequence[Any]) -> dict[str, Any]:
    """The bind parameters ``x0, x1, ...`` of the columns a write sets, in column order."""
    return {f"x{i}": v for i, v in enumerate(values)}
