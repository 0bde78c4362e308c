"""Database-side enforcement: trigger DDL generated from a lifecycle.

The trigger rejects any ``UPDATE`` that changes the status column along an edge
the lifecycle does not have (under a fixed config), whoever issues it: code that
bypasses the guard, a DBA's console, another service. Same-value writes and
updates of other columns pass. A no-op of the lifecycle (:class:`NoOp`, "accepted,
no change") is no edge and needs no pair: the guard writes nothing for it, and a
same-value write passes anyway. A second trigger rejects an ``INSERT`` whose status is
not a creation status (the initial state, plus any the caller declares).
``drop=True`` gives the DDL that removes them. The allowed ``(old, new)`` pairs are inlined in the
trigger, so there is no transition table to keep in sync (and, on MariaDB, none
to take shared locks on). Errors: PostgreSQL SQLSTATE 23514 (check_violation),
MariaDB/MySQL SQLSTATE 45000 / errno 1644, SQLite ``SQLITE_CONSTRAINT_TRIGGER``.

This module derives the edges and names; each dialect module writes its DDL
(:meth:`Dialect.trigger`). No SQLAlchemy or driver is needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from statusguard._text import format_flags
from statusguard.lifecycle._model import Lifecycle
from statusguard.sql._identifiers import MAX_IDENTIFIER, check_identifier, check_table_name
from statusguard.sql.dialects import DIALECTS
from statusguard.sql.dialects._base import Dialect
from statusguard.sql.dialects._records import Trigger

__all__ = ["allowed_edges", "creation_statuses", "drop_ddl", "trigger_ddl", "trigger_script"]

_SUFFIX = "_statusguard"
_INS = "_statusguard_ins"


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


def creation_statuses(
    lifecycle: Lifecycle[Any, Any], create_statuses: Iterable[str] | None = None
) -> list[str]:
    """The statuses a row may be inserted with: the initial state, plus ``create_statuses``.

    :class:`UnknownState` for a name the lifecycle does not declare.
    """
    out = [str(lifecycle.initial)]
    for name in create_statuses or ():
        state = str(lifecycle.state(name))
        if state not in out:
            out.append(state)
    return out


def _spec(
    lifecycle: Lifecycle[Any, Any],
    sql: Dialect,
    table: str,
    column: str,
    edges: list[tuple[str, str]],
    creatable: list[str],
) -> Trigger:
    check_table_name("table name", table)
    check_identifier("status column", column)
    base = table[: MAX_IDENTIFIER - 16]
    name = check_identifier("trigger name (table name + '_statusguard')", base + _SUFFIX)
    insert_name = check_identifier("trigger name (table name + '_statusguard_ins')", base + _INS)
    sql.literal(lifecycle.name)  # refuse a name the DDL cannot carry before any status
    return Trigger(
        sql.quote(table),
        sql.quote(column),
        sql.quote(name),
        name,
        edges,
        lifecycle.name,
        sql.quote(insert_name),
        creatable,
    )


def trigger_ddl(
    lifecycle: Lifecycle[Any, Any],
    dialect: str,
    table: str,
    column: str,
    config: Mapping[str, bool] | None = None,
    *,
    create_statuses: Iterable[str] | None = None,
    drop: bool = False,
) -> list[str]:
    """The statements that install the triggers, each ready for a DBAPI ``execute``.

    One trigger refuses an UPDATE along an edge the lifecycle does not have under
    ``config``; another refuses an INSERT whose status is not a creation status (the
    initial state, plus ``create_statuses``). With ``drop=True``, the statements that
    remove them (and PostgreSQL's trigger function) instead; no config is needed then.
    """
    sql = _dialect(dialect)
    if drop:
        return sql.drop_trigger(_spec(lifecycle, sql, table, column, [], []))
    creatable = creation_statuses(lifecycle, create_statuses)
    edges = allowed_edges(lifecycle, config or {})
    return sql.trigger(_spec(lifecycle, sql, table, column, edges, creatable))


def drop_ddl(dialect: str, table: str) -> list[str]:
    """What removes the triggers statusguard would install on ``table`` (for drop_schema)."""
    sql = _dialect(dialect)
    base = table[: MAX_IDENTIFIER - 16]
    spec = Trigger(
        sql.quote(table), "", sql.quote(base + _SUFFIX), base + _SUFFIX, [], "",
        sql.quote(base + _INS), (),
    )  # fmt: skip
    return sql.drop_trigger(spec)


def trigger_script(
    lifecycle: Lifecycle[Any, Any],
    dialect: str,
    table: str,
    column: str,
    config: Mapping[str, bool] | None = None,
    *,
    create_statuses: Iterable[str] | None = None,
    drop: bool = False,
) -> str:
    """The DDL as one script for the engine's own client (``psql``, ``mysql``, ``sqlite3``)."""
    statements = trigger_ddl(
        lifecycle, dialect, table, column, config, create_statuses=create_statuses, drop=drop
    )
    if drop:
        head = (
            f"-- statusguard: remove the triggers of lifecycle {lifecycle.name}\n"
            f"-- {dialect}: table {table}\n"
        )
        return head + DIALECTS[dialect].script(statements)
    edges = allowed_edges(lifecycle, config or {})
    flags = format_flags(config or {})
    created = ", ".join(creation_statuses(lifecycle, create_statuses))
    head = (
        f"-- statusguard trigger for lifecycle {lifecycle.name} ({lifecycle.fingerprint})\n"
        f"-- {dialect}: table {table}, column {column}; config: {flags or '(none)'}; "
        f"{len(edges)} allowed status changes; rows are created as {created}\n"
    )
    return head + DIALECTS[dialect].script(statements)
