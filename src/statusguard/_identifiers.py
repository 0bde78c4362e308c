"""SQL identifier validation shared by the SQL store and the trigger generator (no SQLAlchemy)."""

from __future__ import annotations

import re

from statusguard._errors import InvalidIdentifier

__all__ = ["MAX_IDENTIFIER", "check_identifier"]

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
