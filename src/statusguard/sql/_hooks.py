"""After-commit callbacks for a store bound to a caller's transaction.

:func:`defer` queues a callback on the caller's ``Connection`` or ORM ``Session``; it
runs when that transaction commits and is dropped if it rolls back, once either way.
A ``Session`` has a true after-commit event. A ``Connection`` has only ``commit``,
which SQLAlchemy fires *before* the driver's COMMIT: there the driver's connection is
committed first, then the callbacks run (SQLAlchemy's own COMMIT that follows finds
nothing left to commit), so a callback never runs for a COMMIT that failed.
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

# the callbacks waiting for each caller's transaction (weak: a closed session drops them)
_pending: weakref.WeakKeyDictionary[Any, list[Callback]] = weakref.WeakKeyDictionary()


def defer(target: Any, callback: Callback) -> None:
    """Run ``callback`` when the transaction on ``target`` commits; drop it on rollback."""
    pending = _pending.get(target)
    if pending is None:
        pending = _pending[target] = []
        _listen(target, pending)
    pending.append(callback)


def _listen(target: Any, pending: list[Callback]) -> None:
    def committed(*_: Any) -> None:
        calls = pending[:]
        pending.clear()  # before any call: a callback that raises is still never run twice
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

    def rolled_back(*_: Any) -> None:
        pending.clear()

    if isinstance(target, Connection):

        def committing(conn: Connection) -> None:
            if pending:
                dbapi = conn.connection.dbapi_connection
                assert dbapi is not None
                dbapi.commit()  # durable first: the hooks run after a COMMIT that succeeded
            committed()

        event.listen(target, "commit", committing)
        event.listen(target, "rollback", rolled_back)
    else:  # an ORM Session (bind() accepts nothing else)
        event.listen(target, "after_commit", committed)
        event.listen(target, "after_rollback", rolled_back)
