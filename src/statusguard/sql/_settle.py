"""Settling a write whose connection was lost: was it committed, not committed, or unknown?

After making sure the old server session is gone (it could still commit otherwise),
look for the attempt's token: in the audit table (which then also proves absence),
else in the row's token column (which a later write may have overwritten). Never a
guess: :class:`StoreUnavailable` carries ``committed`` True, False or None.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from sqlalchemy.engine import Connection

from statusguard.errors import StoreUnavailable
from statusguard.sql._classify import describe
from statusguard.sql._engine import Connector, run
from statusguard.sql._statements import Statements

__all__ = ["settle"]


def settle(
    connector: Connector,
    sql: Statements,
    problem: str,
    token: str | None,
    key: Hashable,
    session: Any,
) -> StoreUnavailable:
    """The error for a write that lost its connection (``session``: the old session's id)."""
    if token is None:
        return StoreUnavailable(
            f"connection lost during a write: {problem} (no token: enable tokens=True to "
            "settle such outcomes)",
            committed=None,
        )
    try:
        with connector.engine.connect() as conn:
            connector.prepare(conn)
            gone = connector.end_session(conn, session)
            found = _token_found(sql, conn, token, key)
    except connector.catch as exc:
        return StoreUnavailable(
            f"connection lost during a write: {problem}; re-reading the token failed too: "
            f"{describe(exc)}",
            committed=None,
        )
    if found:
        return StoreUnavailable(
            f"connection lost during a write: {problem}; its token {token} is stored",
            committed=True,
        )
    if gone and sql.layout.audit is not None:
        return StoreUnavailable(
            f"connection lost during a write: {problem}; its token {token} is in no "
            "audit row and the old session has ended",
            committed=False,
        )
    why = "the old session may still be running" if not gone else "it may have been overwritten"
    return StoreUnavailable(
        f"connection lost during a write: {problem}; its token {token} is not in the row "
        f"({why}; configure an audit table to settle this)",
        committed=None,
    )


def _token_found(sql: Statements, conn: Connection, token: str, key: Hashable) -> bool:
    if sql.layout.audit is not None:
        audit = sql.audit_token
        return run(conn, audit.text, audit.params({"tok": token})).first() is not None
    if sql.token_select is not None and key is not None:
        row = run(conn, sql.token_select.text, sql.token_select.params({"k": key})).first()
        return row is not None and row[0] == token
    return False
