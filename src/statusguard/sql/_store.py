"""``SQLStore``: the guard's compare-and-set on SQLAlchemy Core (SQLite, PostgreSQL, MariaDB/MySQL).

Every write is ONE conditional ``UPDATE`` in autocommit mode, so the database
itself decides the transition against the row's current status; there is no
read-decide-write window. The success path of ``fire`` needs the source status
too (for :class:`Committed` and the audit row); each engine returns it from the
same statement (how: the module doc of each :mod:`statusguard.sql.dialects` module).

A miss (0 rows) is followed by a read to build the error; if that read shows a
status the event is enabled in (another writer moved it in between), the store
tries again. ``values=`` sets other columns in the same UPDATE. :meth:`SQLStore.bind`
runs the same statements inside a caller's transaction (``_engine.InTransaction``);
a ``sa.Table`` given as ``table`` is adopted (its columns are the ones ``values=``
may write). Connections, retries and error translation: :mod:`._engine`; a lost
connection during a write is settled by :mod:`._settle`. This module is
dialect-neutral: it validates the configuration and runs the dialect's statements.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Callable, Hashable, Iterator, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from statusguard.errors import (
    InvalidArgument,
    InvalidIdentifier,
    InvalidSchema,
    ReservedColumn,
    StoreUnavailable,
    UnknownColumn,
    UnknownKey,
)
from statusguard.guard._store import (
    Applied,
    AuditEntry,
    Record,
    Rejected,
    check_audit_text,
    check_window,
)
from statusguard.guard._values import check_values
from statusguard.sql._classify import ErrorKind, classify, describe
from statusguard.sql._engine import (
    AuditTransaction,
    Connector,
    InTransaction,
    quiet_rollback,
    run,
    run_batch,
    run_in_transaction,
)
from statusguard.sql._hooks import defer
from statusguard.sql._identifiers import check_identifier, check_table_name
from statusguard.sql._outcomes import apply_until_decided, audit_entry, check_versioned, duplicate
from statusguard.sql._schema import audit_table, check_exact_keys, key_checker, status_table
from statusguard.sql._settle import settle
from statusguard.sql._statements import Rendered, Statements
from statusguard.sql._trigger import drop_ddl
from statusguard.sql.dialects import dialect_for
from statusguard.sql.dialects._records import (
    ABSENT,
    Layout,
    Moved,
    Outcome,
    Seen,
    Session,
    apply_params,
    audit_params,
    cas_params,
    value_params,
)

__all__ = ["SQLStore", "check_identifier"]


def _seconds(name: str, value: object, *, optional: bool = True) -> None:
    ok = (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )
    if not ok and not (optional and value is None):
        what = "a positive number of seconds" + (", or None (no bound)" if optional else "")
        raise InvalidArgument(name, value, what)


def _count(name: str, value: object, least: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise InvalidArgument(name, value, f"an int of at least {least}")


def _check_options(
    lock_timeout: object,
    idle_timeout: object,
    retries: object,
    backoff: object,
    race_retries: object,
    key_type: object,
) -> None:
    """:class:`InvalidArgument` for an option of the wrong kind, at construction (not at the
    first call, where ``'5'`` seconds or ``retries=-1`` would fail or misbehave)."""
    _seconds("lock_timeout", lock_timeout)
    _seconds("idle_timeout", idle_timeout)
    _count("retries", retries, 0)
    _count("race_retries", race_retries, 1)
    if isinstance(backoff, bool) or not isinstance(backoff, int | float) or not backoff >= 0:
        raise InvalidArgument("backoff", backoff, "a number of seconds, 0 or more")
    if key_type is not None and not isinstance(key_type, sa.types.TypeEngine):
        raise InvalidArgument(
            "key_type", key_type, "a SQLAlchemy type instance, e.g. sqlalchemy.String(64)"
        )


class SQLStore:
    """A :class:`Store` keeping statuses in a SQL table, through SQLAlchemy Core.

    ``engine`` is a SQLAlchemy :class:`~sqlalchemy.engine.Engine` or a URL (a str or a
    ``sqlalchemy.URL``), with a synchronous driver: anything else, an ``AsyncEngine``
    included, is :class:`InvalidArgument` at construction. From a URL
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

    ``table`` is a name, or a :class:`sqlalchemy.Table` to adopt (a table statusguard
    did not create, such as an ORM model's ``__table__``; :meth:`reflect` reads one
    from the database): ``key``, ``status`` and the optional ``version``/``token``
    name its columns (:class:`UnknownColumn` otherwise), the key column's type checks
    keys, and its other columns are the ones ``values=`` may write. For a table named
    by a string, ``columns`` (name -> SQLAlchemy type) declares those other columns
    (:meth:`create_schema` creates them). :meth:`bind` runs the store inside a
    caller's transaction.

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

    #: what runs the store's calls (the async store's bridge subclasses it)
    _connector: type[Connector] = Connector

    def __init__(
        self,
        engine: Engine | str | sa.URL,
        table: str | sa.Table,
        *,
        key: str = "id",
        status: str = "status",
        version: str | None = None,
        token: str | None = None,
        audit: str | None = None,
        columns: Mapping[str, Any] | None = None,
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
        adopted = table if isinstance(table, sa.Table) else None
        if adopted is not None:
            if adopted.schema is not None:
                raise InvalidIdentifier(
                    "table name",
                    f"{adopted.schema}.{adopted.name}",
                    "schema-qualified tables are not supported; put the table on the "
                    "connection's search path (or default database) and adopt it unqualified",
                )
            if columns:
                raise ValueError(
                    "columns= declares the columns of a table this store creates; an adopted "
                    "table brings its own (drop columns=)"
                )
            table = adopted.name
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
        if audit is not None and audit.lower() == self.table_name.lower():
            raise InvalidIdentifier("audit table", audit, "must differ from the status table")
        _check_options(lock_timeout, idle_timeout, retries, backoff, race_retries, key_type)
        self.race_retries = race_retries
        self._conn = self._connector(
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
        reads = self._conn
        if read_engine is not None:
            reads = self._connector(
                read_engine,
                self._settle,
                lock_timeout=lock_timeout,
                idle_timeout=idle_timeout,
                retries=retries,
                backoff=backoff,
                causal_reads=causal_reads,
                write_timeout=None,
            )
            if reads.dialect.name != self._conn.dialect.name:
                raise ValueError(
                    f"read_engine is {reads.dialect.name}, engine is "
                    f"{self._conn.dialect.name}: a read replica speaks the primary's dialect"
                )
        self.read_engine: Engine = reads.engine
        # (a bound store reads inside the caller's transaction: bind() sets both)
        self._reads: Connector | InTransaction = reads
        dialect = self._conn.dialect
        self.dialect = dialect.name
        self.versioned = version is not None
        self._key_type = key_type
        self._use_table(adopted, columns)
        # how calls run: on the store's own connections (the Connector), or inside a
        # caller's transaction (an InTransaction, set by bind())
        self._runner: Connector | InTransaction = self._conn
        self._run: Callable[[Connection, str, Any], Outcome] = run
        self._bound = False

    def _use_table(self, adopted: sa.Table | None, columns: Mapping[str, Any] | None) -> None:
        """Everything that depends on the status table: adopted, or made from the names."""
        table, key, status = self.table_name, self.key_column, self.status_column
        version, token, audit = self.version_column, self.token_column, self.audit_table
        dialect = self._conn.dialect
        roles = {"key": key, "status": status, "version": version, "token": token}
        #: the columns the guard writes itself, by lower-cased name: values= cannot set them
        self._reserved = {n.lower(): role for role, n in roles.items() if n is not None}
        self._metadata = sa.MetaData()
        if adopted is not None:
            by_name = {c.name: c for c in adopted.columns}
            for role, name in roles.items():
                if name is not None and name not in by_name:
                    raise UnknownColumn(name, by_name, table=table, role=role)
            kind = self._key_type or by_name[key].type
            self.table = adopted
        else:
            extra = dict(columns or {})
            for name in extra:
                check_identifier("column", name)
                if name.lower() in self._reserved:
                    raise ReservedColumn(name, self._reserved[name.lower()])
            kind = self._key_type or sa.String(255)
            self.table = status_table(
                self._metadata, table, key, status, version, token, kind, extra
            )
        self._check_key = key_checker(kind, nul=dialect.text_holds_nul)
        self.audit = audit_table(self._metadata, audit, kind) if audit else None
        self._tables = [self.table] + ([self.audit] if self.audit is not None else [])
        # the columns values= may write (table order), with their bind processors
        ed = self.engine.dialect
        self._writable: dict[str, sa.Column[Any]] = {
            c.name: c
            for c in self.table.columns
            if c.name.lower() not in self._reserved and _plain(c.name)
        }
        self._binders = {
            n: c.type.dialect_impl(ed).bind_processor(ed) for n, c in self._writable.items()
        }
        self._created: list[str] = []  # tables create_schema() created, for drop_schema()
        lay = Layout(table, key, status, version, token, audit).quoted(dialect.quote)
        self._sql = Statements(dialect, lay, ed)
        # what opens the transaction of a write and its audit row (None: no such transaction)
        self._begin = dialect.audit_begin if audit is not None else None

    @classmethod
    def reflect(cls, engine: Engine | str, table: str, **options: Any) -> SQLStore:
        """Adopt the existing table named ``table``: its columns are read from the database.

        ``options`` are :class:`SQLStore`'s (``key``, ``status``, ``version``, ...).
        :class:`InvalidSchema` if its key column does not compare keys exactly (as
        :meth:`create_schema` checks a table it finds).
        """
        if "columns" in options:
            raise ValueError("columns= is for tables this store creates; reflect() reads them")
        store = cls(engine, table, **options)

        def op(conn: Connection) -> sa.Table:
            adopted = sa.Table(table, sa.MetaData(), autoload_with=conn)
            store._check_keys(conn, table)  # keys (and statuses) compare exactly?
            return adopted

        try:
            adopted = store._runner.call(op, write=False)
        except sa.exc.NoSuchTableError:
            if isinstance(engine, str):  # the store's own engine; a given one is the caller's
                store.dispose()
            raise ValueError(
                f"no table {table!r} in the database to adopt; create it first, or name "
                "it as a string and call create_schema()"
            ) from None
        store._use_table(adopted, None)
        return store

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns ``values=`` may write (the table's others than key/status/version/token)."""
        return tuple(self._writable)

    def bind(self, target: Any) -> SQLStore:
        """This store, running every call inside the caller's transaction on ``target``.

        ``target`` is a SQLAlchemy :class:`~sqlalchemy.engine.Connection` or ORM
        :class:`~sqlalchemy.orm.Session` (each call uses ``session.connection()``), on
        the same kind of database as this store. The bound store never begins, commits
        or rolls back the caller's transaction: its writes (and audit rows) commit or
        roll back with it. Nothing is retried (the caller retries its transaction);
        the read after a missed write locks the row as the write would have, so it
        sees the newest status whatever the isolation level. ``ValueError`` for a
        connection in AUTOCOMMIT mode (there is no transaction to join), ``TypeError``
        for anything else.
        """
        source = _connection_source(self, target)
        bound = copy.copy(self)
        bound._runner = bound._reads = InTransaction(self._conn, source)
        bound._run = run_in_transaction
        bound._begin = None
        bound._bound = True
        return bound

    @contextlib.contextmanager
    def transaction(self) -> Iterator[tuple[SQLStore, Connection]]:
        """A transaction to write in: this store bound to it, and its connection.

        What in-transaction hooks run in (``statusguard.guard.in_transaction``). A bound
        store yields itself and the caller's connection (the caller ends the
        transaction); otherwise a connection of ``engine`` at the database's default
        isolation level, committed when the block ends, rolled back if it raises; a
        database error there is :class:`StoreUnavailable` (``committed=None`` at the COMMIT).
        """
        if self._bound:
            assert isinstance(self._runner, InTransaction)
            yield self, self._runner.source()
            return
        catch = self._conn.catch
        try:
            conn = self.engine.connect()
        except catch as exc:
            raise StoreUnavailable(
                f"{describe(exc)} (connecting for a transition with in-transaction hooks)",
                committed=False,
            ) from exc
        with conn:
            conn.execution_options(isolation_level=conn.default_isolation_level)
            tx = conn.begin()
            try:
                yield self.bind(conn), conn
            except BaseException:
                with contextlib.suppress(*catch):
                    tx.rollback()
                raise
            try:
                tx.commit()
            except catch as exc:  # the COMMIT's outcome is unknown: re-read before retrying
                raise StoreUnavailable(
                    f"{describe(exc)} (at the COMMIT of a transition with in-transaction "
                    "hooks, which is not retried)",
                    committed=None,
                ) from exc

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once this store's writes are committed.

        At once for an unbound store (each write commits itself); for a bound one, when
        the caller's transaction commits, and never if it rolls back.
        """
        if not self._bound:
            callback()
            return
        assert isinstance(self._runner, InTransaction)
        defer(self._runner.source(), callback)  # a Session's: the connection it writes on

    @property
    def bound(self) -> bool:
        """Whether this store runs inside a caller's transaction (:meth:`bind`)."""
        return self._bound

    def _values(self, values: Mapping[str, Any]) -> tuple[tuple[str, ...], dict[str, Any]]:
        """The quoted columns ``values`` sets, sorted, and their bind parameters."""
        checked = check_values(values, self._writable, self._reserved, table=self.table_name)
        names = sorted(checked)
        binders = self._binders
        out = []
        for name in names:
            bind, value = binders[name], checked[name]
            out.append(value if bind is None else bind(value))
        quote = self._conn.dialect.quote
        return tuple(quote(n) for n in names), value_params(out)

    def values(self, key: Hashable) -> dict[str, Any]:
        """The current values of :attr:`columns` for ``key``; :class:`UnknownKey` if absent."""
        self._check_key(key)
        names = tuple(self._writable)
        quote = self._conn.dialect.quote
        sql = self._sql.select_values(tuple(quote(n) for n in names))
        ed = self.engine.dialect

        def op(conn: Connection) -> dict[str, Any]:
            row = self._run(conn, sql.text, sql.params({"k": key})).first()
            if row is None:
                raise UnknownKey(key)
            out = {}
            for name, raw in zip(names, row, strict=False):
                proc = self._writable[name].type.dialect_impl(ed).result_processor(ed, None)
                out[name] = raw if proc is None else proc(raw)
            return out

        return self._reads.call(op, write=False)

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
        already), so :meth:`drop_schema` drops only those. A table that exists already
        (an adopted one too) is not changed but checked: :class:`InvalidSchema` if its key
        column does not compare keys exactly (a case-, accent- or pad-insensitive
        collation would make ``'img-1'`` and ``'IMG-1'`` one row).
        """
        self._own_transaction("create_schema")

        def op(conn: Connection) -> None:
            for table in self._tables:
                if sa.inspect(conn).has_table(table.name):
                    self._check_keys(conn, table.name)  # found, not made: keys compare exactly?
                    if table is self.audit:
                        self._check_audit_columns(conn, table)
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
                self._check_keys(conn, table.name)  # a key_type with a collation of its own
            conn.commit()

        self._conn.call(op, write=False)

    def _check_audit_columns(self, conn: Connection, table: sa.Table) -> None:
        """:class:`InvalidSchema` if an existing audit table lacks ``actor``/``reason``."""
        have = {c["name"].lower() for c in sa.inspect(conn).get_columns(table.name)}
        missing = [n for n in ("actor", "reason") if n not in have]
        if missing:
            q = self._conn.dialect.quote
            adds = "; ".join(
                f"ALTER TABLE {q(table.name)} ADD COLUMN {q(n)} "
                f"{table.c[n].type.compile(conn.dialect)} NULL"
                for n in missing
            )
            raise InvalidSchema(
                table.name,
                missing[0],
                "the audit table predates the nullable actor and reason columns",
                f"add them ({adds}), or drop the table and let create_schema() make it",
            )

    def _check_keys(self, conn: Connection, table: str) -> None:
        """:class:`InvalidSchema` if ``table``'s key column does not compare keys exactly."""
        if table == self.audit_table:
            check_exact_keys(conn, table, ["resource_key"])
        else:
            check_exact_keys(conn, table, [self.key_column], [self.status_column])

    def drop_schema(self, *, existing: bool = False) -> None:
        """Drop the tables this store's :meth:`create_schema` created (and nothing else).

        The status table's statusguard triggers go with it (and on PostgreSQL their
        trigger function, which would outlive the table).

        A table that already existed under the configured name (created by a migration,
        or by another process) is left alone unless ``existing=True`` is passed, which
        drops the configured status and audit tables whoever created them.
        """
        self._own_transaction("drop_schema")
        names = {t.name for t in self._tables} if existing else set(self._created)
        tables = [t for t in reversed(self._tables) if t.name in names]

        def op(conn: Connection) -> None:
            for table in tables:
                if table.name == self.table_name and sa.inspect(conn).has_table(table.name):
                    # what 'statusguard sql trigger' installed (PostgreSQL's trigger function
                    # would outlive the table)
                    for statement in drop_ddl(self.dialect, table.name):
                        run(conn, statement)
                table.drop(conn, checkfirst=True)
            conn.commit()

        self._conn.call(op, write=False)
        self._created = [n for n in self._created if n not in names]

    def dispose(self) -> None:
        """Close the engine's pooled connections (and the ones this store keeps idle).

        On a bound store, nothing: the caller's connection is the caller's.
        """
        if self._bound:
            return
        self._conn.dispose()
        if isinstance(self._reads, Connector) and self._reads is not self._conn:
            self._reads.dispose()

    def _own_transaction(self, what: str) -> None:
        if self._bound:
            raise TypeError(
                f"{what}() commits its own transaction, so a bound store (bind()) cannot "
                "run it inside the caller's; call it on the store itself"
            )

    # -- the Store protocol -----------------------------------------------------------

    def _read(self, conn: Connection, key: Hashable, *, newest: bool = False) -> Record:
        """The row's record; ``newest``: after a missed write, a locking read in a caller's
        transaction (its snapshot could still show the status the write missed)."""
        sql = self._sql.select_locked if newest and self._bound else self._sql.select
        row = self._run(conn, sql.text, sql.params({"k": key})).first()
        if row is None:
            raise UnknownKey(key)
        return Record(str(row[0]), int(row[1]), row[2])

    def _record(self, key: Hashable, seen: Seen) -> Record | None:
        """The record a write read of the row (:data:`Seen`); ``None`` if it read none."""
        if seen is None:
            return None
        if seen == ABSENT:
            raise UnknownKey(key)
        return Record(str(seen[0]), int(seen[1]), seen[2])

    def create(self, key: Hashable, status: str, token: str | None = None) -> Record:
        """Insert ``key`` with ``status`` at version 0; :class:`DuplicateKey` if present."""
        self._check_key(key)
        sql = self._sql.insert

        # inside a caller's transaction on PostgreSQL a duplicate would abort it: savepoint
        savepoint = self._bound and self._conn.dialect.error_aborts_transaction
        execute = self._run

        def op(conn: Connection) -> Record | None:
            if savepoint:
                execute(conn, "SAVEPOINT statusguard_create", None)
            try:
                execute(conn, sql.text, sql.params({"k": key, "st": status, "tok": token}))
            except self._conn.catch as exc:
                if savepoint:
                    quiet_rollback_to(conn, "statusguard_create")
                if classify(exc) is not ErrorKind.DUPLICATE:
                    raise
                return None
            if savepoint:
                execute(conn, "RELEASE SAVEPOINT statusguard_create", None)
            return Record(status, 0, token if self.token_column else None)

        record = self._runner.call(op, write=True, token=token, key=key)
        if record is None:
            raise duplicate(key, lambda k: self.get(k).status)
        return record

    def get(self, key: Hashable) -> Record:
        """The current record; :class:`UnknownKey` if absent."""
        self._check_key(key)
        return self._reads.call(lambda conn: self._read(conn, key), write=False)

    def history(
        self, key: Hashable, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[AuditEntry]:
        """Committed transitions of ``key`` from the audit table, oldest first.

        ``at`` is the row's time as an aware UTC datetime; ``since``/``until`` keep the
        entries with ``since <= at < until``, in the ``WHERE`` of the read (the bounds in
        any zone: compared as instants).
        """
        check_window(since, until)
        self._check_key(key)
        if self.audit_table is None:
            raise ValueError("this SQLStore has no audit table; pass audit='table_name'")
        params: dict[str, Any] = {"k": key}
        if since is None and until is None:
            sql = self._sql.audit_select
        else:
            sql = self._sql.audit_window(since is not None, until is not None)
            for name, bound in (("since", since), ("until", until)):
                if bound is not None:
                    params[name] = self._sql.dialect.audit_time(bound)

        def op(conn: Connection) -> list[AuditEntry]:
            rows = self._run(conn, sql.text, sql.params(params)).all()
            return [audit_entry(r) for r in rows]

        return self._reads.call(op, write=False)

    def _write(
        self,
        conn: Connection,
        sql: Rendered,
        bind: Mapping[str, Any],
        moved: Callable[[Outcome], Moved | None],
        key: Hashable,
        event: str | None,
        token: str | None,
        actor: str | None = None,
        reason: str | None = None,
        batch: Rendered | None = None,
        seen: Callable[[Outcome], Seen] | None = None,
    ) -> tuple[Applied | None, Seen]:
        """Run one conditional UPDATE (with its audit row, if any): what it did, or
        ``None`` on a miss with what the write read of the row (``None``: nothing).

        ``bind``: the bind parameters by name. ``batch``: the same write as one batch, used
        where the connection takes one;
        ``seen``: reads what a single statement read of the row (:meth:`Dialect.seen`).
        """
        if self._bound:
            applied = self._write_in_transaction(
                conn, sql, sql.params(bind), moved, key, event, token, actor, reason
            )
            return applied, None
        dialect = self._sql.dialect
        if batch is not None and dialect.batch_ready(
            conn.connection.info, Connector.session_of(conn)
        ):
            try:
                outcomes = run_batch(
                    conn, batch.text, batch.params(bind), dialect.batch_results(self._sql.layout)
                )
                out, read = dialect.unbatch(self._sql.layout, outcomes)
            except BaseException:
                if self._begin is not None:  # the batch may have stopped inside its transaction
                    quiet_rollback(conn)
                raise
            done = moved(out)
            return (None, read) if done is None else (Applied(*done), None)
        with AuditTransaction(conn, self._begin) as tx:
            out = run(conn, sql.text, sql.params(bind))
            done = moved(out)
            if done is None:
                tx.abandon()
                return None, None if seen is None else seen(out)
            source, target, version = done
            if self._begin is not None:
                ins = self._sql.audit_insert
                tx.commit(
                    ins.text,
                    ins.params(
                        audit_params(key, source, event, target, version, token, actor, reason)
                    ),
                )
        return Applied(source, target, version), None

    def _write_in_transaction(
        self,
        conn: Connection,
        sql: Rendered,
        params: Any,
        moved: Callable[[Outcome], Moved | None],
        key: Hashable,
        event: str | None,
        token: str | None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> Applied | None:
        """:meth:`_write` inside the caller's transaction: no BEGIN, no COMMIT.

        Where the audit row is a second statement (MariaDB, SQLite), both run under a
        savepoint, so a failing audit INSERT takes the UPDATE back with it and the
        caller's transaction holds neither (nothing half-written).
        """
        execute = run_in_transaction
        separate = self.audit_table is not None and self._conn.dialect.audit_begin is not None
        if not separate:
            done = moved(execute(conn, sql.text, params))
            return None if done is None else Applied(*done)
        dbapi: Any = conn.connection.dbapi_connection
        if self._conn.dialect.name == "sqlite" and not dbapi.in_transaction:
            # a SAVEPOINT opening the transaction would COMMIT it on RELEASE; open it as
            # pysqlite would have before the UPDATE, so the caller's commit() ends it
            execute(conn, "BEGIN", None)
        execute(conn, "SAVEPOINT statusguard_write", None)
        try:
            done = moved(execute(conn, sql.text, params))
            if done is not None:
                ins = self._sql.audit_insert
                source, target, version = done
                execute(
                    conn,
                    ins.text,
                    ins.params(
                        audit_params(key, source, event, target, version, token, actor, reason)
                    ),
                )
        except BaseException:
            quiet_rollback_to(conn, "statusguard_write")
            raise
        execute(conn, "RELEASE SAVEPOINT statusguard_write", None)
        return None if done is None else Applied(*done)

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
        """Move the status along ``moves`` in one conditional UPDATE (see the module doc).

        ``values`` (other columns) are set by the same UPDATE; ``actor`` and ``reason``
        go to the audit row (:meth:`history`), if the store keeps one.
        """
        check_audit_text(actor, reason)
        self._check_key(key)
        columns, extra = ((), None) if values is None else self._values(values)
        if not moves:
            return Rejected(self.get(key))
        sql, stmt, batch = self._sql.apply(tuple(moves), tuple(moves.values()), columns)
        bind = apply_params(key, moves, token, event, actor, reason)
        if extra is not None:
            bind.update(extra)
        dialect, lay = self._sql.dialect, self._sql.layout

        def seen(out: Outcome) -> Seen:
            return dialect.seen(lay, out)

        def op(conn: Connection) -> Applied | Rejected:
            info = conn.connection.info
            # what the last write read of the row, if it read one (PostgreSQL's statement
            # returns it): a source of the event there means a lost race, not a refusal
            last: list[Seen] = [None]

            def write() -> Applied | None:
                done, last[0] = self._write(
                    conn,
                    sql,
                    bind,
                    lambda out: dialect.applied(lay, stmt, out, info),
                    key,
                    event,
                    token,
                    actor,
                    reason,
                    batch,
                    seen,
                )
                return done

            def read() -> Record:
                was, last[0] = last[0], None
                return self._record(key, was) or self._read(conn, key, newest=True)

            return apply_until_decided(write, read, moves, key, self.race_retries)

        return self._runner.call(op, write=True, token=token, key=key)

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
        """Set ``target`` if the status (and version) still match: one conditional UPDATE.

        ``values`` (other columns) are set by the same UPDATE; ``actor`` and ``reason``
        go to the audit row, as for :meth:`apply`.
        """
        check_audit_text(actor, reason)
        self._check_key(key)
        check_versioned(
            expected_version,
            self.version_column is not None,
            self.table_name,
            missing="a version column and this store has none",
            fix="pass version='...' to SQLStore (a BIGINT column), or move without it",
        )
        columns, extra = ((), None) if values is None else self._values(values)
        sql, batch = self._sql.cas(expected_version is not None, columns)
        bind = cas_params(key, expected, target, expected_version, token, actor, reason)
        if extra is not None:
            bind.update(extra)
        dialect, lay = self._sql.dialect, self._sql.layout

        def moved(out: Outcome) -> Moved | None:
            version = dialect.cas_version(lay, out)
            return None if version is None else (expected, target, version)

        def op(conn: Connection) -> Applied | Rejected:
            done, read = self._write(conn, sql, bind, moved, key, None, token, actor, reason, batch)
            if done is not None:
                return done
            current = self._record(key, read)
            if current is None or (
                current.status == expected
                and (expected_version is None or current.version == expected_version)
            ):  # read nothing, or what matches: the row changed after the write's read
                current = self._read(conn, key, newest=True)
            return Rejected(current)

        return self._runner.call(op, write=True, token=token, key=key)

    def __repr__(self) -> str:
        bound = " bound" if self._bound else ""
        return f"<SQLStore {self.dialect} table={self.table_name!r}{bound}>"


def _plain(name: str) -> bool:
    """Whether ``name`` is a plain identifier (only those are writable through values=)."""
    try:
        check_identifier("column", name)
    except InvalidIdentifier:
        return False
    return True


def quiet_rollback_to(conn: Connection, savepoint: str) -> None:
    """ROLLBACK TO ``savepoint`` and RELEASE it, best effort (the original error wins)."""
    try:
        run_in_transaction(conn, f"ROLLBACK TO SAVEPOINT {savepoint}", None)
        run_in_transaction(conn, f"RELEASE SAVEPOINT {savepoint}", None)
    except Exception:  # noqa: S110 (the error being raised says more than this one)
        pass


def _connection_source(store: SQLStore, target: Any) -> Callable[[], Connection]:
    """What gives a bound store its connection for each call: ``target``'s, checked."""
    from sqlalchemy.orm import Session

    def checked(conn: Connection) -> Connection:
        found = dialect_for(conn.dialect.name)
        if found is not store._conn.dialect or conn.dialect.paramstyle != (
            store.engine.dialect.paramstyle
        ):
            raise ValueError(
                f"cannot bind a {store.dialect} store to a {conn.dialect.name} "
                f"({conn.dialect.driver}) connection; bind it to a connection of the same "
                "kind of database and driver"
            )
        if _autocommit(conn):
            raise ValueError(
                "the connection is in AUTOCOMMIT mode, so there is no caller's transaction "
                "to join; bind a connection without isolation_level='AUTOCOMMIT', or use "
                "the store without bind()"
            )
        return conn

    if isinstance(target, Connection):
        conn = checked(target)
        return lambda: conn
    if isinstance(target, Session):
        where = {"clause": store.table}  # a session with several binds: the table's
        return lambda: checked(target.connection(bind_arguments=where))
    raise TypeError(
        f"bind() takes a SQLAlchemy Connection or ORM Session, not {type(target).__name__}"
    )


def _autocommit(conn: Connection) -> bool:
    level = conn.get_execution_options().get("isolation_level")
    if level is None:
        level = getattr(conn.dialect, "_on_connect_isolation_level", None)
    return bool(level == "AUTOCOMMIT")
