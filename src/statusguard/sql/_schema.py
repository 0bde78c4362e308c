"""The store's tables as SQLAlchemy Core metadata, and the key check run before any SQL.

The status table holds key, status and the optional version and token columns; the
audit table one row per committed transition. Types are portable: what a dialect
needs differently (MariaDB's byte-comparing status collation, SQLite's INTEGER
rowid key) comes from the dialect modules as SQLAlchemy type variants.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from statusguard.errors import InvalidKey, InvalidSchema
from statusguard.guard._store import check_key
from statusguard.sql.dialects import DIALECTS, dialect_for

__all__ = ["audit_table", "check_exact_keys", "exact_key_type", "key_checker", "status_table"]


class _ExactKey(sa.types.TypeDecorator[Any]):
    """A text key type with the engine's exact collation (MariaDB/MySQL: binary NO PAD).

    The collation depends on the server (MariaDB's ``utf8mb4_nopad_bin``, MySQL's
    ``utf8mb4_0900_bin``), known only once connected: it is chosen when the DDL is compiled.
    """

    impl = sa.String
    cache_ok = True

    def __init__(self, inner: sa.String) -> None:
        super().__init__()
        self.inner = inner

    def load_dialect_impl(self, dialect: sa.engine.Dialect) -> sa.types.TypeEngine[Any]:
        ours = dialect_for(dialect.name)
        mariadb = bool(getattr(dialect, "is_mariadb", False))
        collation = None if ours is None else ours.key_collation(mariadb=mariadb)
        if collation is None:
            return dialect.type_descriptor(self.inner)
        exact = self.inner.copy()
        exact.collation = collation
        return dialect.type_descriptor(exact)


def exact_key_type(kind: sa.types.TypeEngine[Any]) -> sa.types.TypeEngine[Any]:
    """``kind`` for a key column: text without a collation gets the engine's exact one.

    Keys compare exactly on every engine, as in :class:`MemoryStore`: ``'img-1'`` and
    ``'IMG-1'``, ``'cafe'`` and ``'café'``, ``'pad'`` and ``'pad '`` are different keys.
    """
    if not isinstance(kind, sa.String) or kind.collation is not None:
        return kind
    for d in DIALECTS.values():
        if d.key_collation() is not None:
            kind = kind.with_variant(_ExactKey(kind), *d.serves)
    return kind


def check_exact_keys(
    conn: Any, table: str, columns: Sequence[str], statuses: Sequence[str] = ()
) -> None:
    """:class:`InvalidSchema` if a key column of ``table`` does not compare keys exactly.

    For tables the store did not create (found by :meth:`SQLStore.create_schema`, or
    adopted): a case-, accent- or pad-insensitive collation would make different keys
    one row. ``statuses`` names status columns to check alike where the engine's
    statements compare the status with the column's collation (under NOCASE a stored
    ``'QUEUED'`` would match ``'queued'``). ``conn`` is a SQLAlchemy connection; one
    catalog query.
    """
    name = conn.dialect.name
    ours = dialect_for(name)
    query = None if ours is None else ours.key_collations(len(columns))
    if ours is None or query is None:
        return
    if ours.status_compared_as_bytes:
        statuses = ()
    names = [*columns, *statuses]
    query = ours.key_collations(len(names))
    assert query is not None
    params = {"t": ours.quote(table) if name == "postgresql" else table}
    params.update({f"c{i}": c for i, c in enumerate(names)})
    rows = conn.execute(sa.text(query), params).all()
    mariadb = bool(getattr(conn.dialect, "is_mariadb", False))
    for column, collation in ours.inexact_keys(rows, names):
        if column in statuses:
            problem = (
                f"its collation {collation} makes different statuses equal ('QUEUED' = "
                "'queued'), so a status written behind the guard's back would be taken for "
                "a known one"
            )
        else:
            problem = (
                f"its collation {collation} makes different keys equal (case, accents or "
                "trailing spaces: 'img-1' = 'IMG-1', 'pad' = 'pad '), so two resources "
                "would share one row"
            )
        raise InvalidSchema(
            table, column, problem, ours.exact_keys_fix(table, column, mariadb=mariadb)
        )


def _status_type() -> sa.types.TypeEngine[Any]:
    kind: sa.types.TypeEngine[Any] = sa.String(64)
    for d in DIALECTS.values():
        if d.status_collation is not None:
            kind = kind.with_variant(sa.String(64, collation=d.status_collation), *d.serves)
    return kind


def _audit_id_type() -> sa.types.TypeEngine[Any]:
    kind: sa.types.TypeEngine[Any] = sa.BigInteger()
    for d in DIALECTS.values():
        if d.integer_autoincrement:
            kind = kind.with_variant(sa.Integer, *d.serves)
    return kind


def status_table(
    metadata: sa.MetaData,
    name: str,
    key: str,
    status: str,
    version: str | None,
    token: str | None,
    key_type: sa.types.TypeEngine[Any],
    extra: Mapping[str, Any] | None = None,
) -> sa.Table:
    """The status table: ``key`` (primary key), ``status``, the optional columns, and
    ``extra`` (name -> SQLAlchemy type: the other columns a transition may write)."""
    cols: list[sa.Column[Any]] = [
        sa.Column(key, exact_key_type(key_type), primary_key=True, autoincrement=False, quote=True),
        sa.Column(status, _status_type(), nullable=False, quote=True),
    ]
    if version:
        cols.append(sa.Column(version, sa.BigInteger, nullable=False, default=0, quote=True))
    if token:
        cols.append(sa.Column(token, sa.String(64), quote=True))
    for column, kind in (extra or {}).items():
        cols.append(sa.Column(column, kind, quote=True))
    return sa.Table(name, metadata, *cols, quote=True)


def audit_table(metadata: sa.MetaData, name: str, key_type: sa.types.TypeEngine[Any]) -> sa.Table:
    """The audit table: one row per committed transition, with its token and time."""
    return sa.Table(
        name,
        metadata,
        sa.Column("id", _audit_id_type(), primary_key=True, autoincrement=True),
        sa.Column("resource_key", exact_key_type(key_type), nullable=False, index=True),
        sa.Column("source", _status_type(), nullable=False),
        sa.Column("event", sa.String(64)),
        sa.Column("target", _status_type(), nullable=False),
        sa.Column("version", sa.BigInteger),
        sa.Column("token", sa.String(64), index=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(255)),
        sa.Column("reason", sa.Text),
        quote=True,
    )


_INT_BITS = ((sa.SmallInteger, 16), (sa.BigInteger, 64), (sa.Integer, 32))


def key_checker(key_type: sa.types.TypeEngine[Any], *, nul: bool) -> Callable[[Hashable], None]:
    """A check that ``key`` fits the key column, run before any SQL (:class:`InvalidKey`).

    String columns take ``str`` keys up to the column's length (on every engine, so a
    key that works on SQLite works in production), encodable as UTF-8, and without
    NUL where the engine's text cannot hold it (``nul=False``); integer columns take
    ``int`` keys in the column's range. Other column types are left to the database,
    but for a bool or a number that is not an int (:func:`~statusguard.guard._store.aliased_key`).
    """
    if isinstance(key_type, sa.String):
        length = key_type.length
        allowed = "text" + (f" of at most {length} characters" if length else "")
        if not nul:
            allowed += " without NUL characters"

        def check_text(key: Hashable) -> None:
            if not isinstance(key, str):
                raise InvalidKey(key, f"its type is {type(key).__name__}, not str", allowed)
            if length is not None and len(key) > length:
                raise InvalidKey(key, f"{len(key)} characters long", allowed)
            if not nul and "\x00" in key:
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
    check_key(key, "what the column's type holds, but no bool or number that is not an int")
