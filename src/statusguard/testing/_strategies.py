"""Hypothesis strategies for lifecycles and the event traces they accept.

Everything here imports hypothesis; ``import statusguard`` never does.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from hypothesis import strategies as st

from statusguard.lifecycle._invariants import INVARIANT_KINDS, Invariant
from statusguard.lifecycle._model import Lifecycle
from statusguard.lifecycle._parts import Condition, Flag, FlagKind, NoOp, Transition

__all__ = [
    "Step",
    "Trace",
    "arbitrary_traces",
    "configs",
    "enabled_events",
    "events",
    "facts",
    "invariants",
    "legal_traces",
    "lifecycles",
    "names",
    "states",
]

S = TypeVar("S", bound=str)
E = TypeVar("E", bound=str)

Step = tuple[E, dict[str, bool]]
"""One step of a trace: an event and the fact flags that hold when it happens."""


class Trace(list[tuple[E, dict[str, bool]]]):
    """A list of ``(event, facts)`` steps, plus the ``config`` they were drawn under.

    ``facts`` always assigns every fact flag of the lifecycle; ``config`` every
    config flag. Replay with ``lc.next(state, event, {**trace.config, **facts})``.
    """

    config: dict[str, bool]

    def __init__(self, steps: Sequence[tuple[E, dict[str, bool]]], config: Mapping[str, bool]):
        super().__init__(steps)
        self.config = dict(config)

    def __repr__(self) -> str:
        return f"Trace({list(self)!r}, config={self.config!r})"


_FIRST = string.ascii_lowercase
_REST = string.ascii_lowercase + string.digits + "_"


def names(max_size: int = 10) -> st.SearchStrategy[str]:
    """Lower-case identifiers (``[a-z][a-z0-9_]*``): safe as SQL values and JSON keys."""
    return st.builds(
        str.__add__, st.sampled_from(_FIRST), st.text(alphabet=_REST, max_size=max_size - 1)
    )


def _compatible(a: Condition, b: Condition) -> bool:
    da = dict(a)
    return all(da.get(n, v) == v for n, v in b)


@st.composite
def _lifecycle(
    draw: st.DrawFn,
    *,
    name_strategy: st.SearchStrategy[str],
    max_states: int,
    max_events: int,
    max_flags: int,
    max_transitions: int,
    max_invariants: int,
) -> Lifecycle[str, str]:
    state_names = draw(st.lists(name_strategy, min_size=1, max_size=max_states, unique=True))
    event_names = draw(st.lists(name_strategy, min_size=1, max_size=max_events, unique=True))
    flag_names = draw(st.lists(name_strategy, max_size=max_flags, unique=True))
    flag_list = [
        Flag(n, draw(st.sampled_from([FlagKind.CONFIG, FlagKind.FACT]))) for n in flag_names
    ]
    initial = draw(st.sampled_from(state_names))
    terminal = draw(st.lists(st.sampled_from(state_names), unique=True, max_size=2))
    open_states = [s for s in state_names if s not in terminal]

    def condition() -> dict[str, bool]:
        chosen = draw(st.lists(st.sampled_from(flag_names), unique=True)) if flag_names else []
        return {n: draw(st.booleans()) for n in chosen}

    accepted: list[Transition[str, str]] = []
    for _ in range(draw(st.integers(0, max_transitions)) if open_states else 0):
        conditional = [t for t in accepted if t.when]
        if bool(conditional) and draw(st.booleans()):
            # A sibling: same event and sources, one literal flipped, any target.
            # This is how exclusive conditions with different targets arise.
            base = draw(st.sampled_from(conditional))
            flip = draw(st.sampled_from([n for n, _ in base.when]))
            when = {n: (not v if n == flip else v) for n, v in base.when}
            when.update({n: v for n, v in condition().items() if n not in when})
            event, sources = base.event, list(base.sources)
        else:
            event = draw(st.sampled_from(event_names))
            sources = draw(st.lists(st.sampled_from(open_states), min_size=1, unique=True))
            when = condition()
        target = draw(st.sampled_from(state_names))
        candidate: Transition[str, str] = Transition(event, sources, target, when)
        # Keep it deterministic: drop sources where it could clash with an earlier transition.
        clash = {
            s
            for t in accepted
            if t.event == event and t.target != target and _compatible(t.when, candidate.when)
            for s in t.sources
        }
        kept = [s for s in sources if s not in clash]
        if kept:
            accepted.append(Transition(event, kept, target, when))

    # No-ops ("accepted, no change"), kept only where no transition of their event could
    # also fire (the noop_unchanged rule the constructor enforces).
    noops: list[NoOp[str, str]] = []
    for _ in range(draw(st.integers(0, 2))):
        event = draw(st.sampled_from(event_names))
        sources = draw(st.lists(st.sampled_from(state_names), min_size=1, max_size=2, unique=True))
        when = condition()
        clash = {
            s
            for t in accepted
            if t.event == event and _compatible(t.when, tuple(sorted(when.items())))
            for s in t.sources
        }
        kept = [s for s in sources if s not in clash]
        if kept:
            noops.append(NoOp(event, kept, when))

    invariant_list = draw(invariants(state_names, max_size=max_invariants))

    return Lifecycle(
        draw(name_strategy),
        states=state_names,
        initial=initial,
        terminal=terminal,
        events=event_names,
        flags=flag_list,
        transitions=accepted,
        noops=noops,
        invariants=invariant_list,
    )


@st.composite
def _invariant(
    draw: st.DrawFn, kind: type[Invariant], name: str, states: Sequence[str]
) -> Invariant | None:
    pick = st.sampled_from(list(states))
    values = {
        f.attr: draw(st.lists(pick, min_size=1, unique=True) if f.many else pick)
        for f in kind.json_fields()
    }
    inv = kind(name=name, **values)
    return None if inv.problem() is not None else inv


@st.composite
def _invariants(
    draw: st.DrawFn, states: Sequence[str], max_size: int, kinds: Sequence[type[Invariant]]
) -> list[Invariant]:
    out: list[Invariant] = []
    for i in range(draw(st.integers(0, max_size))):
        inv = draw(_invariant(draw(st.sampled_from(kinds)), f"inv-{i}", states))
        if inv is not None:  # the kind's own rules refused this draw (``Invariant.problem``)
            out.append(inv)
    return out


def invariants(
    states: Sequence[str],
    *,
    max_size: int = 4,
    kinds: Sequence[type[Invariant]] | None = None,
) -> st.SearchStrategy[list[Invariant]]:
    """Well-formed invariants over ``states`` (named ``inv-0``, ``inv-1``, ...).

    Each is of a kind drawn from ``kinds`` (default: every registered kind), its state
    fields drawn from ``states``; draws the kind's own rules refuse are left out. They
    may or may not hold: proving them is the engine's job.
    """
    chosen = list(INVARIANT_KINDS.values()) if kinds is None else list(kinds)
    return _invariants(list(states), max_size, chosen)


def lifecycles(
    *,
    names: st.SearchStrategy[str] | None = None,
    max_states: int = 6,
    max_events: int = 5,
    max_flags: int = 3,
    max_transitions: int = 12,
    max_invariants: int = 4,
) -> st.SearchStrategy[Lifecycle[str, str]]:
    """Random structurally valid lifecycles.

    They have config and fact flags, conditional transitions (including pairs with
    exclusive conditions and different targets), several sources per transition,
    terminal states and invariants of every kind. Invariants are well formed but
    may or may not hold: proving them is the engine's job. ``names`` draws state,
    event, flag and lifecycle names (default: :func:`names`).
    """
    return _lifecycle(
        name_strategy=_names_default() if names is None else names,
        max_states=max_states,
        max_events=max_events,
        max_flags=max_flags,
        max_transitions=max_transitions,
        max_invariants=max_invariants,
    )


def _names_default() -> st.SearchStrategy[str]:
    return names()


def states(lc: Lifecycle[S, E]) -> st.SearchStrategy[S]:
    """A declared state of ``lc``."""
    return st.sampled_from(lc.states)


def events(lc: Lifecycle[S, E]) -> st.SearchStrategy[E]:
    """A declared event of ``lc``."""
    return st.sampled_from(lc.events)


def configs(lc: Lifecycle[Any, Any]) -> st.SearchStrategy[dict[str, bool]]:
    """A complete assignment of ``lc``'s config flags."""
    return st.fixed_dictionaries({n: st.booleans() for n in lc.config_flags})


