"""The parts a lifecycle is built from: flags, their kinds, and transitions.

Also where a part was written (:func:`caller_origin`: the file and line of the code that
constructed it, read from the caller's frame; kept out of equality and the fingerprint).
Imports :mod:`statusguard.errors` only.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from statusguard.errors import InvalidLifecycle, Origin

__all__ = [
    "FORMAT",
    "Condition",
    "Flag",
    "FlagKind",
    "NoOp",
    "Transition",
    "caller_origin",
    "compatible",
]

S = TypeVar("S", bound=str)
E = TypeVar("E", bound=str)

Condition = tuple[tuple[str, bool], ...]
"""A conjunction of flag literals, sorted by flag name: ``(("delayed_delete", True),)``."""
FORMAT = "statusguard.lifecycle/v1"
"""The ``format`` of every lifecycle JSON document statusguard reads and writes."""


_OURS = "statusguard."
_CONSTRUCTORS = frozenset({"__init__", "__post_init__"})
_MAX_CONSTRUCTORS = 6
# Modules that call a constructor on someone's behalf: ``Lifecycle[str, str](...)`` runs
# from typing's ``__call__``, ``dataclasses.replace`` from dataclasses.
_RELAYS = frozenset({"typing", "dataclasses"})


def caller_origin(depth: int = 2) -> Origin | None:
    """The file and line of the code that called the constructor ``depth - 1`` frames up.

    Constructor frames above it (``__init__``/``__post_init__`` of subclasses, dataclass-
    generated ones) are passed over, a few at most. ``None`` when the caller is
    statusguard itself (a part derived from another passes that one's origin) or has no
    real file (``python -c``, ``exec`` of a string). Costs well under a microsecond.
    """
    try:
        frame = sys._getframe(depth)
    except ValueError:
        return None
    for _ in range(_MAX_CONSTRUCTORS):
        code = frame.f_code
        module = frame.f_globals.get("__name__")
        if code.co_name not in _CONSTRUCTORS and module not in _RELAYS:
            break
        back = frame.f_back
        if back is None:
            return None
        frame = back
    file = code.co_filename
    if file.startswith("<") or (
        isinstance(module, str) and (module == "statusguard" or module.startswith(_OURS))
    ):
        return None
    return Origin(file, frame.f_lineno or 0)


class FlagKind(enum.StrEnum):
    """How a flag varies.

    ``CONFIG`` flags are fixed for a deployment (Glance's ``delayed_delete``);
    ``FACT`` flags are true or false about the resource when the event happens
    ("the image has locations").
    """

    CONFIG = "config"
    FACT = "fact"


@dataclass(frozen=True)
class Flag:
    """A boolean a transition's condition can test.

    ``default`` (fact flags only) is the value the runtime assumes when a caller does not
    give the fact: ``Flag("protected", FlagKind.FACT, default=False)`` lets code that
    never deals with protected images fire ``delete`` without saying so. The proofs
    never use it: they range over every fact value.
    """

    name: str
    kind: FlagKind = FlagKind.CONFIG
    doc: str = field(default="", compare=False)
    default: bool | None = None

    def __post_init__(self) -> None:
        try:
            kind = FlagKind(self.kind)
        except ValueError:
            raise InvalidLifecycle(
                f"flag {self.name!r} has unknown kind {self.kind!r}; "
                "expected 'config' or 'fact' (FlagKind.CONFIG or FlagKind.FACT)",
                ("flags", str(self.name)),
            ) from None
        object.__setattr__(self, "kind", kind)
        if self.default is not None:
            if not isinstance(self.default, bool):
                raise InvalidLifecycle(
                    f"flag {self.name!r}: default must be True, False or None, "
                    f"got {self.default!r}",
                    ("fact_defaults", str(self.name)),
                )
            if kind is not FlagKind.FACT:
                raise InvalidLifecycle(
                    f"config flag {self.name!r} has a default; a config flag is set for each "
                    "deployment, so only fact flags take one (drop default= or make it a fact)",
                    ("fact_defaults", str(self.name)),
                )


@dataclass(frozen=True, init=False)
class Transition(Generic[S, E]):
    """On ``event``, any of ``sources`` moves to ``target`` when ``when`` holds.

    ``when`` is a conjunction of flag literals: ``{"delayed_delete": True}``
    means "only if delayed_delete is set". An empty ``when`` is unconditional.
    ``origin`` is where it was written (taken from the caller's frame unless given);
    it is not part of equality or the fingerprint.
    """

    event: E
    sources: tuple[S, ...]
    target: S
    when: Condition
    origin: Origin | None = field(compare=False, repr=False)

    def __init__(
        self,
        event: E,
        sources: S | Iterable[S],
        target: S,
        when: Mapping[str, bool] | Iterable[tuple[str, bool]] | None = None,
        *,
        origin: Origin | None = None,
    ) -> None:
        if origin is None:
            origin = caller_origin()
        object.__setattr__(self, "origin", origin)
        srcs, when_ = _sources_and_when("transition", event, sources, when, origin)
        object.__setattr__(self, "event", event)
        object.__setattr__(self, "sources", srcs)
        object.__setattr__(self, "target", target)
        object.__setattr__(self, "when", when_)

    def enabled(self, flags: Mapping[str, bool]) -> bool:
        """Whether ``when`` holds under a complete flag setting."""
        return all(flags[name] == value for name, value in self.when)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "event": str(self.event),
            "source": [str(s) for s in self.sources],
            "target": str(self.target),
        }
        if self.when:
            doc["when"] = dict(self.when)
        return doc

    def __repr__(self) -> str:
        cond = f", when={dict(self.when)!r}" if self.when else ""
        srcs = [str(s) for s in self.sources]
        return f"Transition({str(self.event)!r}, {srcs!r}, {str(self.target)!r}{cond})"


def _sources_and_when(
    what: str,
    event: Any,
    sources: Any,
    when: Mapping[str, bool] | Iterable[tuple[str, bool]] | None,
    origin: Origin | None,
) -> tuple[tuple[Any, ...], Condition]:
    """A part's sources as a tuple and its condition as sorted literals (shared checks)."""
    srcs: tuple[Any, ...]
    if isinstance(sources, str) or not isinstance(sources, Iterable):
        srcs = (sources,)  # one state; a non-name is reported by the lifecycle's checks
    else:
        srcs = tuple(sources)
    pairs = list(when.items() if isinstance(when, Mapping) else (when or ()))
    items: dict[str, bool] = {}
    for name, value in pairs:
        if not isinstance(value, bool):
            raise InvalidLifecycle(
                f"{what} {str(event)!r}: condition on flag {name!r} must be True or "
                f"False, got {value!r}",
                origin=origin,
            )
        if items.get(name, value) != value:
            raise InvalidLifecycle(
                f"{what} {str(event)!r}: condition requires flag {name!r} to be both "
                "true and false, so it can never fire; give each flag once",
                origin=origin,
            )
        items[name] = value
    return srcs, tuple(sorted((str(k), v) for k, v in items.items()))


@dataclass(frozen=True, init=False)
class NoOp(Generic[S, E]):
    """On ``event``, any of ``sources`` is accepted *without a change* when ``when`` holds.

    "Accepted, no change" is distinct from illegal: Glance answers 204 to a deactivate of
    an image already deactivated (``glance/api/v2/image_actions.py``), where an illegal
    event would be refused. The runtime's :meth:`~statusguard.Lifecycle.next` answers the
    state itself and :meth:`~statusguard.Lifecycle.is_noop` says it was a no-op; the guard
    reports it without writing or bumping the version. A no-op is not an edge: the
    ``(source, target)`` projection and the trigger's allowed changes do not include it.
    """

    event: E
    sources: tuple[S, ...]
    when: Condition
    origin: Origin | None = field(compare=False, repr=False)

    def __init__(
        self,
        event: E,
        sources: S | Iterable[S],
        when: Mapping[str, bool] | Iterable[tuple[str, bool]] | None = None,
        *,
        origin: Origin | None = None,
    ) -> None:
        if origin is None:
            origin = caller_origin()
        object.__setattr__(self, "origin", origin)
        srcs, cond = _sources_and_when("no-op", event, sources, when, origin)
        object.__setattr__(self, "event", event)
        object.__setattr__(self, "sources", srcs)
        object.__setattr__(self, "when", cond)

    def enabled(self, flags: Mapping[str, bool]) -> bool:
        """Whether ``when`` holds under a complete flag setting."""
        return all(flags[name] == value for name, value in self.when)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "event": str(self.event),
            "source": [str(s) for s in self.sources],
        }
        if self.when:
            doc["when"] = dict(self.when)
        return doc

    def __repr__(self) -> str:
        cond = f", when={dict(self.when)!r}" if self.when else ""
        srcs = [str(s) for s in self.sources]
        return f"NoOp({str(self.event)!r}, {srcs!r}{cond})"


def compatible(a: Condition, b: Condition) -> bool:
    """Whether two conjunctions of literals can hold at once."""
    da = dict(a)
    return all(da.get(name, value) == value for name, value in b)
