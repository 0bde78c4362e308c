"""Connections for the SQL store: the engine, per-session setup, retries, error translation.

Every call runs on a connection in autocommit mode, straight on the DBAPI cursor.
Database errors are classified (:mod:`statusguard.sql._classify`): serialization
failures, deadlocks and SQLite busy are retried with bounded jittered backoff;
lock and statement timeouts, lost connections and other failures become
:class:`StoreUnavailable`, a trigger's refusal :class:`StoreRejected`. What a lost
connection during a write did is left to a settle function the store supplies.
Dialect-neutral: what differs per engine comes from the dialect module.
"""

from __future__ import annotations

import heapq
import os
import random
import threading
import time
from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager, nullcontext, suppress
from functools import partial
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import AdaptedConnection, Connection, Engine
from sqlalchemy.exc import DBAPIError

from statusguard.errors import InvalidArgument, StoreRejected, StoreUnavailable
from statusguard.sql._classify import ErrorKind, classify, describe
from statusguard.sql._outcomes import end_session, refusal
from statusguard.sql.dialects import SUPPORTED, dialect_for
from statusguard.sql.dialects._base import Dialect
from statusguard.sql.dialects._records import Connecting, Outcome, Session

__all__ = [
    "AuditTransaction",
    "Connector",
    "InTransaction",
    "quiet_rollback",
    "run",
    "run_batch",
    "run_in_transaction",
]

T = TypeVar("T")
Settle = Callable[[str, str | None, Hashable, Session | None], StoreUnavailable]

_SESSION = "statusguard_session"
_READY = "statusguard_ready"
_INSTALLED = "statusguard_installed"


def run(conn: Connection, text: str, params: Any = None) -> Outcome:
    """Execute on the driver cursor: no SQLAlchemy autobegin, so no ROLLBACK on checkin.

    (In AUTOCOMMIT mode SQLAlchemy still ends its logical transaction with a DBAPI
    ``rollback()`` when the connection is returned; PyMySQL sends that to the server,
    which would add a round trip to every write.) The connection's cursor events still
    see the statement when they have listeners (:func:`_observed`).
    """
    if conn._has_events or conn.engine._has_events:
        return _observed(conn, text, params, _outcome, batch=False)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if params is None:
            cursor.execute(text)
        else:
            cursor.execute(text, params)
        return _outcome(conn, cursor)
    finally:
        cursor.close()


def _outcome(conn: Connection, cursor: Any) -> Outcome:
    """What ``cursor`` reports of the statement it ran."""
    rows = list(cursor.fetchall()) if cursor.description else []
    return Outcome(
        rows,
        cursor.rowcount,
        getattr(cursor, "lastrowid", None),
        lambda query: run(conn, query).scalar(),  # same session (Outcome.ask)
    )


def run_batch(conn: Connection, text: str, params: Any, results: int) -> list[Outcome]:
    """Execute a multi-statement batch on the driver cursor: one round trip, every result.

    ``results``: how many the batch yields (one per statement). The server runs the
    statements in order and stops at the first that fails; its error is raised here, once
    the results before it are read. What that leaves open (a transaction the batch began)
    is the caller's to end.
    """
    read = partial(_outcomes, results=results)
    if conn._has_events or conn.engine._has_events:
        return _observed(conn, text, params, read, batch=True)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(text, params)
        return read(conn, cursor)
    finally:
        cursor.close()