def facts(lc: Lifecycle[Any, Any]) -> st.SearchStrategy[dict[str, bool]]:
    """A complete assignment of ``lc``'s fact flags."""
    return st.fixed_dictionaries({n: fact_value(lc, n) for n in lc.fact_flags})


def fact_value(lc: Lifecycle[Any, Any], name: str) -> st.SearchStrategy[bool]:
    """Either value of fact flag ``name``, shrinking toward its default (else toward false)."""
    if lc.fact_defaults.get(name) is True:
        return st.booleans().map(lambda b: not b)
    return st.booleans()


def _complete_config(lc: Lifecycle[Any, Any], config: Mapping[str, bool]) -> dict[str, bool]:
    return lc.check_config(config)


def _options(
    lc: Lifecycle[S, E], state: str, config: Mapping[str, bool]
) -> list[tuple[E, dict[str, bool]]]:
    """``(event, required fact literals)`` for each transition enabled in ``state`` under
    ``config`` for some facts."""
    out: list[tuple[E, dict[str, bool]]] = []
    for t in lc.transitions:
        if state in t.sources and all(config.get(n, v) == v for n, v in t.when):
            option = (t.event, {n: v for n, v in t.when if n not in config})
            if option not in out:
                out.append(option)
    return out


def _step_from(
    draw: st.DrawFn, lc: Lifecycle[S, E], option: tuple[E, dict[str, bool]]
) -> tuple[E, dict[str, bool]]:
    event, required = option
    free = draw(facts(lc))
    return event, {**free, **required}


