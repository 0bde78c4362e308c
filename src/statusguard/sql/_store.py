"""``SQLStore``: the guard's compare-and-set on SQLAlchemy Core (SQLite, PostgreSQL, MariaDB/MySQL).

Every write is ONE conditional ``UPDATE`` in autocommit mode, so the database
itself decides the transition against the row's current status; there is no
read-decide-write window. The success path of ``fire`` needs the source status
too (for :class:`Committed` and the audit row); each engine returns it from the
same statement (how: the module doc of each :mod:`statusguard.sql.dialects` module).

A miss (0 rows) is followed by a read to build the error; if that read shows a
status the event is enabled in (another writer moved it in between), the store
tries again. Connections, retries and error translation: :mod:`._engine`; a lost
connection during a write is settled by :mod:`._settle`. This module is
dialect-neutral: it validates the configuration and runs the dialect's statements.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from statusguard.errors import (
    DuplicateKey,
    InvalidIdentifier,
    StoreUnavailable,
    TransitionConflict,
    UnknownKey,
)
from statusguard.guard._store import Applied, AuditEntry, Record, Rejected
from statusguard.sql._classify import ErrorKind, classify
from statusguard.sql._engine import AuditTransaction, Connector, run
from statusguard.sql._identifiers import check_identifier, check_table_name
from statusguard.sql._schema import audit_table, key_checker, status_table
from statusguard.sql._settle import settle
from statusguard.sql._statements import Rendered, Statements
from statusguard.sql.dialects._records import (
    Layout,
    Moved,
    Outcome,
    Session,
    apply_params,
    audit_params,
    cas_params,
)

__all__ = ["SQLStore", "check_identifier"]


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

    On a Galera node (detected per connection from ``wsrep_on``) every read the store
    makes is causal by default: the session sets ``wsrep_sync_wait = 3``, so a read (and
    the read that settles a lost connection) sees every write the cluster acknowledged
    before it, on whichever node it runs. ``causal_reads=False`` turns that off: reads are
    faster under write load (see docs/distributed.md for the measured cost), but a node
    may then answer an older status than one another node just acknowledged.

    ``write_timeout`` (seconds, PostgreSQL) is the store's own deadline for a write: when
    it expires the store cancels the statement server-side. Lock waits and statement
    timeouts do not bound a COMMIT waiting for a stalled synchronous standby; this does,
    with :class:`StoreUnavailable` ``committed=None`` (committed on the primary, not yet on
    the standby). ``None``: no deadline.

    ``read_engine`` (an Engine or URL, e.g. a PostgreSQL hot standby) serves the plain
    reads, :meth:`get` and :meth:`history` (``Guard.status``/``version``, and the read of a
    ``move`` without ``expected``). Writes and every read a write makes run on ``engine``,
    so ``fire`` and ``move(expected, expected_version)`` never commit a step decided on a
    stale replica read; ``move(expected)`` without the version can (ABA). See
    docs/distributed.md.
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
        causal_reads: bool = True,
        write_timeout: float | None = 30.0,
        read_engine: Engine | str | None = None,
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
        self.race_retries = race_retries
        self._conn = Connector(
            engine,
            self._settle,
            lock_timeout=lock_timeout,
            idle_timeout=idle_timeout,
            retries=retries,
            backoff=backoff,
            causal_reads=causal_reads,
            write_timeout=write_timeout,
        )
        self.engine: Engine = self._conn.engine
        # plain reads (get, history) may go to a replica; writes, the reads inside a write
        # and the settle step always use ``engine``
        self._reads = self._conn
        if read_engine is not None:
            self._reads = Connector(
                read_engine,
                self._settle,
                lock_timeout=lock_timeout,
                idle_timeout=idle_timeout,
                retries=retries,
                backoff=backoff,
                causal_reads=causal_reads,
                write_timeout=None,
            )
            if self._reads.dialect.name != self._conn.dialect.name:
                raise ValueError(
                    f"read_engine is {self._reads.dialect.name}, engine is "
                    f"{self._conn.dialect.name}: a read replica speaks the primary's dialect"
                )
        self.read_engine: Engine = self._reads.engine
        dialect = self._conn.dialect
        self.dialect = dialect.name
        self.versioned = version is not None
        kind = key_type or sa.String(255)
        self._check_key = key_checker(kind, nul=dialect.text_holds_nul)
        self._metadata = sa.MetaData()
        self.table = status_table(self._metadata, table, key, status, version, token, kind)
        self.audit = audit_table(self._metadata, audit, kind) if audit else None
        self._created: list[str] = []  # tables create_schema() created, for drop_schema()
        lay = Layout(table, key, status, version, token, audit).quoted(dialect.quote)
        self._sql = Statements(dialect, lay, self.engine.dialect)
        # what opens the transaction of a write and its audit row (None: no such transaction)
        self._begin = dialect.audit_begin if audit is not None else None

    lock_timeout = property(
        lambda self: self._conn.lock_timeout, doc="seconds a lock wait may take"
    )
    idle_timeout = property(
        lambda self: self._conn.idle_timeout, doc="seconds a session may idle in a transaction"
    )
    retries = property(lambda self: self._conn.retries, doc="retries of conflicts and busy errors")
    backoff = property(lambda self: self._conn.backoff, doc="the first retry's backoff, seconds")
    write_timeout = property(
        lambda self: self._conn.write_timeout, doc="seconds a write may take (its deadline)"
    )
    causal_reads = property(
        lambda self: self._conn.causal_reads, doc="whether reads on a Galera node are causal"
    )

    def _settle(
        self, problem: str, token: str | None, key: Hashable, session: Session | None
    ) -> StoreUnavailable:
        return settle(self._conn, self._sql, problem, token, key, session)

    # -- schema ---------------------------------------------------------------------

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
                except self._conn.catch:
                    conn.rollback()
                    if sa.inspect(conn).has_table(table.name):
                        continue  # another process created it just now: not ours to drop
                    raise
                if table.name not in self._created:
                    self._created.append(table.name)
            conn.commit()

        self._conn.call(op, write=False)

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

        self._conn.call(op, write=False)
        self._created = [n for n in self._created if n not in names]

    def dispose(self) -> None:
        """Close the engine's pooled connections (and the ones this store keeps idle)."""
        self._conn.dispose()
        if self._reads is not self._conn:
            self._reads.dispose()

    # -- the Store protocol -----------------------------------------------------------

    def _read(self, conn: Connection, key: Hashable) -> Record:
        sql = self._sql.select
        row = run(conn, sql.text, sql.params({"k": key})).first()
        if row is None:
            raise UnknownKey(key)
        return Record(str(row[0]), int(row[1]), row[2])

    def create(self, key: Hashable, status: str, token: str | None = None) -> Record:
        """Insert ``key`` with ``status`` at version 0; :class:`DuplicateKey` if present."""
        self._check_key(key)
        sql = self._sql.insert

        def op(conn: Connection) -> Record | None:
            try:
                run(conn, sql.text, sql.params({"k": key, "st": status, "tok": token}))
            except self._conn.catch as exc:
                if classify(exc) is not ErrorKind.DUPLICATE:
                    raise
                return None
            return Record(status, 0, token if self.token_column else None)

        record = self._conn.call(op, write=True, token=token, key=key)
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
        return self._reads.call(lambda conn: self._read(conn, key), write=False)

    def history(self, key: Hashable) -> list[AuditEntry]:
        """Committed transitions of ``key`` from the audit table, oldest first."""
        self._check_key(key)
        if self.audit_table is None:
            raise ValueError("this SQLStore has no audit table; pass audit='table_name'")
        sql = self._sql.audit_select

        def op(conn: Connection) -> list[AuditEntry]:
            rows = run(conn, sql.text, sql.params({"k": key})).all()
            return [AuditEntry(str(r[0]), r[1], str(r[2]), int(r[3] or 0), r[4]) for r in rows]

        return self._reads.call(op, write=False)

    def _write(
        self,
        conn: Connection,
        sql: Rendered,
        params: Any,
        moved: Callable[[Outcome], Moved | None],
        key: Hashable,
        event: str | None,
        token: str | None,
    ) -> Applied | None:
        """Run one conditional UPDATE (with its audit row, if any); ``None`` on a miss."""
        with AuditTransaction(conn, self._begin) as tx:
            done = moved(run(conn, sql.text, params))
            if done is None:
                tx.abandon()
                return None
            source, target, version = done
            if self._begin is not None:
                ins = self._sql.audit_insert
                tx.commit(
                    ins.text, ins.params(audit_params(key, source, event, target, version, token))
                )
        return Applied(source, target, version)

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
        sql, stmt = self._sql.apply(tuple(moves), tuple(moves.values()))
        params = sql.params(apply_params(key, moves, token, event))
        dialect, lay = self._sql.dialect, self._sql.layout

        def op(conn: Connection) -> Applied | Rejected:
            info = conn.connection.info
            for _ in range(self.race_retries):
                done = self._write(
                    conn,
                    sql,
                    params,
                    lambda out: dialect.applied(lay, stmt, out, info),
                    key,
                    event,
                    token,
                )
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

        return self._conn.call(op, write=True, token=token, key=key)

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
        sql = self._sql.cas(expected_version is not None)
        params = sql.params(cas_params(key, expected, target, expected_version, token))
        dialect, lay = self._sql.dialect, self._sql.layout

        def moved(out: Outcome) -> Moved | None:
            version = dialect.cas_version(lay, out)
            return None if version is None else (expected, target, version)

        def op(conn: Connection) -> Applied | Rejected:
            done = self._write(conn, sql, params, moved, key, None, token)
            return Rejected(self._read(conn, key)) if done is None else done

        return self._conn.call(op, write=True, token=token, key=key)

    def __repr__(self) -> str:
        return f"<SQLStore {self.dialect} table={self.table_name!r}>"