def _outcomes(conn: Connection, cursor: Any, results: int) -> list[Outcome]:
    """The ``results`` results of a batch, in order (a failing statement's error is raised).

    A DBAPI cursor's ``nextset()`` says whether another result follows (PEP 249); the
    cursor of SQLAlchemy's asyncio adapter (an :class:`AdaptedConnection`'s) reads it but
    returns ``None`` whatever it read (``AsyncAdapt_dbapi_cursor.nextset`` in
    ``sqlalchemy/connectors/asyncio.py``, 2.0/2.1), so there the count decides alone.
    Elsewhere a batch ending early or late is refused (its outcome unknown), never read.
    """
    outcomes = [_outcome(conn, cursor)]
    counted = isinstance(conn.connection.dbapi_connection, AdaptedConnection)
    while len(outcomes) < results:
        if not cursor.nextset() and not counted:
            break
        outcomes.append(_outcome(conn, cursor))
    if len(outcomes) != results or (not counted and cursor.nextset()):
        got = f"only {len(outcomes)}" if len(outcomes) < results else f"more than {results}"
        raise StoreUnavailable(
            f"a batch of {results} statements returned {got} results (expected one per "
            "statement: a driver or statusguard bug, please report it); the write's outcome "
            "is unknown: re-read the status",
            committed=None,
        )
    return outcomes


def _observed(
    conn: Connection,
    text: str,
    params: Any,
    read: Callable[[Connection, Any], T],
    *,
    batch: bool,
) -> T:
    """:func:`run` for a connection whose events have listeners: they see the statement.

    ``before_cursor_execute`` and ``after_cursor_execute`` get what SQLAlchemy's own
    execution passes them: the Connection, the DBAPI cursor, the statement and its
    parameters (a listener registered with ``retval=True`` may change both, as with
    SQLAlchemy), an :class:`~sqlalchemy.engine.ExecutionContext` for a plain SQL string
    and ``executemany=False``; ``handle_error`` is told of a driver error. Still no
    SQLAlchemy transaction (so no ROLLBACK on checkin). A batch is one execution: its
    ``after_cursor_execute`` comes once every result is read (a batch reports a failing
    statement only then). Only this path pays for the context (about 10 us).
    """
    dialect = conn.dialect
    context = dialect.execution_ctx_cls._init_statement(
        dialect,
        conn,
        conn.connection,
        conn.get_execution_options(),
        text,
        [] if params is None else [params],
    )
    cursor, dispatch = context.cursor, conn.dispatch
    statement, parameters = text, context.parameters[0]
    try:
        for listener in dispatch.before_cursor_execute:
            statement, parameters = listener(conn, cursor, statement, parameters, context, False)
        if params is None and not parameters:
            cursor.execute(statement)
        else:
            cursor.execute(statement, parameters)
        if not batch:
            dispatch.after_cursor_execute(conn, cursor, statement, parameters, context, False)
        result = read(conn, cursor)
        if batch:
            dispatch.after_cursor_execute(conn, cursor, statement, parameters, context, False)
        return result
    except Exception as exc:
        if dialect._has_events and isinstance(exc, dialect.loaded_dbapi.Error):
            _tell(conn, exc, cursor, statement, parameters, context)
        raise
    finally:
        cursor.close()


def _tell(
    conn: Connection, exc: Exception, cursor: Any, statement: str, parameters: Any, context: Any
) -> None:
    """Dispatch ``handle_error`` for a driver error; the store still raises the driver's
    own error (it classifies it: retry, settle, translate), whatever a listener returns."""
    from sqlalchemy.engine.base import ExceptionContextImpl

    dialect = conn.dialect
    dbapi_error = dialect.loaded_dbapi.Error
    disconnect = dialect.is_disconnect(exc, conn.connection.dbapi_connection, cursor)  # type: ignore[arg-type]
    wrapped = DBAPIError.instance(
        statement,
        parameters,
        exc,
        dbapi_error,
        hide_parameters=conn.engine.hide_parameters,
        connection_invalidated=disconnect,
        dialect=dialect,
        ismulti=False,
    )
    told = ExceptionContextImpl(
        exc,
        wrapped,
        conn.engine,
        dialect,
        conn,
        cursor,
        statement,
        parameters,
        context,
        disconnect,
        True,
        False,
    )
    for listener in dialect.dispatch.handle_error:  # a dialect event (SQLAlchemy 2)
        listener(told)


