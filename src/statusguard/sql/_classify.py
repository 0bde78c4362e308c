"""Classify database errors by SQLSTATE / errno / SQLite error name, never by class.

PyMySQL maps most server errnos (deadlock, lock timeout, lost connection, a
trigger's SIGNAL) to ``OperationalError``; psycopg and sqlite3 differ again. The
guard only needs to know which of a few kinds an error is.
"""

from __future__ import annotations

import enum
from typing import Any

__all__ = ["ErrorKind", "classify", "describe"]


class ErrorKind(enum.Enum):
    """What the guard does about a database error."""

    RETRY = "retry"  # serialization failure, deadlock, SQLite busy: roll back, back off, retry
    TIMEOUT = "timeout"  # lock wait / statement timeout: the statement was undone
    LOST = "lost"  # the connection broke: the outcome of a write may be unknown
    DUPLICATE = "duplicate"  # unique key violation
    TRIGGER = "trigger"  # a statusguard trigger (or a CHECK) rejected the write
    OTHER = "other"


# PostgreSQL SQLSTATEs
_PG_RETRY = {"40001", "40P01"}
_PG_TIMEOUT = {"55P03", "57014", "25P03"}
_PG_TRIGGER = {"23514"}
_PG_DUPLICATE = {"23505"}
# MySQL / MariaDB errnos
_MY_RETRY = {1213, 1020}
_MY_TIMEOUT = {1205, 3024, 1969}
_MY_LOST = {2002, 2003, 2006, 2013, 2055, 1053, 1927, 4031, 2014}
_MY_TRIGGER = {1644, 3819, 4025}
_MY_DUPLICATE = {1062}
# SQLite extended error names
_SQ_RETRY = {"SQLITE_BUSY", "SQLITE_BUSY_SNAPSHOT", "SQLITE_BUSY_RECOVERY", "SQLITE_LOCKED"}
_SQ_TRIGGER = {"SQLITE_CONSTRAINT_TRIGGER", "SQLITE_CONSTRAINT_CHECK"}
_SQ_DUPLICATE = {"SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_UNIQUE"}


def _orig(exc: BaseException) -> Any:
    return getattr(exc, "orig", None) or exc


def classify(exc: BaseException) -> ErrorKind:
    """The kind of a (SQLAlchemy-wrapped or raw DBAPI) database error."""
    orig = _orig(exc)
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str):  # psycopg
        if sqlstate in _PG_RETRY:
            return ErrorKind.RETRY
        if sqlstate in _PG_TIMEOUT:
            return ErrorKind.TIMEOUT
        if sqlstate in _PG_TRIGGER:
            return ErrorKind.TRIGGER
        if sqlstate in _PG_DUPLICATE:
            return ErrorKind.DUPLICATE
        if sqlstate.startswith(("08", "57P")):
            return ErrorKind.LOST
    name = getattr(orig, "sqlite_errorname", None)
    if isinstance(name, str):  # sqlite3 (Python 3.11+)
        if name in _SQ_RETRY:
            return ErrorKind.RETRY
        if name in _SQ_TRIGGER:
            return ErrorKind.TRIGGER
        if name in _SQ_DUPLICATE:
            return ErrorKind.DUPLICATE
        return ErrorKind.OTHER
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int) and "pymysql" in type(orig).__module__:
        errno = args[0]
        if errno in _MY_RETRY:
            return ErrorKind.RETRY
        if errno in _MY_TIMEOUT:
            return ErrorKind.TIMEOUT
        if errno in _MY_LOST:
            return ErrorKind.LOST
        if errno in _MY_TRIGGER:
            return ErrorKind.TRIGGER
        if errno in _MY_DUPLICATE:
            return ErrorKind.DUPLICATE
        return ErrorKind.OTHER
    if getattr(exc, "connection_invalidated", False) or (sqlstate is None and _psycopg_lost(orig)):
        return ErrorKind.LOST
    return ErrorKind.OTHER


def _psycopg_lost(orig: Any) -> bool:
    mod = type(orig).__module__
    return mod.startswith("psycopg") and type(orig).__name__ in {
        "OperationalError",
        "InterfaceError",
    }


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
