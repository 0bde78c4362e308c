"""``DjangoStore``: the guard's :class:`Store` on Django's own connection and transaction.

Every write is the dialect's one conditional ``UPDATE`` (:mod:`statusguard.sql.dialects`),
sent through ``connections[alias].cursor()``: in autocommit mode it commits by itself;
inside ``transaction.atomic()`` it joins the caller's transaction, which then commits or
rolls it back. The store never commits, rolls back or opens a transaction of its own,
except a savepoint around ``create`` (so a duplicate key leaves the caller's transaction
usable). Statements are the dialect's text with ``:name`` parameters, rendered once
here for Django's ``%s`` paramstyle and cached per event's moves.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError, IntegrityError, connections, models, router, transaction

from statusguard.errors import (
    DuplicateKey,
    InvalidSchema,
    StoreRejected,
    TransitionConflict,
    UnknownKey,
)
from statusguard.guard._store import Applied, Record, Rejected, Store, check_key, check_version
from statusguard.sql._identifiers import check_identifier, check_table_name
from statusguard.sql.dialects import SUPPORTED, Dialect, dialect_for
from statusguard.sql.dialects._base import TRIGGER_MESSAGE, ErrorKind
from statusguard.sql.dialects._records import (
    Layout,
    Moved,
    Outcome,
    Statement,
    apply_params,
    cas_params,
)

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

__all__ = ["DjangoStore", "Rendered", "column_of", "render"]

# a bind parameter ``:name`` (not ``::type``, as SQLAlchemy's text() reads them)
_BIND = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")
_CACHE_LIMIT = 4096
#: what a DjangoStore takes as a key (:func:`check_key` says why not a bool or a float)
KEYS = "the model's primary key values, but no bool or number that is not an int"


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
        self._apply: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[Rendered, Statement]] = {}
        self._cas: dict[bool, Rendered] = {}

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

    def cas(self, versioned: bool) -> Rendered:
        found = self._cas.get(versioned)
        if found is None:
            found = self._cas[versioned] = render(self.dialect.cas(self.layout, versioned))
        return found


_INFO = "_statusguard_info"  # on a Django connection: (its DBAPI connection, the dialect's memory)


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


def column_of(model: type[models.Model], name: str) -> str | None:
    """The database column of ``model``'s concrete field ``name`` (``None`` if it has none)."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise ValueError(f"{model.__name__}.{name} is a relation, not a column")
    return field.column


