# ruff: noqa: S608  (identifiers are validated and quoted; values are bound parameters)
"""SQLite (sqlite3): statements, connection profile, error names and trigger DDL.

A write is ``UPDATE ... SET status = CASE statusguard_note(status) WHEN ... END ...
RETURNING status, version``; ``statusguard_note`` is a per-connection SQL function that
records the old status in process (an injective event needs none: its target names
its source). 1 statement; BEGIN IMMEDIATE, UPDATE, INSERT, COMMIT with an audit table.
File databases run in WAL mode and keep their connections between calls; an
in-memory database is one connection shared by the process.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from statusguard.sql.dialects._base import Dialect, ErrorKind
from statusguard.sql.dialects._records import Connecting, Layout, Moved, Statement, Trigger

__all__ = ["SQLite"]

NOTE = "statusguard_note"

# extended result code name -> kind (Python 3.11+ sets ``sqlite_errorname``)
_ERRORS = {
    **dict.fromkeys(
        ("SQLITE_BUSY", "SQLITE_BUSY_SNAPSHOT", "SQLITE_BUSY_RECOVERY", "SQLITE_LOCKED"),
        ErrorKind.RETRY,
    ),
    **dict.fromkeys(("SQLITE_CONSTRAINT_TRIGGER", "SQLITE_CONSTRAINT_CHECK"), ErrorKind.TRIGGER),
    **dict.fromkeys(
        ("SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_UNIQUE"), ErrorKind.DUPLICATE
    ),
    **dict.fromkeys(
        ("SQLITE_CONSTRAINT_NOTNULL", "SQLITE_CONSTRAINT_FOREIGNKEY", "SQLITE_TOOBIG"),
        ErrorKind.CONSTRAINT,
    ),
}
_FILE = Connecting(
    keep_idle=True, on_connect=("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")
)
_MEMORY = Connecting(shared=True, driver_args={"check_same_thread": False})


class Noted:
    """The per-connection memory behind ``statusguard_note(x)``: the last ``x`` it saw."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: str | None = None

    def __call__(self, value: str) -> str:
        self.value = value
        return value

    def take(self) -> str:
        """The noted value, forgetting it."""
        value, self.value = self.value, None
        assert value is not None, "statusguard_note() did not run"
        return value


def _collation_of(create: str, column: str) -> str | None:
    """The COLLATE named in ``column``'s definition inside a CREATE TABLE, if any."""
    name = re.escape(column)
    found = re.search(
        rf"""(?:\(|,)\s*(?:"{name}"|`{name}`|\[{name}\]|{name}\b)(?:[^,()]|\([^()]*\))*?"""
        r"""\bCOLLATE\s+["'`\[]?(\w+)""",
        create,
        re.IGNORECASE,
    )
    return None if found is None else found.group(1)


def in_memory(database: str | None, url: str) -> bool:
    """Whether a SQLite URL names an in-memory database."""
    return not database or database == ":memory:" or "mode=memory" in url


class SQLite(Dialect):
    """SQLite: ``RETURNING`` the new status, the old one from the event or a noting function."""

    name = "sqlite"
    serves = ("sqlite",)
    audit_begin = "BEGIN IMMEDIATE"
    at_kind = "utc_text"  # CURRENT_TIMESTAMP: 'YYYY-MM-DD HH:MM:SS' in UTC
    integer_autoincrement = True
    lock_timeout_sql = "PRAGMA busy_timeout = {ms}"

    def apply(
        self,
        lay: Layout,
        sources: tuple[str, ...],
        targets: tuple[str, ...],
        columns: tuple[str, ...] = (),
    ) -> Statement:
        s = lay.status
        # An injective event's target names its source: no need to note the old status.
        injective = len(set(targets)) == len(targets)
        operand = s if injective else f"{NOTE}({s})"
        sets = self._case_sets(lay, len(sources), operand, columns=columns)
        text = (
            f"UPDATE {lay.table} SET {', '.join(sets)} WHERE {lay.key} = :k "
            f"AND {s} IN ({self._binds('s', len(sources))}) RETURNING {s}, {lay.version or '0'}"
        )
        inverse = dict(zip(targets, sources, strict=True)) if injective else None
        return Statement(text, sources, targets, inverse)

    def _moved(self, stmt: Statement, row: Any, info: Mapping[str, Any]) -> Moved:
        target, version = str(row[0]), int(row[1])  # RETURNING status, version
        source = stmt.inverse[target] if stmt.inverse is not None else info[NOTE].take()
        return (source, target, version)

    def connecting(self, database: str | None, url: str) -> Connecting:
        return _MEMORY if in_memory(database, url) else _FILE

    def install(self, dbapi_connection: Any, info: dict[str, Any]) -> None:
        noted = Noted()
        dbapi_connection.create_function(NOTE, 1, noted)
        info[NOTE] = noted

    def key_collations(self, columns: int) -> str | None:
        # SQLite keeps a column's collation only in the table's CREATE statement
        return "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"

    def inexact_keys(self, rows: Sequence[Any], columns: Sequence[str]) -> list[tuple[str, str]]:
        out = []
        for (sql,) in rows:
            for column in columns:
                found = _collation_of(str(sql or ""), column)
                if found is not None and found.upper() != "BINARY":
                    out.append((column, found))
        return out

    def exact_keys_fix(self, table: str, column: str, *, mariadb: bool = False) -> str:
        return (
            f"recreate {table} without COLLATE on {column} (SQLite's default, BINARY, "
            "compares exactly; NOCASE and RTRIM do not)"
        )

    def error_kind(self, orig: Any) -> ErrorKind | None:
        name = getattr(orig, "sqlite_errorname", None)
        if isinstance(name, str):
            return _ERRORS.get(name, ErrorKind.OTHER)
        return None

    def trigger(self, spec: Trigger) -> list[str]:
        c = spec.column
        rows = self._pairs(spec.edges)
        test = f"(OLD.{c}, NEW.{c}) NOT IN (VALUES {rows})" if spec.edges else "1"
        what = f"statusguard: illegal status transition in lifecycle {spec.lifecycle}"
        born = (
            f"statusguard: illegal status transition (new row) in lifecycle {spec.lifecycle}: "
            f"rows are created as {', '.join(spec.creatable)}"
        )
        return [
            *self.drop_trigger(spec),
            f"CREATE TRIGGER {spec.name} BEFORE UPDATE OF {c} ON {spec.table} FOR EACH ROW\n"
            f"  WHEN NEW.{c} IS NOT OLD.{c} AND {test}\n"
            f"BEGIN SELECT RAISE(ABORT, {self.literal(what)}); END",
            f"CREATE TRIGGER {spec.insert_name} BEFORE INSERT ON {spec.table} FOR EACH ROW\n"
            f"  WHEN NEW.{c} IS NULL OR NEW.{c} NOT IN ({self._statuses(spec.creatable)})\n"
            f"BEGIN SELECT RAISE(ABORT, {self.literal(born)}); END",
        ]