@st.composite
def _enabled(
    draw: st.DrawFn, lc: Lifecycle[S, E], state: str, config: dict[str, bool]
) -> tuple[E, dict[str, bool]]:
    options = _options(lc, state, config)
    return _step_from(draw, lc, draw(st.sampled_from(options)))


def enabled_events(
    lc: Lifecycle[S, E], state: S | str, config: Mapping[str, bool] | None = None
) -> st.SearchStrategy[tuple[E, dict[str, bool]]]:
    """An ``(event, facts)`` step that is legal in ``state`` under the complete ``config``.

    ``facts`` assigns every fact flag, chosen so that ``lc.next(state, event,
    {**config, **facts})`` succeeds. Gives ``st.nothing()`` when no event is enabled
    there (check ``lc.successors(state, config)`` first).
    """
    cfg = _complete_config(lc, config or {})
    s = lc.state(str(state))
    if not _options(lc, s, cfg):
        return st.nothing()
    return _enabled(lc, s, cfg)


@st.composite
def _traces(
    draw: st.DrawFn,
    lc: Lifecycle[S, E],
    config: Mapping[str, bool] | None,
    max_len: int,
    legal_only: bool,
) -> Trace[E]:
    cfg = _complete_config(lc, config) if config is not None else draw(configs(lc))
    length = draw(st.integers(0, max_len))
    state: S = lc.initial
    steps: list[tuple[E, dict[str, bool]]] = []
    while len(steps) < length:
        options = _options(lc, state, cfg)
        if legal_only or (options and draw(st.booleans())):
            if not options:
                break
            step = _step_from(draw, lc, draw(st.sampled_from(options)))
        else:
            step = (draw(events(lc)), draw(facts(lc)))
        steps.append(step)
        event, fs = step
        if legal_only or lc.can(state, event, {**cfg, **fs}):
            state = lc.next(state, event, {**cfg, **fs})
    return Trace(steps, cfg)


def legal_traces(
    lc: Lifecycle[S, E], config: Mapping[str, bool] | None = None, max_len: int = 20
) -> st.SearchStrategy[Trace[E]]:
    """Sequences of ``(event, facts)`` steps, each legal from the state the previous left.

    Starts in ``lc.initial``; stops early at a state with no enabled event. With
    ``config=None`` a complete config is drawn; it is on the result as ``.config``.
    """
    if max_len < 0:
        raise ValueError(f"max_len must be >= 0, got {max_len}")
    cfg = None if config is None else _complete_config(lc, config)
    return _traces(lc, cfg, max_len, legal_only=True)


def arbitrary_traces(
    lc: Lifecycle[S, E], config: Mapping[str, bool] | None = None, max_len: int = 20
) -> st.SearchStrategy[Trace[E]]:
    """Sequences of ``(event, facts)`` steps that may be illegal.

    About half the steps are legal from the state the legal steps so far lead to
    (illegal steps leave the state unchanged, as a guard would); the rest are any
    declared event with any facts. ``.config`` holds the config, as for
    :func:`legal_traces`.
    """
    if max_len < 0:
        raise ValueError(f"max_len must be >= 0, got {max_len}")
    cfg = None if config is None else _complete_config(lc, config)
    return _traces(lc, cfg, max_len, legal_only=False)
