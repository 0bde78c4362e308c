"""The bitset reachability ``diff`` relies on agrees with plain breadth-first search."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

import statusguard as sg
from statusguard.lifecycle._paths import (
    all_settings,
    bits_to_names,
    graph,
    reach_bits,
    reach_from,
    shortest_paths,
)


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


@given(lifecycles())
def test_shortest_walks_replay_and_the_oracle_agrees(lc: sg.Lifecycle[str, str]) -> None:
    """One BFS serves ``explain``/``diff`` and the oracle: its walks replay, and the
    oracle's reachable sets are the states the walks reach."""
    from statusguard.verify._oracle import reachable_sets

    walks = shortest_paths(lc, "s0", {})
    for goal, walk in walks.items():
        state = walk.start
        for hop in walk.hops:
            state = str(lc.next(state, hop.event, dict(hop.facts)))
        assert state == goal
    ((_, reached),) = reachable_sets(lc)
    assert reached == set(walks)


def test_all_settings_is_the_union_of_config_settings() -> None:
    def with_flags(*names: str) -> sg.Lifecycle[str, str]:
        return sg.Lifecycle(
            "f",
            states=["a", "b"],
            initial="a",
            transitions=[sg.Transition("go", "a", "b", when=dict.fromkeys(names, True))],
            flags=[sg.Flag(n, sg.FlagKind.CONFIG) for n in names],
        )

    one, two = with_flags("x"), with_flags("x", "y")
    assert all_settings(one) == list(one.config_settings())
    assert len(all_settings(one, two)) == 4
    assert {tuple(sorted(c.items())) for c in all_settings(two, one)} == {
        tuple(sorted(c.items())) for c in two.config_settings()
    }
    assert all_settings(two, fixed={"y": True}) == [c for c in two.config_settings() if c["y"]]
