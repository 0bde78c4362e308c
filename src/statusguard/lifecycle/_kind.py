"""What an invariant kind is: the base class, the registry, and the two engine interfaces.

A kind is one class (the built-in ones are in :mod:`statusguard.lifecycle._invariants`)
that carries everything about it:

* its JSON shape: the dataclass fields annotated ``Annotated[str, one("key")]`` (one
  state) or ``Annotated[Sequence[str], many("key")]`` (a non-empty list), from which
  :meth:`Invariant.to_json`, :meth:`Invariant.from_json`, the JSON Schema branch
  (:meth:`Invariant.json_schema`, checked against the shipped schema by a test) and the
  random invariants of :mod:`statusguard.testing` are derived;
* its validation beyond "every named state exists" (:meth:`Invariant.problem`);
* its verification query (:meth:`Invariant.query`), written in the vocabulary of
  :class:`Queries`, which the z3 encoding (:mod:`statusguard.verify._smt`) implements;
* its oracle check (:meth:`Invariant.oracle`), plain Python over the explicit graph of
  each config setting through :class:`Explicit` (:mod:`statusguard.verify._oracle`);
* the states a proof is about (:meth:`Invariant.premise`: none reachable means vacuous).

Defining a subclass with a ``kind`` registers it in :data:`INVARIANT_KINDS`, which JSON
decoding and the random strategies read.
Imports: :mod:`statusguard.results`, :mod:`statusguard.errors` and ``_parts`` (for
:func:`caller_origin`); no z3, no verify layer.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar

from statusguard.errors import Origin
from statusguard.lifecycle._parts import caller_origin
from statusguard.results import TraceStep

__all__ = [
    "BUILTIN_OBLIGATIONS",
    "INVARIANT_KINDS",
    "RESERVED_PREFIX",
    "Defect",
    "Explicit",
    "ExplicitSetting",
    "Invariant",
    "JsonField",
    "Queries",
    "many",
    "one",
]

BUILTIN_OBLIGATIONS = (
    "reachable",
    "no_dead_ends",
    "can_terminate",
    "deterministic",
    "terminal_final",
    "noop_unchanged",
)
"""The built-in obligation names; an invariant may not take one (results key by name)."""
RESERVED_PREFIX = "race."
"""Race obligations are named ``race.<...>``; invariant names may not start with it."""

Location = tuple[str | int, ...]
Q = TypeVar("Q")
F = TypeVar("F")
Q_co = TypeVar("Q_co", covariant=True)
F_co = TypeVar("F_co", covariant=True)


@dataclass(frozen=True)
class JsonField:
    """One state-valued field of a kind: its JSON key, attribute, and whether it is a list."""

    key: str
    attr: str = ""
    many: bool = False


def one(key: str) -> JsonField:
    """Marks a field holding one state name, stored under JSON key ``key``."""
    return JsonField(key)


def many(key: str) -> JsonField:
    """Marks a field holding a non-empty list of state names (kept as a tuple)."""
    return JsonField(key, many=True)


_FIELDS: dict[type[Any], tuple[JsonField, ...]] = {}


class Queries(Protocol[Q_co]):
    """The vocabulary a kind's z3 query is written in (implemented by ``verify._smt``).

    A condition (a ``str``) constrains the witness transition ``s -> t``. A kind's query
    is one :meth:`bad_step` (a transition that breaks it) or one :meth:`bad_walk` (a walk
    that breaks it).
    """

    @property
    def initial(self) -> str:
        """The lifecycle's initial state."""
        ...

    def source_is(self, state: str) -> str:
        """The witness transition leaves ``state``."""
        ...

    def target_is(self, state: str) -> str:
        """The witness transition enters ``state``."""
        ...

    def source_in(self, states: Sequence[str]) -> str:
        """The witness transition leaves one of ``states``."""
        ...

    def target_in(self, states: Sequence[str]) -> str:
        """The witness transition enters one of ``states``."""
        ...

    def negate(self, condition: str) -> str:
        """The opposite of ``condition``."""
        ...

    def bad_step(self, *conditions: str) -> Q_co:
        """Violated by any transition (under some setting and facts) meeting ``conditions``."""
        ...

    def bad_walk(
        self, start: str, goal: str, *, avoid: Sequence[str] = (), min_steps: int = 0, says: str
    ) -> Q_co:
        """Violated by a walk ``start -> goal`` of at least ``min_steps`` (0 or 1) steps that
        enters no state of ``avoid`` (which holds neither ``start`` nor ``goal``); ``says``
        words a found one ("X is reached from Y")."""
        ...


@dataclass(frozen=True)
class Defect:
    """A violation the oracle found under one setting; ``trace`` is ``None`` when no run
    from the initial state shows it."""

    trace: tuple[TraceStep, ...] | None


class ExplicitSetting(Protocol):
    """The explicit graph under one config setting, for a kind's oracle check."""

    @property
    def config(self) -> dict[str, bool]: ...

    def walk(
        self, start: str, goal: str, *, avoid: Sequence[str] = (), strict: bool = False
    ) -> tuple[TraceStep, ...] | None:
        """A shortest walk ``start -> goal`` (``strict``: of one step or more) that enters no
        state of ``avoid`` (which holds neither ``start`` nor ``goal``), or ``None``."""
        ...


