# ruff: noqa: S608  (every identifier is validated by check_identifier and quoted; values are bound)
"""``SQLStore``: the guard's compare-and-set on SQLAlchemy Core (SQLite, PostgreSQL, MariaDB/MySQL).

Every write is ONE conditional ``UPDATE`` in autocommit mode, so the database
itself decides the transition against the row's current status; there is no
read-decide-write window. The success path of ``fire`` needs the source status
too (for :class:`Committed` and the audit row); each engine returns it from the
same statement:

* PostgreSQL: ``UPDATE t AS n ... FROM t AS o WHERE n.key = o.key AND n.status = o.status
  ... RETURNING o.status, n.status, n.version``. ``o`` is the statement's snapshot of
  the row; if a concurrent writer changed it, PostgreSQL re-checks ``n.status = o.status``
  on the newest version and matches nothing, and the store retries. With an audit
  table the ``INSERT`` rides in a CTE of the same statement: 1 round trip.
* MariaDB/MySQL (no ``UPDATE ... RETURNING``): ``SET version = LAST_INSERT_ID((version + 1)
  * M + FIELD(status, sources...)) DIV M, status = ELT(FIELD(status, ...), targets...)``.
  The OK packet carries ``LAST_INSERT_ID(expr)`` as the insert id, so the source
  index and the new version come back with the UPDATE: 1 round trip (4 with an
  audit table: START TRANSACTION, UPDATE, INSERT, COMMIT). Comparisons use ``BINARY``
  so a case- or pad-insensitive collation cannot match an unknown status.
* SQLite: ``... SET status = CASE statusguard_note(status) WHEN ... END ... RETURNING``;
  ``statusguard_note`` is a per-connection SQL function that records the old status
  in process: 1 statement (BEGIN IMMEDIATE, UPDATE, INSERT, COMMIT with an audit table).

A miss (0 rows) is followed by a read to build the error; if that read shows a
status the event is enabled in (another writer moved it in between), the store
tries again. Errors are classified by SQLSTATE / errno / SQLite error name:
serialization failures, deadlocks and SQLite busy are retried with bounded
jittered backoff; lock and statement timeouts, lost connections and other
failures become :class:`StoreUnavailable`. A lost connection during a write is
settled by looking for the attempt's token (row token column or audit table)
after making sure the old session is gone.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from statusguard.errors import (
    DuplicateKey,
    InvalidIdentifier,
    InvalidKey,
    StoreRejected,
    StoreUnavailable,
    TransitionConflict,
    UnknownKey,
)
from statusguard.guard._store import Applied, AuditEntry, Record, Rejected
from statusguard.sql._classify import ErrorKind, classify, describe
from statusguard.sql._identifiers import check_identifier, check_table_name

__all__ = ["SQLStore", "check_identifier"]

T = TypeVar("T")

_SESSION = "statusguard_session"
_NOTE = "statusguard_note"
_READY = "statusguard_ready"
_AUDIT_COLUMNS = ("id", "resource_key", "source", "event", "target", "version", "token", "at")


@dataclass(frozen=True, slots=True)
class _Sql:
    """One statement rendered for the driver's paramstyle."""

    text: str
    positions: tuple[str, ...] | None  # parameter order for positional paramstyles
    inverse: Mapping[str, str] | None = None  # target -> source, when the event is injective

    def params(self, values: Mapping[str, Any]) -> Any:
        if self.positions is None:
            return dict(values)
        return tuple(values[n] for n in self.positions)


