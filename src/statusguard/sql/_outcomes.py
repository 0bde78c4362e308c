"""What a SQL store's write, refusal or lost connection becomes: one copy for every SQL store.

:class:`~statusguard.sql.SQLStore` (SQLAlchemy) and the Django integration's
``DjangoStore`` (Django's cursor) run the same dialect statements and must answer alike:
an event's conditional ``UPDATE`` retried while the row moves between the miss and the
read that explains it (:func:`apply_until_decided`, then :class:`TransitionConflict`), an
``expected_version`` without a version column (:func:`check_versioned`), a refusal by the
database (:func:`refusal`: :class:`StoreRejected`, trigger or constraint), an insert that
hit a unique index (:func:`duplicate`), an audit row as an :class:`AuditEntry`
(:func:`audit_entry`), a key column whose collation folds distinct keys
(:func:`collation_query`, :func:`inexact_key`) and the verdict on a write whose connection was lost
(:func:`settled`). No SQLAlchemy, no I/O: the callers run the statements.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from statusguard.errors import (
    DuplicateKey,
    InvalidSchema,
    StoreError,
    StoreRejected,
    StoreUnavailable,
    TransitionConflict,
    UnknownKey,
)
from statusguard.guard._store import Applied, AuditEntry, Record, Rejected, check_version
from statusguard.sql.dialects._base import TRIGGER_MESSAGE, Dialect, ErrorKind
from statusguard.sql.dialects._records import Server, Session

__all__ = [
    "apply_until_decided",
    "audit_entry",
    "check_versioned",
    "collation_query",
    "duplicate",
    "end_session",
    "inexact_key",
    "refusal",
    "settled",
    "unsettled",
    "untokened",
    "utc",
]


def apply_until_decided(
    write: Callable[[], Applied | None],
    read: Callable[[], Record],
    moves: Mapping[str, str],
    key: Hashable,
    retries: int,
) -> Applied | Rejected:
    """An event's write, decided: ``write()`` (the conditional UPDATE; ``None`` on a miss)
    until it commits or ``read()`` shows a status the event is not enabled in.

    A miss followed by a read showing one of the event's sources means another writer
    moved the row in between: go again, at most ``retries`` times, then
    :class:`TransitionConflict`.
    """
    for _ in range(retries):
        done = write()
        if done is not None:
            return done
        current = read()
        if current.status not in moves:
            return Rejected(current)
        # another writer moved the row between our UPDATE and the read: go again
    current = read()
    raise TransitionConflict(
        key,
        current.status,
        None,
        detail=f"the row kept changing during {retries} attempts",
    )


def check_versioned(
    expected_version: object, versioned: bool, table: str, *, missing: str, fix: str
) -> None:
    """:func:`check_version`, then :class:`InvalidSchema` if a version is expected of a store
    without a version column (``missing`` says what it lacks, ``fix`` what to do)."""
    check_version(expected_version)
    if expected_version is not None and not versioned:
        raise InvalidSchema(table, "(version)", f"expected_version needs {missing}", fix)


def refusal(kind: ErrorKind, problem: str) -> StoreRejected | None:
    """A database error of ``kind`` that refused the row for good, as :class:`StoreRejected`.

    statusguard's trigger names itself in its message (cause ``"trigger"``); a CHECK, NOT
    NULL, a foreign key or a unique index on another column is ``"constraint"``. ``None``
    for any other kind.
    """
    if kind is ErrorKind.TRIGGER:
        return StoreRejected(
            problem, cause="trigger" if TRIGGER_MESSAGE in problem else "constraint"
        )
    if kind in (ErrorKind.CONSTRAINT, ErrorKind.DUPLICATE):
        return StoreRejected(problem, cause="constraint")
    return None


def duplicate(key: Hashable, status_of: Callable[[Hashable], str]) -> StoreError:
    """What an insert of ``key`` that violated a unique index is: :class:`DuplicateKey` naming
    the stored status (``status_of(key)``), or, when no row has the key,
    :class:`StoreRejected` (a unique index on another column refused the row)."""
    try:
        existing = status_of(key)
    except UnknownKey:
        return StoreRejected(
            f"inserting key {key!r} violates a unique constraint other than the key's",
            cause="constraint",
        )
    return DuplicateKey(key, existing)


def utc(at: Any) -> datetime | None:
    """An audit row's ``at`` as an aware UTC datetime (SQLite: text; MariaDB: naive UTC)."""
    if at is None:
        return None
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    if not isinstance(at, datetime):
        return None
    return at.replace(tzinfo=UTC) if at.utcoffset() is None else at.astimezone(UTC)


def audit_entry(row: Sequence[Any]) -> AuditEntry:
    """A row of :meth:`Dialect.audit_select` as an :class:`AuditEntry`."""
    r = row
    return AuditEntry(str(r[0]), r[1], str(r[2]), int(r[3] or 0), r[4], utc(r[5]), r[6], r[7])


