"""Database-side enforcement: trigger DDL generated from a lifecycle.

The trigger rejects any ``UPDATE`` that changes the status column along an edge
the lifecycle does not have (under a fixed config), whoever issues it: code that
bypasses the guard, a DBA's console, another service. Same-value writes and
updates of other columns pass. A no-op of the lifecycle (:class:`NoOp`, "accepted,
no change") is no edge and needs no pair: the guard writes nothing for it, and a
same-value write passes anyway. The allowed ``(old, new)`` pairs are inlined in the
trigger, so there is no transition table to keep in sync (and, on MariaDB, none
to take shared locks on). Errors: PostgreSQL SQLSTATE 23514 (check_violation),
MariaDB/MySQL SQLSTATE 45000 / errno 1644, SQLite ``SQLITE_CONSTRAINT_TRIGGER``.

This module derives the edges and names; each dialect module writes its DDL
(:meth:`Dialect.trigger`). No SQLAlchemy or driver is needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from statusguard._text import format_flags
from statusguard.lifecycle._model import Lifecycle
from statusguard.sql._identifiers import MAX_IDENTIFIER, check_identifier, check_table_name
from statusguard.sql.dialects import DIALECTS
from statusguard.sql.dialects._base import Dialect
from statusguard.sql.dialects._records import Trigger

__all__ = ["allowed_edges", "trigger_ddl", "trigger_script"]

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


def _dialect(name: str) -> Dialect:
    try:
        return DIALECTS[name]
    except KeyError:
        raise ValueError(
            f"unknown dialect {name!r}; expected one of: {', '.join(DIALECTS)}"
        ) from None


def trigger_ddl(
    lifecycle: Lifecycle[Any, Any],
    dialect: str,
    table: str,
    column: str,
    config: Mapping[str, bool] | None = None,
) -> list[str]:
    """The statements that install the trigger, each ready for a DBAPI ``execute``."""
    sql = _dialect(dialect)
    check_table_name("table name", table)
    check_identifier("status column", column)
    name = check_identifier(
        "trigger name (table name + '_statusguard')", table[: MAX_IDENTIFIER - 16] + _SUFFIX
    )
    edges = allowed_edges(lifecycle, config or {})
    sql.literal(lifecycle.name)  # refuse a name the DDL cannot carry before any status
    spec = Trigger(
        sql.quote(table), sql.quote(column), sql.quote(name), name, edges, lifecycle.name
    )
    return sql.trigger(spec)


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
    return head + DIALECTS[dialect].script(statements)
