"""SQLAlchemy ORM integration: a mapped class's status attribute goes through the guard.

``GuardedStatus(Image, GLANCE_IMAGE, config)`` installs a ``before_flush`` hook.
When a flush finds a changed status on an ``Image``, it checks the edge against the
lifecycle (:class:`IllegalTransition`) and issues the compare-and-set itself:
``UPDATE images SET status = :new [, version = version + 1] WHERE pk = :pk AND
status = :loaded [AND version = :loaded_version]``. No match raises
:class:`TransitionConflict` naming the status the row holds now. Several changes of one
object before a flush (``fire`` after ``fire``, or assignments) are checked step by step
and written as one compare-and-set per step, in the flush's transaction. The ORM's own
UPDATE then no longer carries the status, so an ordinary save of other columns never
writes a stale status (Glance LP #1371728: whole-row saves clobbering a concurrent status
change): the ORM writes only changed attributes, and "setting" the status to the value it
was loaded with is no change.

Bulk ``session.execute(update(...))`` bypasses every ORM hook; install the database
trigger (``statusguard sql trigger``) to cover such writers too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import pairwise
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, attributes

from statusguard.errors import (
    IllegalTransition,
    InvalidArgument,
    TransitionConflict,
    UnknownState,
    UnknownStatus,
)
from statusguard.lifecycle._model import Lifecycle
from statusguard.lifecycle._parts import FlagKind

__all__ = ["GuardedStatus"]

#: the ``state`` an :class:`IllegalTransition` names for a new object off the creation
#: statuses (as the Django integration's)
NEW_ROW = "(new row)"


class GuardedStatus:
    """Route changes of ``cls.<attribute>`` through lifecycle checks and a CAS at flush.

    ``sessions`` is what the hook listens on: the :class:`~sqlalchemy.orm.Session`
    class (every session, the default), a ``sessionmaker`` or one session.
    ``version`` names an optional integer column bumped by every status change and
    compared by it: the flush writes only if the row still holds the status *and* the
    version the object was loaded with, so a status that went away and came back in
    between (ABA) is a :class:`TransitionConflict`.
    A new object must be added in the initial state (or one of ``create_statuses``):
    :class:`IllegalTransition` from ``'(new row)'`` otherwise. Call :meth:`remove` to
    uninstall the hook.
    """

    def __init__(
        self,
        cls: type[Any],
        lifecycle: Lifecycle[Any, Any],
        config: Mapping[str, bool] | None = None,
        *,
        attribute: str = "status",
        version: str | None = None,
        sessions: Any = Session,
        create_statuses: Iterable[str] = (),
    ) -> None:
        config = lifecycle.check_config(config)
        #: the statuses a new object may be inserted with: the initial state, plus these
        extra = [str(lifecycle.state(s)) for s in create_statuses if s != lifecycle.initial]
        self.create_statuses = (str(lifecycle.initial), *extra)
        mapper: Any = sa.inspect(cls, raiseerr=False)
        if not isinstance(mapper, sa.orm.Mapper):
            raise InvalidArgument("cls", cls, "a mapped class (a subclass of a DeclarativeBase)")
        columns = sorted(mapper.columns.keys())
        for parameter, name in (("attribute", attribute), ("version", version)):
            if name is not None and name not in mapper.columns:
                raise InvalidArgument(
                    parameter, name, f"a column of {cls.__name__}: {', '.join(columns)}"
                )
        self.cls = cls
        self.lifecycle = lifecycle
        self.config = config
        self.attribute = attribute
        self._table: Any = mapper.local_table
        self._column = mapper.columns[attribute]
        self._version = mapper.columns[version] if version else None
        self._mapper = mapper
        self._sessions = sessions
        self._path = f"statusguard_path_{id(self)}"  # where an object's pending steps live
        event.listen(sessions, "before_flush", self._before_flush)
        event.listen(getattr(cls, attribute), "set", self._on_set)

    def remove(self) -> None:
        """Uninstall the flush hook."""
        event.remove(self._sessions, "before_flush", self._before_flush)
        event.remove(getattr(self.cls, self.attribute), "set", self._on_set)

    def _on_set(self, target: Any, value: Any, _old: Any, _initiator: Any) -> None:
        """Record every status assigned since the object's status was last loaded or written.

        The flush checks (and writes) the path step by step. An assignment to an unmodified
        status (just loaded, reloaded after a rollback, or written by the last flush)
        starts a new path.
        """
        state = sa.inspect(target)
        path = state.info.get(self._path)
        if path is None or not state.attrs[self.attribute].history.added:
            state.info[self._path] = [value]
        else:
            path.append(value)

    def _steps(self, obj: Any, old: Any, new: Any) -> list[Any]:
        """The statuses from ``old`` to ``new`` the object went through, repeats dropped."""
        path = sa.inspect(obj).info.pop(self._path, None)
        chain = [old, *(path if path and path[-1] == new else [new])]
        return [v for i, v in enumerate(chain) if i == 0 or v != chain[i - 1]]

    def fire(self, obj: Any, event_name: str, facts: Mapping[str, bool] | None = None) -> str:
        """Set ``obj``'s status to where ``event_name`` leads from its loaded status.

        The next flush writes it with a compare-and-set against the loaded status.
        """
        if facts:
            self.lifecycle.check_flags(facts, kind=FlagKind.FACT)
        current = getattr(obj, self.attribute)
        target = self.lifecycle.next(current, event_name, {**self.config, **(facts or {})})
        setattr(obj, self.attribute, str(target))
        return str(target)

    def _key(self, obj: Any) -> Any:
        pk = self._mapper.primary_key_from_instance(obj)
        return pk[0] if len(pk) == 1 else tuple(pk)

    def _before_flush(self, session: Session, _context: Any, _instances: Any) -> None:
        states = self.lifecycle._state_names
        for obj in session.new:
            if isinstance(obj, self.cls):
                value = getattr(obj, self.attribute)
                if value not in states:
                    raise UnknownState(value, states, lifecycle=self.lifecycle.name)
                if value not in self.create_statuses:  # a resource starts where it starts
                    raise IllegalTransition(
                        NEW_ROW,
                        None,
                        self.create_statuses,
                        target=str(value),
                        key=self._key(obj),
                        lifecycle=self.lifecycle.name,
                    )
        for obj in list(session.dirty):
            if not isinstance(obj, self.cls):
                continue
            history = sa.inspect(obj).attrs[self.attribute].history
            if not history.added:
                continue
            new = history.added[0]
            key = self._key(obj)
            if history.deleted:
                old, version = history.deleted[0], self._loaded_version(obj)
            else:  # the status was set before it was ever loaded: read what the row holds
                old, version = self._read(session, obj)
            steps = self._steps(obj, old, new)
            if new == old:
                attributes.set_committed_value(obj, self.attribute, new)
                continue
            if old not in states:
                raise UnknownStatus(old, states, key=key, lifecycle=self.lifecycle.name)
            for source, target in pairwise(steps):
                if target not in states:
                    raise UnknownState(target, states, lifecycle=self.lifecycle.name)
                if not self.lifecycle.edge_allowed(source, target, self.config):
                    raise IllegalTransition(
                        str(source),
                        None,
                        self.lifecycle.targets(source, self.config),
                        target=str(target),
                        key=key,
                        lifecycle=self.lifecycle.name,
                    )
            for i, (source, target) in enumerate(pairwise(steps)):
                step_version = None if version is None else version + i
                self._cas(session, obj, key, source, target, step_version)

    def _loaded_version(self, obj: Any) -> int | None:
        """The version loaded with the status (``None``: no version column, or not loaded).

        Compared by the compare-and-set, so that a status that went away and came back
        (``saving -> queued -> saving``) is a conflict, not a match (ABA).
        """
        if self._version is None:
            return None
        history = sa.inspect(obj).attrs[self._version.key].history
        loaded = history.deleted or history.unchanged
        return int(loaded[0]) if loaded and loaded[0] is not None else None

    def _where(self, obj: Any) -> list[Any]:
        pk = self._mapper.primary_key_from_instance(obj)
        return [c == v for c, v in zip(self._mapper.primary_key, pk, strict=True)]

    def _read(self, session: Session, obj: Any) -> tuple[Any, int | None]:
        """The row's status and version (``None`` without a version column) now.

        A locking (current) read: inside a MariaDB REPEATABLE READ transaction a plain
        SELECT would return the transaction's stale snapshot.
        """
        columns = [self._column] + ([self._version] if self._version is not None else [])
        query = sa.select(*columns).where(*self._where(obj)).with_for_update(read=True)
        row = session.connection().execute(query).first()
        if row is None:
            return None, None
        return row[0], (None if self._version is None or row[1] is None else int(row[1]))

    def _cas(
        self, session: Session, obj: Any, key: Any, old: str, new: str, version: int | None
    ) -> None:
        values: dict[str, Any] = {self._column.key: new}
        where = [*self._where(obj), self._column == old]
        if self._version is not None:
            values[self._version.key] = self._version + 1
            if version is not None:
                where.append(self._version == version)
        stmt = (
            sa.update(self._table)
            .where(*where)
            .values(values)
            .execution_options(synchronize_session=False)
        )
        result: Any = session.connection().execute(stmt)
        if result.rowcount != 1:
            actual, actual_version = self._read(session, obj)
            raise TransitionConflict(
                key,
                str(old),
                actual,
                detail="detected at flush; roll back the session, reload the object",
                expected_version=version,
                actual_version=actual_version if version is not None else None,
            )
        attributes.set_committed_value(obj, self.attribute, new)
        if self._version is not None:
            if version is not None:  # the row held exactly this version: it is one more now
                attributes.set_committed_value(obj, self._version.key, version + 1)
            else:
                session.expire(obj, [self._version.key])  # bumped in SQL: reload on access
