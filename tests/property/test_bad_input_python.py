"""Python-built lifecycles with bad parts: every one is refused with ``InvalidLifecycle``.

The constructor is the boundary for models written in Python. Parts are drawn from a small
vocabulary so that many combinations are nearly right (a dangling target, a transition out
of a terminal state, two targets for one event, an invariant naming a missing state), plus
outright wrong values (empty, blank, non-string names, non-Transition objects).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statusguard import Flag, FlagKind, Lifecycle, Transition
from statusguard.errors import InvalidLifecycle
from statusguard.lifecycle import Absorbing, Closed, Never, OnlyThrough, Unreachable
from tests.property._bad_input import Tally, assert_sound, budget, check_message, run_boundary

VOCAB = ["a", "b", "c", "d"]
bad_names: st.SearchStrategy[Any] = st.sampled_from(["", "  ", "\n", None, 3, 2.5, b"a"])
names: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(VOCAB), st.sampled_from(VOCAB), bad_names, st.text(max_size=4)
)
flag_names = st.sampled_from(["f", "g", "h"]) | names
whens = st.dictionaries(flag_names, st.booleans(), max_size=2)

transitions: st.SearchStrategy[Any] = st.one_of(
    st.builds(
        Transition,
        names,
        st.one_of(names, st.lists(names, max_size=3)),
        names,
        whens,
    ),
    st.sampled_from(["a->b", None, ("go", "a", "b"), 7]),
)
flags: st.SearchStrategy[Any] = st.one_of(
    st.builds(Flag, flag_names, st.sampled_from(list(FlagKind))),
    flag_names,
)
invariants: st.SearchStrategy[Any] = st.one_of(
    st.builds(Absorbing, names, names),
    st.builds(Unreachable, names, names, names),
    st.builds(Never, names, names, names),
    st.builds(Closed, names, st.lists(names, max_size=3)),
    st.builds(OnlyThrough, names, names, st.lists(names, max_size=2)),
    st.sampled_from(["deleted-is-final", None]),
)
kwargs = st.fixed_dictionaries(
    {
        "name": st.one_of(st.just("m"), names),
        "states": st.lists(names, max_size=5),
        "initial": names,
        "terminal": st.lists(names, max_size=2),
        "transitions": st.lists(transitions, max_size=6),
        "events": st.none() | st.lists(names, max_size=4),
        "flags": st.lists(flags, max_size=3),
        "invariants": st.lists(invariants, max_size=2),
    }
)


def _case(kw: dict[str, Any]) -> str:
    name = kw.pop("name")
    try:
        lc = Lifecycle(name, **kw)
    except InvalidLifecycle as exc:
        return check_message(exc, "invalid ")
    assert_sound(lc)
    return "accepted"


def _boundary(request: pytest.FixtureRequest, n: int) -> None:
    tally = Tally("Python-built lifecycles")

    @given(kw=kwargs)
    def test(kw: dict[str, Any]) -> None:
        tally.run(lambda: _case(dict(kw)))

    run_boundary(request, tally, test, n)


def test_bad_python_lifecycles(request: pytest.FixtureRequest) -> None:
    _boundary(request, budget(long=False))


@pytest.mark.slow
def test_bad_python_lifecycles_long(request: pytest.FixtureRequest) -> None:
    _boundary(request, budget(long=True))


@pytest.mark.parametrize("kind", ["weird", "", "CONFIG"])
def test_bad_flag_kind_is_invalid_lifecycle(kind: str) -> None:
    with pytest.raises(InvalidLifecycle, match="kind"):
        Flag("f", kind)  # type: ignore[arg-type]
