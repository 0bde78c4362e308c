"""``DjangoStore``: the guard's :class:`Store` on Django's own connection and transaction.

Every write is the dialect's one conditional ``UPDATE`` (:mod:`statusguard.sql.dialects`),
sent through ``connections[alias].cursor()``: in autocommit mode it commits by itself;
inside ``transaction.atomic()`` it joins the caller's transaction, which then commits or
rolls it back. The store never commits, rolls back or opens a transaction of its own,
except ``atomic()`` around ``create`` (so a duplicate key leaves the caller's transaction
usable) and around a write and its audit row where the dialect sends them as two
statements (SQLite, MariaDB/MySQL; PostgreSQL's audit row rides in the UPDATE). With an
audit model (:class:`~statusguard.integrations.django.AuditRecord`) every committed
transition gets its row, with the attempt's token and the caller's ``actor``/``reason``;
a write whose connection broke in autocommit mode is settled from that token, as
``SQLStore`` settles it. Statements are the dialect's text with ``:name`` parameters,
rendered once here for Django's ``%s`` paramstyle and cached per event's moves. What a
miss, a refusal or a lost connection becomes is :mod:`statusguard.sql._outcomes`'s,
shared with ``SQLStore``; so is the check, at a store's first use of a database, that
the key columns compare keys exactly.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, IntegrityError, connections, models, router, transaction

from statusguard.errors import InvalidSchema, StoreRejected, StoreUnavailable, UnknownKey
from statusguard.guard._store import (
    Applied,
    AuditEntry,
    Record,
    Rejected,
    Store,
    check_audit_text,
    check_window,
)
from statusguard.sql._classify import describe
from statusguard.sql._identifiers import check_identifier, check_table_name
from statusguard.sql._keys import KeyCheck, any_keys, int_keys, text_keys
from statusguard.sql._outcomes import (
    apply_until_decided,
    audit_entry,
    check_versioned,
    collation_query,
    duplicate,
    end_session,
    inexact_key,
    refusal,
    settled,
    unsettled,
    untokened,
)
from statusguard.sql.dialects import SUPPORTED, Dialect, dialect_for
from statusguard.sql.dialects._base import ErrorKind
from statusguard.sql.dialects._records import (
    AUDIT_COLUMNS,
    Layout,
    Moved,
    Outcome,
    Session,
    Statement,
    apply_params,
    audit_params,
    cas_params,
)

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

__all__ = ["DjangoStore", "Rendered", "check_audit_model", "column_of", "render"]

# a bind parameter ``:name`` (not ``::type``, as SQLAlchemy's text() reads them)
_BIND = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")
_CACHE_LIMIT = 4096
#: what a DjangoStore takes as a key of another field type (:func:`check_key` says why not
#: a bool or a float)
KEYS = "the model's primary key values, but no bool or number that is not an int"
_TEXT_FIELDS = ("CharField", "SlugField", "TextField")


def key_check(pk: Any) -> KeyCheck:
    """The check of a key against the primary key field ``pk``, before any SQL: an integer
    field takes ``int`` keys in its range, a text field ``str`` keys up to its
    ``max_length`` (what ``SQLStore`` takes on such columns); other fields (UUID, ...) what
    Django converts, but no bool or number that is not an int."""
    from django.db.backends.base.operations import BaseDatabaseOperations

    while pk is not None and pk.is_relation:  # a one-to-one primary key: the target's type
        pk = pk.target_field
    kind = pk.get_internal_type() if pk is not None else None
    ranges = BaseDatabaseOperations.integer_field_ranges  # Django's own, on every engine
    if kind in ranges:
        return int_keys(*ranges[kind])
    if kind in _TEXT_FIELDS:
        return text_keys(pk.max_length, nul=True)
    return any_keys(KEYS)


@dataclass(frozen=True, slots=True)
class Rendered:
    """A dialect statement in Django's paramstyle: ``%s`` placeholders, in ``names`` order."""

    text: str
    names: tuple[str, ...]

    def params(self, values: Mapping[str, Any]) -> list[Any]:
        """``values`` as the positional parameters of :attr:`text`."""
        return [values[n] for n in self.names]


