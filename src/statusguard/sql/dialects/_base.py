# ruff: noqa: S608  (identifiers are validated and quoted; values are bound parameters)
"""What a SQL dialect provides: the :class:`Dialect` base, and the :class:`ErrorKind` of an error.

:class:`Dialect` is the base every dialect module subclasses: the statements the store
sends (as SQL text with ``:name`` bind parameters, see :mod:`._records`), how to read
a write's outcome from what the driver reported, the per-session setup, how the
store connects, which driver errors mean what, and the trigger DDL. Statements
shared by every engine are written here once; a dialect overrides what differs.
Nothing here executes SQL or imports SQLAlchemy, so a sync store, an async store and
the trigger generator all build on the same text.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from statusguard.sql.dialects._records import (
    Connecting,
    Layout,
    Moved,
    Outcome,
    Seen,
    Server,
    Session,
    Statement,
    Trigger,
)

__all__ = ["TRIGGER_MESSAGE", "Dialect", "ErrorKind"]

#: how every statusguard trigger's error message starts (a CHECK's does not)
TRIGGER_MESSAGE = "statusguard: illegal status transition"


class ErrorKind(enum.Enum):
    """What the store does about a database error."""

    RETRY = "retry"  # serialization failure, deadlock, SQLite busy: roll back, back off, retry
    TIMEOUT = "timeout"  # lock wait / statement timeout: the statement was undone
    LOST = "lost"  # the connection broke: the outcome of a write may be unknown
    REFUSED = "refused"  # the server refused before running anything: nothing was committed
    DUPLICATE = "duplicate"  # unique key violation
    TRIGGER = "trigger"  # a statusguard trigger (or a CHECK) rejected the write
    CONSTRAINT = "constraint"  # NOT NULL, foreign key, too long...: the row is refused for good
    CANCELED = "canceled"  # the statement was canceled (PostgreSQL 57014): it was undone
    OTHER = "other"


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
    #: what the audit row's ``at`` holds, so a time compares with it in SQL: "instant"
    #: (``TIMESTAMP WITH TIME ZONE``: any zone compares), "utc" (a zoneless UTC
    #: ``DATETIME``), "utc_text" (``'YYYY-MM-DD HH:MM:SS'`` text in UTC)
    at_kind: ClassVar[Literal["instant", "utc", "utc_text"]] = "instant"
    #: what opens the transaction holding a write and its audit row; ``None`` when the
    #: audit row is written by the write statement itself
    audit_begin: ClassVar[str | None] = None
    #: whether a text key column can hold NUL characters
    text_holds_nul: ClassVar[bool] = True
    #: the collation that makes the status column compare bytes, if the default does not
    status_collation: ClassVar[str | None] = None
    #: whether the statements compare the status as bytes whatever its collation (so an
    #: existing table's status collation does not matter)
    status_compared_as_bytes: ClassVar[bool] = False
    #: whether an auto-incremented key must be declared INTEGER (SQLite's rowid alias)
    integer_autoincrement: ClassVar[bool] = False
    #: the query naming this connection's server session (``None``: no server session)
    session_query: ClassVar[str | None] = None
    #: the query naming this connection's session and server, one row: session id, host,
    #: port, instance, start time (epoch seconds), Galera ``wsrep_on`` (see :meth:`server`)
    server_query: ClassVar[str | None] = None
    #: whether :meth:`cancel` can cancel a running statement (the write deadline)
    cancels: ClassVar[bool] = False
    #: per-session statements making every read causal on a Galera node (``None``: none)
    causal_read_sql: ClassVar[str | None] = None
    #: per-session settings, formatted with ``ms`` (milliseconds) or ``s`` (whole
    #: seconds, at least 1): the lock wait bound and the idle-in-transaction bound
    lock_timeout_sql: ClassVar[str | None] = None
    idle_timeout_sql: ClassVar[str | None] = None
    #: queries on a server session ``{session}``: is it alive (a count), end it
    session_alive_sql: ClassVar[str] = ""
    session_kill_sql: ClassVar[str] = ""
    #: what makes a read inside a caller's transaction see the newest committed row
    #: (MariaDB's REPEATABLE READ would otherwise read its snapshot): the row lock the
    #: retried UPDATE takes anyway, so two such readers never deadlock upgrading a
    #: shared lock (which they did in the racing-transactions test with FOR SHARE)
    locking_read: ClassVar[str] = ""
    #: whether any failed statement aborts the whole transaction (PostgreSQL), so that
    #: a write inside a caller's transaction that may fail needs a savepoint
    error_aborts_transaction: ClassVar[bool] = False

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

    # -- reads, inserts and the audit table ---------------------------------------

    def insert(self, lay: Layout) -> str:
        """Insert a key (``k``, ``st``, ``tok``) at version 0."""
        cols = [lay.key, lay.status] + ([lay.version] if lay.version else [])
        vals = [":k", ":st"] + (["0"] if lay.version else [])
        if lay.token:
            cols.append(lay.token)
            vals.append(":tok")
        return f"INSERT INTO {lay.table} ({', '.join(cols)}) VALUES ({', '.join(vals)})"

    def select(self, lay: Layout, *, locking: bool = False) -> str:
        """Read a key's status, version and token (``k``); ``locking``: the newest row."""
        return (
            f"SELECT {lay.status}, {lay.version or '0'}, {lay.token or 'NULL'} "
            f"FROM {lay.table} WHERE {lay.key} = :k" + (self.locking_read if locking else "")
        )

    def select_values(self, lay: Layout, columns: Sequence[str]) -> str:
        """Read a key's ``columns`` (quoted names; ``k``)."""
        return f"SELECT {', '.join(columns) or 'NULL'} FROM {lay.table} WHERE {lay.key} = :k"

    def token_select(self, lay: Layout) -> str | None:
        """Read a key's token (``k``), if the table has a token column."""
        if lay.token is None:
            return None
        return f"SELECT {lay.token} FROM {lay.table} WHERE {lay.key} = :k"

    def audit_insert(self, lay: Layout) -> str:
        """Insert one audit row (:func:`audit_params`)."""
        return (
            f"INSERT INTO {lay.audit} ({lay.audit_columns}) "
            f"VALUES (:k, :src, :ev, :tgt, :ver, :tok, {self.now}, :actor, :why)"
        )

    def audit_select(self, lay: Layout, *, since: bool = False, until: bool = False) -> str:
        """A key's audit rows (``k``), oldest first; with ``since``/``until``, only those
        with ``since <= at < until`` (bound as :meth:`audit_time` gives them)."""
        q = self.quote
        window = (f" AND {q('at')} >= :since" if since else "") + (
            f" AND {q('at')} < :until" if until else ""
        )
        return (
            f"SELECT {q('source')}, {q('event')}, {q('target')}, {q('version')}, "
            f"{q('token')}, {q('at')}, {q('actor')}, {q('reason')} FROM {lay.audit} "
            f"WHERE {q('resource_key')} = :k{window} ORDER BY {q('id')}"
        )

    def audit_time(self, at: datetime) -> Any:
        """An aware datetime bound as the audit row's ``at`` (:attr:`at_kind`) compares."""
        if self.at_kind == "instant":
            return at
        utc = at.astimezone(UTC).replace(tzinfo=None)
        # text: isoformat leaves out a zero fraction, so an equal time compares equal and
        # a nonzero fraction sorts after its whole second
        return utc.isoformat(sep=" ") if self.at_kind == "utc_text" else utc

    def audit_token(self, lay: Layout) -> str:
        """The audit row carrying a token (``tok``)."""
        q = self.quote
        return f"SELECT {q('target')} FROM {lay.audit} WHERE {q('token')} = :tok"

    # -- the two writes ----------------------------------------------------------

    def apply(
        self,
        lay: Layout,
        sources: tuple[str, ...],
        targets: tuple[str, ...],
        columns: tuple[str, ...] = (),
    ) -> Statement:
        """The one conditional UPDATE moving a key along an event's moves.

        ``columns`` (quoted names) are set to the bind parameters ``x0, x1, ...`` in the
        same statement (:func:`value_params`).
        """
        raise NotImplementedError

    def applied(
        self, lay: Layout, stmt: Statement, out: Outcome, info: Mapping[str, Any]
    ) -> Moved | None:
        """``(source, target, version)`` if ``stmt`` moved the row, else ``None``.

        ``info`` is the connection's memory (what :meth:`install` put there). By
        default the statement returns a row on a match, read by :meth:`_moved`.
        """
        row = out.first()
        return None if row is None else self._moved(stmt, row, info)

    def _moved(self, stmt: Statement, row: Any, info: Mapping[str, Any]) -> Moved:
        """What the row an event's UPDATE returned says it did."""
        raise NotImplementedError

    def seen(self, lay: Layout, out: Outcome) -> Seen:
        """What a write's single statement read of the row when it moved nothing.

        ``None`` by default: the statement reads nothing, the store asks with a SELECT.
        """
        return None

    # -- one-round-trip batches (where the driver sends several statements at once) ---

    def batch_ready(self, info: Mapping[str, Any], session: Session | None) -> bool:
        """Whether this connection (``info``: what :meth:`install` noted; ``session``: its
        server session) takes a batch."""
        return False

    def cas_batch(self, lay: Layout, versioned: bool, columns: tuple[str, ...] = ()) -> str | None:
        """:meth:`cas` as one batch (see :meth:`unbatch`); ``None``: this dialect has none."""
        return None

    def batch_results(self, lay: Layout) -> int:
        """How many results a batch yields (one per statement): :func:`run_batch` reads
        that many where the driver's ``nextset()`` does not say whether another follows."""
        raise NotImplementedError

    def unbatch(self, lay: Layout, outcomes: Sequence[Outcome]) -> tuple[Outcome, Seen]:
        """A batch's results as the write's own outcome (what :meth:`applied` and
        :meth:`cas_version` read) and what it read of the row (:meth:`seen`)."""
        raise NotImplementedError

    @staticmethod
    def _binds(prefix: str, count: int) -> str:
        """``:s0, :s1, ...``: ``count`` bind parameters named ``prefix`` + index."""
        return ", ".join(f":{prefix}{i}" for i in range(count))

    def _case_sets(
        self, lay: Layout, count: int, operand: str, row: str = "", columns: tuple[str, ...] = ()
    ) -> list[str]:
        """SET clauses moving ``operand`` along ``count`` moves (``:sN`` -> ``:tN``).

        The version grows by one, the token is stored and ``columns`` get their values;
        ``row`` prefixes the row's own columns (``"n."`` for an aliased UPDATE).
        """
        whens = " ".join(f"WHEN :s{i} THEN :t{i}" for i in range(count))
        sets = [f"{lay.status} = CASE {operand} {whens} END"]
        if lay.version:
            sets.append(f"{lay.version} = {row}{lay.version} + 1")
        if lay.token:
            sets.append(f"{lay.token} = :tok")
        return sets + self._value_sets(columns)

    @staticmethod
    def _value_sets(columns: tuple[str, ...]) -> list[str]:
        """``column = :xN`` for each of ``columns`` (quoted names), in order."""
        return [f"{c} = :x{i}" for i, c in enumerate(columns)]

    def _compare(self, expr: str) -> str:
        """``expr`` as compared byte for byte."""
        return expr

    def _bump(self, version: str) -> str:
        """The SET clause growing the version by one."""
        return f"{version} = {version} + 1"

    def _cas_update(self, lay: Layout, versioned: bool, columns: tuple[str, ...] = ()) -> str:
        where = f"{lay.key} = :k AND {self._compare(lay.status)} = :exp"
        if versioned:
            where += f" AND {lay.version} = :ver"
        sets = [self._bump(lay.version)] if lay.version else []
        sets.append(f"{lay.status} = :tgt")
        if lay.token:
            sets.append(f"{lay.token} = :tok")
        sets += self._value_sets(columns)
        return f"UPDATE {lay.table} SET {', '.join(sets)} WHERE {where}"

    def cas(self, lay: Layout, versioned: bool, columns: tuple[str, ...] = ()) -> str:
        """The conditional UPDATE of a compare-and-set (:func:`cas_params`).

        ``columns`` as for :meth:`apply`.
        """
        return self._cas_update(lay, versioned, columns) + f" RETURNING {lay.version or '0'}"

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
        out = []
        for template, seconds in (
            (self.lock_timeout_sql, lock_timeout),
            (self.idle_timeout_sql, idle_timeout),
        ):
            if template is not None and seconds is not None:
                out.append(template.format(ms=int(seconds * 1000), s=max(1, round(seconds))))
        return out

    def install(self, dbapi_connection: Any, info: dict[str, Any]) -> None:
        """Driver-level setup of a new connection (``info``: the connection's memory)."""

    def server_sql(self, *, mariadb: bool = False) -> str | None:
        """The query naming this connection's session and server (``server_query``)."""
        return self.server_query

    def server(self, row: Sequence[Any]) -> Session:
        """The session and server a :meth:`server_sql` row names."""
        ident, host, port, instance, started, wsrep = (list(row) + [None] * 6)[:6]
        return Session(
            int(ident),
            Server(
                None if host is None else str(host),
                None if port is None else int(port),
                None if instance in (None, "") else str(instance),
                None if started is None else float(started),
                str(wsrep).upper() in {"ON", "1"},
            ),
        )

    def cancel(self, dbapi_connection: Any) -> bool:
        """Ask the server to cancel what ``dbapi_connection`` runs now, from another thread.

        False when this dialect cannot (the write deadline then does not apply).
        """
        return False

    def commit_wait_cancelled(self, info: Mapping[str, Any]) -> bool:
        """Whether the last statement's COMMIT stopped waiting for a synchronous standby
        because it was cancelled (it then committed on this server only)."""
        return False

    def forget_notices(self, info: dict[str, Any]) -> None:
        """Drop the server notices kept for :meth:`commit_wait_cancelled`."""

    def session_alive(self, session: int) -> str:
        """A query counting the server sessions with id ``session`` (0 or 1)."""
        return self.session_alive_sql.format(session=int(session))

    def session_kill(self, session: int) -> str:
        """A statement ending server session ``session``."""
        return self.session_kill_sql.format(session=int(session))

    # -- keys compare exactly --------------------------------------------------------

    def key_collation(self, *, mariadb: bool = False) -> str | None:
        """The collation text key columns the store creates need, if the default is not exact.

        Exact: two keys are equal only if they are the same string (no case, accent or
        trailing-space folding).
        """
        return None

    def key_collations(self, columns: int) -> str | None:
        """A catalog query for the collations of ``columns`` columns of table ``:t``.

        Binds ``:t`` and ``:c0, :c1, ...``; rows are read by :meth:`inexact_keys`.
        ``None``: every collation of this engine compares exactly.
        """
        return None

    def inexact_keys(self, rows: Sequence[Any], columns: Sequence[str]) -> list[tuple[str, str]]:
        """``(column, collation)`` for each of ``columns`` whose collation is not exact."""
        return []

    def exact_keys_fix(self, table: str, column: str, *, mariadb: bool = False) -> str:
        """What to do about a key column that does not compare exactly."""
        return f"give {table}.{column} a collation that compares bytes"

    # -- errors ----------------------------------------------------------------------

    def error_kind(self, orig: Any) -> ErrorKind | None:
        """The kind of a DBAPI error of this dialect's driver; ``None`` if not its own."""
        return None

    # -- trigger DDL ----------------------------------------------------------------

    def trigger(self, spec: Trigger) -> list[str]:
        """The statements installing triggers that reject status changes off ``spec.edges``
        and inserts with a status outside ``spec.creatable``."""
        raise NotImplementedError

    def drop_trigger(self, spec: Trigger) -> list[str]:
        """The statements removing what :meth:`trigger` installs (each ``IF EXISTS``)."""
        return [f"DROP TRIGGER IF EXISTS {name}" for name in (spec.name, spec.insert_name)]

    def _statuses(self, statuses: Sequence[str], wrap: str = "") -> str:
        return ", ".join(f"{wrap}{self.literal(s)}" for s in statuses)

    def script(self, statements: Sequence[str]) -> str:
        """``statements`` as one script for the engine's own command-line client."""
        return "".join(f"{s};\n" for s in statements)

    def _pairs(self, edges: Sequence[tuple[str, str]], wrap: str = "") -> str:
        lit = self.literal
        return ", ".join(f"({wrap}{lit(a)}, {wrap}{lit(b)})" for a, b in edges)