class _Noted:
    """The per-connection memory behind SQLite's ``statusguard_note(x)``."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: str | None = None

    def __call__(self, value: str) -> str:
        self.value = value
        return value

    def take(self) -> str:
        value, self.value = self.value, None
        assert value is not None, "statusguard_note() did not run"
        return value


class SQLStore:
    """A :class:`Store` keeping statuses in a SQL table, through SQLAlchemy Core.

    ``engine`` is a SQLAlchemy :class:`~sqlalchemy.engine.Engine` or a URL. From a URL
    the store builds its own engine in autocommit mode (no pool reset, SQLite WAL
    for files, one shared connection for ``sqlite://`` memory databases); a given
    engine is used with ``isolation_level="AUTOCOMMIT"`` per connection. ``table``,
    ``key``, ``status`` and the optional ``version``/``token`` columns and ``audit``
    table are validated identifiers, always quoted. ``lock_timeout`` (seconds) bounds
    lock waits (PostgreSQL ``lock_timeout``, InnoDB ``innodb_lock_wait_timeout``,
    SQLite ``busy_timeout``); ``idle_timeout`` ends sessions idle inside a transaction
    (PostgreSQL ``idle_in_transaction_session_timeout``, MariaDB
    ``idle_transaction_timeout``). ``retries`` bounds the retries of serialization
    failures, deadlocks and busy errors.
    """

    def __init__(
        self,
        engine: Engine | str,
        table: str,
        *,
        key: str = "id",
        status: str = "status",
        version: str | None = None,
        token: str | None = None,
        audit: str | None = None,
        key_type: sa.types.TypeEngine[Any] | None = None,
        lock_timeout: float | None = 5.0,
        idle_timeout: float | None = 60.0,
        retries: int = 8,
        backoff: float = 0.002,
        race_retries: int = 100,
    ) -> None:
        self.table_name = check_table_name("table name", table)
        self.key_column = check_identifier("key column", key)
        self.status_column = check_identifier("status column", status)
        self.version_column = (
            None if version is None else check_identifier("version column", version)
        )
        self.token_column = None if token is None else check_identifier("token column", token)
        self.audit_table = None if audit is None else check_table_name("audit table", audit)
        names = [key, status, *(c for c in (version, token) if c)]
        if len({n.lower() for n in names}) != len(names):
            raise InvalidIdentifier("column set", ", ".join(names), "column names must differ")
        if audit is not None and audit.lower() == table.lower():
            raise InvalidIdentifier("audit table", audit, "must differ from the status table")
        self.lock_timeout = lock_timeout
        self.idle_timeout = idle_timeout
        self.retries = retries
        self.backoff = backoff
        self.race_retries = race_retries
        self._serial: AbstractContextManager[Any] = nullcontext()
        if isinstance(engine, str):
            engine = self._make_engine(engine)
        elif engine.dialect.name == "sqlite" and _sqlite_memory(engine.url):
            self._serial = threading.Lock()  # a single shared connection
        # SQLite file databases: connections this store used are kept here between calls,
        # skipping SQLAlchemy's Connection setup and pool checkout (a third of a fire's
        # Python time). It holds at most as many as were ever in use at once, and
        # :meth:`dispose` closes them. Server databases go through the pool every time,
        # so its pre-ping and recycle settings keep working.
        self._idle: list[Connection] | None = None
        self._pid = os.getpid()
        if engine.dialect.name == "sqlite" and not _sqlite_memory(engine.url):
            self._idle = []
        if getattr(engine.dialect, "_on_connect_isolation_level", None) != "AUTOCOMMIT":
            engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.engine: Engine = engine
        self.dialect = engine.dialect.name
        if self.dialect == "mariadb":
            self.dialect = "mysql"
        if self.dialect not in ("sqlite", "postgresql", "mysql"):
            raise StoreUnavailable(
                f"unsupported database dialect {self.dialect!r}; expected sqlite, postgresql, "
                "mysql or mariadb",
                committed=False,
            )
        self.versioned = version is not None
        dbapi = getattr(engine.dialect, "loaded_dbapi", None)
        self._catch: tuple[type[Exception], ...] = (DBAPIError,)
        if dbapi is not None:
            self._catch = (DBAPIError, dbapi.Error)
        self._q = engine.dialect.identifier_preparer.quote_identifier
        self._metadata = sa.MetaData()
        self._check_key = _key_checker(key_type or sa.String(255), self.dialect)
        self.table = self._define_table(key_type or sa.String(255))
        self.audit = self._define_audit(key_type or sa.String(255)) if audit else None
        self._cache: dict[Any, _Sql] = {}
        self._created: list[str] = []  # tables create_schema() created, for drop_schema()
        self._build_fixed()

    # -- engine and schema -----------------------------------------------------

    def _make_engine(self, url: str) -> Engine:
        parsed = sa.engine.make_url(url)
        if parsed.get_backend_name() == "sqlite":
            if _sqlite_memory(parsed):
                self._serial = threading.Lock()
                return sa.create_engine(
                    parsed,
                    isolation_level="AUTOCOMMIT",
                    poolclass=sa.pool.StaticPool,
                    connect_args={"check_same_thread": False},
                )
            engine = sa.create_engine(
                parsed, isolation_level="AUTOCOMMIT", pool_reset_on_return=None
            )

            @sa.event.listens_for(engine, "connect")
            def _wal(dbapi_conn: Any, _record: Any) -> None:
                dbapi_conn.execute("PRAGMA journal_mode=WAL")
                dbapi_conn.execute("PRAGMA synchronous=NORMAL")

            return engine
        return sa.create_engine(parsed, isolation_level="AUTOCOMMIT", pool_reset_on_return=None)

    def _define_table(self, key_type: sa.types.TypeEngine[Any]) -> sa.Table:
        cols: list[sa.Column[Any]] = [
            sa.Column(self.key_column, key_type, primary_key=True, autoincrement=False, quote=True),
            sa.Column(self.status_column, _status_type(), nullable=False, quote=True),
        ]
        if self.version_column:
            cols.append(
                sa.Column(self.version_column, sa.BigInteger, nullable=False, default=0, quote=True)
            )
        if self.token_column:
            cols.append(sa.Column(self.token_column, sa.String(64), quote=True))
        return sa.Table(self.table_name, self._metadata, *cols, quote=True)

    def _define_audit(self, key_type: sa.types.TypeEngine[Any]) -> sa.Table:
        assert self.audit_table is not None
        return sa.Table(
            self.audit_table,
            self._metadata,
            sa.Column(
                "id",
                sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                primary_key=True,
                autoincrement=True,
            ),
            sa.Column("resource_key", key_type, nullable=False, index=True),
            sa.Column("source", _status_type(), nullable=False),
            sa.Column("event", sa.String(64)),
            sa.Column("target", _status_type(), nullable=False),
            sa.Column("version", sa.BigInteger),
            sa.Column("token", sa.String(64), index=True),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            quote=True,
        )

    def create_schema(self) -> None:
        """Create the status table (and audit table) if missing: for new deployments and tests.

        The store remembers which tables this call created (not those that existed
        already), so :meth:`drop_schema` drops only those.
        """

        def op(conn: Connection) -> None:
            for table in self._metadata.sorted_tables:
                if sa.inspect(conn).has_table(table.name):
                    continue
                try:
                    table.create(conn, checkfirst=False)
                except self._catch:
                    conn.rollback()
                    if sa.inspect(conn).has_table(table.name):
                        continue  # another process created it just now: not ours to drop
                    raise
                if table.name not in self._created:
                    self._created.append(table.name)
            conn.commit()

        self._wrap(op, write=False)

    def drop_schema(self, *, existing: bool = False) -> None:
        """Drop the tables this store's :meth:`create_schema` created (and nothing else).

        A table that already existed under the configured name (created by a migration,
        or by another process) is left alone unless ``existing=True`` is passed, which
        drops the configured status and audit tables whoever created them.
        """
        names = {t.name for t in self._metadata.tables.values()} if existing else set(self._created)
        tables = [t for t in reversed(self._metadata.sorted_tables) if t.name in names]

        def op(conn: Connection) -> None:
            for table in tables:
                table.drop(conn, checkfirst=True)
            conn.commit()

        self._wrap(op, write=False)
        self._created = [n for n in self._created if n not in names]

    def dispose(self) -> None:
        """Close the engine's pooled connections (and the ones this store keeps idle)."""
        idle = self._idle
        while idle:
            try:
                conn = idle.pop()
            except IndexError:
                break
            with suppress(Exception):
                conn.close()
        self.engine.dispose()

    # -- statements ------------------------------------------------------------

    def _render(self, sql: str) -> _Sql:
        compiled = sa.text(sql).compile(dialect=self.engine.dialect)
        positions = compiled.positiontup if self.engine.dialect.positional else None
        return _Sql(compiled.string, tuple(positions) if positions is not None else None)

    def _build_fixed(self) -> None:
        q = self._q
        t, k, s = q(self.table_name), q(self.key_column), q(self.status_column)
        v = q(self.version_column) if self.version_column else None
        tk = q(self.token_column) if self.token_column else None
        cols = [k, s] + ([v] if v else []) + ([tk] if tk else [])
        vals = [":k", ":st"] + (["0"] if v else []) + ([":tok"] if tk else [])
        self._insert = self._render(
            f"INSERT INTO {t} ({', '.join(cols)}) VALUES ({', '.join(vals)})"
        )
        self._select = self._render(
            f"SELECT {s}, {v or '0'}, {tk or 'NULL'} FROM {t} WHERE {k} = :k"
        )
        if self.audit_table:
            a = q(self.audit_table)
            acols = ", ".join(q(c) for c in _AUDIT_COLUMNS[1:])
            now = "CURRENT_TIMESTAMP(6)" if self.dialect == "mysql" else "CURRENT_TIMESTAMP"
            self._audit_insert = self._render(
                f"INSERT INTO {a} ({acols}) VALUES (:k, :src, :ev, :tgt, :ver, :tok, {now})"
            )
            self._audit_select = self._render(
                f"SELECT {q('source')}, {q('event')}, {q('target')}, {q('version')}, "
                f"{q('token')} FROM {a} WHERE {q('resource_key')} = :k ORDER BY {q('id')}"
            )
            self._audit_token = self._render(
                f"SELECT {q('target')} FROM {a} WHERE {q('token')} = :tok"
            )
        self._token_select = (
            self._render(f"SELECT {tk} FROM {t} WHERE {k} = :k") if tk is not None else None
        )

    def _apply_sql(self, sources: tuple[str, ...], targets: tuple[str, ...]) -> _Sql:
        cache_key = ("apply", sources, targets)
        found = self._cache.get(cache_key)
        if found is not None:
            return found
        q = self._q
        t, k, s = q(self.table_name), q(self.key_column), q(self.status_column)
        v = q(self.version_column) if self.version_column else None
        tk = q(self.token_column) if self.token_column else None
        srcs = ", ".join(f":s{i}" for i in range(len(sources)))
        if self.dialect == "postgresql":
            whens = " ".join(f"WHEN :s{i} THEN :t{i}" for i in range(len(sources)))
            sets = [f"{s} = CASE n.{s} {whens} END"]
            if v:
                sets.append(f"{v} = n.{v} + 1")
            if tk:
                sets.append(f"{tk} = :tok")
            update = (
                f"UPDATE {t} AS n SET {', '.join(sets)} FROM {t} AS o "
                f"WHERE n.{k} = :k AND o.{k} = :k AND n.{s} = o.{s} AND n.{s} IN ({srcs}) "
            )
            ver = f"n.{v}" if v else "0"
            if self.audit_table is None:
                sql = update + f"RETURNING o.{s}, n.{s}, {ver}"
            else:
                a = q(self.audit_table)
                acols = ", ".join(q(c) for c in _AUDIT_COLUMNS[1:])
                sql = (
                    f"WITH u AS ({update}RETURNING n.{k} AS k, o.{s} AS src, n.{s} AS tgt, "
                    f"{ver} AS ver), w AS (INSERT INTO {a} ({acols}) SELECT k, src, "
                    "CAST(:ev AS VARCHAR), tgt, ver, CAST(:tok AS VARCHAR), CURRENT_TIMESTAMP "
                    "FROM u) SELECT src, tgt, ver FROM u"
                )
        elif self.dialect == "mysql":
            field = f"FIELD(BINARY {s}, {srcs})"
            tgts = ", ".join(f":t{i}" for i in range(len(targets)))
            m = 1 << 12
            if v:
                sets = [
                    f"{v} = LAST_INSERT_ID(({v} + 1) * {m} + {field}) DIV {m}",
                    f"{s} = ELT({field}, {tgts})",
                ]
            else:
                sets = [f"{s} = ELT(LAST_INSERT_ID({field}), {tgts})"]
            if tk:
                sets.append(f"{tk} = :tok")
            sql = f"UPDATE {t} SET {', '.join(sets)} WHERE {k} = :k AND BINARY {s} IN ({srcs})"
        else:
            sql = self._apply_sql_lite(sources, targets)
        rendered = self._render(sql)
        if self.dialect == "sqlite" and len(set(targets)) == len(targets):
            inverse = dict(zip(targets, sources, strict=True))
            rendered = _Sql(rendered.text, rendered.positions, inverse)
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[cache_key] = rendered
        return rendered

    def _apply_sql_lite(self, sources: tuple[str, ...], targets: tuple[str, ...]) -> str:
        q = self._q
        t, k, s = q(self.table_name), q(self.key_column), q(self.status_column)
        v = q(self.version_column) if self.version_column else None
        tk = q(self.token_column) if self.token_column else None
        srcs = ", ".join(f":s{i}" for i in range(len(sources)))
        whens = " ".join(f"WHEN :s{i} THEN :t{i}" for i in range(len(sources)))
        # An injective event's target names its source: no need to note the old status.
        injective = len(set(targets)) == len(targets)
        operand = s if injective else f"{_NOTE}({s})"
        sets = [f"{s} = CASE {operand} {whens} END"]
        if v:
            sets.append(f"{v} = {v} + 1")
        if tk:
            sets.append(f"{tk} = :tok")
        return (
            f"UPDATE {t} SET {', '.join(sets)} WHERE {k} = :k AND {s} IN ({srcs}) "
            f"RETURNING {s}, {v or '0'}"
        )

    def _cas_sql(self, versioned: bool) -> _Sql:
        cache_key = ("cas", versioned)
        found = self._cache.get(cache_key)
        if found is not None:
            return found
        q = self._q
        t, k, s = q(self.table_name), q(self.key_column), q(self.status_column)
        v = q(self.version_column) if self.version_column else None
        tk = q(self.token_column) if self.token_column else None
        binary = "BINARY " if self.dialect == "mysql" else ""
        where = f"{k} = :k AND {binary}{s} = :exp" + (f" AND {v} = :ver" if versioned else "")
        sets = []
        if v:
            sets.append(
                f"{v} = LAST_INSERT_ID({v} + 1)" if self.dialect == "mysql" else f"{v} = {v} + 1"
            )
        sets.append(f"{s} = :tgt")
        if tk:
            sets.append(f"{tk} = :tok")
        update = f"UPDATE {t} SET {', '.join(sets)} WHERE {where}"
        if self.dialect == "mysql":
            sql = update
        elif self.dialect == "postgresql" and self.audit_table is not None:
            a = q(self.audit_table)
            acols = ", ".join(q(c) for c in _AUDIT_COLUMNS[1:])
            sql = (
                f"WITH u AS ({update} RETURNING {k} AS k, {v or '0'} AS ver), "
                f"w AS (INSERT INTO {a} ({acols}) SELECT k, CAST(:exp AS VARCHAR), "
                "CAST(NULL AS VARCHAR), CAST(:tgt AS VARCHAR), ver, CAST(:tok AS VARCHAR), "
                "CURRENT_TIMESTAMP FROM u) SELECT ver FROM u"
            )
        else:
            sql = update + f" RETURNING {v or '0'}"
        rendered = self._render(sql)
        self._cache[cache_key] = rendered
        return rendered

    # -- connection handling -----------------------------------------------------

    def _prepare(self, conn: Connection) -> None:
        """Once per DBAPI connection: timeouts, the session id, SQLite's note function."""
        info = conn.connection.info
        if info.get(_READY):
            return
        run = partial(_run, conn)
        if self.dialect == "postgresql":
            if self.lock_timeout is not None:
                run(f"SET lock_timeout = {int(self.lock_timeout * 1000)}")
            if self.idle_timeout is not None:
                run(f"SET idle_in_transaction_session_timeout = {int(self.idle_timeout * 1000)}")
            info[_SESSION] = run("SELECT pg_backend_pid()").scalar()
        elif self.dialect == "mysql":
            if self.lock_timeout is not None:
                run(f"SET SESSION innodb_lock_wait_timeout = {max(1, round(self.lock_timeout))}")
            if self.idle_timeout is not None and getattr(conn.dialect, "is_mariadb", False):
                run(f"SET SESSION idle_transaction_timeout = {max(1, round(self.idle_timeout))}")
            info[_SESSION] = run("SELECT CONNECTION_ID()").scalar()
        else:
            dbapi = conn.connection.dbapi_connection
            assert dbapi is not None
            if self.lock_timeout is not None:
                run(f"PRAGMA busy_timeout = {int(self.lock_timeout * 1000)}")
            noted = _Noted()
            dbapi.create_function(_NOTE, 1, noted)
            info[_NOTE] = noted
        info[_READY] = True

    def _checkout(self) -> tuple[list[Connection] | None, Connection]:
        """A connection: an idle one this store kept (SQLite files), else the pool's."""
        idle = self._idle
        if idle is not None and self._pid != os.getpid():
            # a forked child never uses its parent's SQLite connections
            idle = self._idle = []
            self._pid = os.getpid()
        if idle:
            try:
                return idle, idle.pop()
            except IndexError:  # another thread took the last one first
                pass
        try:
            return idle, self.engine.connect()
        except DBAPIError as exc:
            raise StoreUnavailable(
                f"cannot connect to the database: {describe(exc)}", committed=False
            ) from exc

    def _wrap(
        self,
        op: Callable[[Connection], T],
        *,
        write: bool,
        token: str | None = None,
        key: Hashable = None,
    ) -> T:
        """Run ``op`` on a fresh connection, classifying and retrying database errors."""
        attempt = 0
        while True:
            cause: Exception | None = None
            delay = 0.0
            with self._serial:
                idle, conn = self._checkout()
                session: Any = None
                try:
                    keep = False
                    try:
                        self._prepare(conn)
                        session = conn.connection.info.get(_SESSION)
                        result = op(conn)
                        keep = idle is not None and not conn.in_transaction()
                        return result
                    except self._catch as exc:
                        if classify(exc) is ErrorKind.LOST:
                            conn.invalidate()  # never hand a broken connection back
                        raise
                    finally:
                        if keep:
                            idle.append(conn)  # type: ignore[union-attr]
                        else:
                            conn.close()
                except self._catch as exc:
                    kind = classify(exc)
                    problem = describe(exc)
                    if kind is ErrorKind.RETRY and attempt < self.retries:
                        attempt += 1
                        delay = self.backoff * (2**attempt)
                        cause = exc
                    elif kind is ErrorKind.RETRY:
                        raise StoreUnavailable(
                            f"{problem}: still conflicting after {self.retries} retries "
                            "(serialization failures, deadlocks or busy database)",
                            committed=False,
                        ) from exc
                    elif kind is ErrorKind.TIMEOUT:
                        raise StoreUnavailable(
                            f"{problem}: a lock or statement timeout expired (another session "
                            "holds the row); the statement was undone",
                            committed=False,
                        ) from exc
                    elif kind is ErrorKind.LOST:
                        if not write:
                            raise StoreUnavailable(
                                f"connection lost: {problem}", committed=False
                            ) from exc
                        raise self._settle(problem, token, key, session) from exc
                    elif kind is ErrorKind.TRIGGER:
                        raise StoreRejected(problem) from exc
                    elif kind is ErrorKind.DUPLICATE:
                        raise
                    else:
                        raise StoreUnavailable(
                            f"database error: {problem}", committed=False
                        ) from exc
            if cause is not None:
                time.sleep(random.uniform(delay / 2, delay))  # noqa: S311 (jitter)

    def _settle(
        self, problem: str, token: str | None, key: Hashable, session: Any
    ) -> StoreUnavailable:
        """After a lost connection during a write: was the write committed?"""
        if token is None:
            return StoreUnavailable(
                f"connection lost during a write: {problem} (no token: enable tokens=True to "
                "settle such outcomes)",
                committed=None,
            )
        try:
            with self.engine.connect() as conn:
                self._prepare(conn)
                gone = self._end_session(conn, session)
                found = self._token_found(conn, token, key)
        except self._catch as exc:
            return StoreUnavailable(
                f"connection lost during a write: {problem}; re-reading the token failed too: "
                f"{describe(exc)}",
                committed=None,
            )
        if found:
            return StoreUnavailable(
                f"connection lost during a write: {problem}; its token {token} is stored",
                committed=True,
            )
        if gone and self.audit_table is not None:
            return StoreUnavailable(
                f"connection lost during a write: {problem}; its token {token} is in no "
                "audit row and the old session has ended",
                committed=False,
            )
        why = "the old session may still be running" if not gone else "it may have been overwritten"
        return StoreUnavailable(
            f"connection lost during a write: {problem}; its token {token} is not in the row "
            f"({why}; configure an audit table to settle this)",
            committed=None,
        )

    def _end_session(self, conn: Connection, session: Any) -> bool:
        """Make sure the broken session cannot still commit; True once it is gone."""
        if self.dialect == "sqlite":
            return True
        if session is None:
            return False
        if self.dialect == "postgresql":
            alive = f"SELECT count(*) FROM pg_stat_activity WHERE pid = {int(session)}"
            kill = f"SELECT pg_terminate_backend({int(session)})"
        else:
            alive = f"SELECT count(*) FROM information_schema.processlist WHERE id = {int(session)}"
            kill = f"KILL CONNECTION {int(session)}"
        deadline = time.monotonic() + 5.0
        killed = False
        while time.monotonic() < deadline:
            if not _run(conn, alive).scalar():
                return True
            if not killed:
                killed = True
                try:
                    _run(conn, kill)
                except self._catch:
                    return False
            time.sleep(0.05)
        return False

    def _token_found(self, conn: Connection, token: str, key: Hashable) -> bool:
        if self.audit_table is not None:
            sql = self._audit_token
            return _run(conn, sql.text, sql.params({"tok": token})).first() is not None
        if self._token_select is not None and key is not None:
            sql = self._token_select
            row = _run(conn, sql.text, sql.params({"k": key})).first()
            return row is not None and row[0] == token
        return False

    # -- the Store protocol ---------------------------------------------------------

    def _read(self, conn: Connection, key: Hashable) -> Record:
        sql = self._select
        row = _run(conn, sql.text, sql.params({"k": key})).first()
        if row is None:
            raise UnknownKey(key)
        return Record(str(row[0]), int(row[1]), row[2])

    def create(self, key: Hashable, status: str, token: str | None = None) -> Record:
        """Insert ``key`` with ``status`` at version 0; :class:`DuplicateKey` if present."""
        self._check_key(key)
        sql = self._insert

        def op(conn: Connection) -> Record | None:
            try:
                _run(conn, sql.text, sql.params({"k": key, "st": status, "tok": token}))
            except self._catch as exc:
                if classify(exc) is not ErrorKind.DUPLICATE:
                    raise
                return None
            return Record(status, 0, token if self.token_column else None)

        record = self._wrap(op, write=True, token=token, key=key)
        if record is None:
            try:
                existing: str | None = self.get(key).status
            except UnknownKey:
                existing = None
            raise DuplicateKey(key, existing)
        return record

    def get(self, key: Hashable) -> Record:
        """The current record; :class:`UnknownKey` if absent."""
        self._check_key(key)
        return self._wrap(lambda conn: self._read(conn, key), write=False)

    def history(self, key: Hashable) -> list[AuditEntry]:
        """Committed transitions of ``key`` from the audit table, oldest first."""
        self._check_key(key)
        if self.audit_table is None:
            raise ValueError("this SQLStore has no audit table; pass audit='table_name'")
        sql = self._audit_select

        def op(conn: Connection) -> list[AuditEntry]:
            rows = _run(conn, sql.text, sql.params({"k": key})).all()
            return [AuditEntry(str(r[0]), r[1], str(r[2]), int(r[3] or 0), r[4]) for r in rows]

        return self._wrap(op, write=False)

    def apply(
        self,
        key: Hashable,
        moves: Mapping[str, str],
        token: str | None = None,
        event: str | None = None,
    ) -> Applied | Rejected:
        """Move the status along ``moves`` in one conditional UPDATE (see the module doc)."""
        self._check_key(key)
        if not moves:
            return Rejected(self.get(key))
        sources = tuple(moves)
        targets = tuple(moves.values())
        sql = self._apply_sql(sources, targets)
        values: dict[str, Any] = {"k": key, "tok": token, "ev": event}
        for i, (src, tgt) in enumerate(zip(sources, targets, strict=True)):
            values[f"s{i}"] = src
            values[f"t{i}"] = tgt
        params = sql.params(values)
        run = (
            self._apply_pg
            if self.dialect == "postgresql"
            else (self._apply_my if self.dialect == "mysql" else self._apply_lite)
        )

        def op(conn: Connection) -> Applied | Rejected:
            for _ in range(self.race_retries):
                done = run(conn, sql, params, sources, moves, key, token, event)
                if done is not None:
                    return done
                current = self._read(conn, key)
                if current.status not in moves:
                    return Rejected(current)
                # another writer moved the row between our UPDATE and the read: go again
            current = self._read(conn, key)
            raise TransitionConflict(
                key,
                current.status,
                None,
                detail=f"the row kept changing during {self.race_retries} attempts",
            )

        return self._wrap(op, write=True, token=token, key=key)

    def _apply_pg(
        self,
        conn: Connection,
        sql: _Sql,
        params: Any,
        sources: tuple[str, ...],
        moves: Mapping[str, str],
        key: Hashable,
        token: str | None,
        event: str | None,
    ) -> Applied | None:
        row = _run(conn, sql.text, params).first()
        if row is None:
            return None
        return Applied(str(row[0]), str(row[1]), int(row[2]))

    def _apply_my(
        self,
        conn: Connection,
        sql: _Sql,
        params: Any,
        sources: tuple[str, ...],
        moves: Mapping[str, str],
        key: Hashable,
        token: str | None,
        event: str | None,
    ) -> Applied | None:
        audit = self.audit_table is not None
        if audit:
            _run(conn, "START TRANSACTION")
        try:
            result = _run(conn, sql.text, params)
            if result.rowcount != 1:
                if audit:
                    _run(conn, "ROLLBACK")
                return None
            code = int(result.lastrowid)
            if self.version_column:
                version, index = divmod(code, 1 << 12)
            else:
                version, index = 0, code
            source = sources[index - 1]
            target = moves[source]
            if audit:
                ins = self._audit_insert
                values = {
                    "k": key, "src": source, "ev": event, "tgt": target, "ver": version,
                    "tok": token,
                }  # fmt: skip
                _run(conn, ins.text, ins.params(values))
                _run(conn, "COMMIT")
        except BaseException:
            if audit:
                _quiet_rollback(conn)
            raise
        return Applied(source, target, version)

    def _apply_lite(
        self,
        conn: Connection,
        sql: _Sql,
        params: Any,
        sources: tuple[str, ...],
        moves: Mapping[str, str],
        key: Hashable,
        token: str | None,
        event: str | None,
    ) -> Applied | None:
        audit = self.audit_table is not None
        if audit:
            _run(conn, "BEGIN IMMEDIATE")
        try:
            # In-process engine: the driver cursor directly, skipping SQLAlchemy's result layer.
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(sql.text, params)
                rows = cursor.fetchall()
            finally:
                cursor.close()
            if not rows:
                if audit:
                    _run(conn, "ROLLBACK")
                return None
            target, version = str(rows[0][0]), int(rows[0][1])
            if sql.inverse is not None:
                source = sql.inverse[target]
            else:
                noted: _Noted = conn.connection.info[_NOTE]
                source = noted.take()
            if audit:
                ins = self._audit_insert
                values = {
                    "k": key, "src": source, "ev": event, "tgt": target, "ver": version,
                    "tok": token,
                }  # fmt: skip
                _run(conn, ins.text, ins.params(values))
                _run(conn, "COMMIT")
        except BaseException:
            if audit:
                _quiet_rollback(conn)
            raise
        return Applied(source, target, version)

    def compare_and_set(
        self,
        key: Hashable,
        expected: str,
        target: str,
        expected_version: int | None = None,
        token: str | None = None,
    ) -> Applied | Rejected:
        """Set ``target`` if the status (and version) still match: one conditional UPDATE."""
        self._check_key(key)
        if expected_version is not None and not self.version_column:
            raise ValueError(
                "expected_version needs a version column; pass version='...' to SQLStore"
            )
        sql = self._cas_sql(expected_version is not None)
        values = {"k": key, "exp": expected, "tgt": target, "ver": expected_version, "tok": token}
        params = sql.params(values)
        tx = self.audit_table is not None and self.dialect != "postgresql"
        begin = "BEGIN IMMEDIATE" if self.dialect == "sqlite" else "START TRANSACTION"

        def op(conn: Connection) -> Applied | Rejected:
            if tx:
                _run(conn, begin)
            try:
                result = _run(conn, sql.text, params)
                if self.dialect == "mysql":
                    done = result.rowcount == 1
                    version = int(result.lastrowid) if done and self.version_column else 0
                else:
                    row = result.first()
                    done = row is not None
                    version = int(row[0]) if row is not None else 0
                if not done:
                    if tx:
                        _run(conn, "ROLLBACK")
                    return Rejected(self._read(conn, key))
                if tx:
                    ins = self._audit_insert
                    values = {
                        "k": key, "src": expected, "ev": None, "tgt": target, "ver": version,
                        "tok": token,
                    }  # fmt: skip
                    _run(conn, ins.text, ins.params(values))
                    _run(conn, "COMMIT")
            except BaseException:
                if tx:
                    _quiet_rollback(conn)
                raise
            return Applied(expected, target, version)

        return self._wrap(op, write=True, token=token, key=key)

    def __repr__(self) -> str:
        return f"<SQLStore {self.dialect} table={self.table_name!r}>"


class _Res:
    """What a driver cursor returned: rows (if any), rowcount, lastrowid."""

    __slots__ = ("lastrowid", "rowcount", "rows")

    def __init__(self, rows: list[Any], rowcount: int, lastrowid: Any) -> None:
        self.rows = rows
        self.rowcount = rowcount
        self.lastrowid = lastrowid

    def first(self) -> Any:
        return self.rows[0] if self.rows else None

    def all(self) -> list[Any]:
        return self.rows

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows else None


def _run(conn: Connection, text: str, params: Any = None) -> _Res:
    """Execute on the driver cursor: no SQLAlchemy autobegin, so no ROLLBACK on checkin.

    (In AUTOCOMMIT mode SQLAlchemy still ends its logical transaction with a DBAPI
    ``rollback()`` when the connection is returned; PyMySQL sends that to the server,
    which would add a round trip to every write.)
    """
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if params is None:
            cursor.execute(text)
        else:
            cursor.execute(text, params)
        rows = list(cursor.fetchall()) if cursor.description else []
        return _Res(rows, cursor.rowcount, getattr(cursor, "lastrowid", None))
    finally:
        cursor.close()


def _quiet_rollback(conn: Connection) -> None:
    # Best effort: there may be no transaction left to end, and a connection lost
    # mid-transaction is invalidated (SQLAlchemy would raise PendingRollbackError);
    # neither may mask the original error.
    with suppress(Exception):
        _run(conn, "ROLLBACK")


def _status_type() -> sa.types.TypeEngine[Any]:
    from sqlalchemy.dialects import mysql

    return sa.String(64).with_variant(
        mysql.VARCHAR(64, collation="utf8mb4_bin"), "mysql", "mariadb"
    )


_INT_BITS = ((sa.SmallInteger, 16), (sa.BigInteger, 64), (sa.Integer, 32))


def _key_checker(key_type: sa.types.TypeEngine[Any], dialect: str) -> Callable[[Hashable], None]:
    """A check that ``key`` fits the key column, run before any SQL (:class:`InvalidKey`).

    String columns take ``str`` keys up to the column's length (on every engine, so a
    key that works on SQLite works in production), encodable as UTF-8, and without
    NUL on PostgreSQL; integer columns take ``int`` keys in the column's range.
    Other column types are left to the database.
    """
    if isinstance(key_type, sa.String):
        length = key_type.length
        nul = dialect == "postgresql"
        allowed = "text" + (f" of at most {length} characters" if length else "")
        if nul:
            allowed += " without NUL characters"

        def check_text(key: Hashable) -> None:
            if not isinstance(key, str):
                raise InvalidKey(key, f"its type is {type(key).__name__}, not str", allowed)
            if length is not None and len(key) > length:
                raise InvalidKey(key, f"{len(key)} characters long", allowed)
            if nul and "\x00" in key:
                raise InvalidKey(key, "it contains a NUL character", allowed)
            if not key.isascii():
                try:
                    key.encode("utf-8")
                except UnicodeEncodeError:
                    raise InvalidKey(key, "it is not valid Unicode text", allowed) from None

        return check_text
    bits = next((b for kind, b in _INT_BITS if isinstance(key_type, kind)), None)
    if bits is None:
        return _any_key
    low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    allowed_ints = f"integers from {low} to {high}"

    def check_int(key: Hashable) -> None:
        if not isinstance(key, int) or isinstance(key, bool):
            raise InvalidKey(key, f"its type is {type(key).__name__}, not int", allowed_ints)
        if not low <= key <= high:
            raise InvalidKey(key, f"out of the {bits}-bit range", allowed_ints)

    return check_int


def _any_key(key: Hashable) -> None:
    return None


def _sqlite_memory(url: sa.engine.URL) -> bool:
    db = url.database
    return not db or db == ":memory:" or "mode=memory" in str(url)
