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
from statusguard.sql._outcomes import settled, unsettled, untokened
from statusguard.sql._statements import Statements
from statusguard.sql.dialects._records import Session

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
        return untokened(problem)
    try:
        with connector.engine.connect() as conn:
            connector.prepare(conn)
            here = connector.session_of(conn)
            gone = connector.end_session(conn, session)
            found = _token_found(sql, conn, token, key)
    except connector.catch as exc:
        return unsettled(problem, describe(exc))
    return settled(
        problem,
        token,
        found=found,
        gone=gone,
        audited=sql.layout.audit is not None,
        session=session,
        here=here,
    )


def _token_found(sql: Statements, conn: Connection, token: str, key: Hashable) -> bool:
    if sql.layout.audit is not None:
        audit = sql.audit_token
        return run(conn, audit.text, audit.params({"tok": token})).first() is not None
    if sql.token_select is not None and key is not None:
        row = run(conn, sql.token_select.text, sql.token_select.params({"k": key})).first()
        return row is not None and row[0] == token
    return False
