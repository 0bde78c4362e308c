"""The store's tables as SQLAlchemy Core metadata, and the key check run before any SQL.

The status table holds key, status and the optional version and token columns; the
audit table one row per committed transition. Types are portable: what a dialect
needs differently (MariaDB's byte-comparing status collation, SQLite's INTEGER
rowid key) comes from the dialect modules as SQLAlchemy type variants.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from statusguard.sql._keys import INT_RANGES, KeyCheck, any_keys, int_keys, text_keys
from statusguard.sql._outcomes import collation_query, inexact_key
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
    ours = dialect_for(conn.dialect.name)
    asked = None if ours is None else collation_query(ours, table, columns, statuses)
    if ours is None or asked is None:
        return
    query, params, kept = asked
    rows = conn.execute(sa.text(query), params).all()
    mariadb = bool(getattr(conn.dialect, "is_mariadb", False))
    problem = inexact_key(ours, rows, table, columns, kept, mariadb=mariadb)
    if problem is not None:
        raise problem


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
_ANY = any_keys("what the column's type holds, but no bool or number that is not an int")


def key_checker(key_type: sa.types.TypeEngine[Any], *, nul: bool) -> KeyCheck:
    """A check that ``key`` fits the key column, run before any SQL (:class:`InvalidKey`).

    String columns take ``str`` keys up to the column's length (on every engine, so a
    key that works on SQLite works in production), encodable as UTF-8, and without
    NUL where the engine's text cannot hold it (``nul=False``); integer columns take
    ``int`` keys in the column's range. Other column types are left to the database,
    but for a bool or a number that is not an int (:func:`~statusguard.guard._store.aliased_key`).
    The rules are :mod:`statusguard.sql._keys`'s, which ``DjangoStore`` applies too.
    """
    if isinstance(key_type, sa.String):
        return text_keys(key_type.length, nul=nul)
    bits = next((b for kind, b in _INT_BITS if isinstance(key_type, kind)), None)
    if bits is None:
        return _ANY
    return int_keys(*INT_RANGES[bits])
