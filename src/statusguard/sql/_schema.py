"""The store's tables as SQLAlchemy Core metadata, and the key check run before any SQL.

The status table holds key, status and the optional version and token columns; the
audit table one row per committed transition. Types are portable: what a dialect
needs differently (MariaDB's byte-comparing status collation, SQLite's INTEGER
rowid key) comes from the dialect modules as SQLAlchemy type variants.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any

import sqlalchemy as sa

from statusguard.errors import InvalidKey
from statusguard.sql.dialects import DIALECTS

__all__ = ["audit_table", "key_checker", "status_table"]


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
        sa.Column(key, key_type, primary_key=True, autoincrement=False, quote=True),
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
        sa.Column("resource_key", key_type, nullable=False, index=True),
        sa.Column("source", _status_type(), nullable=False),
        sa.Column("event", sa.String(64)),
        sa.Column("target", _status_type(), nullable=False),
        sa.Column("version", sa.BigInteger),
        sa.Column("token", sa.String(64), index=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        quote=True,
    )


_INT_BITS = ((sa.SmallInteger, 16), (sa.BigInteger, 64), (sa.Integer, 32))


def key_checker(key_type: sa.types.TypeEngine[Any], *, nul: bool) -> Callable[[Hashable], None]:
    """A check that ``key`` fits the key column, run before any SQL (:class:`InvalidKey`).

    String columns take ``str`` keys up to the column's length (on every engine, so a
    key that works on SQLite works in production), encodable as UTF-8, and without
    NUL where the engine's text cannot hold it (``nul=False``); integer columns take
    ``int`` keys in the column's range. Other column types are left to the database.
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
    return None