class Explicit(Protocol[F_co]):
    """The explicit-state oracle's view of a lifecycle (implemented by ``verify._oracle``)."""

    @property
    def initial(self) -> str: ...

    def bad_steps(self, is_bad: Callable[[str, str], bool]) -> F_co:
        """Violated by any enabled transition ``s -> t`` for which ``is_bad(s, t)``."""
        ...

    def bad_walks(self, under: Callable[[ExplicitSetting], Defect | None]) -> F_co:
        """Violated under every setting where ``under`` finds a :class:`Defect`."""
        ...


INVARIANT_KINDS: dict[str, type[Invariant]] = {}
"""Every invariant kind by its JSON ``kind``, in definition order (filled by subclassing)."""


@dataclass(frozen=True)
class Invariant:
    """Base of the invariant kinds. ``name`` is unique within a lifecycle.

    ``origin`` is where it was written (the caller's frame at construction; JSON decoding
    sets the document's line); it is not part of equality or the fingerprint.
    """

    name: str
    origin: Origin | None = field(default=None, init=False, compare=False, repr=False)
    kind: ClassVar[str] = ""

    def __init_subclass__(cls, *, register: bool = True, **kwargs: Any) -> None:
        """Register a class that sets ``kind`` (``register=False``: usable from Python only,
        unknown to JSON and to the random strategies)."""
        super().__init_subclass__(**kwargs)
        kind = cls.__dict__.get("kind", "")
        if kind and register:
            known = INVARIANT_KINDS.get(kind)
            same = (cls.__module__, cls.__qualname__)
            if known is not None and (known.__module__, known.__qualname__) != same:
                raise TypeError(
                    f"invariant kind {kind!r} is defined twice ({known.__qualname__} in "
                    f"{known.__module__}, {cls.__qualname__} in {cls.__module__}); "
                    "give one of them another kind name"
                )
            INVARIANT_KINDS[kind] = cls  # the same class run again (a model reloaded) replaces

    def __post_init__(self) -> None:
        object.__setattr__(self, "origin", caller_origin())
        for f in self.json_fields():
            if f.many:
                object.__setattr__(self, f.attr, tuple(getattr(self, f.attr)))

    # -- JSON shape -----------------------------------------------------------------------

    @classmethod
    def json_fields(cls) -> tuple[JsonField, ...]:
        """The state-valued fields (marked with :func:`one` or :func:`many`), in JSON order."""
        found = _FIELDS.get(cls)
        if found is None:
            hints = typing.get_type_hints(cls, include_extras=True)
            marks = {
                name: meta
                for name, hint in hints.items()
                for meta in getattr(hint, "__metadata__", ())
                if isinstance(meta, JsonField)
            }
            found = tuple(
                dataclasses.replace(marks[f.name], attr=f.name)
                for f in dataclasses.fields(cls)
                if f.name in marks
            )
            _FIELDS[cls] = found
        return found

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON Schema an invariant of this kind meets (the ``then`` of its branch)."""
        one = {"$ref": "#/$defs/name"}
        many = {"type": "array", "items": one, "minItems": 1}
        props: dict[str, Any] = {"name": True, "kind": True}
        props.update({f.key: many if f.many else one for f in cls.json_fields()})
        return {
            "required": [f.key for f in cls.json_fields()],
            "additionalProperties": False,
            "properties": props,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Invariant:
        """The invariant a schema-valid JSON object describes."""
        return cls(name=raw["name"], **{f.attr: raw[f.key] for f in cls.json_fields()})

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind}
        for f in self.json_fields():
            value = getattr(self, f.attr)
            out[f.key] = [str(s) for s in value] if f.many else str(value)
        return out

    def state_fields(self) -> tuple[tuple[Location, str], ...]:
        """Each mentioned state with its location in the JSON document."""
        out: list[tuple[Location, str]] = []
        for f in self.json_fields():
            value = getattr(self, f.attr)
            if f.many:
                out.extend(((f.key, i), s) for i, s in enumerate(value))
            else:
                out.append(((f.key,), value))
        return tuple(out)

    def mentioned_states(self) -> tuple[str, ...]:
        """Every state this invariant mentions."""
        return tuple(s for _, s in self.state_fields())

    # -- meaning --------------------------------------------------------------------------

    def problem(self) -> tuple[str, Location] | None:
        """A kind-specific defect (message, location within the invariant), checked after
        every named state is known to exist; ``None`` when there is none."""
        return None

    def describe(self) -> str:
        """One line in plain words."""
        raise NotImplementedError(f"invariant kind {self.kind!r} does not describe itself")

    def premise(self) -> tuple[str, ...]:
        """The states the invariant is about: when none is reachable, a proof is vacuous."""
        raise NotImplementedError(f"invariant kind {self.kind!r} names no premise states")

    def query(self, q: Queries[Q]) -> Q:
        """The violation query, for z3."""
        raise NotImplementedError(f"invariant kind {self.kind!r} has no SMT encoding")

    def oracle(self, x: Explicit[F]) -> F:
        """The violation check by explicit search (written independently of :meth:`query`)."""
        raise NotImplementedError(f"invariant kind {self.kind!r} has no oracle check")