def render(sql: str) -> Rendered:
    """``sql`` (a dialect's text with ``:name`` parameters) for ``cursor.execute(text, params)``."""
    names: list[str] = []

    def bind(match: re.Match[str]) -> str:
        names.append(match.group(1))
        return "%s"

    return Rendered(_BIND.sub(bind, sql.replace("%", "%%")), tuple(names))


class _Statements:
    """One model's statements on one dialect, rendered once (an event's per set of moves)."""

    def __init__(self, dialect: Dialect, lay: Layout) -> None:
        self.dialect = dialect
        self.layout = lay
        self.select = render(dialect.select(lay))
        self.select_locked = render(dialect.select(lay, locking=True))
        token = dialect.token_select(lay)
        self.token_select = None if token is None else render(token)
        self.audit_insert = self.audit_select = self.audit_token = None
        if lay.audit is not None:
            self.audit_insert = render(dialect.audit_insert(lay))
            self.audit_select = render(dialect.audit_select(lay))
            self.audit_token = render(dialect.audit_token(lay))
        #: whether the audit row is a statement of its own (in one transaction with the write)
        self.separate_audit = lay.audit is not None and dialect.audit_begin is not None
        self._apply: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[Rendered, Statement]] = {}
        self._cas: dict[bool, Rendered] = {}
        self._windows: dict[tuple[bool, bool], Rendered] = {}

    def apply(
        self, sources: tuple[str, ...], targets: tuple[str, ...]
    ) -> tuple[Rendered, Statement]:
        found = self._apply.get((sources, targets))
        if found is None:
            stmt = self.dialect.apply(self.layout, sources, targets)
            if len(self._apply) > _CACHE_LIMIT:
                self._apply.clear()
            found = self._apply[(sources, targets)] = (render(stmt.text), stmt)
        return found

    def audit_window(self, since: bool, until: bool) -> Rendered:
        """A key's audit rows with a lower bound ``since`` and/or an upper bound ``until``."""
        found = self._windows.get((since, until))
        if found is None:
            text = self.dialect.audit_select(self.layout, since=since, until=until)
            found = self._windows[(since, until)] = render(text)
        return found

    def cas(self, versioned: bool) -> Rendered:
        found = self._cas.get(versioned)
        if found is None:
            found = self._cas[versioned] = render(self.dialect.cas(self.layout, versioned))
        return found


_INFO = "_statusguard_info"  # on a Django connection: (its DBAPI connection, the dialect's memory)
_SESSION = "statusguard_session"  # in that memory: the server session (for settling)


def _info(conn: BaseDatabaseWrapper, dialect: Dialect) -> dict[str, Any]:
    """The dialect's per-connection memory, installed once per DBAPI connection.

    (SQLite's ``statusguard_note`` function lives on the DBAPI connection: a reconnect
    installs it again.)
    """
    conn.ensure_connection()
    raw = conn.connection
    held: tuple[Any, dict[str, Any]] | None = getattr(conn, _INFO, None)
    if held is None or held[0] is not raw:
        info: dict[str, Any] = {}
        dialect.install(raw, info)
        held = (raw, info)
        setattr(conn, _INFO, held)
    return held[1]


def _mariadb(conn: BaseDatabaseWrapper) -> bool:
    return bool(getattr(conn, "mysql_is_mariadb", False))


def _session(conn: BaseDatabaseWrapper, dialect: Dialect) -> Session | None:
    """The server session ``conn`` is on (asked once per DBAPI connection; ``None``
    in-process): what a lost write's settle ends before it looks for the token."""
    info = _info(conn, dialect)
    if _SESSION not in info:
        query = dialect.server_sql(mariadb=_mariadb(conn))
        session = None
        if query is not None:
            with conn.cursor() as cursor:
                try:
                    cursor.execute(query)
                    row = cursor.fetchone()
                except DatabaseError:
                    if dialect.session_query is None:
                        raise
                    # a server without those status tables (or the right to read them):
                    # the session id alone, on a server nothing identifies
                    cursor.execute(dialect.session_query)
                    row = cursor.fetchone()
            session = dialect.server(row)
        info[_SESSION] = session
    found = info[_SESSION]
    return found if isinstance(found, Session) else None