def run_in_transaction(conn: Connection, text: str, params: Any = None) -> Outcome:
    """Execute through SQLAlchemy (``exec_driver_sql``), on a caller's connection.

    Unlike :func:`run` this takes part in SQLAlchemy's transaction bookkeeping: an
    idle connection autobegins, so the caller's ``commit()`` commits the statement and
    its ``rollback()`` undoes it, and the connection's events (logging, oslo.db's
    listeners) see it.
    """
    result = conn.exec_driver_sql(text, params)
    try:
        if result.returns_rows:
            rows = list(result.fetchall())
            return Outcome(rows, len(rows), None)
        try:
            lastrowid = result.lastrowid
        except AttributeError:  # psycopg's cursors have none
            lastrowid = None
        return Outcome(
            [],
            result.rowcount,
            lastrowid,
            lambda query: run_in_transaction(conn, query).scalar(),  # same session
        )
    finally:
        result.close()


def quiet_rollback(conn: Connection) -> None:
    """ROLLBACK, best effort.

    There may be no transaction left to end, and a connection lost mid-transaction is
    invalidated (SQLAlchemy would raise PendingRollbackError); neither may mask the
    original error.
    """
    with suppress(Exception):
        run(conn, "ROLLBACK")


class AuditTransaction:
    """A write and its audit row in one transaction opened by ``begin`` (``None``: none).

    Use as a context manager; end the transaction with :meth:`commit` (insert the
    audit row, COMMIT) or :meth:`abandon` (ROLLBACK: the write matched no row). On
    any error inside, an open transaction is rolled back quietly and the error
    propagates. With ``begin=None`` every step is a no-op.
    """

    __slots__ = ("conn",)

    def __init__(self, conn: Connection, begin: str | None) -> None:
        self.conn: Connection | None = None
        if begin is not None:
            run(conn, begin)
            self.conn = conn

    def __enter__(self) -> AuditTransaction:
        return self

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if exc is not None and self.conn is not None:
            quiet_rollback(self.conn)

    def commit(self, text: str, params: Any) -> None:
        """Insert the audit row (``text``, ``params``), then COMMIT."""
        if self.conn is not None:
            run(self.conn, text, params)
            run(self.conn, "COMMIT")
            self.conn = None

    def abandon(self) -> None:
        """ROLLBACK."""
        if self.conn is not None:
            run(self.conn, "ROLLBACK")
            self.conn = None


_ENGINES = (
    "a synchronous SQLAlchemy Engine (sqlalchemy.create_engine) or a database URL with a "
    f"synchronous driver, of {SUPPORTED}"
)


def _unsupported(name: str, given: object) -> InvalidArgument:
    return InvalidArgument("engine", given, f"{_ENGINES} (not dialect {name!r})")


_ASYNC = (
    "the driver is async: use statusguard.sql.AsyncSQLStore (with AsyncGuard) for it, or "
    "its synchronous driver here (postgresql+psycopg, mysql+pymysql, sqlite)"
)
_ASYNC_ENGINES = (
    "a SQLAlchemy AsyncEngine (sqlalchemy.ext.asyncio.create_async_engine) or a database URL "
    f"with an async driver (sqlite+aiosqlite, postgresql+psycopg, mysql+aiomysql), of {SUPPORTED}"
)


