"""Runtime API edge cases of Lifecycle.next and friends, beyond the Glance model."""

from __future__ import annotations

import pickle

import pytest

from statusguard import Flag, FlagKind, IllegalTransition, Lifecycle, Transition
from statusguard.errors import MissingFlag, UnknownFlag, UnknownState


def test_missing_flag_that_does_not_decide_is_not_required() -> None:
    lc = Lifecycle(
        "either",
        states=["a", "b"],
        initial="a",
        flags=["x"],
        transitions=[
            Transition("go", "a", "b", when={"x": True}),
            Transition("go", "a", "b", when={"x": False}),
        ],
    )
    assert lc.next("a", "go") == "b"
    assert lc.next("a", "go", {"x": False}) == "b"


def test_missing_flag_that_only_decides_legality() -> None:
    lc = Lifecycle(
        "maybe",
        states=["a", "b"],
        initial="a",
        flags=[Flag("ok", FlagKind.FACT)],
        transitions=[Transition("go", "a", "b", when={"ok": True})],
    )
    with pytest.raises(MissingFlag) as info:
        lc.next("a", "go")
    assert info.value.missing == ("ok",)
    assert lc.next("a", "go", {"ok": True}) == "b"
    with pytest.raises(IllegalTransition) as illegal:
        lc.next("a", "go", {"ok": False})
    assert illegal.value.allowed == ()


def test_many_flags_fall_back_to_the_slow_path() -> None:
    names = [f"f{i:02d}" for i in range(12)]
    cond = {n: i % 2 == 0 for i, n in enumerate(names)}
    lc = Lifecycle(
        "wide",
        states=["a", "b", "c"],
        initial="a",
        flags=names,
        transitions=[
            Transition("go", "a", "b", when=cond),
            Transition("go", "a", "c", when={"f00": False}),
        ],
    )
    assert lc.next("a", "go", cond) == "b"
    assert lc.next("a", "go", {"f00": False}) == "c"
    with pytest.raises(IllegalTransition):
        lc.next("a", "go", {**cond, "f11": True})
    with pytest.raises(MissingFlag):
        lc.next("a", "go", {"f00": True})


def test_bad_flag_values_and_names_on_a_deciding_lookup() -> None:
    lc = Lifecycle(
        "typed",
        states=["a", "b"],
        initial="a",
        flags=["x"],
        transitions=[Transition("go", "a", "b", when={"x": True})],
    )
    with pytest.raises(TypeError, match="must be True or False"):
        lc.next("a", "go", {"x": "yes"})  # type: ignore[dict-item]
    with pytest.raises(UnknownFlag, match="'y'"):
        lc.next("a", "go", {"y": True})


def test_successors_are_unique_and_check_the_state() -> None:
    lc = Lifecycle(
        "dup",
        states=["a", "b"],
        initial="a",
        flags=["x", "y"],
        transitions=[
            Transition("go", "a", "b", when={"x": False}),
            Transition("go", "a", "b", when={"y": False}),
        ],
    )
    assert lc.successors("a", {"x": True, "y": True}) == ()
    assert lc.successors("a", {"x": False, "y": True}) == (("go", "b"),)
    assert lc.successors("a", {"x": False, "y": False}) == (("go", "b"),)
    with pytest.raises(UnknownState):
        lc.successors("z", {})


def test_state_and_event_lookup_by_name() -> None:
    lc = Lifecycle("n", states=["a", "b"], initial="a", transitions=[Transition("go", "a", "b")])
    assert lc.state("a") == "a"
    assert lc.event("go") == "go"
    with pytest.raises(UnknownState, match=r"unknown state 'c' in lifecycle 'n'; expected one of"):
        lc.state("c")
    assert repr(lc) == "<Lifecycle 'n': 2 states, 1 events, 1 transitions>"


def test_flag_errors_are_typed_and_the_same_on_every_path() -> None:
    from statusguard import StatusGuardError
    from statusguard.errors import InvalidFlagValue, UnknownEvent, UnknownState

    lc = Lifecycle(
        "paths",
        states=["a", "b"],
        initial="a",
        flags=["x"],
        transitions=[
            Transition("go", "a", "b"),  # unconditional: the fast path
            Transition("maybe", "a", "b", when={"x": True}),  # conditional
        ],
    )
    with pytest.raises(InvalidFlagValue, match="must be True or False") as info:
        lc.check_flags({"x": 1})  # type: ignore[dict-item]
    assert isinstance(info.value, StatusGuardError)
    assert isinstance(info.value, TypeError)  # still a TypeError for existing callers
    for event in ("go", "maybe"):
        with pytest.raises(UnknownFlag, match="'typo'"):
            lc.next("a", event, {"x": True, "typo": True})
    assert lc.next("a", "go") == "b"
    assert lc.next("a", "go", {}) == "b"
    with pytest.raises(UnknownEvent):
        lc.next("a", ["unhashable"])  # type: ignore[arg-type]
    with pytest.raises(UnknownState):
        lc.next(["unhashable"], "go")  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [1, 0, 1.0])
@pytest.mark.parametrize("deciding", [1, 2, 3])
def test_next_refuses_a_number_for_a_deciding_flag(value: object, deciding: int) -> None:
    # sibling of issue 17 item 2: the tabled outcome is found by a dict lookup, where
    # 1 == True; a number must be InvalidFlagValue on every path, as check_flags says
    from statusguard.errors import InvalidFlagValue

    names = ["x", "y", "z"][:deciding]
    lc = Lifecycle(
        "numbers",
        states=["a", "b", "c"],
        initial="a",
        flags=names,
        transitions=[
            Transition("go", "a", "b", when=dict.fromkeys(names, True)),
            Transition("go", "a", "c", when={names[0]: False}),
        ],
    )
    for position in range(deciding):
        good = dict.fromkeys(names, bool(value))
        assert lc.next("a", "go", good) in ("b", "c")
        bad = {**good, names[position]: value}
        with pytest.raises(InvalidFlagValue, match=names[position]):
            lc.next("a", "go", bad)


def test_an_illegal_event_is_the_error_the_constructor_builds() -> None:
    lc = Lifecycle(
        "refusal",
        states=["a", "b"],
        initial="a",
        flags=["x"],
        transitions=[Transition("go", "a", "b"), Transition("maybe", "a", "b", when={"x": True})],
    )
    for flags in (None, {}, {"x": False}):
        with pytest.raises(IllegalTransition) as info:
            lc.next("b", "go", flags)
        err = info.value
        built = IllegalTransition("b", "go", (), lifecycle="refusal")
        assert (err.state, err.event, err.target, err.allowed, err.key, err.lifecycle) == (
            built.state,
            built.event,
            built.target,
            built.allowed,
            built.key,
            built.lifecycle,
        )
        assert str(err) == str(built)
        assert err.args == built.args == ("b", "go", (), None, None, "refusal")
        assert pickle.loads(pickle.dumps(err)).args == err.args
    with pytest.raises(IllegalTransition) as info:
        lc.next("a", "maybe", {"x": False})
    assert info.value.allowed == ("go",)
    with pytest.raises(UnknownFlag):
        lc.next("b", "go", {"typo": True})