class DjangoStore(Store):
    """A :class:`~statusguard.guard.Store` over a Django model's table, on Django's connection.

    ``model`` is the model class; ``status`` and ``version`` name its fields (the version
    field is optional: without one the store is unversioned, as ``SQLStore`` without a
    version column). ``using`` is the database alias; ``None`` asks Django's router
    (``db_for_write``) at every call. The statements are the dialect's (SQLite, PostgreSQL,
    MariaDB/MySQL), run through the connection's cursor inside whatever transaction the
    caller holds. ``race_retries`` bounds the retries of an event whose row another
    writer moved between the ``UPDATE`` and the read that explains its miss.
    """

    def __init__(
        self,
        model: type[models.Model],
        *,
        status: str = "status",
        version: str | None = None,
        using: str | None = None,
        race_retries: int = 100,
    ) -> None:
        meta = model._meta
        self.model = model
        self.using = using
        self.race_retries = race_retries
        self.status_field = status
        self.version_field = version
        self.versioned = version is not None
        table = check_table_name("table name", meta.db_table)
        key = check_identifier("key column", meta.pk.column if meta.pk is not None else None)
        column = check_identifier("status column", column_of(model, status))
        vcol = None
        if version is not None:
            vcol = check_identifier("version column", column_of(model, version))
        self._plain = Layout(table, key, column, vcol)
        self._statements: dict[str, _Statements] = {}  # per dialect name

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
        return found

    @staticmethod
    def _run(conn: BaseDatabaseWrapper, sql: Rendered, values: Mapping[str, Any]) -> Outcome:
        with conn.cursor() as cursor:
            try:
                cursor.execute(sql.text, sql.params(values))
            except DatabaseError as exc:
                rejected = _rejected(conn, exc)
                if rejected is None:
                    raise
                raise rejected from exc
            rows = list(cursor.fetchall()) if cursor.description else []
            lastrowid = getattr(cursor, "lastrowid", None)
            return Outcome(rows, cursor.rowcount, lastrowid, lambda query: _ask(conn, query))

    def _read(self, conn: BaseDatabaseWrapper, sql: _Statements, key: Hashable) -> Record:
        row = self._run(conn, sql.select, {"k": key}).first()
        if row is None:
            raise UnknownKey(key)
        return Record(str(row[0]), int(row[1]), None)

    # -- the Store protocol -----------------------------------------------------------

    def create(self, key: Hashable, status: str, token: str | None = None) -> Record:
        """Insert a row for ``key`` with ``status`` through the model's manager.

        Other fields take their defaults; a duplicate key is :class:`DuplicateKey`, and
        only the savepoint around the insert is rolled back.
        """
        check_key(key, KEYS)
        alias = self.alias()
        values: dict[str, Any] = {"pk": key, self.status_field: status}
        if self.version_field is not None:
            values[self.version_field] = 0
        try:
            with transaction.atomic(using=alias):
                self.model._default_manager.db_manager(alias).create(**values)
        except IntegrityError as exc:
            rejected = _rejected(connections[alias], exc)
            if rejected is not None:  # a trigger, NOT NULL, a CHECK: not a duplicate
                raise rejected from exc
            try:
                existing = self.get(key).status
            except UnknownKey:  # a unique index on another field refused the row
                raise StoreRejected(
                    f"inserting key {key!r} violates a unique constraint other than the key's",
                    cause="constraint",
                ) from exc
            raise DuplicateKey(key, existing) from None
        return Record(status, 0, None)

    def get(self, key: Hashable) -> Record:
        """The current record; :class:`UnknownKey` if absent."""
        check_key(key, KEYS)
        conn = connections[self.alias(write=False)]
        return self._read(conn, self._sql(conn), key)

    def apply(
        self,
        key: Hashable,
        moves: Mapping[str, str],
        token: str | None = None,
        event: str | None = None,
    ) -> Applied | Rejected:
        """Move the status along ``moves`` with the dialect's one conditional ``UPDATE``."""
        check_key(key, KEYS)
        conn = connections[self.alias()]
        sql = self._sql(conn)
        if not moves:
            return Rejected(self._read(conn, sql, key))
        text, stmt = sql.apply(tuple(moves), tuple(moves.values()))
        values = apply_params(key, moves, None, event)
        dialect, lay = sql.dialect, sql.layout
        info = _info(conn, dialect)
        for _ in range(self.race_retries):
            done: Moved | None = dialect.applied(lay, stmt, self._run(conn, text, values), info)
            if done is not None:
                return Applied(*done)
            current = self._read(conn, sql, key)
            if current.status not in moves:
                return Rejected(current)
            # another writer moved the row between our UPDATE and the read: go again
        current = self._read(conn, sql, key)
        raise TransitionConflict(
            key,
            current.status,
            None,
            detail=f"the row kept changing during {self.race_retries} attempts",
        )

    def compare_and_set(
        self,
        key: Hashable,
        expected: str,
        target: str,
        expected_version: int | None = None,
        token: str | None = None,
    ) -> Applied | Rejected:
        """Set ``target`` if the status (and version) still match: one conditional ``UPDATE``."""
        check_key(key, KEYS)
        check_version(expected_version)
        if expected_version is not None and not self.versioned:
            raise InvalidSchema(
                self.model._meta.db_table,
                "(version)",
                "expected_version needs a version field and this model has none",
                "add a VersionField to the model, or move without it",
            )
        conn = connections[self.alias()]
        sql = self._sql(conn)
        text = sql.cas(expected_version is not None)
        out = self._run(conn, text, cas_params(key, expected, target, expected_version, None))
        version = sql.dialect.cas_version(sql.layout, out)
        if version is None:
            return Rejected(self._read(conn, sql, key))
        return Applied(expected, target, version)

    def dispose(self) -> None:
        """Nothing to release: the connections are Django's."""
        return None

    def __repr__(self) -> str:
        return f"<DjangoStore {self.model._meta.label} table={self._plain.table!r}>"


def _ask(conn: BaseDatabaseWrapper, query: str) -> Any:
    """The first column of ``query``'s first row, on the same connection (Outcome.ask)."""
    with conn.cursor() as cursor:
        cursor.execute(query)
        row = cursor.fetchone()
        return None if row is None else row[0]


def _rejected(conn: BaseDatabaseWrapper, exc: DatabaseError) -> StoreRejected | None:
    """A refusal by the database (a statusguard trigger, a constraint) as :class:`StoreRejected`."""
    dialect = dialect_for(conn.vendor)
    kind = None if dialect is None else dialect.error_kind(exc.__cause__)
    problem = str(exc).strip()
    if kind is ErrorKind.TRIGGER:  # statusguard's trigger names itself; else a CHECK
        cause = "trigger" if TRIGGER_MESSAGE in problem else "constraint"
        return StoreRejected(problem, cause=cause)
    if kind is ErrorKind.CONSTRAINT:
        return StoreRejected(problem, cause="constraint")
    return None
