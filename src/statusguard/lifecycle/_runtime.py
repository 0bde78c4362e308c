"""The runtime half of a lifecycle: its transition tables and the questions they answer.

What it owns: :class:`Runtime`, the base of :class:`statusguard.lifecycle.Lifecycle` that
builds the lookup tables once and answers :meth:`~Runtime.allowed_events`,
:meth:`~Runtime.targets` and the other per-state questions, with typed errors for unknown
names; ``next`` reads the tables in its base, ``_answer.Answers``, and comes back here for
what they do not decide. Building the tables looks at the time budget (``_deadline``:
:class:`~statusguard.errors.OutOfTime` inside ``bounded()``). Imports
:mod:`statusguard.errors`, :mod:`statusguard.lifecycle._parts`, ``_answer`` and ``_deadline``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Generic, NoReturn, TypeVar

from statusguard.errors import (
    IllegalTransition,
    InvalidArgument,
    InvalidFlagValue,
    MissingFlag,
    UnknownEvent,
    UnknownFlag,
    UnknownState,
)
from statusguard.lifecycle._answer import Answers, Decided, pick
from statusguard.lifecycle._deadline import check, paced
from statusguard.lifecycle._parts import Condition, Flag, FlagKind, NoOp, Transition

__all__ = ["Runtime"]

S = TypeVar("S", bound=str)
E = TypeVar("E", bound=str)

#: what a caller calls the flags of each kind (for messages)
_PARAMETER = {FlagKind.CONFIG: "config", FlagKind.FACT: "facts"}
_MAX_FAST_FLAGS = 10  # conditional (state, event) pairs testing more flags use the slow path


class Runtime(Answers, Generic[S, E]):
    """Transition tables and the runtime API; :class:`Lifecycle` supplies the model."""

    __slots__ = (
        "_cond",
        "_cond_next",
        "_defaults",
        "_event_names",
        "_events_by_state",
        "_noop_conds",
        "_selfloops",
        "_state_names",
        "_targets_by_state",
        "_uncond",
    )

    name: str
    states: tuple[S, ...]
    events: tuple[E, ...]
    flags: tuple[Flag, ...]
    transitions: tuple[Transition[S, E], ...]
    noops: tuple[NoOp[S, E], ...]
    _state_names: dict[str, S]
    _event_names: dict[str, E]
    _uncond: dict[tuple[str, str], S]
    _cond: dict[tuple[str, str], tuple[tuple[Condition, S], ...]]
    _cond_next: dict[tuple[str, str], tuple[tuple[Condition, S], ...]]
    _noop_conds: dict[tuple[str, str], tuple[Condition, ...]]
    _selfloops: frozenset[tuple[str, str]]
    _defaults: dict[str, bool]
    _events_by_state: dict[str, tuple[E, ...]]
    _targets_by_state: dict[str, tuple[S, ...]]

    def _build_tables(self) -> None:
        """Table every (state, event) answer (called once by the constructor).

        One pass over the transitions and no-ops, one over the (state, event) pairs they
        make: linear in the model's size (a conditional pair also costs 2**flags for its
        deciding flags, computed once per distinct set of conditions, see :func:`_decide`).
        Each step looks at the time budget (``_deadline``), the long loops every ``EVERY``
        items.
        """
        doing = f"building the tables of {self.name!r}"
        check(doing)
        states = self.states
        self._state_names = {str(s): s for s in states}
        self._event_names = {str(e): e for e in self.events}
        self._flag_names = frozenset(f.name for f in self.flags)
        self._defaults = defaults = {f.name: f.default for f in self.flags if f.default is not None}
        # per (state, event): the transitions' options; the events and targets of each state
        # in the order the transitions name them (dicts as ordered sets)
        cands: dict[tuple[str, str], list[tuple[Condition, S]]] = {}
        selfloops: set[tuple[str, str]] = set()
        events_by_state: dict[str, dict[E, None]] = {str(s): {} for s in states}
        targets_by_state: dict[str, dict[S, None]] = {str(s): {} for s in states}
        for t in paced(self.transitions, doing):
            event, target = t.event, t.target
            option = (t.when, target)
            for s in t.sources:
                key = (s, event)
                options = cands.get(key)
                if options is None:
                    cands[key] = [option]
                else:
                    options.append(option)
                if s == target:
                    selfloops.add(key)
                events_by_state[s][event] = None
                targets_by_state[s][target] = None
        self._selfloops = frozenset(selfloops)
        check(doing)
        uncond_next, cond_next = self._split_tables(cands, events_by_state)
        # Two lookups answer next(): fast[state][event] is a target or, for a conditional
        # pair, a _Decided table of its deciding flags (_decide). Keyed by plain str, never
        # a StrEnum member: a dict of exact str keys takes CPython's str-only lookup.
        fast: dict[str, dict[str, Any]] = {str(s): {} for s in states}
        wide: set[tuple[str, str]] = set()  # conditional pairs left to the slow path
        for (src, ev), to in uncond_next.items():
            fast[src][str(ev)] = to
        patterns: dict[tuple[Condition, ...], _Pattern | None] = {}
        for (src, ev), choices in paced(cond_next.items(), doing):
            decided = _decide(choices, defaults, patterns)
            if decided is None:
                wide.add((src, ev))
            else:
                fast[src][str(ev)] = decided
        self._fast = fast
        self._wide = frozenset(wide)
        self._events_by_state = {k: tuple(v) for k, v in events_by_state.items()}
        self._targets_by_state = {k: tuple(v) for k, v in targets_by_state.items()}
        check(doing)
        self._refusals = self._refusal_table()
        self._label = self.name
        self._event_strs = {str(e): str(e) for e in self.events}

    def _split_tables(
        self,
        cands: dict[tuple[str, str], list[tuple[Condition, S]]],
        events_by_state: dict[str, dict[E, None]],
    ) -> tuple[dict[tuple[str, str], S], dict[tuple[str, str], tuple[tuple[Condition, S], ...]]]:
        """Set the transitions' tables (:meth:`targets`, :meth:`allowed_events`) and the
        no-ops' (adding their events to ``events_by_state``); next()'s options, split.

        next() answers the state itself for a no-op: the same options with the no-ops as
        moves to their source (noop_unchanged keeps them apart from the transitions).
        """
        noop_conds: dict[tuple[str, str], list[Condition]] = {}
        noop_moves: dict[tuple[str, str], list[tuple[Condition, S]]] = {}
        for n in self.noops:
            for s in n.sources:
                key = (s, n.event)
                noop_conds.setdefault(key, []).append(n.when)
                noop_moves.setdefault(key, []).append((n.when, s))
                events_by_state[s][n.event] = None
        self._noop_conds = {k: tuple(v) for k, v in noop_conds.items()}
        self._uncond, self._cond = _split(cands)
        if not noop_moves:
            self._cond_next = self._cond
            return self._uncond, self._cond
        with_noops = {k: v + noop_moves.get(k, []) for k, v in cands.items()}
        for k, v in noop_moves.items():
            with_noops.setdefault(k, v)
        uncond_next, self._cond_next = _split(with_noops)
        return uncond_next, self._cond_next

    def _refusal_table(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        """Per state, the answer to an illegal event without flags: ``(the state's name, the
        events allowed instead)``, as :meth:`allowed_events` answers them."""
        uncond, cond, noop_conds, defaults = (
            self._uncond,
            self._cond,
            self._noop_conds,
            self._defaults,
        )
        refusals: dict[str, tuple[str, tuple[str, ...]]] = {}
        for name, events in self._events_by_state.items():
            if not defaults:  # every condition can hold when no flag is given
                refusals[name] = (name, tuple(map(str, events)))
                continue
            allowed = []
            for ev in events:
                key = (name, ev)
                if (
                    key in uncond
                    or any(_possible(when, defaults) for when, _ in cond.get(key, ()))
                    or any(_possible(when, defaults) for when in noop_conds.get(key, ()))
                ):
                    allowed.append(str(ev))
            refusals[name] = (name, tuple(allowed))
        return refusals

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
        """Raise :class:`UnknownFlag` if ``flags`` names a flag not declared (of ``kind``).

        :class:`InvalidArgument` if ``flags`` is not a mapping, :class:`InvalidFlagValue`
        if a value is not a bool.
        """
        if not isinstance(flags, Mapping):
            raise InvalidArgument(
                _PARAMETER.get(kind, "flags"),
                flags,
                "a mapping of flag names to True or False, e.g. {'name': True}",
            )
        allowed = (
            self._flag_names
            if kind is None
            else frozenset(f.name for f in self.flags if f.kind is kind)
        )
        for name, value in flags.items():
            if name not in allowed:
                other = next((f for f in self.flags if f.name == name), None)
                raise UnknownFlag(
                    name,
                    sorted(allowed),
                    lifecycle=self.name,
                    declared_as=None if other is None else str(other.kind),
                    wanted=None if kind is None else str(kind),
                )
            if not isinstance(value, bool):
                raise InvalidFlagValue(name, value)

    if TYPE_CHECKING:  # what callers may pass; Answers.next answers (its docstring)

        def next(
            self, state: S | str, event: E | str, flags: Mapping[str, bool] | None = None
        ) -> S:
            raise NotImplementedError

    def _unhashable(self, state: object, event: object) -> NoReturn:
        try:
            hash(state)
        except TypeError:
            raise UnknownState(state, self._state_names, lifecycle=self.name) from None
        raise UnknownEvent(event, self._event_names, lifecycle=self.name) from None

    def _next_given(
        self,
        state: S | str,
        event: E | str,
        flags: Mapping[str, bool] | None,
        found: Decided,
    ) -> S:
        """:meth:`next` for a conditional pair, given other flags than exactly its deciding
        ones (more, fewer, not a dict) or values the table does not decide: defaults filled
        in, names checked; whatever the table does not answer goes to :meth:`_next_slow`."""
        given: Any = flags  # callers may pass anything
        if given is None:
            given = {}
        elif given.__class__ is not dict:
            if not isinstance(given, Mapping):
                return self._next_slow(state, event, flags)  # InvalidArgument
            given = dict(given)  # pick reads a dict
        names, by_bits = found[2], found[3]
        target: S | None = pick(names, by_bits, given)
        if target is None and self._defaults:  # a deciding fact left out that has a default
            target = pick(names, by_bits, {**self._defaults, **given})
        if target is None:  # missing, not a bool, or illegal
            return self._next_slow(state, event, flags)
        if not self._flag_names.issuperset(given):
            self.check_flags(given)  # UnknownFlag
        return target

    def _next_slow(self, state: S | str, event: E | str, flags: Mapping[str, bool] | None) -> S:
        if state not in self._state_names:
            raise UnknownState(state, self._state_names, lifecycle=self.name)
        if event not in self._event_names:
            raise UnknownEvent(event, self._event_names, lifecycle=self.name)
        flags = flags or {}
        if flags:
            self.check_flags(flags)
        if self._defaults:
            flags = {**self._defaults, **flags}
        options = self._cond_next.get((str(state), str(event)), ())
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
                raise MissingFlag(missing, state=str(state), event=str(event), parameter="flags")
        outcome = outcomes.pop() if outcomes else None
        if outcome is not None:
            return outcome
        raise IllegalTransition(
            str(state), str(event), self.allowed_events(state, flags), lifecycle=self.name
        )

    def _possible(self, when: Condition, flags: Mapping[str, bool]) -> bool:
        return _possible(when, flags)

    def _checked(
        self, state: S | str, flags: Mapping[str, bool] | None
    ) -> tuple[S, Mapping[str, bool]]:
        """``state`` as declared and ``flags`` (checked when given) for a per-state question."""
        s = self.state(state)
        flags = flags or {}
        if flags:
            self.check_flags(flags)
        if self._defaults:
            flags = {**self._defaults, **flags}
        return s, flags

    def allowed_events(
        self, state: S | str, flags: Mapping[str, bool] | None = None
    ) -> tuple[E, ...]:
        """Events enabled in ``state``. Flags left out of ``flags`` may take any value."""
        s, flags = self._checked(state, flags)
        out: list[E] = []
        for ev in self._events_by_state[s]:
            key = (str(s), str(ev))
            if (
                key in self._uncond
                or any(self._possible(when, flags) for when, _ in self._cond.get(key, ()))
                or any(self._possible(when, flags) for when in self._noop_conds.get(key, ()))
            ):
                out.append(ev)
        return tuple(out)

    def can(self, state: S | str, event: E | str, flags: Mapping[str, bool] | None = None) -> bool:
        """Whether ``event`` is enabled in ``state`` (flags left out may take any value)."""
        self.event(event)
        return event in self.allowed_events(state, flags)

    def targets(self, state: S | str, flags: Mapping[str, bool] | None = None) -> tuple[S, ...]:
        """States reachable from ``state`` in one transition (flags left out may take any value)."""
        s, flags = self._checked(state, flags)
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

    def is_noop(
        self, state: S | str, event: E | str, flags: Mapping[str, bool] | None = None
    ) -> bool:
        """Whether ``event`` in ``state`` is accepted *without a change* (a :class:`NoOp`).

        ``False`` when it moves the state; raises what :meth:`next` raises when it is not
        accepted at all (:class:`IllegalTransition`) or the answer needs a missing flag.
        """
        if self.next(state, event, flags) != state:
            return False
        key = (str(state), str(event))
        conds = self._noop_conds.get(key)
        if conds is None:
            return False
        if key not in self._selfloops:
            return True  # next() answered the state, and only a no-op answers that here
        full = {**self._defaults, **(flags or {})}
        return any(all(full.get(n) == v for n, v in when) for when in conds)

    def edge_allowed(
        self, source: S | str, target: S | str, flags: Mapping[str, bool] | None = None
    ) -> bool:
        """Whether some event moves ``source`` to ``target`` (for code that sets status)."""
        self.state(target)
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

    def successors(self, state: S | str, config: Mapping[str, bool]) -> tuple[tuple[E, S], ...]:
        """``(event, target)`` pairs enabled from ``state`` under a complete config, any facts."""
        s = self.state(state)
        out: dict[tuple[E, S], None] = {}
        for t in self.transitions:
            if s in t.sources and self._possible(t.when, config):
                out.setdefault((t.event, t.target), None)
        return tuple(out)


#: what a conditional pair's table depends on besides its targets (as in
#: :data:`~._answer.Decided`): the count of deciding flags and of those without a default,
#: the names of each, and for each setting of their bits 1 + the index of the option it
#: chooses (0: none)
_Pattern = tuple[int, int, tuple[str, ...], tuple[int, ...], tuple[str, ...], tuple[int, ...]]
_UNSEEN: Any = object()  # a pattern not computed yet (None: too many flags)


def _possible(when: Condition, flags: Mapping[str, bool]) -> bool:
    """Whether ``when`` can hold under ``flags`` (a flag left out may take any value)."""
    return all(flags.get(n, v) == v for n, v in when)


def _pattern(whens: tuple[Condition, ...], defaults: Mapping[str, bool]) -> _Pattern | None:
    names = tuple(sorted({n for when in whens for n, _ in when}))
    if len(names) > _MAX_FAST_FLAGS:
        return None
    hits = []
    for bits in range(1 << len(names)):
        setting = {n: bool(bits >> i & 1) for i, n in enumerate(names)}
        hits.append(
            next((i for i, w in enumerate(whens, 1) if all(setting[n] == v for n, v in w)), 0)
        )
    required = tuple(n for n in names if n not in defaults)
    if not 0 < len(required) < len(names):
        return (len(names), -1, names, tuple(hits), (), ())
    place = {n: i for i, n in enumerate(names)}
    fixed = sum(1 << place[n] for n in names if n not in required and defaults[n])
    rhits = []
    for rbits in range(1 << len(required)):
        full = fixed | sum(1 << place[n] for i, n in enumerate(required) if rbits >> i & 1)
        rhits.append(hits[full])
    return (len(names), len(required), names, tuple(hits), required, tuple(rhits))


def _nested(by_bits: tuple[Any, ...], count: int, bits: int = 0, level: int = 0) -> Any:
    """``by_bits`` (indexed by the settings' bits, bit i: the i-th flag is True) as nested
    pairs ``(if False, if True)``, one level a flag in order: ``table[v0][v1]...``."""
    if level == count:
        return by_bits[bits]
    return (
        _nested(by_bits, count, bits, level + 1),
        _nested(by_bits, count, bits | 1 << level, level + 1),
    )


def _decide(
    choices: tuple[tuple[Condition, S], ...],
    defaults: Mapping[str, bool],
    patterns: dict[tuple[Condition, ...], _Pattern | None],
) -> Decided | None:
    """The :data:`~._answer.Decided` table of a conditional (state, event) pair; None if it
    tests more than :data:`_MAX_FAST_FLAGS` flags. ``patterns`` caches the part that depends
    on the conditions alone (2**flags settings, at most 1024), shared by every pair that has
    them."""
    if len(choices) == 1:  # the common case: one conditional option
        ((when, target),) = choices
        whens: tuple[Condition, ...] = (when,)
        chosen: tuple[S | None, ...] = (None, target)
    else:
        whens = tuple([when for when, _ in choices])
        chosen = (None, *[target for _, target in choices])
    pattern = patterns.get(whens, _UNSEEN)
    if pattern is _UNSEEN:
        pattern = patterns[whens] = _pattern(whens, defaults)
    if pattern is None:
        return None
    count, rcount, names, hits, rnames, rhits = pattern
    by_bits = tuple(map(chosen.__getitem__, hits))
    rby_bits = tuple(map(chosen.__getitem__, rhits))
    return (
        count,
        rcount,
        names,
        by_bits,
        rnames,
        rby_bits,
        _nested(by_bits, count),
        _nested(rby_bits, len(rnames)) if rnames else (),
    )


def _split(
    cands: Mapping[tuple[str, str], list[tuple[Condition, S]]],
) -> tuple[dict[tuple[str, str], S], dict[tuple[str, str], tuple[tuple[Condition, S], ...]]]:
    """The unconditional answers, and the options of every key that has none."""
    uncond: dict[tuple[str, str], S] = {}
    cond: dict[tuple[str, str], tuple[tuple[Condition, S], ...]] = {}
    for key, options in cands.items():
        for when, target in options:
            if not when:
                uncond[key] = target  # the first unconditional option
                break
        else:
            cond[key] = tuple(options)
    return uncond, cond
