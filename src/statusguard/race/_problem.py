"""What a race check is about: :class:`RaceProblem` (a lifecycle, a protocol, the start,
who may do what, the config), and the facts about it every method shares (the requests in
play, each worker's role, the free config settings, the absorbing states).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from statusguard.lifecycle._invariants import Absorbing
from statusguard.lifecycle._model import Lifecycle
from statusguard.lifecycle._parts import FlagKind
from statusguard.lifecycle._scenarios import SAVE
from statusguard.race._protocols import RaceProtocol, protocol_named

__all__ = ["RaceProblem", "absorbing_states"]


@dataclass(frozen=True)
class RaceProblem:
    """What to check: a lifecycle, a protocol, where the race starts, who may do what.

    ``roles`` gives each worker's requests (an event name or ``SAVE``); ``None``
    lets every worker handle every event. ``config`` fixes config flags; the ones
    left out range over every setting. ``mutation`` plants one of the protocol's
    bugs (:attr:`RaceProtocol.mutants`; tests only).
    """

    lifecycle: Lifecycle[Any, Any]
    protocol: str
    start: str | None = None
    roles: tuple[tuple[str, ...], ...] | None = None
    config: Mapping[str, bool] = field(default_factory=dict)
    mutation: str | None = None

    def __post_init__(self) -> None:
        self.proto.z3_rule(self.mutation)
        self.lifecycle.check_flags(self.config, kind=FlagKind.CONFIG)
        if self.start is not None:
            self.lifecycle.state(self.start)
        for role in self.roles or ():
            for r in role:
                if r != SAVE:
                    self.lifecycle.event(r)

    @property
    def proto(self) -> RaceProtocol:
        """The protocol's record; :class:`UnknownProtocol` for a name not in the registry."""
        return protocol_named(self.protocol)

    @property
    def start_status(self) -> str:
        return str(self.start if self.start is not None else self.lifecycle.initial)

    def requests(self) -> tuple[str, ...]:
        """Every request in play; metadata saves write no status under a guard."""
        if self.roles is None:
            reqs: Iterable[str] = (str(e) for e in self.lifecycle.events)
        else:
            seen: dict[str, None] = {}
            for role in self.roles:
                for r in role:
                    seen.setdefault(r, None)
            reqs = seen
        guarded = self.proto.guarded
        return tuple(r for r in reqs if not (r == SAVE and guarded))

    def role(self, worker: int) -> tuple[str, ...]:
        """The requests worker ``worker`` (0-based) may handle."""
        allowed = self.requests()
        if self.roles is None:
            return allowed
        role = self.roles[worker % len(self.roles)]
        return tuple(r for r in role if r in allowed)

    def config_settings(self) -> Iterator[dict[str, bool]]:
        """Every complete config: the fixed flags, the free ones in every combination."""
        free = [f for f in self.lifecycle.config_flags if f not in self.config]
        for bits in range(1 << len(free)):
            cfg = dict(self.config)
            cfg.update({n: bool(bits >> i & 1) for i, n in enumerate(free)})
            yield cfg


def absorbing_states(lc: Lifecycle[Any, Any]) -> frozenset[str]:
    """Terminal states and the states of ``Absorbing`` invariants."""
    out = {str(s) for s in lc.terminal}
    out.update(str(i.state) for i in lc.invariants if isinstance(i, Absorbing))
    return frozenset(out)
