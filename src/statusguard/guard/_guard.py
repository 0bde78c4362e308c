"""The runtime guard: every status change is one atomic step of the lifecycle."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from os import urandom as _urandom
from typing import Generic, NamedTuple, NoReturn, TypeVar

from statusguard.errors import (
    IllegalTransition,
    MissingFlag,
    TransitionConflict,
    UnknownStatus,
)
from statusguard.guard._memory import MemoryStore
from statusguard.guard._store import Applied, Record, Rejected, Store
from statusguard.lifecycle._model import Lifecycle
from statusguard.lifecycle._parts import FlagKind

__all__ = ["Committed", "Guard"]

S = TypeVar("S", bound=str)
E = TypeVar("E", bound=str)


class Committed(NamedTuple):
    """A transition the store committed: ``key`` moved ``source -> target`` (immutable).

    ``event`` is ``None`` for a target-based :meth:`Guard.move`. ``version`` is the
    key's version after the write; ``token`` the per-attempt token, if any.
    """

    key: Hashable
    source: str
    event: str | None
    target: str
    version: int
    token: str | None = None


@dataclass(frozen=True, slots=True)
class _Plan:
    event: str
    moves: dict[str, str]  # source -> target, for sources where the event is surely enabled
    undecided: dict[str, frozenset[str]]  # source -> fact flags its outcome still needs
    # stored status -> the events allowed there instead, for every state of the lifecycle
    # where the event is surely not enabled: the rejected path is one dict lookup
    allowed: dict[str, tuple[str, ...]]
    lifecycle: str


def _illegal(
    state: str, event: str, allowed: tuple[str, ...], key: object, lifecycle: str
) -> IllegalTransition:
    """The guard's hot path: the same error as the constructor, without re-validating."""
    exc = _new_illegal(IllegalTransition)
    exc.state, exc.event, exc.target, exc.allowed = state, event, None, allowed
    exc.key, exc.lifecycle = key, lifecycle
    return exc


_new_illegal = IllegalTransition.__new__


_NO_FACTS: frozenset[tuple[str, bool]] = frozenset()


