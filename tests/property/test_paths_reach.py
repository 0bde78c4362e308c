"""The bitset reachability ``diff`` relies on agrees with plain breadth-first search."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

import statusguard as sg
from statusguard._paths import bits_to_names, graph, reach_bits, reach_from


@st.composite
def lifecycles(draw: st.DrawFn) -> sg.Lifecycle[str, str]:
    n = draw(st.integers(1, 12))
    states = [f"s{i}" for i in range(n)]
    events = ["a", "b", "c"]
    edges = draw(
        st.lists(
            st.tuples(st.sampled_from(states), st.sampled_from(events), st.sampled_from(states)),
            max_size=3 * n,
            unique_by=lambda e: (e[0], e[1]),
        )
    )
    return sg.Lifecycle(
        "random",
        states=states,
        initial="s0",
        events=events,
        transitions=[sg.Transition(e, s, t) for s, e, t in edges],
    )


@given(lifecycles())
def test_reach_bits_match_bfs(lc: sg.Lifecycle[str, str]) -> None:
    adj = graph(lc, {})
    names = [str(s) for s in lc.states]
    bits = reach_bits(adj, {n: i for i, n in enumerate(names)})
    for s in names:
        assert set(bits_to_names(bits[s], names)) == set(reach_from(lc, s, {}, adj=adj))
