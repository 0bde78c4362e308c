"""The typed, immutable lifecycle: states, events, flags, transitions and invariants.

What it owns: :class:`Lifecycle` (construction and validation, value semantics, config
settings, the ``v1`` document and its fingerprint); the runtime questions it answers
come from its base, :class:`statusguard.lifecycle._runtime.Runtime`. Imports
:mod:`statusguard.errors` and the lifecycle modules below it (never ``_jsonio`` at
import time: :meth:`Lifecycle.from_json` imports it when called).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from statusguard._text import format_flags
from statusguard.errors import InvalidArgument, InvalidLifecycle, Location, MissingFlag, Origin
from statusguard.lifecycle._deadline import EVERY, check
from statusguard.lifecycle._invariants import Invariant
from statusguard.lifecycle._parts import FORMAT, Flag, FlagKind, NoOp, Transition, caller_origin
from statusguard.lifecycle._runtime import Runtime
from statusguard.lifecycle._scenarios import KEY as SCENARIOS_KEY
from statusguard.lifecycle._scenarios import RaceScenario, validate_scenarios
from statusguard.lifecycle._validate import validate

__all__ = ["AnyLifecycle", "Lifecycle", "definition_defect"]

S = TypeVar("S", bound=str)
E = TypeVar("E", bound=str)

# When set, construction skips the checks that are also proof obligations
# (``deterministic``, ``terminal_final`` and ``noop_unchanged``) so that
# ``statusguard check`` can report them as violations with a counterexample. Everything
# else is still validated.
_LENIENT: ContextVar[bool] = ContextVar("statusguard_lenient", default=False)


@contextmanager
def _lenient() -> Iterator[None]:
    """Build lifecycles without the determinism and terminal-exit checks (private)."""
    token = _LENIENT.set(True)
    try:
        yield
    finally:
        _LENIENT.reset(token)


def definition_defect(lc: Lifecycle[Any, Any]) -> InvalidLifecycle | None:
    """The first defect the constructor refuses that is also a proof obligation
    (``deterministic``, ``terminal_final``, ``noop_unchanged``), for a lifecycle built
    leniently; else ``None``.

    The error names the obligation, the JSON path and where the part was written.
    """
    try:
        validate(lc, [s for s in lc.states if s in lc.terminal], semantic=True)
    except InvalidLifecycle as exc:
        return exc.located(lc.origin_of(exc.location))
    return None


class Lifecycle(Runtime[S, E]):
    """A resource's lifecycle: the single source of truth for its status.

    Built once and frozen. ``states`` and ``events`` may be ``StrEnum`` classes
    (so typos are type errors) or plain strings. ``race_scenarios`` names the races
    :mod:`statusguard.race` checks for this lifecycle besides the general ones;
    ``noops`` the events accepted without a change (:class:`NoOp`: no edge, no write).
    Construction checks the structure and raises :class:`InvalidLifecycle` naming the culprit
    (its JSON path, and where it was written: ``origin``, the file and line of the offending
    ``Transition(...)`` or invariant, else of this constructor's call).
    ``origin`` (taken from the caller's frame unless given) is not part of equality or
    the fingerprint. Iterating yields ``(source, event, target)`` triples.
    """

    __slots__ = (
        "_fingerprint",
        "_frozen",
        "events",
        "flags",
        "initial",
        "invariants",
        "name",
        "noops",
        "origin",
        "race_scenarios",
        "states",
        "terminal",
        "transitions",
    )

    name: str
    states: tuple[S, ...]
    initial: S
    terminal: frozenset[S]
    events: tuple[E, ...]
    flags: tuple[Flag, ...]
    transitions: tuple[Transition[S, E], ...]
    noops: tuple[NoOp[S, E], ...]
    invariants: tuple[Invariant, ...]
    race_scenarios: tuple[RaceScenario, ...]
    origin: Origin | None
    _fingerprint: str | None

    def __init__(
        self,
        name: str,
        *,
        states: Iterable[S],
        initial: S,
        terminal: Iterable[S] = (),
        transitions: Iterable[Transition[S, E]],
        events: Iterable[E] | None = None,
        flags: Iterable[Flag | str] = (),
        invariants: Iterable[Invariant] = (),
        race_scenarios: Iterable[RaceScenario] = (),
        noops: Iterable[NoOp[S, E]] = (),
        origin: Origin | None = None,
    ) -> None:
        set_ = object.__setattr__
        set_(self, "_frozen", False)
        set_(self, "_fingerprint", None)
        self.origin = origin if origin is not None else caller_origin()
        self.name = name
        self.states = tuple(states)
        self.initial = initial
        terminal_t = tuple(terminal)
        self.transitions = tuple(transitions)
        self.noops = tuple(noops)
        if events is None:
            derived: dict[E, None] = {}
            for t in (*self.transitions, *self.noops):
                if isinstance(t, (Transition, NoOp)):  # anything else is reported by _validate
                    derived.setdefault(t.event, None)
            self.events = tuple(derived)
        else:
            self.events = tuple(events)
        self.flags = tuple(f if isinstance(f, Flag) else Flag(f) for f in flags)
        self.invariants = tuple(invariants)
        self.race_scenarios = tuple(race_scenarios)
        try:
            validate(self, terminal_t, semantic=not _LENIENT.get())
            validate_scenarios(self, self.race_scenarios)
        except InvalidLifecycle as exc:
            raise exc.located(self.origin_of(exc.location)) from None
        # Flag order carries no meaning, and JSON objects (the flags map) have no order:
        # keep flags sorted by name so equality, to_json and the fingerprint agree.
        self.flags = tuple(sorted(self.flags, key=lambda f: f.name))
        self.terminal = frozenset(terminal_t)
        self._build_tables()
        set_(self, "_frozen", True)

    # -- construction ---------------------------------------------------------

    @classmethod
    def _unchecked(cls, name: str, **parts: Any) -> Lifecycle[Any, Any]:
        """Build without the ``deterministic``/``terminal_final`` checks (for the checker)."""
        with _lenient():
            return cls(name, **parts)

    def origin_of(self, location: Location) -> Origin | None:
        """Where the part at ``location`` (a JSON path as a tuple) was written: the
        transition's or invariant's own origin, else the lifecycle's."""
        if len(location) >= 2 and isinstance(location[1], int):
            parts: tuple[Any, ...] = {
                "transitions": self.transitions,
                "noops": self.noops,
                "invariants": self.invariants,
                SCENARIOS_KEY: self.race_scenarios,
            }.get(str(location[0]), ())
            if 0 <= location[1] < len(parts):
                found = getattr(parts[location[1]], "origin", None)
                if isinstance(found, Origin):
                    return found
        return self.origin

    @classmethod
    def _from_parts(cls, name: str, parts: dict[str, Any]) -> Lifecycle[Any, Any]:
        return cls._unchecked(name, **parts)

    def __reduce__(self) -> tuple[object, ...]:
        # Rebuilt from its parts (its tables are derived): a pickled lifecycle is a new
        # construction, without the two obligation checks, as a checked one passed them.
        parts = {
            "states": self.states,
            "initial": self.initial,
            "terminal": tuple(s for s in self.states if s in self.terminal),
            "transitions": self.transitions,
            "events": self.events,
            "flags": self.flags,
            "invariants": self.invariants,
            "race_scenarios": self.race_scenarios,
            "noops": self.noops,
            "origin": self.origin,
        }
        return (type(self)._from_parts, (self.name, parts))

    def __setattr__(self, name: str, value: object) -> None:
        if getattr(self, "_frozen", False):
            raise AttributeError(f"Lifecycle {self.name!r} is frozen; build a new one instead")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Lifecycle {self.name!r} is frozen; build a new one instead")

    # -- value semantics ------------------------------------------------------

    def _key(self) -> tuple[object, ...]:
        return (
            self.name,
            self.states,
            self.initial,
            tuple(sorted(self.terminal)),
            self.events,
            self.flags,
            self.transitions,
            self.noops,
            self.invariants,
            self.race_scenarios,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Lifecycle):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"<Lifecycle {self.name!r}: {len(self.states)} states, {len(self.events)} events, "
            f"{len(self.transitions)} transitions>"
        )

    def __iter__(self) -> Iterator[tuple[S, E, S]]:
        seen: set[tuple[str, str, str]] = set()
        for t in self.transitions:
            for s in t.sources:
                triple = (s, t.event, t.target)
                if triple not in seen:
                    seen.add(triple)
                    yield triple

    def __len__(self) -> int:
        return sum(1 for _ in self)

    # -- names ------------------------------------------------------------------

    @property
    def config_flags(self) -> tuple[str, ...]:
        """Names of the flags fixed for a deployment."""
        return tuple(f.name for f in self.flags if f.kind is FlagKind.CONFIG)

    @property
    def fact_flags(self) -> tuple[str, ...]:
        """Names of the flags that describe the resource at the moment of an event."""
        return tuple(f.name for f in self.flags if f.kind is FlagKind.FACT)

    @property
    def fact_defaults(self) -> dict[str, bool]:
        """The value assumed for each fact flag that declares a default (a new dict)."""
        return {f.name: f.default for f in self.flags if f.default is not None}

    def check_config(self, config: Mapping[str, bool] | None) -> dict[str, bool]:
        """``config`` as a new dict, if it sets every config flag (and only those) to a bool.

        Raises :class:`UnknownFlag`, :class:`InvalidFlagValue` or :class:`MissingFlag`.
        """
        if config is not None and not isinstance(config, Mapping):
            raise InvalidArgument(
                "config",
                config,
                "a mapping of every config flag to True or False, e.g. {'name': False}",
            )
        given = dict(config or {})
        self.check_flags(given, kind=FlagKind.CONFIG)
        missing = set(self.config_flags) - set(given)
        if missing:
            raise MissingFlag(missing)
        return given

    def config_settings(self) -> Iterator[dict[str, bool]]:
        """Every assignment of the config flags (one empty dict if there are none)."""
        names = self.config_flags
        for bits in range(1 << len(names)):
            yield {n: bool(bits >> i & 1) for i, n in enumerate(names)}

    def edges(self) -> frozenset[tuple[S, S]]:
        """The ``(source, target)`` projection over all events and flag settings."""
        return frozenset((s, t) for s, _, t in self)

    # -- serialisation ----------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The ``statusguard.lifecycle/v1`` document for this lifecycle."""
        doc: dict[str, Any] = {
            "format": FORMAT,
            "name": self.name,
            "states": [str(s) for s in self.states],
            "initial": str(self.initial),
            "terminal": [str(s) for s in self.states if s in self.terminal],
            "events": [str(e) for e in self.events],
            "flags": {f.name: str(f.kind) for f in self.flags},
            "transitions": self._transitions_json(),
            "invariants": [i.to_json() for i in self.invariants],
        }
        # Optional keys, omitted when empty: older documents keep their fingerprint.
        if self.noops:
            doc["noops"] = [n.to_json() for n in self.noops]
        defaults = self.fact_defaults
        if defaults:
            doc["fact_defaults"] = defaults
        if self.race_scenarios:  # omitted when empty: older documents keep their fingerprint
            doc[SCENARIOS_KEY] = [sc.to_json() for sc in self.race_scenarios]
        return doc

    def _transitions_json(self) -> list[dict[str, Any]]:
        """The transitions' documents, looking at the time budget (``_deadline``)."""
        out = []
        for i, t in enumerate(self.transitions):
            if not i % EVERY:
                check(f"writing the document of {self.name!r}")
            out.append(t.to_json())
        return out

    @classmethod
    def from_json(cls, document: Mapping[str, Any] | str) -> Lifecycle[str, str]:
        """Build a lifecycle from a ``statusguard.lifecycle/v1`` document (never runs code)."""
        from statusguard.lifecycle._jsonio import lifecycle_parts, origin_in, parse_document

        if isinstance(document, str):
            document = parse_document(document)
        name, parts = lifecycle_parts(document)
        try:
            return Lifecycle[str, str](name, **parts)
        except InvalidLifecycle as exc:
            # A document read from a file knows the line of the very element at fault.
            raise exc.located(origin_in(document, exc.location), replace=True) from None

    def canonical_json(self) -> str:
        """The document as compact JSON with sorted keys: the input of :attr:`fingerprint`."""
        import json  # off the import path: json loads only when a document is needed

        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))

    @property
    def fingerprint(self) -> str:
        """``sha256:<hex>`` of :meth:`canonical_json`; changes whenever the model does.

        Computed once (a lifecycle is immutable), within the time budget (``_deadline``:
        :class:`~statusguard.errors.OutOfTime` when it runs out meanwhile)."""
        cached: str | None = self._fingerprint
        if cached is not None:
            return cached
        import hashlib  # loads OpenSSL: keep it off the import path

        text = self.canonical_json()
        check(f"the fingerprint of {self.name!r}")
        found = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
        object.__setattr__(self, "_fingerprint", found)
        return found

    def table(self) -> str:
        """A plain-text table: one row per transition."""
        rows = [("source", "event", "target", "when")]
        for t in self.transitions:
            cond = format_flags(t.when)
            for s in t.sources:
                rows.append((str(s), str(t.event), str(t.target), cond))
        for n in self.noops:
            cond = format_flags(n.when)
            for s in n.sources:
                rows.append((str(s), str(n.event), "(no change)", cond))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        head = (
            f"{self.name}: initial {self.initial}; terminal "
            f"{', '.join(str(s) for s in self.states if s in self.terminal) or '(none)'}"
        )
        return head + "\n" + "\n".join(lines)


def _rebuild(
    cls: type[Lifecycle[Any, Any]], name: str, parts: dict[str, Any]
) -> Lifecycle[Any, Any]:
    return cls._unchecked(name, **parts)


AnyLifecycle = Lifecycle[Any, Any]
"""A lifecycle whose state and event types do not matter to the caller."""
