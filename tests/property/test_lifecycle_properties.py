"""Properties of random valid lifecycles: JSON round trip, next agrees with the transition list."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statusguard import IllegalTransition, Lifecycle, Transition
from statusguard.errors import InvalidLifecycle, MissingFlag
from statusguard.testing import events, lifecycles, states

AnyLC = Lifecycle[Any, Any]

# Any non-blank text: the format must survive unicode names, not just identifiers.
UNICODE_NAMES = st.text(min_size=1, max_size=8).filter(lambda s: bool(s.strip()))


def enabled_targets(lc: AnyLC, state: str, event: str, flags: dict[str, bool]) -> set[str]:
    """The oracle: targets of transitions enabled under a complete flag setting, and the
    state itself where a no-op accepts the event (accepted, no change)."""
    moves = {
        t.target
        for t in lc.transitions
        if t.event == event and state in t.sources and all(flags[n] == v for n, v in t.when)
    }
    stays = {
        state
        for n in lc.noops
        if n.event == event and state in n.sources and all(flags[k] == v for k, v in n.when)
    }
    return moves | stays


@given(st.data())
def test_is_noop_agrees_with_the_noop_list(data: st.DataObject) -> None:
    lc = data.draw(lifecycles())
    state = data.draw(states(lc))
    event = data.draw(events(lc))
    flags = data.draw(complete_flags(lc))
    stays = any(
        n.event == event and state in n.sources and all(flags[k] == v for k, v in n.when)
        for n in lc.noops
    )
    if not enabled_targets(lc, state, event, flags):
        with pytest.raises(IllegalTransition):
            lc.is_noop(state, event, flags)
    else:
        assert lc.is_noop(state, event, flags) is stays
        if stays:
            assert lc.next(state, event, flags) == state


def complete_flags(lc: AnyLC) -> st.SearchStrategy[dict[str, bool]]:
    return st.fixed_dictionaries({f.name: st.booleans() for f in lc.flags})


@given(lifecycles())
def test_json_round_trip(lc: AnyLC) -> None:
    doc = lc.to_json()
    back = Lifecycle.from_json(doc)
    assert back == lc
    assert back.to_json() == doc
    assert back.fingerprint == lc.fingerprint
    assert Lifecycle.from_json(lc.canonical_json()).canonical_json() == lc.canonical_json()


@given(lifecycles(names=UNICODE_NAMES))
def test_json_round_trip_unicode_names(lc: AnyLC) -> None:
    text = lc.canonical_json()
    back = Lifecycle.from_json(text)
    assert back == lc
    assert back.canonical_json() == text


@given(st.data())
def test_next_agrees_with_transition_list(data: st.DataObject) -> None:
    lc = data.draw(lifecycles())
    state = data.draw(states(lc))
    event = data.draw(events(lc))
    flags = data.draw(complete_flags(lc))
    want = enabled_targets(lc, state, event, flags)
    assert len(want) <= 1
    if want:
        assert lc.next(state, event, flags) == want.pop()
        assert lc.can(state, event, flags)
        assert event in lc.allowed_events(state, flags)
    else:
        with pytest.raises(IllegalTransition) as info:
            lc.next(state, event, flags)
        assert info.value.allowed == tuple(e for e in lc.allowed_events(state, flags))
        assert set(info.value.allowed) == {
            e for e in lc.events if enabled_targets(lc, state, e, flags)
        }
        assert not lc.can(state, event, flags)


@given(st.data())
def test_next_with_partial_flags(data: st.DataObject) -> None:
    lc = data.draw(lifecycles())
    state = data.draw(states(lc))
    event = data.draw(events(lc))
    given_names = (
        data.draw(st.lists(st.sampled_from([f.name for f in lc.flags]), unique=True))
        if lc.flags
        else []
    )
    flags = {n: data.draw(st.booleans()) for n in given_names}
    free = [f.name for f in lc.flags if f.name not in flags]
    outcomes = set()
    for bits in itertools.product([False, True], repeat=len(free)):
        full = {**flags, **dict(zip(free, bits, strict=True))}
        outcomes.add(frozenset(enabled_targets(lc, state, event, full)))
    if len(outcomes) > 1:
        with pytest.raises(MissingFlag) as info:
            lc.next(state, event, flags)
        assert set(info.value.missing) <= set(free)
        assert info.value.missing
    elif outcomes == {frozenset()}:
        with pytest.raises(IllegalTransition):
            lc.next(state, event, flags)
    else:
        (only,) = outcomes
        assert {lc.next(state, event, flags)} == only
    # allowed_events: possible under some completion of the missing flags.
    possible = any(frozenset() != o for o in outcomes)
    assert (event in lc.allowed_events(state, flags)) is possible


@given(lifecycles())
def test_edges_and_iteration_match_transitions(lc: AnyLC) -> None:
    triples = {(s, t.event, t.target) for t in lc.transitions for s in t.sources}
    assert set(lc) == triples
    assert len(lc) == len(triples)
    assert lc.edges() == {(s, t) for s, _, t in triples}
    for state in lc.states:
        assert set(lc.targets(state)) == {t for s, _, t in triples if s == state}
        for target in lc.states:
            assert lc.edge_allowed(state, target) is ((state, target) in lc.edges())


@given(st.data())
def test_successors_match_transitions(data: st.DataObject) -> None:
    lc = data.draw(lifecycles())
    state = data.draw(states(lc))
    config = data.draw(st.fixed_dictionaries({n: st.booleans() for n in lc.config_flags}))
    want = {
        (t.event, t.target)
        for t in lc.transitions
        if state in t.sources and all(config.get(n, v) == v for n, v in t.when)
    }
    got = lc.successors(state, config)
    assert set(got) == want
    assert len(got) == len(want)


@given(st.data())
def test_a_conflicting_transition_is_rejected(data: st.DataObject) -> None:
    """Validation can fail: copying a transition with another target breaks determinism."""
    lc = data.draw(lifecycles().filter(lambda x: len(x.transitions) > 0 and len(x.states) > 1))
    victim = data.draw(st.sampled_from(lc.transitions))
    other = data.draw(st.sampled_from([s for s in lc.states if s != victim.target]))
    clash = Transition(victim.event, victim.sources, other, victim.when)
    with pytest.raises(InvalidLifecycle, match="nondeterministic"):
        Lifecycle(
            lc.name,
            states=lc.states,
            initial=lc.initial,
            terminal=lc.terminal,
            events=lc.events,
            flags=lc.flags,
            transitions=[*lc.transitions, clash],
            invariants=lc.invariants,
        )
