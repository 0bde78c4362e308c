"""After-commit callbacks for a store bound to a caller's transaction.

:func:`defer` queues a callback on the caller's ``Connection`` (for an ORM ``Session``,
the connection the write used); it runs when that connection's transaction commits and
is dropped if it rolls back, once either way. A savepoint (``begin_nested()``) rolled
back drops the callbacks queued since it began; one released keeps them for the
enclosing transaction.

SQLAlchemy fires a connection's ``commit`` event *before* the driver's COMMIT: there the
driver's connection is committed first, then the callbacks run (SQLAlchemy's own COMMIT
that follows finds nothing left to commit), so a callback never runs for a COMMIT that
failed.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection

from statusguard.errors import HookFailed

__all__ = ["defer"]

Callback = Callable[[], None]


class _Waiting:
    """The callbacks waiting for one connection's commit, and its open savepoints."""

    __slots__ = ("__weakref__", "calls", "marks")

    def __init__(self) -> None:
        self.calls: list[Callback] = []
        self.marks: list[int] = []  # per open savepoint: len(calls) when it began

    def savepoint(self, conn: Connection, name: str | None) -> None:
        # (SQLAlchemy passes no name yet here; savepoints end innermost first)
        self.marks.append(len(self.calls))

    def rollback_savepoint(self, conn: Connection, name: str, context: Any) -> None:
        if self.marks:
            del self.calls[self.marks.pop() :]

    def release_savepoint(self, conn: Connection, name: str, context: Any) -> None:
        if self.marks:
            self.marks.pop()

    def rollback(self, conn: Connection) -> None:
        self.calls.clear()
        self.marks.clear()

    def commit(self, conn: Connection) -> None:
        calls = self.calls[:]
        self.rollback(conn)  # before any call: a callback that raises never runs twice
        if not calls:
            return
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        dbapi.commit()  # durable first: the callbacks run after a COMMIT that succeeded
        failed: list[HookFailed] = []
        for call in calls:
            try:
                call()
            except HookFailed as exc:
                failed.append(exc)
        if len(failed) == 1:
            raise failed[0]
        if failed:
            errors = [e for f in failed for e in f.errors]
            raise HookFailed([f.committed for f in failed], errors, rolled_back=False)


_EVENTS = ("commit", "rollback", "savepoint", "rollback_savepoint", "release_savepoint")

# what waits on each caller's connection (weak: a closed, dropped connection drops it)
_waiting: weakref.WeakKeyDictionary[Connection, _Waiting] = weakref.WeakKeyDictionary()


def defer(conn: Connection, callback: Callback) -> None:
    """Run ``callback`` when the transaction on ``conn`` commits; drop it on rollback."""
    waiting = _waiting.get(conn)
    if waiting is None:
        waiting = _waiting[conn] = _Waiting()
        nested = conn.get_nested_transaction()  # savepoints open before the first callback
        while nested is not None:
            waiting.marks.append(0)
            nested = getattr(nested, "_previous_nested", None)
        for name in _EVENTS:
            event.listen(conn, name, getattr(waiting, name))
    waiting.calls.append(callback)