def column_of(model: type[models.Model], name: str) -> str | None:
    """The database column of ``model``'s concrete field ``name`` (``None`` if it has none)."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise ValueError(f"{model.__name__}.{name} is a relation, not a column")
    return field.column


def check_audit_model(model: type[models.Model]) -> str:
    """``model``'s table, after checking it has every audit column (:class:`InvalidSchema`)."""
    meta = model._meta
    columns = {f.column for f in meta.concrete_fields}
    for column in AUDIT_COLUMNS:
        if column not in columns:
            raise InvalidSchema(
                meta.db_table,
                column,
                f"the audit model {meta.label} has no column {column!r} (an audit table "
                f"has the columns {', '.join(AUDIT_COLUMNS)})",
                "subclass statusguard.integrations.django.AuditRecord and give it "
                "resource = AuditKey(<the guarded model>)",
            )
    if meta.pk is None or meta.pk.column != "id":
        raise InvalidSchema(
            meta.db_table,
            "id",
            f"the audit model {meta.label}'s primary key is not its 'id' column",
            "subclass statusguard.integrations.django.AuditRecord, which declares it",
        )
    return str(meta.db_table)


def _audit_model(audit: type[models.Model] | str) -> type[models.Model]:
    """``audit``, or the model its ``"app_label.Model"`` label names (any registered model)."""
    if not isinstance(audit, str):
        return audit
    app_label, _, name = audit.partition(".")
    try:
        return apps.get_registered_model(app_label, name)
    except LookupError as exc:
        raise ImproperlyConfigured(
            f"audit model {audit!r} not found ({exc}); name a defined model as "
            "'app_label.ModelName'"
        ) from exc


