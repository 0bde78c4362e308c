"""The built-in invariant kinds; the proof engine proves them, the oracle double-checks.

Each kind is one class (what a kind carries: :mod:`statusguard.lifecycle._kind`). To add
one, define it here, add its branch to ``schemas/lifecycle-v1.schema.json`` (a test
prints the branch it expects) and export it from :mod:`statusguard.lifecycle`.
Imports: :mod:`statusguard.lifecycle._kind` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, ClassVar

from statusguard.lifecycle._kind import (
    BUILTIN_OBLIGATIONS,
    INVARIANT_KINDS,
    RESERVED_PREFIX,
    Defect,
    Explicit,
    ExplicitSetting,
    F,
    Invariant,
    Location,
    Q,
    Queries,
    many,
    one,
)

__all__ = [
    "BUILTIN_OBLIGATIONS",
    "INVARIANT_KINDS",
    "RESERVED_PREFIX",
    "Absorbing",
    "Closed",
    "Invariant",
    "Never",
    "OnlyThrough",
    "Unreachable",
]


def _set(states: Sequence[str]) -> str:
    return f"{{{', '.join(states)}}}"


@dataclass(frozen=True)
class Absorbing(Invariant):
    """``state`` has no exit: no transition leaves it."""

    state: Annotated[str, one("state")]
    kind: ClassVar[str] = "absorbing"

    def describe(self) -> str:
        return f"no transition leaves {self.state}"

    def premise(self) -> tuple[str, ...]:
        return (self.state,)

    def query(self, q: Queries[Q]) -> Q:
        return q.bad_step(q.source_is(self.state), q.negate(q.target_is(self.state)))

    def oracle(self, x: Explicit[F]) -> F:
        return x.bad_steps(lambda s, t: s == self.state and t != self.state)


@dataclass(frozen=True)
class _Between(Invariant):
    """About moving from ``source`` to ``target`` (JSON ``from``/``to``); about ``source``."""

    source: Annotated[str, one("from")]
    target: Annotated[str, one("to")]

    def premise(self) -> tuple[str, ...]:
        return (self.source,)


@dataclass(frozen=True)
class Unreachable(_Between):
    """No path of transitions leads from ``source`` to ``target``."""

    kind: ClassVar[str] = "unreachable"

    def describe(self) -> str:
        return f"no path leads from {self.source} to {self.target}"

    def query(self, q: Queries[Q]) -> Q:
        says = f"{self.target} is reached from {self.source}"
        return q.bad_walk(self.source, self.target, min_steps=1, says=says)

    def oracle(self, x: Explicit[F]) -> F:
        def under(g: ExplicitSetting) -> Defect | None:
            tail = g.walk(self.source, self.target, strict=True)
            if tail is None:
                return None
            head = g.walk(x.initial, self.source)
            return Defect(None if head is None else (*head[:-1], *tail))

        return x.bad_walks(under)


@dataclass(frozen=True)
class Never(_Between):
    """No single transition goes from ``source`` to ``target``."""

    kind: ClassVar[str] = "never"

    def describe(self) -> str:
        return f"no transition goes directly from {self.source} to {self.target}"

    def query(self, q: Queries[Q]) -> Q:
        return q.bad_step(q.source_is(self.source), q.target_is(self.target))

    def oracle(self, x: Explicit[F]) -> F:
        return x.bad_steps(lambda s, t: s == self.source and t == self.target)


@dataclass(frozen=True)
class Closed(Invariant):
    """No transition leaves the set ``states`` (once inside, always inside)."""

    states: Annotated[Sequence[str], many("states")]
    kind: ClassVar[str] = "closed"

    def describe(self) -> str:
        return f"no transition leaves {_set(self.states)}"

    def premise(self) -> tuple[str, ...]:
        return tuple(self.states)

    def query(self, q: Queries[Q]) -> Q:
        return q.bad_step(q.source_in(self.states), q.negate(q.target_in(self.states)))

    def oracle(self, x: Explicit[F]) -> F:
        inside = set(self.states)
        return x.bad_steps(lambda s, t: s in inside and t not in inside)


@dataclass(frozen=True)
class OnlyThrough(Invariant):
    """Every path from the initial state to ``target`` first passes one of ``via``."""

    target: Annotated[str, one("to")]
    via: Annotated[Sequence[str], many("via")]
    kind: ClassVar[str] = "only_through"

    def problem(self) -> tuple[str, Location] | None:
        if self.target in self.via:
            return (
                f"invariant {self.name!r}: target {str(self.target)!r} is also in via, so it "
                "holds trivially; list only the states a path must pass before it",
                ("via",),
            )
        return None

    def describe(self) -> str:
        return f"every path from the initial state to {self.target} passes {_set(self.via)}"

    def premise(self) -> tuple[str, ...]:
        return (self.target,)

    def query(self, q: Queries[Q]) -> Q:
        says = f"{self.target} is reached without passing {', '.join(map(str, self.via))}"
        return q.bad_walk(q.initial, self.target, avoid=self.via, says=says)

    def oracle(self, x: Explicit[F]) -> F:
        def under(g: ExplicitSetting) -> Defect | None:
            path = g.walk(x.initial, self.target, avoid=self.via)
            return None if path is None else Defect(path)

        return x.bad_walks(under)
