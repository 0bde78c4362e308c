"""Settling a write whose connection was lost: was it committed, not committed, or unknown?

After making sure the old server session is gone (it could still commit otherwise),
look for the attempt's token: in the audit table (which then also proves absence),
else in the row's token column (which a later write may have overwritten). Never a
guess: :class:`StoreUnavailable` carries ``committed`` True, False or None.

Session ids are per server. The settle connection may reach another server than the
lost one (a load balancer that failed over, another Galera node): then the old session
is neither looked up nor killed there, and only a found token answers (``True``);
otherwise the answer is ``None``. On a Galera node the settle read is causal
(``wsrep_sync_wait``, set when the connection was made), so it sees every write set
the cluster committed before it.
"""

from __future__ import annotations

from collections.abc import Hashable

from sqlalchemy.engine import Connection

from statusguard.errors import StoreUnavailable
from statusguard.sql._classify import describe
from statusguard.sql._engine import Connector, run
from statusguard.sql._statements import Statements
from statusguard.sql.dialects._records import Server, Session

__all__ = ["settle"]


def settle(
    connector: Connector,
    sql: Statements,
    problem: str,
    token: str | None,
    key: Hashable,
    session: Session | None,
) -> StoreUnavailable:
    """The error for a write that lost its connection (``session``: the old session)."""
    if token is None:
        return StoreUnavailable(
            f"connection lost during a write: {problem} (no token: enable tokens=True to "
            "settle such outcomes)",
            committed=None,
        )
    try:
        with connector.engine.connect() as conn:
            connector.prepare(conn)
            here = connector.session_of(conn)
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
    elsewhere = session is not None and here is not None and not session.server.same(here.server)
    if elsewhere:
        assert session is not None
        assert here is not None
        why = (
            f"the lost session ran on {_name(session.server)}, the settle connection reached "
            f"{_name(here.server)}: that session cannot be ended from here and may still commit"
        )
    elif not gone:
        why = "the old session may still be running"
    else:
        why = "it may have been overwritten"
    where = "in no audit row" if sql.layout.audit is not None else "not in the row"
    advice = "" if sql.layout.audit is not None or elsewhere else "; configure an audit table"
    return StoreUnavailable(
        f"connection lost during a write: {problem}; its token {token} is {where} ({why}{advice})",
        committed=None,
    )


def _name(server: Server) -> str:
    return f"{server.host}:{server.port}" + (f" ({server.instance})" if server.instance else "")


def _token_found(sql: Statements, conn: Connection, token: str, key: Hashable) -> bool:
    if sql.layout.audit is not None:
        audit = sql.audit_token
        return run(conn, audit.text, audit.params({"tok": token})).first() is not None
    if sql.token_select is not None and key is not None:
        row = run(conn, sql.token_select.text, sql.token_select.params({"k": key})).first()
        return row is not None and row[0] == token
    return False
