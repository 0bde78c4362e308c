"""The guard's planning: what an event or a move may do, and the error when it may not.

Pure functions of a lifecycle, a config and the caller's facts: no store, no I/O.
:func:`plan_event` turns an event into the moves a store applies atomically;
:meth:`Plan.refusal` and :func:`check_move` build the errors the guard raises,
naming the stored state and what is allowed there.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from statusguard.errors import IllegalTransition, MissingFlag, UnknownStatus
from statusguard.lifecycle._model import Lifecycle
from statusguard.lifecycle._parts import FlagKind

__all__ = ["NO_FACTS", "Plan", "check_move", "known_status", "plan_event"]

NO_FACTS: frozenset[tuple[str, bool]] = frozenset()


@dataclass(frozen=True, slots=True)
class Plan:
    """What one event does under one config and set of facts, for every stored status."""

    event: str
    moves: dict[str, str]  # source -> target, for sources where the event is surely enabled
    undecided: dict[str, frozenset[str]]  # source -> fact flags its outcome still needs
    # stored status -> the events allowed there instead, for every state of the lifecycle
    # where the event is surely not enabled: the rejected path is one dict lookup
    allowed: dict[str, tuple[str, ...]]
    lifecycle: str
    # stored statuses where the event is surely accepted without a change (a NoOp):
    # the guard reports those without writing
    noops: frozenset[str] = frozenset()

    def refusal(
        self,
        lc: Lifecycle[Any, Any],
        config: Mapping[str, bool],
        key: Hashable,
        facts: Mapping[str, bool] | None,
        stored: str,
    ) -> Exception:
        """Why a store refused this plan with ``stored`` in place: a fact is missing, or illegal."""
        status = known_status(lc, key, stored)
        if status in self.undecided:
            return MissingFlag(self.undecided[status], state=status, event=self.event)
        allowed = self.allowed.get(status)
        if allowed is None:  # the status changed again after the write missed it
            # (never cached: allowed must only hold states where the event is disabled)
            allowed = tuple(map(str, lc.allowed_events(status, {**config, **(facts or {})})))
        return IllegalTransition(status, self.event, allowed, key=key, lifecycle=lc.name)


def plan_event(
    lc: Lifecycle[Any, Any],
    config: Mapping[str, bool],
    event: str,
    facts: Mapping[str, bool] | None,
) -> Plan:
    """The plan of ``event``; :class:`UnknownEvent` / :class:`UnknownFlag` on bad input."""
    lc.event(event)  # the value itself: a non-str whose str() is a name is refused as such
    if facts:
        lc.check_flags(facts, kind=FlagKind.FACT)
    known = {**lc.fact_defaults, **config, **(facts or {})}
    moves: dict[str, str] = {}
    noops: set[str] = set()
    undecided: dict[str, set[str]] = {}
    for part, target in [(t, str(t.target)) for t in lc.transitions] + [
        (n, None) for n in lc.noops
    ]:
        if part.event != event:
            continue
        if any(n in known and known[n] != v for n, v in part.when):
            continue
        unknown = {n for n, _ in part.when if n not in known}
        for s in part.sources:
            if unknown:
                undecided.setdefault(str(s), set()).update(unknown)
            elif target is None:
                noops.add(str(s))
            else:
                moves[str(s)] = target
    undecided_ = {s: frozenset(v) for s, v in undecided.items() if s not in moves.keys() | noops}
    allowed = {
        str(s): tuple(map(str, lc.allowed_events(s, known)))
        for s in lc.states
        if str(s) not in moves and str(s) not in undecided_ and str(s) not in noops
    }
    return Plan(str(event), moves, undecided_, allowed, lc.name, frozenset(noops))


def known_status(lc: Lifecycle[Any, Any], key: Hashable, status: str) -> str:
    """``status`` if the lifecycle has it, else :class:`UnknownStatus` (written behind its back)."""
    if status not in lc._state_names:
        raise UnknownStatus(status, lc._state_names, key=key, lifecycle=lc.name)
    return status


def check_move(
    lc: Lifecycle[Any, Any],
    config: Mapping[str, bool],
    facts: Mapping[str, bool] | None,
    key: Hashable,
    expected: Any,
    target: Any,
) -> None:
    """:class:`IllegalTransition` unless the lifecycle has the edge ``expected -> target``."""
    known = {**lc.fact_defaults, **config, **(facts or {})}
    if not lc.edge_allowed(expected, target, known):
        src, allowed = str(expected), lc.targets(expected, known)
        raise IllegalTransition(src, None, allowed, target=str(target), key=key, lifecycle=lc.name)
