"""The typed, immutable lifecycle: states, events, flags, transitions and invariants."""

from __future__ import annotations

import itertools
import json
import operator
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Generic, TypeVar

from statusguard._text import format_flags
from statusguard.errors import (
    IllegalTransition,
    InvalidFlagValue,
    MissingFlag,
    UnknownEvent,
    UnknownFlag,
    UnknownState,
)
from statusguard.lifecycle._invariants import Invariant
from statusguard.lifecycle._parts import FORMAT, Condition, Flag, FlagKind, Transition
from statusguard.lifecycle._scenarios import KEY as SCENARIOS_KEY
from statusguard.lifecycle._scenarios import RaceScenario, validate_scenarios
from statusguard.lifecycle._validate import validate

__all__ = ["AnyLifecycle", "Lifecycle"]

S = TypeVar("S", bound=str)
E = TypeVar("E", bound=str)

_MAX_FAST_FLAGS = 10  # conditional (state, event) pairs testing more flags use the slow path

# When set, construction skips the two checks that are also proof obligations
# (``deterministic`` and ``terminal_final``) so that ``statusguard check`` can report
# them as violations with a counterexample. Everything else is still validated.
_LENIENT: ContextVar[bool] = ContextVar("statusguard_lenient", default=False)


@contextmanager
def _lenient() -> Iterator[None]:
    """Build lifecycles without the determinism and terminal-exit checks (private)."""
    token = _LENIENT.set(True)
    try:
        yield
    finally:
        _LENIENT.reset(token)


