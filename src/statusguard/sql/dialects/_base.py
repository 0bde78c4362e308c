# ruff: noqa: S608  (identifiers are validated and quoted; values are bound parameters)
"""What a SQL dialect provides, and the dialect-neutral records its builders exchange.

:class:`Dialect` is the base every dialect module subclasses: the statements the store
sends (as SQL text with ``:name`` bind parameters), how to read a write's outcome
from what the driver reported (:class:`Outcome`), the per-session setup, how the
store connects (:class:`Connecting`), which driver errors mean what
(:class:`ErrorKind`), and the trigger DDL. Statements shared by every engine are
written here once; a dialect overrides what differs. Nothing here executes SQL or
imports SQLAlchemy, so a sync store, an async store and the trigger generator all
build on the same text.

Bind parameters, the same on every dialect: ``k`` key, ``st`` initial status, ``tok``
token, ``ev`` event, ``s0, t0, s1, t1, ...`` the moves of an event (source, target),
``exp`` / ``tgt`` / ``ver`` a compare-and-set's expected status, target and expected
version, ``src`` an audit row's source. :func:`apply_params`, :func:`cas_params` and
:func:`audit_params` build them.
"""

from __future__ import annotations

import enum
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = [
    "AUDIT_COLUMNS",
    "Connecting",
    "Dialect",
    "ErrorKind",
    "Layout",
    "Outcome",
    "Statement",
    "TriggerSpec",
    "apply_params",
    "audit_params",
    "cas_params",
]

AUDIT_COLUMNS = ("id", "resource_key", "source", "event", "target", "version", "token", "at")


class ErrorKind(enum.Enum):
    """What the store does about a database error."""

    RETRY = "retry"  # serialization failure, deadlock, SQLite busy: roll back, back off, retry
    TIMEOUT = "timeout"  # lock wait / statement timeout: the statement was undone
    LOST = "lost"  # the connection broke: the outcome of a write may be unknown
    DUPLICATE = "duplicate"  # unique key violation
    TRIGGER = "trigger"  # a statusguard trigger (or a CHECK) rejected the write
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Layout:
    """A store's table, columns and audit table, each already quoted for one dialect."""

    table: str
    key: str
    status: str
    version: str | None = None
    token: str | None = None
    audit: str | None = None
    audit_columns: str = ""  # the audit table's insert columns (all but ``id``), joined


@dataclass(frozen=True, slots=True)
class Statement:
    """An event's conditional UPDATE: its text and the moves it was built for.

    ``inverse`` maps target -> source when no two sources share a target (the
    target then names the source the row held).
    """

    text: str
    sources: tuple[str, ...]
    targets: tuple[str, ...]
    inverse: Mapping[str, str] | None = None


class Outcome:
    """What the driver reported for one statement: rows (if any), rowcount, lastrowid."""

    __slots__ = ("lastrowid", "rowcount", "rows")

    def __init__(self, rows: list[Any], rowcount: int, lastrowid: Any) -> None:
        self.rows = rows
        self.rowcount = rowcount
        self.lastrowid = lastrowid

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
    DBAPI ``connect()`` arguments a shared connection needs.
    """

    shared: bool = False
    keep_idle: bool = False
    on_connect: tuple[str, ...] = ()
    driver_args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TriggerSpec:
    """What a trigger enforces: quoted names, the allowed status changes, the lifecycle."""

    table: str  # quoted
    column: str  # quoted
    name: str  # the trigger's quoted name
    plain_name: str  # the same, unquoted (PostgreSQL derives its function name from it)
    edges: Sequence[tuple[str, str]]  # allowed (old, new) status pairs
    lifecycle: str  # the lifecycle's name, for the error message


def apply_params(
    key: Hashable, moves: Mapping[str, str], token: str | None, event: str | None
) -> dict[str, Any]:
    """The bind parameters of :meth:`Dialect.apply`'s statement."""
    values: dict[str, Any] = {"k": key, "tok": token, "ev": event}
    for i, (src, tgt) in enumerate(moves.items()):
        values[f"s{i}"] = src
        values[f"t{i}"] = tgt
    return values


