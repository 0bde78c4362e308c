"""SQL identifier validation shared by the SQL store and the trigger generator (no SQLAlchemy)."""

from __future__ import annotations

import re

from statusguard.errors import InvalidIdentifier

__all__ = ["MAX_IDENTIFIER", "check_identifier", "check_table_name"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_IDENTIFIER = 63  # PostgreSQL's limit; MySQL allows 64


def check_identifier(what: str, value: object) -> str:
    """Return ``value`` if it is a plain SQL identifier, else raise :class:`InvalidIdentifier`."""
    if not isinstance(value, str) or not _IDENT.fullmatch(value) or len(value) > MAX_IDENTIFIER:
        raise InvalidIdentifier(
            what,
            str(value),
            f"use 1-{MAX_IDENTIFIER} ASCII letters, digits or underscores, not starting with a "
            "digit (names are always quoted; configuration cannot carry SQL)",
        )
    return value


_RESERVED_TABLE_PREFIX = "sqlite_"  # SQLite refuses tables named so ("reserved for internal use")


def check_table_name(what: str, value: object) -> str:
    """:func:`check_identifier` for a table (or trigger) name, refused alike by every dialect.

    SQLite reserves names starting with ``sqlite_`` in any case; they are refused for every
    engine so that the same configuration gets the same answer from every store.
    """
    name = check_identifier(what, value)
    if name.lower().startswith(_RESERVED_TABLE_PREFIX):
        raise InvalidIdentifier(
            what,
            name,
            f"names starting with {_RESERVED_TABLE_PREFIX!r} (in any case) are reserved by "
            "SQLite and refused on every engine; choose another name",
        )
    return name