class Lifecycle(Generic[S, E]):
    """A resource's lifecycle: the single source of truth for its status.

    Built once and frozen. ``states`` and ``events`` may be ``StrEnum`` classes
    (so typos are type errors) or plain strings. ``race_scenarios`` names the races
    :mod:`statusguard.race` checks for this lifecycle besides the general ones.
    Construction checks the structure and raises :class:`InvalidLifecycle` naming the culprit.
    Iterating yields ``(source, event, target)`` triples.
    """

    __slots__ = (
        "_cond",
        "_event_names",
        "_events_by_state",
        "_fast",
        "_flag_names",
        "_frozen",
        "_state_names",
        "_targets_by_state",
        "_uncond",
        "events",
        "flags",
        "initial",
        "invariants",
        "name",
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
    invariants: tuple[Invariant, ...]
    race_scenarios: tuple[RaceScenario, ...]

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
    ) -> None:
        set_ = object.__setattr__
        set_(self, "_frozen", False)
        self.name = name
        self.states = tuple(states)
        self.initial = initial
        terminal_t = tuple(terminal)
        self.transitions = tuple(transitions)
        if events is None:
            derived: dict[E, None] = {}
            for t in self.transitions:
                if isinstance(t, Transition):  # anything else is reported by _validate
                    derived.setdefault(t.event, None)
            self.events = tuple(derived)
        else:
            self.events = tuple(events)
        self.flags = tuple(f if isinstance(f, Flag) else Flag(f) for f in flags)
        self.invariants = tuple(invariants)
        self.race_scenarios = tuple(race_scenarios)
        validate(self, terminal_t, semantic=not _LENIENT.get())
        validate_scenarios(self, self.race_scenarios)
        # Flag order carries no meaning, and JSON objects (the flags map) have no order:
        # keep flags sorted by name so equality, to_json and the fingerprint agree.
        self.flags = tuple(sorted(self.flags, key=lambda f: f.name))
        self.terminal = frozenset(terminal_t)
        self._state_names = {str(s): s for s in self.states}
        self._event_names = {str(e): e for e in self.events}
        self._flag_names = frozenset(f.name for f in self.flags)
        self._build_tables()
        set_(self, "_frozen", True)

    # -- construction ---------------------------------------------------------

    @classmethod
    def _unchecked(cls, name: str, **parts: Any) -> Lifecycle[Any, Any]:
        """Build without the ``deterministic``/``terminal_final`` checks (for the checker)."""
        with _lenient():
            return cls(name, **parts)

    def _build_tables(self) -> None:
        cands: dict[tuple[str, str], list[tuple[Condition, S]]] = {}
        for t in self.transitions:
            for s in t.sources:
                cands.setdefault((s, t.event), []).append((t.when, t.target))
        uncond: dict[tuple[str, str], S] = {}
        cond: dict[tuple[str, str], tuple[tuple[Condition, S], ...]] = {}
        for key, options in cands.items():
            plain = [target for when, target in options if not when]
            if plain:
                uncond[key] = plain[0]
            else:
                cond[key] = tuple(options)
        events_by_state: dict[str, list[E]] = {str(s): [] for s in self.states}
        targets_by_state: dict[str, list[S]] = {str(s): [] for s in self.states}
        for t in self.transitions:
            for s in t.sources:
                if t.event not in events_by_state[s]:
                    events_by_state[s].append(t.event)
                if t.target not in targets_by_state[s]:
                    targets_by_state[s].append(t.target)
        self._uncond = uncond
        self._cond = cond
        # One lookup answers next(): a target, or for conditional keys a getter of the
        # deciding flags plus the outcome for each of their settings (None: illegal).
        fast: dict[tuple[str, str], Any] = dict(uncond)
        for key, choices in cond.items():
            names = sorted({n for when, _ in choices for n, _ in when})
            if len(names) > _MAX_FAST_FLAGS:
                continue
            getter = operator.itemgetter(*names)
            outcomes: dict[Any, S | None] = {}
            for bits in itertools.product((False, True), repeat=len(names)):
                setting = dict(zip(names, bits, strict=True))
                hit = next((t for w, t in choices if all(setting[n] == v for n, v in w)), None)
                outcomes[bits if len(names) > 1 else bits[0]] = hit
            fast[key] = (getter, outcomes)
        self._fast = fast
        self._events_by_state = {k: tuple(v) for k, v in events_by_state.items()}
        self._targets_by_state = {k: tuple(v) for k, v in targets_by_state.items()}

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

    def state(self, name: str) -> S:
        """The declared state called ``name``; :class:`UnknownState` otherwise."""
        try:
            return self._state_names[name]
        except (KeyError, TypeError):
            raise UnknownState(name, self._state_names, lifecycle=self.name) from None

    def event(self, name: str) -> E:
        """The declared event called ``name``; :class:`UnknownEvent` otherwise."""
        try:
            return self._event_names[name]
        except (KeyError, TypeError):
            raise UnknownEvent(name, self._event_names, lifecycle=self.name) from None

    def check_flags(self, flags: Mapping[str, bool], *, kind: FlagKind | None = None) -> None:
        """Raise :class:`UnknownFlag` if ``flags`` names a flag not declared (of ``kind``)."""
        allowed = (
            self._flag_names
            if kind is None
            else frozenset(f.name for f in self.flags if f.kind is kind)
        )
        for name, value in flags.items():
            if name not in allowed:
                raise UnknownFlag(name, sorted(allowed), lifecycle=self.name)
            if not isinstance(value, bool):
                raise InvalidFlagValue(name, value)

    def check_config(self, config: Mapping[str, bool] | None) -> dict[str, bool]:
        """``config`` as a new dict, if it sets every config flag (and only those) to a bool.

        Raises :class:`UnknownFlag`, :class:`InvalidFlagValue` or :class:`MissingFlag`.
        """
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

    # -- the runtime API ------------------------------------------------------

    def next(self, state: S | str, event: E | str, flags: Mapping[str, bool] | None = None) -> S:
        """The state ``event`` leads to from ``state``.

        Raises :class:`IllegalTransition` if the event is not enabled there,
        :class:`MissingFlag` if the answer depends on a flag not in ``flags``,
        and :class:`UnknownState`/:class:`UnknownEvent`/:class:`UnknownFlag` for
        names the lifecycle does not declare. Costs about two dict lookups: the answer
        for every (state, event) and deciding flag setting is tabled at construction
        (flags the answer does not depend on are not inspected).
        """
        try:
            found = self._fast[(state, event)]
        except KeyError:
            return self._next_slow(state, event, flags or {})
        except TypeError:  # an unhashable state or event
            try:
                hash(state)
            except TypeError:
                raise UnknownState(state, self._state_names, lifecycle=self.name) from None
            raise UnknownEvent(event, self._event_names, lifecycle=self.name) from None
        if flags and not self._flag_names.issuperset(flags):
            self.check_flags(flags)  # raises UnknownFlag; skipped when no flags are given
        if found.__class__ is not tuple:
            return found  # type: ignore[no-any-return]
        try:
            target: S | None = found[1][found[0](flags)]
        except (KeyError, TypeError):
            target = None
        if target is not None:
            return target
        return self._next_slow(state, event, flags or {})

    def _next_slow(self, state: S | str, event: E | str, flags: Mapping[str, bool]) -> S:
        if state not in self._state_names:
            raise UnknownState(state, self._state_names, lifecycle=self.name)
        if event not in self._event_names:
            raise UnknownEvent(event, self._event_names, lifecycle=self.name)
        if flags:
            self.check_flags(flags)
        options = self._cond.get((str(state), str(event)), ())
        live = [
            (when, target)
            for when, target in options
            if not any(n in flags and flags[n] != v for n, v in when)
        ]
        for when, target in live:
            if all(n in flags for n, _ in when):
                # Determinism (checked at construction) makes this the only possible answer.
                return target
        # Every live option still needs flags that were not given: the answer is known
        # only if each completion of those flags gives the same outcome.
        missing = sorted({n for when, _ in live for n, _ in when if n not in flags})
        outcomes: set[S | None] = set()
        for bits in range(1 << len(missing)):
            full = {**flags, **{n: bool(bits >> i & 1) for i, n in enumerate(missing)}}
            outcomes.add(next((t for w, t in live if all(full[n] == v for n, v in w)), None))
            if len(outcomes) > 1:
                raise MissingFlag(missing, state=str(state), event=str(event))
        outcome = outcomes.pop() if outcomes else None
        if outcome is not None:
            return outcome
        raise IllegalTransition(
            str(state), str(event), self.allowed_events(state, flags), lifecycle=self.name
        )

    def _possible(self, when: Condition, flags: Mapping[str, bool]) -> bool:
        return all(flags.get(n, v) == v for n, v in when)

    def allowed_events(
        self, state: S | str, flags: Mapping[str, bool] | None = None
    ) -> tuple[E, ...]:
        """Events enabled in ``state``. Flags left out of ``flags`` may take any value."""
        s = self.state(str(state))
        flags = flags or {}
        if flags:
            self.check_flags(flags)
        out: list[E] = []
        for ev in self._events_by_state[s]:
            key = (str(s), str(ev))
            if key in self._uncond or any(
                self._possible(when, flags) for when, _ in self._cond.get(key, ())
            ):
                out.append(ev)
        return tuple(out)

    def can(self, state: S | str, event: E | str, flags: Mapping[str, bool] | None = None) -> bool:
        """Whether ``event`` is enabled in ``state`` (flags left out may take any value)."""
        self.event(str(event))
        return event in self.allowed_events(state, flags)

    def targets(self, state: S | str, flags: Mapping[str, bool] | None = None) -> tuple[S, ...]:
        """States reachable from ``state`` in one transition (flags left out may take any value)."""
        s = self.state(str(state))
        flags = flags or {}
        if flags:
            self.check_flags(flags)
        out: list[S] = []
        for ev in self._events_by_state[s]:
            key = (str(s), str(ev))
            if key in self._uncond:
                opts: Iterable[tuple[Condition, S]] = (((), self._uncond[key]),)
            else:
                opts = self._cond.get(key, ())
            for when, target in opts:
                if self._possible(when, flags) and target not in out:
                    out.append(target)
        return tuple(out)

    def edge_allowed(
        self, source: S | str, target: S | str, flags: Mapping[str, bool] | None = None
    ) -> bool:
        """Whether some event moves ``source`` to ``target`` (for code that sets status)."""
        self.state(str(target))
        return target in self.targets(source, flags)

    def check_edge(
        self, source: S | str, target: S | str, flags: Mapping[str, bool] | None = None
    ) -> None:
        """Raise :class:`IllegalTransition` unless ``source -> target`` is an edge."""
        if not self.edge_allowed(source, target, flags):
            raise IllegalTransition(
                str(source),
                None,
                self.targets(source, flags),
                target=str(target),
                lifecycle=self.name,
            )

    def edges(self) -> frozenset[tuple[S, S]]:
        """The ``(source, target)`` projection over all events and flag settings."""
        return frozenset((s, t) for s, _, t in self)

    def successors(self, state: S | str, config: Mapping[str, bool]) -> tuple[tuple[E, S], ...]:
        """``(event, target)`` pairs enabled from ``state`` under a complete config, any facts."""
        s = self.state(str(state))
        out: dict[tuple[E, S], None] = {}
        for t in self.transitions:
            if s in t.sources and self._possible(t.when, config):
                out.setdefault((t.event, t.target), None)
        return tuple(out)

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
            "transitions": [t.to_json() for t in self.transitions],
            "invariants": [i.to_json() for i in self.invariants],
        }
        if self.race_scenarios:  # omitted when empty: older documents keep their fingerprint
            doc[SCENARIOS_KEY] = [sc.to_json() for sc in self.race_scenarios]
        return doc

    @classmethod
    def from_json(cls, document: Mapping[str, Any] | str) -> Lifecycle[str, str]:
        """Build a lifecycle from a ``statusguard.lifecycle/v1`` document (never runs code)."""
        from statusguard.lifecycle._jsonio import lifecycle_parts

        name, parts = lifecycle_parts(document)
        return Lifecycle[str, str](name, **parts)

    def canonical_json(self) -> str:
        """The document as compact JSON with sorted keys: the input of :attr:`fingerprint`."""
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))

    @property
    def fingerprint(self) -> str:
        """``sha256:<hex>`` of :meth:`canonical_json`; changes whenever the model does."""
        import hashlib  # loads OpenSSL: keep it off the import path

        return "sha256:" + hashlib.sha256(self.canonical_json().encode()).hexdigest()

    def table(self) -> str:
        """A plain-text table: one row per transition."""
        rows = [("source", "event", "target", "when")]
        for t in self.transitions:
            cond = format_flags(t.when)
            for s in t.sources:
                rows.append((str(s), str(t.event), str(t.target), cond))
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


AnyLifecycle = Lifecycle[Any, Any]
"""A lifecycle whose state and event types do not matter to the caller."""
