"""The SQL dialects statusguard speaks, one module each, and the one registry of them.

Each module owns its engine's statements (SQL text with ``:name`` bind parameters),
session setup, connection profile, error classes and trigger DDL; the store, the
trigger generator and any other executor read them through :data:`DIALECTS`.
Nothing here imports SQLAlchemy or a driver, or talks to a database. Adding an
engine is one new module plus one line below. It imports only
:mod:`statusguard.sql.dialects._base`.
"""

from __future__ import annotations

from types import MappingProxyType

from statusguard.sql.dialects._base import Dialect
from statusguard.sql.dialects.mysql import MySQL
from statusguard.sql.dialects.postgresql import PostgreSQL
from statusguard.sql.dialects.sqlite import SQLite

__all__ = ["DIALECTS", "SUPPORTED", "Dialect", "dialect_for"]

#: every supported dialect by its name, in the order the CLI lists them
DIALECTS = MappingProxyType({d.name: d for d in (PostgreSQL(), MySQL(), SQLite())})

_SERVED = MappingProxyType({name: d for d in DIALECTS.values() for name in d.serves})

#: the served SQLAlchemy names, as error messages list them (a test keeps it complete)
SUPPORTED = "sqlite, postgresql, mysql or mariadb"


def dialect_for(name: str) -> Dialect | None:
    """The dialect serving a SQLAlchemy dialect name (``mariadb`` -> mysql), or ``None``."""
    return _SERVED.get(name)
