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

from collections.abc import Mapping
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


def in_memory(database: str | None, url: str) -> bool:
    """Whether a SQLite URL names an in-memory database."""
    return not database or database == ":memory:" or "mode=memory" in url


class SQLite(Dialect):
    """SQLite: ``RETURNING`` the new status, the old one from the event or a noting function."""

    name = "sqlite"
    serves = ("sqlite",)
    audit_begin = "BEGIN IMMEDIATE"
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
        return [
            f"DROP TRIGGER IF EXISTS {spec.name}",
            f"CREATE TRIGGER {spec.name} BEFORE UPDATE OF {c} ON {spec.table} FOR EACH ROW\n"
            f"  WHEN NEW.{c} IS NOT OLD.{c} AND {test}\n"
            f"BEGIN SELECT RAISE(ABORT, {self.literal(what)}); END",
        ]
