"""Classify database errors by SQLSTATE / errno / SQLite error name, never by class.

PyMySQL maps most server errnos (deadlock, lock timeout, lost connection, a
trigger's SIGNAL) to ``OperationalError``; psycopg and sqlite3 differ again. The
store only needs to know which of a few kinds an error is. Each dialect module
holds its driver's table (:meth:`Dialect.error_kind`); this module asks them and
falls back on what SQLAlchemy knows. No SQLAlchemy import.
"""

from __future__ import annotations

from typing import Any

from statusguard.sql.dialects import DIALECTS
from statusguard.sql.dialects._base import ErrorKind

__all__ = ["ErrorKind", "classify", "describe"]


def _orig(exc: BaseException) -> Any:
    return getattr(exc, "orig", None) or exc


def classify(exc: BaseException) -> ErrorKind:
    """The kind of a (SQLAlchemy-wrapped or raw DBAPI) database error."""
    orig = _orig(exc)
    for dialect in DIALECTS.values():
        kind = dialect.error_kind(orig)
        if kind is not None:
            return kind
    if getattr(exc, "connection_invalidated", False):
        return ErrorKind.LOST
    return ErrorKind.OTHER


def describe(exc: BaseException) -> str:
    """A one-line description: the first line of the driver's message and its code.

    The code is the SQLSTATE (psycopg), the SQLite error name or the MySQL errno;
    never the message itself (psycopg's connection errors carry no SQLSTATE and a
    multi-line first argument: hints, context lines).
    """
    orig = _orig(exc)
    args = getattr(orig, "args", None) or ()
    errno = args[0] if args and isinstance(args[0], int) else None
    code = getattr(orig, "sqlstate", None) or getattr(orig, "sqlite_errorname", None) or errno
    full = str(orig).strip()
    text = " ".join(full.splitlines()[0].split()) if full else type(orig).__name__
    if code is not None and str(code) not in text:
        return f"{text} [{code}]"
    return text