def _create_engine(url: str | sa.URL, *, asynchronous: bool = False) -> tuple[Engine, Connecting]:
    """A new engine in autocommit mode for ``url`` (``asynchronous``: an AsyncEngine's
    ``sync_engine``, for the async store's connector), and how to connect with it."""
    expected = _ASYNC_ENGINES if asynchronous else _ENGINES
    try:
        parsed = sa.engine.make_url(url)
        kind = parsed.get_dialect()  # a dialect and driver SQLAlchemy knows
    except sa.exc.ArgumentError as exc:  # NoSuchModuleError is an ArgumentError too
        shown = url if isinstance(url, str) and "@" not in url else "(a URL)"
        raise InvalidArgument("engine", shown, f"{expected} ({exc})") from None
    shown = parsed.render_as_string(hide_password=True)
    dialect = dialect_for(parsed.get_backend_name())
    if dialect is None:
        raise _unsupported(parsed.get_backend_name(), shown)
    if getattr(kind, "is_async", False) and not asynchronous:
        raise InvalidArgument("engine", shown, f"{_ENGINES}; {_ASYNC}")
    how = dialect.connecting(parsed.database, str(parsed))
    if how.client_flags:  # added to the URL's own (the driver's dialect adds FOUND_ROWS)
        try:
            given_flags = int(parsed.query.get("client_flag", 0))  # type: ignore[arg-type]
        except ValueError:
            raise InvalidArgument("engine", shown, "a client_flag that is an integer") from None
        parsed = parsed.update_query_dict({"client_flag": str(given_flags | how.client_flags)})
    create: Callable[..., Engine] = sa.create_engine
    if asynchronous:
        from sqlalchemy.ext.asyncio import create_async_engine

        def create(*args: Any, **kwargs: Any) -> Engine:
            return create_async_engine(*args, **kwargs).sync_engine

    try:
        if how.shared:
            engine = create(
                parsed,
                isolation_level="AUTOCOMMIT",
                poolclass=sa.pool.StaticPool,
                connect_args=dict(how.driver_args),
            )
            return engine, how
        engine = create(parsed, isolation_level="AUTOCOMMIT", pool_reset_on_return=None)
    except (ImportError, sa.exc.InvalidRequestError) as exc:  # no such driver; not async
        raise InvalidArgument("engine", shown, f"{expected} ({exc})") from None
    if how.on_connect:
        statements = how.on_connect

        @sa.event.listens_for(engine, "connect")
        def _setup(dbapi_conn: Any, _record: Any) -> None:
            for statement in statements:
                dbapi_conn.execute(statement)

    return engine, how


class _Armed:
    __slots__ = ("active", "cancel", "deadline", "fired")

    def __init__(self, deadline: float, cancel: Callable[[], object]) -> None:
        self.deadline = deadline
        self.cancel = cancel
        self.active = True
        self.fired = False

    def __lt__(self, other: _Armed) -> bool:
        return self.deadline < other.deadline


