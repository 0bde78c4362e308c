"""A hypothesis strategy for random lifecycles, defective ones included (built unvalidated)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from statusguard import Flag, FlagKind, Lifecycle, NoOp, Transition
from statusguard.lifecycle import Invariant
from statusguard.results import Counterexample
from statusguard.testing import invariants


@st.composite
def any_lifecycles(
    draw: st.DrawFn, max_states: int = 7, kinds: Sequence[type[Invariant]] | None = None
) -> Lifecycle[Any, Any]:
    """Random small lifecycles: dead ends, traps, nondeterminism and terminal exits all allowed.

    Their invariants are of ``kinds`` (default: every registered kind).
    """
    n = draw(st.integers(1, max_states))
    states = [f"s{i}" for i in range(n)]
    events = [f"e{i}" for i in range(draw(st.integers(1, 4)))]
    config = [f"c{i}" for i in range(draw(st.integers(0, 2)))]
    facts = [f"f{i}" for i in range(draw(st.integers(0, 2)))]
    flags = [Flag(c, FlagKind.CONFIG) for c in config] + [Flag(f, FlagKind.FACT) for f in facts]
    terminal = draw(st.lists(st.sampled_from(states), unique=True, max_size=2))
    state = st.sampled_from(states)
    when = (
        st.dictionaries(st.sampled_from(config + facts), st.booleans(), max_size=2)
        if (config or facts)
        else st.just({})
    )
    transitions = draw(
        st.lists(
            st.builds(
                Transition,
                st.sampled_from(events),
                st.lists(state, min_size=1, max_size=3, unique=True),
                state,
                when,
            ),
            max_size=3 * n,
        )
    )
    noops = draw(
        st.lists(
            st.builds(
                NoOp,
                st.sampled_from(events),
                st.lists(state, min_size=1, max_size=2, unique=True),
                when,
            ),
            max_size=2,
        )
    )
    invariant_list = draw(invariants(states, kinds=kinds))
    return Lifecycle._unchecked(
        "random",
        states=states,
        initial=draw(state),
        terminal=terminal,
        events=events,
        flags=flags,
        transitions=transitions,
        noops=noops,
        invariants=invariant_list,
    )


def replay(lc: Lifecycle[Any, Any], cex: Counterexample, *, exact: bool) -> None:
    """Every step of ``cex`` is a transition of ``lc`` under its config and facts."""
    trace = cex.trace
    assert trace[0].state == str(lc.initial)
    for step, nxt in itertools.pairwise(trace):
        assert step.event is not None
        flags = {**cex.config, **step.facts}
        assert set(flags) == {f.name for f in lc.flags}
        if exact:
            assert str(lc.next(step.state, step.event, flags)) == nxt.state
        else:  # nondeterministic models: the step must be one of the enabled targets
            targets = {
                str(t.target)
                for t in lc.transitions
                if t.event == step.event and step.state in t.sources and t.enabled(flags)
            }
            assert nxt.state in targets
    last = trace[-1]
    if last.event is not None:
        # Only a ``deterministic`` counterexample ends on an event: the one that enables two
        # different targets from the last state under the config and the facts it records.
        flags = {**cex.config, **last.facts}
        assert set(flags) == {f.name for f in lc.flags}
        targets = {
            str(t.target)
            for t in lc.transitions
            if t.event == last.event and last.state in t.sources and t.enabled(flags)
        }
        assert len(targets) >= 2, (last, targets)
