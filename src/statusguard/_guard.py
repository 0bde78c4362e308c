"""The runtime guard: every status change is one atomic step of the lifecycle."""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Generic, NoReturn, TypeVar

from statusguard._errors import (
    IllegalTransition,
    MissingFlag,
    TransitionConflict,
    UnknownStatus,
)
from statusguard._lifecycle import FlagKind, Lifecycle
from statusguard._store import Applied, Rejected, Store

__all__ = ["Committed", "Guard"]

S = TypeVar("S", bound=str)
E = TypeVar("E", bound=str)


@dataclass(frozen=True, slots=True)
class Committed:
    """A transition the store committed: ``key`` moved ``source -> target``.

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
    moves: dict[str, str]  # source -> target, for sources where the event is surely enabled
    undecided: dict[str, frozenset[str]]  # source -> fact flags its outcome still needs


class Guard(Generic[S, E]):
    """Apply a lifecycle's transitions to a store, atomically.

    ``config`` fixes every config flag of the lifecycle for this deployment.
    With ``tokens=True`` every write carries a fresh per-attempt token, so an
    ambiguous outcome (connection lost after COMMIT) can be settled by re-reading.
    """

    __slots__ = ("_plans", "config", "lifecycle", "store", "tokens")

    def __init__(
        self,
        lifecycle: Lifecycle[S, E],
        store: Store,
        config: Mapping[str, bool] | None = None,
        *,
        tokens: bool = False,
    ) -> None:
        config = dict(config or {})
        lifecycle.check_flags(config, kind=FlagKind.CONFIG)
        missing = set(lifecycle.config_flags) - set(config)
        if missing:
            raise MissingFlag(missing)
        self.lifecycle = lifecycle
        self.store = store
        self.config: Mapping[str, bool] = config
        self.tokens = tokens
        self._plans: dict[tuple[str, frozenset[tuple[str, bool]]], _Plan] = {}

    def _plan(self, event: str, facts: Mapping[str, bool] | None) -> _Plan:
        fkey = frozenset(facts.items()) if facts else frozenset()
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
        plan = _Plan(moves, {s: frozenset(v) for s, v in undecided.items() if s not in moves})
        self._plans[(event, fkey)] = plan
        return plan

    def _token(self) -> str | None:
        return uuid.uuid4().hex if self.tokens else None

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
        plan = self._plan(event, facts)
        token = self._token()
        outcome = self.store.apply(key, plan.moves, token, str(event))
        if isinstance(outcome, Applied):
            return Committed(
                key, outcome.source, str(event), outcome.target, outcome.version, token
            )
        self._rejected_event(key, str(event), facts, plan, outcome)

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
        known = {**self.config, **(facts or {})}
        raise IllegalTransition(
            status,
            event,
            self.lifecycle.allowed_events(status, known),
            key=key,
            lifecycle=self.lifecycle.name,
        )

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
