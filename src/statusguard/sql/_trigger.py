# ruff: noqa: S608  (identifiers are validated and quoted; statuses are escaped literals)
"""Database-side enforcement: trigger DDL generated from a lifecycle.

The trigger rejects any ``UPDATE`` that changes the status column along an edge
the lifecycle does not have (under a fixed config), whoever issues it: code that
bypasses the guard, a DBA's console, another service. Same-value writes and
updates of other columns pass. The allowed ``(old, new)`` pairs are inlined in the
trigger, so there is no transition table to keep in sync (and, on MariaDB, none
to take shared locks on). Errors: PostgreSQL SQLSTATE 23514 (check_violation),
MariaDB/MySQL SQLSTATE 45000 / errno 1644, SQLite ``SQLITE_CONSTRAINT_TRIGGER``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from statusguard._text import format_flags
from statusguard.lifecycle._model import Lifecycle
from statusguard.sql._identifiers import MAX_IDENTIFIER, check_identifier, check_table_name

__all__ = ["DIALECTS", "allowed_edges", "trigger_ddl", "trigger_script"]

DIALECTS = ("postgresql", "mysql", "sqlite")
_SUFFIX = "_statusguard"


def allowed_edges(
    lifecycle: Lifecycle[Any, Any], config: Mapping[str, bool]
) -> list[tuple[str, str]]:
    """``(source, target)`` pairs some event allows under ``config`` (for any facts)."""
    config = lifecycle.check_config(config)
    edges: list[tuple[str, str]] = []
    for state in lifecycle.states:
        for _, target in lifecycle.successors(state, config):
            pair = (str(state), str(target))
            if pair[0] != pair[1] and pair not in edges:
                edges.append(pair)
    return edges


def _literal(value: str, dialect: str) -> str:
    if any(ord(ch) < 32 for ch in value):
        raise ValueError(f"status {value!r} contains control characters")
    escaped = value.replace("'", "''")
    if dialect == "mysql":
        escaped = escaped.replace("\\", "\\\\")
    return f"'{escaped}'"


def _quote(name: str, dialect: str) -> str:
    return f"`{name}`" if dialect == "mysql" else f'"{name}"'


def trigger_ddl(
    lifecycle: Lifecycle[Any, Any],
    dialect: str,
    table: str,
    column: str,
    config: Mapping[str, bool] | None = None,
) -> list[str]:
    """The statements that install the trigger, each ready for a DBAPI ``execute``."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; expected one of: {', '.join(DIALECTS)}")
    check_table_name("table name", table)
    check_identifier("status column", column)
    name = check_identifier(
        "trigger name (table name + '_statusguard')", table[: MAX_IDENTIFIER - 16] + _SUFFIX
    )
    edges = allowed_edges(lifecycle, config or {})
    t, c, trg = _quote(table, dialect), _quote(column, dialect), _quote(name, dialect)
    what = f"statusguard: illegal status transition in lifecycle {lifecycle.name}"
    lc_name = _literal(lifecycle.name, dialect)
    if dialect == "postgresql":
        fn = _quote(name + "_check", dialect)
        pairs = ", ".join(f"({_literal(a, dialect)}, {_literal(b, dialect)})" for a, b in edges)
        test = f"(OLD.{c}::text, NEW.{c}::text) IN ({pairs})" if edges else "FALSE"
        return [
            f"CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $sg$\n"
            "BEGIN\n"
            f"  IF NOT ({test}) THEN\n"
            "    RAISE EXCEPTION 'statusguard: illegal status transition % -> % in lifecycle %',\n"
            f"      OLD.{c}, NEW.{c}, {lc_name} USING ERRCODE = 'check_violation';\n"
            "  END IF;\n"
            "  RETURN NEW;\n"
            "END\n"
            "$sg$",
            f"DROP TRIGGER IF EXISTS {trg} ON {t}",
            f"CREATE TRIGGER {trg} BEFORE UPDATE OF {c} ON {t} FOR EACH ROW\n"
            f"  WHEN (NEW.{c} IS DISTINCT FROM OLD.{c}) EXECUTE FUNCTION {fn}()",
        ]
    if dialect == "mysql":
        pairs = ", ".join(
            f"(BINARY {_literal(a, dialect)}, BINARY {_literal(b, dialect)})" for a, b in edges
        )
        test = f"(BINARY OLD.{c}, BINARY NEW.{c}) IN ({pairs})" if edges else "FALSE"
        return [
            f"DROP TRIGGER IF EXISTS {trg}",
            f"CREATE TRIGGER {trg} BEFORE UPDATE ON {t} FOR EACH ROW\n"
            "BEGIN\n"
            f"  IF NOT (BINARY NEW.{c} <=> BINARY OLD.{c}) AND NOT ({test}) THEN\n"
            "    SET @statusguard_msg = CONCAT('statusguard: illegal status transition ',\n"
            f"      IFNULL(OLD.{c}, 'NULL'), ' -> ', IFNULL(NEW.{c}, 'NULL'),"
            f" ' in lifecycle ', {lc_name});\n"
            "    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = @statusguard_msg, MYSQL_ERRNO = 1644;\n"
            "  END IF;\n"
            "END",
        ]
    rows = ", ".join(f"({_literal(a, dialect)}, {_literal(b, dialect)})" for a, b in edges)
    test = f"(OLD.{c}, NEW.{c}) NOT IN (VALUES {rows})" if edges else "1"
    return [
        f"DROP TRIGGER IF EXISTS {trg}",
        f"CREATE TRIGGER {trg} BEFORE UPDATE OF {c} ON {t} FOR EACH ROW\n"
        f"  WHEN NEW.{c} IS NOT OLD.{c} AND {test}\n"
        f"BEGIN SELECT RAISE(ABORT, {_literal(what, dialect)}); END",
    ]


def trigger_script(
    lifecycle: Lifecycle[Any, Any],
    dialect: str,
    table: str,
    column: str,
    config: Mapping[str, bool] | None = None,
) -> str:
    """The DDL as one script for the engine's own client (``psql``, ``mysql``, ``sqlite3``)."""
    statements = trigger_ddl(lifecycle, dialect, table, column, config)
    edges = allowed_edges(lifecycle, config or {})
    flags = format_flags(config or {})
    head = (
        f"-- statusguard trigger for lifecycle {lifecycle.name} ({lifecycle.fingerprint})\n"
        f"-- {dialect}: table {table}, column {column}; config: {flags or '(none)'}; "
        f"{len(edges)} allowed status changes\n"
    )
    if dialect == "mysql":
        return head + statements[0] + ";\nDELIMITER //\n" + statements[1] + "//\nDELIMITER ;\n"
    return head + "".join(f"{s};\n" for s in statements)