class _Watchdog:
    """One thread per store (and process) that cancels the writes past their deadline.

    Arming and disarming are a heap push and a flag under one lock: no thread per write.
    The cancel runs under that lock too, so it never reaches a disarmed write.
    """

    def __init__(self) -> None:
        self.pid = os.getpid()
        self._heap: list[_Armed] = []
        self._wake = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="statusguard-deadline", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the thread (the store was disposed); writes still armed are not cancelled."""
        with self._wake:
            self._stopped = True
            self._wake.notify()

    def arm(self, seconds: float, cancel: Callable[[], object]) -> _Armed:
        entry = _Armed(time.monotonic() + seconds, cancel)
        with self._wake:
            heapq.heappush(self._heap, entry)
            if self._heap[0] is entry:
                self._wake.notify()
        return entry

    def disarm(self, entry: _Armed) -> None:
        with self._wake:
            entry.active = False
            heap = self._heap
            while heap and not heap[0].active:  # the heap holds only writes still running
                heapq.heappop(heap)

    def _run(self) -> None:
        while True:
            with self._wake:
                if self._stopped:
                    return
                while self._heap and not self._heap[0].active:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._wake.wait()
                    continue
                wait = self._heap[0].deadline - time.monotonic()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                entry = heapq.heappop(self._heap)
                # under the lock: once disarm() has returned, its statement is never
                # cancelled (the connection may already run another caller's statement)
                entry.fired = True
                with suppress(Exception):  # the statement may have ended meanwhile
                    entry.cancel()


class Connector:
    """The store's engine and connections, and the retry loop every call runs in.

    ``engine`` is an Engine or a URL (see :class:`SQLStore`). ``settle`` decides what a
    connection lost during a write did: ``settle(problem, token, key, session)``.

    ``asynchronous`` (a class attribute): the engine is an async driver's, reached from
    SQLAlchemy's greenlet bridge (the async store's connector, :mod:`._async_store`).
    """

    asynchronous = False
    #: how the retry loop waits (the async connector yields to the event loop instead)
    sleep: Callable[[float], object] = staticmethod(time.sleep)

    def __init__(
        self,
        engine: Engine | str | sa.URL,
        settle: Settle,
        *,
        lock_timeout: float | None,
        idle_timeout: float | None,
        retries: int,
        backoff: float,
        causal_reads: bool = True,
        write_timeout: float | None = None,
    ) -> None:
        self.causal_reads = causal_reads
        self.write_timeout = write_timeout
        self._watchdog: _Watchdog | None = None
        self.lock_timeout = lock_timeout
        self.idle_timeout = idle_timeout
        self.retries = retries
        self.backoff = backoff
        given: object = engine  # whatever the caller passed (typed or not)
        if isinstance(engine, str | sa.URL):
            engine, how = _create_engine(engine, asynchronous=self.asynchronous)
        elif self.asynchronous:
            sync = getattr(given, "sync_engine", None)
            if not isinstance(sync, Engine):
                raise InvalidArgument("engine", given, _ASYNC_ENGINES)
            engine = sync
            found = dialect_for(engine.dialect.name)
            url = engine.url
            how = Connecting() if found is None else found.connecting(url.database, str(url))
        elif not isinstance(given, Engine):
            if hasattr(given, "sync_engine"):  # an AsyncEngine: the store is synchronous
                raise InvalidArgument(
                    "engine",
                    given,
                    f"{_ENGINES}; for an AsyncEngine use statusguard.sql.AsyncSQLStore with "
                    "statusguard.AsyncGuard (or create_engine(...) on the same URL with a "
                    "synchronous driver)",
                )
            raise InvalidArgument("engine", given, _ENGINES)
        else:
            found = dialect_for(engine.dialect.name)
            url = engine.url
            how = Connecting() if found is None else found.connecting(url.database, str(url))
        # one shared connection (in-memory SQLite): calls take turns (the async store's
        # tasks take turns before they enter the greenlet bridge: a thread lock here
        # would block the event loop)
        self.shared = how.shared
        self._serial: AbstractContextManager[Any] = (
            threading.Lock() if how.shared and not self.asynchronous else nullcontext()
        )
        # In-process databases: connections this store used are kept here between calls,
        # skipping SQLAlchemy's Connection setup and pool checkout (a third of a fire's
        # Python time). It holds at most as many as were ever in use at once, and
        # :meth:`dispose` closes them. Server databases go through the pool every time,
        # so its pre-ping and recycle settings keep working.
        self._idle: list[Connection] | None = [] if how.keep_idle else None
        self._pid = os.getpid()
        if getattr(engine.dialect, "_on_connect_isolation_level", None) != "AUTOCOMMIT":
            engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.engine: Engine = engine
        dialect = dialect_for(engine.dialect.name)
        if dialect is None:
            raise _unsupported(engine.dialect.name, engine)
        if bool(getattr(engine.dialect, "is_async", False)) != self.asynchronous:
            if self.asynchronous:
                raise InvalidArgument(
                    "engine", engine, f"{_ASYNC_ENGINES}; the driver is synchronous: use SQLStore"
                )
            raise InvalidArgument("engine", engine, f"{_ENGINES}; {_ASYNC}")
        self.dialect: Dialect = dialect
        dbapi = getattr(engine.dialect, "loaded_dbapi", None)
        self.catch: tuple[type[Exception], ...] = (DBAPIError,)
        if dbapi is not None:
            self.catch = (DBAPIError, dbapi.Error)
        self.settle = settle

    def prepare(self, conn: Connection) -> None:
        """Once per DBAPI connection: timeouts, the session and its server, causal reads
        on a Galera node, driver-level setup."""
        info = conn.connection.info
        if info.get(_READY):
            return
        d = self.dialect
        mariadb = bool(getattr(conn.dialect, "is_mariadb", False))
        for statement in d.session_setup(self.lock_timeout, self.idle_timeout, mariadb=mariadb):
            run(conn, statement)
        query = d.server_sql(mariadb=mariadb)
        if query is not None:
            try:
                row = run(conn, query).first()
            except self.catch as exc:
                if classify(exc) is not ErrorKind.OTHER or d.session_query is None:
                    raise
                # a server without those status tables (or without the right to read
                # them): the session id alone, on a server nothing identifies
                row = (run(conn, d.session_query).scalar(),)
            assert row is not None
            session = d.server(row)
            info[_SESSION] = session
            if session.server.galera and self.causal_reads and d.causal_read_sql:
                run(conn, d.causal_read_sql)
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        d.install(dbapi, info)
        info[_READY] = True

    def _checkout(self) -> tuple[list[Connection] | None, Connection]:
        """A connection: an idle one this store kept (in-process databases), else the pool's."""
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

    def call(
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
            delay = 0.0
            with self._serial:
                idle, conn = self._checkout()
                session: Session | None = None
                try:
                    keep = False
                    try:
                        self.prepare(conn)
                        session = self.session_of(conn)
                        if write and self.write_timeout is not None:
                            result = self._within_deadline(conn, op)
                        else:
                            result = op(conn)
                        keep = idle is not None and not conn.in_transaction()
                        return result
                    except self.catch as exc:
                        if classify(exc) is ErrorKind.LOST:
                            conn.invalidate()  # never hand a broken connection back
                        raise
                    except BaseException as exc:
                        if not isinstance(exc, Exception):  # a task cancelled, an interrupt:
                            conn.invalidate()  # mid-statement, the session's state is unknown
                        raise
                    finally:
                        if keep:
                            idle.append(conn)  # type: ignore[union-attr]
                        else:
                            conn.close()
                except self.catch as exc:
                    kind = classify(exc)
                    if kind is ErrorKind.RETRY and attempt < self.retries:
                        attempt += 1
                        delay = self.backoff * (2**attempt)
                    else:
                        raise self._failure(
                            kind, describe(exc), write, token, key, session
                        ) from exc
            self.sleep(random.uniform(delay / 2, delay))  # noqa: S311 (jitter)

    def _within_deadline(self, conn: Connection, op: Callable[[Connection], T]) -> T:
        """Run a write, cancelling it server-side once ``write_timeout`` seconds have passed.

        A cancel that lands while a statement runs undoes it (a statement-timeout error,
        ``committed=False``). One that lands while its COMMIT waits for a synchronous
        standby ends the wait, and the statement succeeds: committed on this server, not
        yet on the standby (a failover now would lose it). That is reported as
        :class:`StoreUnavailable` with ``committed=None``; the token settles it later.
        """
        d = self.dialect
        if not d.cancels:
            return op(conn)
        dbapi = conn.connection.dbapi_connection
        info = conn.connection.info
        d.forget_notices(info)
        watchdog = self._watchdog
        if watchdog is None or watchdog.pid != os.getpid():
            watchdog = self._watchdog = _Watchdog()
        entry = watchdog.arm(self.write_timeout or 0.0, lambda: d.cancel(dbapi))
        try:
            result = op(conn)
        finally:
            watchdog.disarm(entry)
        if entry.fired and d.commit_wait_cancelled(info):
            raise StoreUnavailable(
                f"the write's COMMIT waited more than {self.write_timeout:g} s (the "
                "write_timeout) for the synchronous standby and was cancelled: it is "
                "committed on the primary but not yet on the standby, so a failover now "
                "would lose it; re-read the status (or the audit row of the token) later",
                committed=None,
            )
        return result

    def _failure(
        self,
        kind: ErrorKind,
        problem: str,
        write: bool,
        token: str | None,
        key: Hashable,
        session: Session | None,
    ) -> Exception:
        """The error a database failure of ``kind`` becomes (no more retries)."""
        if kind is ErrorKind.RETRY:
            return StoreUnavailable(
                f"{problem}: still conflicting after {self.retries} retries "
                "(serialization failures, deadlocks or busy database)",
                committed=False,
            )
        if kind is ErrorKind.TIMEOUT:
            return StoreUnavailable(
                f"{problem}: a lock or statement timeout expired (another session "
                "holds the row); the statement was undone",
                committed=False,
            )
        if kind is ErrorKind.LOST:
            if not write:
                return StoreUnavailable(f"connection lost: {problem}", committed=False)
            return self.settle(problem, token, key, session)
        if kind is ErrorKind.CANCELED:
            return StoreUnavailable(
                f"{problem}: the statement was canceled (pg_cancel_backend, an operator or "
                "statement_timeout); it was undone",
                committed=False,
            )
        rejected = refusal(kind, problem)  # a trigger, a CHECK, a unique index not the key's
        if rejected is not None:
            return rejected
        if kind is ErrorKind.REFUSED:
            return StoreUnavailable(
                f"the database refused the statement before running it: {problem} (a "
                "cluster node outside its primary component, a read-only server, too many "
                "connections or access denied); try again later or on another server",
                committed=False,
            )
        return StoreUnavailable(f"database error: {problem}", committed=False)

    @staticmethod
    def session_of(conn: Connection) -> Session | None:
        """The server session ``conn`` is (after :meth:`prepare`); ``None`` in-process."""
        found = conn.connection.info.get(_SESSION)
        return found if isinstance(found, Session) else None

    def end_session(self, conn: Connection, session: Session | None) -> bool:
        """Make sure a broken session cannot still commit; True once it is gone.

        Session ids are per server: ``conn`` must be on the server the session was on
        (:meth:`Server.same`), or nothing is asked or killed and the answer is False.
        """
        return end_session(
            self.dialect,
            session,
            self.session_of(conn),
            lambda sql: run(conn, sql).scalar(),
            self.catch,
            self.sleep,
        )

    def dispose(self) -> None:
        """Close the engine's pooled connections (and the ones kept idle)."""
        idle = self._idle
        while idle:
            try:
                conn = idle.pop()
            except IndexError:
                break
            with suppress(Exception):
                conn.close()
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None and watchdog.pid == os.getpid():
            watchdog.stop()
        self.engine.dispose()


class InTransaction:
    """Runs a store's calls on a caller's connection, inside the caller's transaction.

    ``source()`` gives the connection for one call (a ``Connection``, or the one an ORM
    ``Session`` uses now). Nothing here begins, commits or rolls back a transaction:
    SQLAlchemy autobegins the caller's, which stays the caller's to end. Database
    errors are not retried (a deadlock or serialization failure has aborted the
    caller's transaction: only the caller can retry it) and become
    :class:`StoreUnavailable` (``committed=False``: the caller's transaction cannot
    commit them) or :class:`StoreRejected`.
    """

    __slots__ = ("connector", "source")

    def __init__(self, connector: Connector, source: Callable[[], Connection]) -> None:
        self.connector = connector
        self.source = source

    def call(
        self,
        op: Callable[[Connection], T],
        *,
        write: bool,
        token: str | None = None,
        key: Hashable = None,
    ) -> T:
        """Run ``op`` on the caller's connection; database errors translated, not retried."""
        connector = self.connector
        try:
            conn = self.source()
            info = conn.connection.info
            if not (info.get(_READY) or info.get(_INSTALLED)):
                dbapi = conn.connection.dbapi_connection
                assert dbapi is not None
                connector.dialect.install(dbapi, info)  # driver-level only: no session setup
                info[_INSTALLED] = True
            return op(conn)
        except connector.catch as exc:
            kind = classify(exc)
            if kind is ErrorKind.DUPLICATE:
                raise
            problem = describe(exc)
            if kind is ErrorKind.TRIGGER:
                raise StoreRejected(problem) from exc
            raise StoreUnavailable(
                f"{problem} (inside the caller's transaction, which statusguard neither "
                "retries nor ends: roll it back, then retry the whole transaction)",
                committed=False,
            ) from exc
