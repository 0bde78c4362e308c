"""The public hypothesis strategies in statusguard.testing do what they promise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

import statusguard
from statusguard import Lifecycle
from statusguard.errors import MissingFlag, UnknownFlag
from statusguard.testing import (
    Trace,
    arbitrary_traces,
    configs,
    enabled_events,
    facts,
    legal_traces,
    lifecycles,
    states,
)

AnyLC = Lifecycle[Any, Any]
GLANCE_IMAGE: AnyLC = statusguard.load(
    Path(__file__).resolve().parents[2] / "model" / "glance_image.py"
)


def replay(lc: AnyLC, trace: Trace[Any]) -> list[bool]:
    """Which steps were legal; illegal steps leave the state unchanged."""
    state, legal = lc.initial, []
    for event, fs in trace:
        flags = {**trace.config, **fs}
        ok = lc.can(state, event, flags)
        legal.append(ok)
        if ok:
            state = lc.next(state, event, flags)
    return legal


@given(st.data())
def test_legal_traces_are_legal(data: st.DataObject) -> None:
    lc = data.draw(lifecycles())
    trace = data.draw(legal_traces(lc, max_len=8))
    assert len(trace) <= 8
    assert set(trace.config) == set(lc.config_flags)
    for _, fs in trace:
        assert set(fs) == set(lc.fact_flags)
    assert all(replay(lc, trace))


@given(st.data())
def test_legal_traces_under_a_given_config(data: st.DataObject) -> None:
    config = data.draw(configs(GLANCE_IMAGE))
    trace = data.draw(legal_traces(GLANCE_IMAGE, config, max_len=12))
    assert trace.config == config
    state = GLANCE_IMAGE.initial
    for event, fs in trace:
        state = GLANCE_IMAGE.next(state, event, {**config, **fs})
    if not config["delayed_delete"]:
        assert all(e != "scrub" for e, _ in trace)  # pending_delete is unreachable then


@given(st.data())
def test_enabled_events_are_enabled(data: st.DataObject) -> None:
    lc = data.draw(lifecycles())
    config = data.draw(configs(lc))
    state = data.draw(states(lc))
    if not lc.successors(state, config):
        return
    event, fs = data.draw(enabled_events(lc, state, config))
    target = lc.next(state, event, {**config, **fs})
    assert (event, target) in lc.successors(state, config)


@given(st.data())
def test_arbitrary_traces_replay(data: st.DataObject) -> None:
    lc = data.draw(lifecycles())
    trace = data.draw(arbitrary_traces(lc, max_len=10))
    assert all(e in lc.events for e, _ in trace)
    replay(lc, trace)


def test_arbitrary_traces_can_be_illegal_and_legal_traces_cannot() -> None:
    some_illegal = find(
        arbitrary_traces(GLANCE_IMAGE, {"delayed_delete": False}),
        lambda t: not all(replay(GLANCE_IMAGE, t)),
        settings=settings(database=None),
    )
    assert not all(replay(GLANCE_IMAGE, some_illegal))
    long_legal = find(
        legal_traces(GLANCE_IMAGE, {"delayed_delete": True}),
        lambda t: len(t) >= 5,
        settings=settings(database=None),
    )
    assert all(replay(GLANCE_IMAGE, long_legal))


def test_lifecycles_cover_the_interesting_shapes() -> None:
    seen = {"exclusive": 0, "both_kinds": 0, "multi_source": 0, "three_invariant_kinds": 0}

    @settings(max_examples=300, database=None)
    @given(lifecycles())
    def survey(lc: AnyLC) -> None:
        ts = lc.transitions
        if any(
            a.event == b.event
            and set(a.sources) & set(b.sources)
            and a.target != b.target
            and a.when
            and b.when
            for i, a in enumerate(ts)
            for b in ts[i + 1 :]
        ):
            seen["exclusive"] += 1
        seen["both_kinds"] += bool(lc.config_flags and lc.fact_flags)
        seen["multi_source"] += any(len(t.sources) > 1 for t in ts)
        seen["three_invariant_kinds"] += len({i.kind for i in lc.invariants}) >= 3

    survey()
    assert all(count > 0 for count in seen.values()), seen


def test_config_must_be_complete_and_known() -> None:
    with pytest.raises(MissingFlag, match="delayed_delete"):
        enabled_events(GLANCE_IMAGE, "active", {})
    with pytest.raises(UnknownFlag, match="has_locations"):
        legal_traces(GLANCE_IMAGE, {"delayed_delete": True, "has_locations": True})
    assert enabled_events(GLANCE_IMAGE, "deleted", {"delayed_delete": True}).is_empty
    with pytest.raises(ValueError, match="max_len"):
        legal_traces(GLANCE_IMAGE, max_len=-1)


@given(facts(GLANCE_IMAGE))
def test_facts_cover_fact_flags(fs: dict[str, bool]) -> None:
    assert set(fs) == {"formats_set", "has_locations", "import_locked", "protected"}


def test_facts_shrink_toward_their_defaults() -> None:
    """The simplest facts are the model's defaults (formats_set true: Glance's setter needs
    both formats, glance/domain/__init__.py:159-170), not all-false."""
    from hypothesis import find

    simplest = find(facts(GLANCE_IMAGE), lambda fs: True)
    assert simplest == {
        **dict.fromkeys(GLANCE_IMAGE.fact_flags, False),
        **GLANCE_IMAGE.fact_defaults,
    }