def collation_query(
    dialect: Dialect, table: str, columns: Sequence[str], statuses: Sequence[str] = ()
) -> tuple[str, dict[str, Any], tuple[str, ...]] | None:
    """The catalog query for the collations of ``table``'s key ``columns`` and ``statuses``
    (status columns, checked where the engine's statements compare with the column's
    collation): its text, its bind parameters and the status columns it asks about.
    ``None``: every collation of this engine compares exactly."""
    if dialect.key_collations(len(columns)) is None:
        return None
    kept = () if dialect.status_compared_as_bytes else tuple(statuses)
    names = [*columns, *kept]
    query = dialect.key_collations(len(names))
    assert query is not None
    params: dict[str, Any] = {"t": dialect.quote(table) if dialect.name == "postgresql" else table}
    params.update({f"c{i}": c for i, c in enumerate(names)})
    return query, params, kept


def inexact_key(
    dialect: Dialect,
    rows: Sequence[Any],
    table: str,
    columns: Sequence[str],
    statuses: Sequence[str] = (),
    *,
    mariadb: bool = False,
) -> InvalidSchema | None:
    """The :class:`InvalidSchema` for the first of ``columns`` (keys) or ``statuses`` whose
    collation does not compare exactly, read from ``rows`` (what
    :meth:`Dialect.key_collations` answered for those names); ``None`` if all do."""
    for column, collation in dialect.inexact_keys(rows, [*columns, *statuses]):
        if column in statuses:
            problem = (
                f"its collation {collation} makes different statuses equal ('QUEUED' = "
                "'queued'), so a status written behind the guard's back would be taken for "
                "a known one"
            )
        else:
            problem = (
                f"its collation {collation} makes different keys equal (case, accents or "
                "trailing spaces: 'img-1' = 'IMG-1', 'pad' = 'pad '), so two resources "
                "would share one row"
            )
        return InvalidSchema(
            table, column, problem, dialect.exact_keys_fix(table, column, mariadb=mariadb)
        )
    return None


def _name(server: Server) -> str:
    return f"{server.host}:{server.port}" + (f" ({server.instance})" if server.instance else "")


def untokened(problem: str) -> StoreUnavailable:
    """The verdict on a write without a token that lost its connection: unknown."""
    return StoreUnavailable(
        f"connection lost during a write: {problem} (no token: enable tokens=True to "
        "settle such outcomes)",
        committed=None,
    )


def unsettled(problem: str, failure: str) -> StoreUnavailable:
    """The verdict when the read that would settle a lost write failed too: unknown."""
    return StoreUnavailable(
        f"connection lost during a write: {problem}; re-reading the token failed too: {failure}",
        committed=None,
    )


def end_session(
    dialect: Dialect,
    session: Session | None,
    here: Session | None,
    ask: Callable[[str], Any],
    catch: tuple[type[BaseException], ...],
    sleep: Callable[[float], object] = time.sleep,
) -> bool:
    """Make sure the broken server ``session`` cannot still commit; True once it is gone.

    ``here`` is the session asking, ``ask(sql)`` runs a statement there (the first column
    of its first row), ``catch`` the errors a refused kill raises, ``sleep`` waits between
    asks (the async store's yields to its event loop). Session ids are per
    server: from another server (:meth:`Server.same`) nothing is asked or killed and the
    answer is False. In-process engines have no server session: True.
    """
    if dialect.session_query is None:
        return True  # in-process: nothing outlives the connection
    if session is None or here is None or not session.server.same(here.server):
        return False  # unknown, or another server: that id is someone else's session there
    alive, kill = dialect.session_alive(session.id), dialect.session_kill(session.id)
    deadline = time.monotonic() + 5.0
    killed = False
    while time.monotonic() < deadline:
        if not ask(alive):
            return True
        if not killed:
            killed = True
            try:
                ask(kill)
            except catch:
                return False
        sleep(0.05)
    return False


def settled(
    problem: str,
    token: str,
    *,
    found: bool,
    gone: bool,
    audited: bool,
    session: Session | None,
    here: Session | None,
) -> StoreUnavailable:
    """The verdict on a write with ``token`` that lost its connection (``problem``).

    ``found``: the token is stored (in the audit table, else the row's token column);
    ``gone``: the old server ``session`` has ended (so it cannot commit any more);
    ``audited``: the store keeps an audit table (so a missing token proves absence);
    ``here``: the session the token was looked for on.
    """
    if found:
        return StoreUnavailable(
            f"connection lost during a write: {problem}; its token {token} is stored",
            committed=True,
        )
    if gone and audited:
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
    where = "in no audit row" if audited else "not in the row"
    advice = "" if audited or elsewhere else "; configure an audit table"
    return StoreUnavailable(
        f"connection lost during a write: {problem}; its token {token} is {where} ({why}{advice})",
        committed=None,
    )