class DjangoStore(Store):
    """A :class:`~statusguard.guard.Store` over a Django model's table, on Django's connection.

    ``model`` is the model class; ``status``, ``version`` and ``token`` name its fields
    (the version field is optional: without one the store is unversioned, as ``SQLStore``
    without a version column; a token field keeps each write's token on the row).
    ``audit`` is an audit model (a subclass of
    :class:`~statusguard.integrations.django.AuditRecord`, or its ``"app_label.Model"``
    label): every committed transition writes a row there, in the write's transaction,
    read back by :meth:`history`. ``using`` is the database alias; ``None`` asks Django's
    router (``db_for_write``) at every call. The statements are the dialect's (SQLite,
    PostgreSQL, MariaDB/MySQL), run through the connection's cursor inside whatever
    transaction the caller holds. ``race_retries`` bounds the retries of an event whose
    row another writer moved between the ``UPDATE`` and the read that explains its miss.

    At its first use of a database the store checks that the key columns (the model's
    primary key, the audit model's ``resource_key``) compare keys exactly:
    :class:`InvalidSchema` otherwise (MariaDB's default collations fold case and trailing
    spaces, so ``'a'`` and ``'A '`` would be one row), as ``SQLStore`` checks a table it
    adopts.
    """

    def __init__(
        self,
        model: type[models.Model],
        *,
        status: str = "status",
        version: str | None = None,
        token: str | None = None,
        audit: type[models.Model] | str | None = None,
        using: str | None = None,
        race_retries: int = 100,
    ) -> None:
        meta = model._meta
        self.model = model
        self.using = using
        self.race_retries = race_retries
        self.status_field = status
        self.version_field = version
        self.token_field = token
        self.versioned = version is not None
        table = check_table_name("table name", meta.db_table)
        key = check_identifier("key column", meta.pk.column if meta.pk is not None else None)
        self._check_key = key_check(meta.pk)
        column = check_identifier("status column", column_of(model, status))
        vcol = tcol = None
        if version is not None:
            vcol = check_identifier("version column", column_of(model, version))
        if token is not None:
            tcol = check_identifier("token column", column_of(model, token))
        self.audit_model = None if audit is None else _audit_model(audit)
        self.audit_table = None
        if self.audit_model is not None:
            self.audit_table = check_table_name("audit table", check_audit_model(self.audit_model))
        self._plain = Layout(table, key, column, vcol, tcol, self.audit_table)
        self._statements: dict[str, _Statements] = {}  # per dialect name
        self._checked: set[str] = set()  # the aliases whose key collations were checked

    # -- connection -------------------------------------------------------------------

    def alias(self, *, write: bool = True) -> str:
        """The database alias a call uses: ``using``, else the router's answer."""
        if self.using is not None:
            return self.using
        if write:
            return str(router.db_for_write(self.model))
        return str(router.db_for_read(self.model))

    def _sql(self, conn: BaseDatabaseWrapper) -> _Statements:
        found = self._statements.get(conn.vendor)
        if found is None:
            dialect = dialect_for(conn.vendor)
            if dialect is None:
                raise ValueError(
                    f"database {conn.alias!r} is a {conn.vendor} database; statusguard's "
                    f"Django integration speaks {SUPPORTED}: use one of those backends"
                )
            lay = self._plain.quoted(dialect.quote)
            found = self._statements[conn.vendor] = _Statements(dialect, lay)
        if conn.alias not in self._checked:
            self._check_keys(conn, found.dialect)
        return found

    def _check_keys(self, conn: BaseDatabaseWrapper, dialect: Dialect) -> None:
        """:class:`InvalidSchema` unless the key columns on ``conn`` compare keys exactly."""
        plain = self._plain
        tables = [(self.model, plain.table, [plain.key], [plain.status])]
        if self.audit_model is not None and self.audit_table is not None:
            tables.append((self.audit_model, self.audit_table, ["resource_key"], []))
        for model, table, keys, statuses in tables:
            asked = collation_query(dialect, table, keys, statuses)
            if asked is None:
                continue
            query, params, kept = asked
            # (no rows: no such table, or, on PostgreSQL, a key without a collation, an
            # integer: nothing folds; checked once either way, not at every call)
            rows = self._run(conn, render(query), params).all()
            problem = inexact_key(dialect, rows, table, keys, kept, mariadb=_mariadb(conn))
            if problem is not None:
                raise _in_django(problem, model, dialect, _mariadb(conn))
        self._checked.add(conn.alias)

    def _run(
        self,
        conn: BaseDatabaseWrapper,
        sql: Rendered,
        values: Mapping[str, Any],
        *,
        write: bool = False,
    ) -> Outcome:
        """Run ``sql``; a refusal is :class:`StoreRejected`, a read's lost connection
        :class:`StoreUnavailable`; a write's lost connection is left to :meth:`_write`."""
        with conn.cursor() as cursor:
            try:
                cursor.execute(sql.text, sql.params(values))
            except DatabaseError as exc:
                kind = _kind(conn, exc)
                rejected = None if kind is None else refusal(kind, str(exc).strip())
                if rejected is not None:
                    raise rejected from exc
                if kind is ErrorKind.LOST and not write:
                    raise StoreUnavailable(
                        f"connection lost: {describe(exc.__cause__ or exc)}", committed=False
                    ) from exc
                raise
            rows = list(cursor.fetchall()) if cursor.description else []
            lastrowid = getattr(cursor, "lastrowid", None)
            return Outcome(rows, cursor.rowcount, lastrowid, lambda query: _ask(conn, query))

    def _read(
        self, conn: BaseDatabaseWrapper, sql: _Statements, key: Hashable, *, newest: bool = False
    ) -> Record:
        """The row's record; ``newest``: after a missed write inside ``atomic()``, a locking
        read (a REPEATABLE READ snapshot could still show the status the write missed)."""
        select = sql.select_locked if newest and conn.in_atomic_block else sql.select
        row = self._run(conn, select, {"k": key}).first()
        if row is None:
            raise UnknownKey(key)
        return Record(str(row[0]), int(row[1]), None if row[2] is None else str(row[2]))

    def _write(
        self,
        conn: BaseDatabaseWrapper,
        sql: _Statements,
        text: Rendered,
        values: Mapping[str, Any],
        moved: Callable[[Outcome], Moved | None],
        key: Hashable,
        event: str | None,
        token: str | None,
        actor: str | None,
        reason: str | None,
    ) -> Applied | None:
        """One conditional UPDATE, with its audit row if any; ``None`` on a miss."""
        outer = conn.in_atomic_block
        session = None if token is None or outer else _session(conn, sql.dialect)
        try:
            if not sql.separate_audit:
                done = moved(self._run(conn, text, values, write=True))
            else:  # the UPDATE and the audit INSERT commit together, or neither does
                with transaction.atomic(using=conn.alias):
                    done = moved(self._run(conn, text, values, write=True))
                    if done is not None and sql.audit_insert is not None:
                        source, target, version = done
                        row = audit_params(
                            key, source, event, target, version, token, actor, reason
                        )
                        self._run(conn, sql.audit_insert, row, write=True)
        except DatabaseError as exc:
            if _kind(conn, exc) is not ErrorKind.LOST:
                raise
            raise self._settle(conn, sql, exc, token, key, session, outer) from exc
        return None if done is None else Applied(*done)

    def _settle(
        self,
        conn: BaseDatabaseWrapper,
        sql: _Statements,
        exc: DatabaseError,
        token: str | None,
        key: Hashable,
        session: Session | None,
        outer: bool,
    ) -> StoreUnavailable:
        """The verdict on a write that lost its connection (``session``: the old one)."""
        problem = describe(exc.__cause__ or exc)
        if outer:
            return StoreUnavailable(
                f"connection lost during a write: {problem}, inside the caller's "
                "transaction.atomic() block, which ended with its connection (roll it back, "
                "then retry the whole transaction)",
                committed=False,
            )
        if token is None:
            return untokened(problem)
        dialect = sql.dialect
        with contextlib.suppress(DatabaseError):
            conn.close()  # autocommit mode: Django reconnects at the next cursor
        try:
            here = _session(conn, dialect)
            gone = end_session(dialect, session, here, lambda q: _ask(conn, q), (DatabaseError,))
            found = self._token_found(conn, sql, token, key)
        except DatabaseError as again:
            return unsettled(problem, describe(again.__cause__ or again))
        audited = sql.layout.audit is not None
        return settled(
            problem, token, found=found, gone=gone, audited=audited, session=session, here=here
        )

    def _token_found(
        self, conn: BaseDatabaseWrapper, sql: _Statements, token: str, key: Hashable
    ) -> bool:
        if sql.audit_token is not None:
            return self._run(conn, sql.audit_token, {"tok": token}).first() is not None
        if sql.token_select is not None:
            row = self._run(conn, sql.token_select, {"k": key}).first()
            return row is not None and row[0] == token
        return False

    # -- the Store protocol -----------------------------------------------------------

    def create(self, key: Hashable, status: str, token: str | None = None) -> Record:
        """Insert a row for ``key`` with ``status`` through the model's manager.

        Other fields take their defaults; a duplicate key is :class:`DuplicateKey`, and
        only the savepoint around the insert is rolled back.
        """
        self._check_key(key)
        alias = self.alias()
        conn = connections[alias]
        self._sql(conn)  # the key check, before the first row goes in
        values: dict[str, Any] = {"pk": key, self.status_field: status}
        if self.version_field is not None:
            values[self.version_field] = 0
        if self.token_field is not None:
            values[self.token_field] = token
        try:
            with transaction.atomic(using=alias):
                self.model._default_manager.db_manager(alias).create(**values)
        except IntegrityError as exc:
            kind = _kind(conn, exc)
            if kind is not None and kind is not ErrorKind.DUPLICATE:
                rejected = refusal(kind, str(exc).strip())
                if rejected is not None:  # a trigger, NOT NULL, a CHECK: not a duplicate
                    raise rejected from exc
            error = duplicate(key, lambda k: self.get(k).status)
            raise error from (exc if isinstance(error, StoreRejected) else None)
        return Record(status, 0, token if self.token_field is not None else None)

    def get(self, key: Hashable) -> Record:
        """The current record; :class:`UnknownKey` if absent."""
        self._check_key(key)
        conn = connections[self.alias(write=False)]
        return self._read(conn, self._sql(conn), key)

    def history(
        self, key: Hashable, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[AuditEntry]:
        """Committed transitions of ``key`` from the audit model's table, oldest first.

        ``at`` is an aware UTC datetime; ``since``/``until`` keep the entries with
        ``since <= at < until``. ``ValueError`` without an audit model.
        """
        check_window(since, until)
        self._check_key(key)
        if self.audit_table is None:
            raise ValueError(
                "this DjangoStore has no audit model; pass audit=<a subclass of "
                "AuditRecord> (on a GuardedModel: statusguard_audit = 'app_label.Model')"
            )
        conn = connections[self.alias(write=False)]
        sql = self._sql(conn)
        assert sql.audit_select is not None
        params: dict[str, Any] = {"k": key}
        select = sql.audit_select
        if since is not None or until is not None:  # in the WHERE, as SQLStore reads it
            select = sql.audit_window(since is not None, until is not None)
            for name, bound in (("since", since), ("until", until)):
                if bound is not None:
                    params[name] = sql.dialect.audit_time(bound)
        rows = self._run(conn, select, params).all()
        return [audit_entry(r) for r in rows]

    def apply(
        self,
        key: Hashable,
        moves: Mapping[str, str],
        token: str | None = None,
        event: str | None = None,
        *,
        actor: str | None = None,
        reason: str | None = None,
    ) -> Applied | Rejected:
        """Move the status along ``moves`` with the dialect's one conditional ``UPDATE``.

        ``actor`` and ``reason`` go to the audit row, if the store keeps one.
        """
        check_audit_text(actor, reason)
        self._check_key(key)
        conn = connections[self.alias()]
        sql = self._sql(conn)
        if not moves:
            return Rejected(self._read(conn, sql, key))
        text, stmt = sql.apply(tuple(moves), tuple(moves.values()))
        values = apply_params(key, moves, token, event, actor, reason)
        dialect, lay = sql.dialect, sql.layout
        info = _info(conn, dialect)
        return apply_until_decided(
            lambda: self._write(
                conn,
                sql,
                text,
                values,
                lambda out: dialect.applied(lay, stmt, out, info),
                key,
                event,
                token,
                actor,
                reason,
            ),
            lambda: self._read(conn, sql, key, newest=True),
            moves,
            key,
            self.race_retries,
        )

    def compare_and_set(
        self,
        key: Hashable,
        expected: str,
        target: str,
        expected_version: int | None = None,
        token: str | None = None,
        *,
        actor: str | None = None,
        reason: str | None = None,
    ) -> Applied | Rejected:
        """Set ``target`` if the status (and version) still match: one conditional ``UPDATE``."""
        self._check_key(key)
        check_audit_text(actor, reason)
        check_versioned(
            expected_version,
            self.versioned,
            self.model._meta.db_table,
            missing="a version field and this model has none",
            fix="add a VersionField to the model, or move without it",
        )
        conn = connections[self.alias()]
        sql = self._sql(conn)
        text = sql.cas(expected_version is not None)
        values = cas_params(key, expected, target, expected_version, token, actor, reason)
        dialect, lay = sql.dialect, sql.layout

        def moved(out: Outcome) -> Moved | None:
            version = dialect.cas_version(lay, out)
            return None if version is None else (expected, target, version)

        done = self._write(conn, sql, text, values, moved, key, None, token, actor, reason)
        return Rejected(self._read(conn, sql, key, newest=True)) if done is None else done

    def dispose(self) -> None:
        """Nothing to release: the connections are Django's."""
        return None

    def __repr__(self) -> str:
        return f"<DjangoStore {self.model._meta.label} table={self._plain.table!r}>"


def _ask(conn: BaseDatabaseWrapper, query: str) -> Any:
    """The first column of ``query``'s first row, on the same connection (Outcome.ask)."""
    with conn.cursor() as cursor:
        cursor.execute(query)
        row = cursor.fetchone() if cursor.description else None
        return None if row is None else row[0]


def _kind(conn: BaseDatabaseWrapper, exc: DatabaseError) -> ErrorKind | None:
    """The kind of a Django database error (``None``: not one of statusguard's engines)."""
    dialect = dialect_for(conn.vendor)
    return None if dialect is None else dialect.error_kind(exc.__cause__)


def _in_django(
    problem: InvalidSchema, model: type[models.Model], dialect: Dialect, mariadb: bool
) -> InvalidSchema:
    """``problem`` (a key column that folds keys) with the fix said for a Django model."""
    field = next(
        (f.name for f in model._meta.concrete_fields if f.column == problem.column),
        problem.column,
    )
    exact = dialect.key_collation(mariadb=mariadb)
    setting = f"db_collation={exact!r}" if exact else "a db_collation that compares bytes"
    return InvalidSchema(
        problem.table,
        problem.column,
        problem.problem,
        f"give {model._meta.label}.{field} {setting} and migrate (the statement: {problem.fix})",
    )