class Guard(Generic[S, E]):
    """Apply a lifecycle's transitions to a store, atomically.

    ``config`` fixes every config flag of the lifecycle for this deployment.
    With ``tokens=True`` every write carries a fresh per-attempt token, so an
    ambiguous outcome (connection lost after COMMIT) can be settled by re-reading.
    """

    __slots__ = ("_fast", "_lock", "_plans", "_rows", "config", "lifecycle", "store", "tokens")

    def __init__(
        self,
        lifecycle: Lifecycle[S, E],
        store: Store,
        config: Mapping[str, bool] | None = None,
        *,
        tokens: bool = False,
    ) -> None:
        config = lifecycle.check_config(config)
        self.lifecycle = lifecycle
        self.store = store
        self.config: Mapping[str, bool] = config
        self.tokens = tokens
        self._plans: dict[tuple[str, frozenset[tuple[str, bool]]], _Plan] = {}
        self._fast = store._apply_fast if type(store) is MemoryStore else None
        self._rows = store._rows if type(store) is MemoryStore else None
        self._lock = store._lock if type(store) is MemoryStore and store._audit is None else None

    def _plan(self, event: str, facts: Mapping[str, bool] | None) -> _Plan:
        fkey = frozenset(facts.items()) if facts else _NO_FACTS
        try:
            return self._plans[(event, fkey)]
        except (KeyError, TypeError):
            pass
        lc = self.lifecycle
        lc.event(str(event))
        if facts:
            lc.check_flags(facts, kind=FlagKind.FACT)
        known = {**self.config, **(facts or {})}
        moves: dict[str, str] = {}
        undecided: dict[str, set[str]] = {}
        for t in lc.transitions:
            if t.event != event:
                continue
            if any(n in known and known[n] != v for n, v in t.when):
                continue
            unknown = {n for n, _ in t.when if n not in known}
            for s in t.sources:
                if unknown:
                    undecided.setdefault(str(s), set()).update(unknown)
                else:
                    moves[str(s)] = str(t.target)
        undecided_ = {s: frozenset(v) for s, v in undecided.items() if s not in moves}
        allowed = {
            str(s): tuple(map(str, lc.allowed_events(s, known)))
            for s in lc.states
            if str(s) not in moves and str(s) not in undecided_
        }
        plan = _Plan(str(event), moves, undecided_, allowed, lc.name)
        self._plans[(event, fkey)] = plan
        return plan

    def _token(self) -> str | None:
        return _urandom(16).hex() if self.tokens else None

    def _known(self, key: Hashable, status: str) -> str:
        if status not in self.lifecycle._state_names:
            raise UnknownStatus(
                status, self.lifecycle._state_names, key=key, lifecycle=self.lifecycle.name
            )
        return status

    def create(self, key: Hashable) -> S:
        """Insert ``key`` in the initial state; :class:`DuplicateKey` if it exists."""
        self.store.create(key, str(self.lifecycle.initial), self._token())
        return self.lifecycle.initial

    def status(self, key: Hashable) -> S:
        """The stored status of ``key``; :class:`UnknownStatus` if the lifecycle lacks it."""
        return self.lifecycle.state(self._known(key, self.store.get(key).status))

    def version(self, key: Hashable) -> int:
        """How many transitions ``key`` has committed."""
        return self.store.get(key).version

    def fire(
        self, key: Hashable, event: E | str, facts: Mapping[str, bool] | None = None
    ) -> Committed:
        """Apply ``event`` to whatever status ``key`` holds now, in one atomic step.

        Raises :class:`IllegalTransition` (naming the stored state and the allowed
        events) when the event is not enabled there; nothing is written then.
        """
        try:
            plan = self._plans[(event, frozenset(facts.items()) if facts else _NO_FACTS)]
        except (KeyError, TypeError):
            plan = self._plan(event, facts)
        rows = self._rows
        fast = self._fast
        if rows is not None and fast is not None:  # MemoryStore
            # Read without the lock: records are immutable and a dict read is atomic, so
            # this is the stored record at that instant. If the event is not enabled in its
            # status, rejecting is linearizable at the read, and nothing is written.
            current = rows.get(key)
            if current is not None:
                target = plan.moves.get(current[0])
                if target is None:
                    allowed = plan.allowed.get(current[0])
                    if allowed is not None:
                        raise _illegal(current[0], plan.event, allowed, key, plan.lifecycle)
                elif self._lock is not None:  # no audit to keep: compare-and-set inline
                    token = _urandom(16).hex() if self.tokens else None
                    with self._lock:
                        # every write stores a new Record, and we hold this one, so identity
                        # means nothing was written since the read
                        if rows.get(key) is current:
                            version = current[1] + 1
                            rows[key] = Record(target, version, token)
                            return Committed(key, current[0], plan.event, target, version, token)
            token = _urandom(16).hex() if self.tokens else None
            done = fast(key, plan.moves, token, plan.event)
            if not isinstance(done, Record):  # no intermediate Applied record
                return Committed(key, done[0], plan.event, done[1], done[2], token)
            self._rejected_event(key, plan.event, facts, plan, Rejected(done))
        token = _urandom(16).hex() if self.tokens else None
        outcome = self.store.apply(key, plan.moves, token, plan.event)
        if outcome.__class__ is Applied or isinstance(outcome, Applied):
            source, target, version = outcome
            return Committed(key, source, plan.event, target, version, token)
        assert isinstance(outcome, Rejected)
        self._rejected_event(key, plan.event, facts, plan, outcome)

    def _rejected_event(
        self,
        key: Hashable,
        event: str,
        facts: Mapping[str, bool] | None,
        plan: _Plan,
        outcome: Rejected,
    ) -> NoReturn:
        status = self._known(key, outcome.current.status)
        if status in plan.undecided:
            raise MissingFlag(plan.undecided[status], state=status, event=event)
        allowed = plan.allowed.get(status)
        if allowed is None:  # the status changed again after the write missed it
            # (never cached: plan.allowed must only hold states where the event is disabled)
            known = {**self.config, **(facts or {})}
            allowed = tuple(map(str, self.lifecycle.allowed_events(status, known)))
        raise IllegalTransition(status, event, allowed, key=key, lifecycle=self.lifecycle.name)

    def move(
        self,
        key: Hashable,
        target: S | str,
        expected: S | str | None = None,
        *,
        expected_version: int | None = None,
        facts: Mapping[str, bool] | None = None,
    ) -> Committed:
        """Set ``target`` directly, compare-and-set style (Glance's ``from_state``).

        The edge ``expected -> target`` must be in the lifecycle. The write happens
        only if the stored status still equals ``expected`` (and the version
        ``expected_version``, when given); if ``expected`` is omitted, the status is
        read first and that read is what the write compares against.
        Raises :class:`TransitionConflict` when another writer got there first.
        """
        lc = self.lifecycle
        lc.state(str(target))
        if expected is None:
            record = self.store.get(key)
            expected = self._known(key, record.status)
            if expected_version is None and getattr(self.store, "versioned", True):
                expected_version = record.version
        else:
            lc.state(str(expected))
        known = {**self.config, **(facts or {})}
        if not lc.edge_allowed(expected, target, known):
            raise IllegalTransition(
                str(expected),
                None,
                lc.targets(expected, known),
                target=str(target),
                key=key,
                lifecycle=lc.name,
            )
        token = self._token()
        outcome = self.store.compare_and_set(
            key, str(expected), str(target), expected_version, token
        )
        if isinstance(outcome, Applied):
            return Committed(key, outcome.source, None, outcome.target, outcome.version, token)
        current = outcome.current
        self._known(key, current.status)
        raise TransitionConflict(
            key,
            str(expected),
            current.status,
            expected_version=expected_version,
            actual_version=current.version if expected_version is not None else None,
        )