def cas_params(
    key: Hashable, expected: str, target: str, version: int | None, token: str | None
) -> dict[str, Any]:
    """The bind parameters of :meth:`Dialect.cas`'s statement."""
    return {"k": key, "exp": expected, "tgt": target, "ver": version, "tok": token}


def audit_params(
    key: Hashable, source: str, event: str | None, target: str, version: int, token: str | None
) -> dict[str, Any]:
    """The bind parameters of :meth:`Dialect.audit_insert`'s statement."""
    return {"k": key, "src": source, "ev": event, "tgt": target, "ver": version, "tok": token}


class Dialect:
    """One SQL engine's statements, session setup, connection profile, errors and trigger.

    Subclasses set the class attributes and override what their engine does
    differently. Every method is pure: it returns SQL text (or reads an
    :class:`Outcome`) and never talks to a database.
    """

    name: ClassVar[str]
    #: SQLAlchemy dialect names this dialect serves (MariaDB speaks the MySQL dialect)
    serves: ClassVar[tuple[str, ...]] = ()
    quote_char: ClassVar[str] = '"'
    #: the audit row's timestamp
    now: ClassVar[str] = "CURRENT_TIMESTAMP"
    #: what opens the transaction holding a write and its audit row; ``None`` when the
    #: audit row is written by the write statement itself
    audit_begin: ClassVar[str | None] = None
    #: whether a text key column can hold NUL characters
    text_holds_nul: ClassVar[bool] = True
    #: the collation that makes the status column compare bytes, if the default does not
    status_collation: ClassVar[str | None] = None
    #: whether an auto-incremented key must be declared INTEGER (SQLite's rowid alias)
    integer_autoincrement: ClassVar[bool] = False
    #: the query naming this connection's server session (``None``: no server session)
    session_query: ClassVar[str | None] = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    # -- names and literals -------------------------------------------------------

    def quote(self, name: str) -> str:
        """``name`` quoted (a validated identifier: it holds no quote character)."""
        return f"{self.quote_char}{name}{self.quote_char}"

    def literal(self, value: str) -> str:
        """``value`` as a SQL string literal (for trigger DDL, which cannot bind)."""
        if any(ord(ch) < 32 for ch in value):
            raise ValueError(f"status {value!r} contains control characters")
        return "'" + self._escape(value.replace("'", "''")) + "'"

    def _escape(self, value: str) -> str:
        return value

    def layout(
        self,
        table: str,
        key: str,
        status: str,
        version: str | None = None,
        token: str | None = None,
        audit: str | None = None,
    ) -> Layout:
        """The quoted names of a store's table (every name already validated)."""
        q = self.quote
        return Layout(
            q(table),
            q(key),
            q(status),
            None if version is None else q(version),
            None if token is None else q(token),
            None if audit is None else q(audit),
            ", ".join(q(c) for c in AUDIT_COLUMNS[1:]) if audit is not None else "",
        )

    # -- reads, inserts and the audit table ---------------------------------------

    def insert(self, lay: Layout) -> str:
        """Insert a key (``k``, ``st``, ``tok``) at version 0."""
        cols = [lay.key, lay.status] + ([lay.version] if lay.version else [])
        vals = [":k", ":st"] + (["0"] if lay.version else [])
        if lay.token:
            cols.append(lay.token)
            vals.append(":tok")
        return f"INSERT INTO {lay.table} ({', '.join(cols)}) VALUES ({', '.join(vals)})"

    def select(self, lay: Layout) -> str:
        """Read a key's status, version and token (``k``)."""
        return (
            f"SELECT {lay.status}, {lay.version or '0'}, {lay.token or 'NULL'} "
            f"FROM {lay.table} WHERE {lay.key} = :k"
        )

    def token_select(self, lay: Layout) -> str | None:
        """Read a key's token (``k``), if the table has a token column."""
        if lay.token is None:
            return None
        return f"SELECT {lay.token} FROM {lay.table} WHERE {lay.key} = :k"

    def audit_insert(self, lay: Layout) -> str:
        """Insert one audit row (:func:`audit_params`)."""
        return (
            f"INSERT INTO {lay.audit} ({lay.audit_columns}) "
            f"VALUES (:k, :src, :ev, :tgt, :ver, :tok, {self.now})"
        )

    def audit_select(self, lay: Layout) -> str:
        """A key's audit rows (``k``), oldest first."""
        q = self.quote
        return (
            f"SELECT {q('source')}, {q('event')}, {q('target')}, {q('version')}, "
            f"{q('token')} FROM {lay.audit} WHERE {q('resource_key')} = :k ORDER BY {q('id')}"
        )

    def audit_token(self, lay: Layout) -> str:
        """The audit row carrying a token (``tok``)."""
        q = self.quote
        return f"SELECT {q('target')} FROM {lay.audit} WHERE {q('token')} = :tok"

    # -- the two writes ----------------------------------------------------------

    def apply(self, lay: Layout, sources: tuple[str, ...], targets: tuple[str, ...]) -> Statement:
        """The one conditional UPDATE moving a key along an event's moves."""
        raise NotImplementedError

    def applied(self, lay: Layout, stmt: Statement, out: Outcome, info: Mapping[str, Any]) -> Any:
        """``(source, target, version)`` if ``stmt`` moved the row, else ``None``.

        ``info`` is the connection's memory (what :meth:`install` put there).
        """
        raise NotImplementedError

    def _compare(self, expr: str) -> str:
        """``expr`` as compared byte for byte."""
        return expr

    def _bump(self, version: str) -> str:
        """The SET clause growing the version by one."""
        return f"{version} = {version} + 1"

    def _cas_update(self, lay: Layout, versioned: bool) -> str:
        where = f"{lay.key} = :k AND {self._compare(lay.status)} = :exp"
        if versioned:
            where += f" AND {lay.version} = :ver"
        sets = [self._bump(lay.version)] if lay.version else []
        sets.append(f"{lay.status} = :tgt")
        if lay.token:
            sets.append(f"{lay.token} = :tok")
        return f"UPDATE {lay.table} SET {', '.join(sets)} WHERE {where}"

    def cas(self, lay: Layout, versioned: bool) -> str:
        """The conditional UPDATE of a compare-and-set (:func:`cas_params`)."""
        return self._cas_update(lay, versioned) + f" RETURNING {lay.version or '0'}"

    def cas_version(self, lay: Layout, out: Outcome) -> int | None:
        """The version a compare-and-set committed, or ``None`` if it matched no row."""
        row = out.first()
        return None if row is None else int(row[0])

    # -- sessions -------------------------------------------------------------------

    def connecting(self, database: str | None, url: str) -> Connecting:
        """How to connect to ``database`` (the URL's database part; ``url`` the whole)."""
        return Connecting()

    def session_setup(
        self, lock_timeout: float | None, idle_timeout: float | None, *, mariadb: bool = False
    ) -> list[str]:
        """Statements run once per connection: lock and idle-transaction timeouts."""
        return []

    def install(self, dbapi_connection: Any, info: dict[str, Any]) -> None:
        """Driver-level setup of a new connection (``info``: the connection's memory)."""

    def session_alive(self, session: int) -> str:
        """A query counting the server sessions with id ``session`` (0 or 1)."""
        raise NotImplementedError

    def session_kill(self, session: int) -> str:
        """A statement ending server session ``session``."""
        raise NotImplementedError

    # -- errors ----------------------------------------------------------------------

    def error_kind(self, orig: Any) -> ErrorKind | None:
        """The kind of a DBAPI error of this dialect's driver; ``None`` if not its own."""
        return None

    # -- trigger DDL ----------------------------------------------------------------

    def trigger(self, spec: TriggerSpec) -> list[str]:
        """The statements installing a trigger that rejects status changes off ``spec.edges``."""
        raise NotImplementedError

    def script(self, statements: Sequence[str]) -> str:
        """``statements`` as one script for the engine's own command-line client."""
        return "".join(f"{s};\n" for s in statements)

    def _pairs(self, edges: Sequence[tuple[str, str]], wrap: str = "") -> str:
        lit = self.literal
        return ", ".join(f"({wrap}{lit(a)}, {wrap}{lit(b)})" for a, b in edges)
