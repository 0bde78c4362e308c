"""Invariants a lifecycle declares; the proof engine proves them, the oracle double-checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "BUILTIN_OBLIGATIONS",
    "Absorbing",
    "Closed",
    "Invariant",
    "Never",
    "OnlyThrough",
    "Unreachable",
]

BUILTIN_OBLIGATIONS = (
    "reachable",
    "no_dead_ends",
    "can_terminate",
    "deterministic",
    "terminal_final",
)
"""The built-in obligation names; an invariant may not take one (results key by name)."""
RESERVED_PREFIX = "race."
"""Race obligations are named ``race.<...>``; invariant names may not start with it."""


@dataclass(frozen=True)
class Invariant:
    """Base of the invariant kinds. ``name`` is unique within a lifecycle."""

    name: str
    kind: ClassVar[str] = ""

    def mentioned_states(self) -> tuple[str, ...]:
        """Every state this invariant mentions."""
        return tuple(s for _, s in self.state_fields())

    def state_fields(self) -> tuple[tuple[tuple[str | int, ...], str], ...]:
        """Each mentioned state with its location in the JSON document."""
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        raise NotImplementedError

    def describe(self) -> str:
        """One line in plain words."""
        raise NotImplementedError


@dataclass(frozen=True)
class Absorbing(Invariant):
    """``state`` has no exit: no transition leaves it."""

    state: str
    kind: ClassVar[str] = "absorbing"

    def state_fields(self) -> tuple[tuple[tuple[str | int, ...], str], ...]:
        return ((("state",), self.state),)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "state": str(self.state)}

    def describe(self) -> str:
        return f"no transition leaves {self.state}"


@dataclass(frozen=True)
class _Between(Invariant):
    """An invariant about moving from ``source`` to ``target`` (JSON ``from``/``to``)."""

    source: str
    target: str

    def state_fields(self) -> tuple[tuple[tuple[str | int, ...], str], ...]:
        return ((("from",), self.source), (("to",), self.target))

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "from": str(self.source),
            "to": str(self.target),
        }


@dataclass(frozen=True)
class Unreachable(_Between):
    """No path of transitions leads from ``source`` to ``target``."""

    kind: ClassVar[str] = "unreachable"

    def describe(self) -> str:
        return f"no path leads from {self.source} to {self.target}"


@dataclass(frozen=True)
class Never(_Between):
    """No single transition goes from ``source`` to ``target``."""

    kind: ClassVar[str] = "never"

    def describe(self) -> str:
        return f"no transition goes directly from {self.source} to {self.target}"


@dataclass(frozen=True)
class Closed(Invariant):
    """No transition leaves the set ``states`` (once inside, always inside)."""

    states: Sequence[str]
    kind: ClassVar[str] = "closed"

    def __post_init__(self) -> None:
        object.__setattr__(self, "states", tuple(self.states))

    def state_fields(self) -> tuple[tuple[tuple[str | int, ...], str], ...]:
        return tuple((("states", i), s) for i, s in enumerate(self.states))

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "states": [str(s) for s in self.states]}

    def describe(self) -> str:
        return f"no transition leaves {{{', '.join(self.states)}}}"


@dataclass(frozen=True)
class OnlyThrough(Invariant):
    """Every path from the initial state to ``target`` first passes one of ``via``."""

    target: str
    via: Sequence[str]
    kind: ClassVar[str] = "only_through"

    def __post_init__(self) -> None:
        object.__setattr__(self, "via", tuple(self.via))

    def state_fields(self) -> tuple[tuple[tuple[str | int, ...], str], ...]:
        return (("to",), self.target), *((("via", i), s) for i, s in enumerate(self.via))

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "to": str(self.target),
            "via": [str(s) for s in self.via],
        }

    def describe(self) -> str:
        return (
            f"every path from the initial state to {self.target} passes {{{', '.join(self.via)}}}"
        )


INVARIANT_KINDS: dict[str, type[Invariant]] = {
    cls.kind: cls for cls in (Absorbing, Unreachable, Never, Closed, OnlyThrough)
}
