"""One test per definition-time rule: each names the culprit and, from a document, its JSON path."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from statusguard import Flag, FlagKind, Lifecycle, Transition
from statusguard.errors import InvalidLifecycle
from statusguard.lifecycle import Absorbing, Closed, Never, OnlyThrough, Unreachable


def build(**overrides: Any) -> Lifecycle[str, str]:
    """A small valid lifecycle (door), with fields replaced by ``overrides``."""
    fields: dict[str, Any] = {
        "states": ["open", "closed", "locked", "gone"],
        "initial": "open",
        "terminal": ["gone"],
        "events": ["close", "open", "lock", "unlock", "remove"],
        "flags": [Flag("has_key", FlagKind.FACT), Flag("strict", FlagKind.CONFIG)],
        "transitions": [
            Transition("close", "open", "closed"),
            Transition("open", "closed", "open"),
            Transition("lock", "closed", "locked", when={"has_key": True}),
            Transition("unlock", "locked", "closed", when={"has_key": True}),
            Transition("remove", ["open", "closed"], "gone", when={"strict": False}),
        ],
        "invariants": [Absorbing("gone-final", "gone")],
    }
    fields.update(overrides)
    return Lifecycle(str(fields.pop("name", "door")), **fields)


DOC: dict[str, Any] = build().to_json()


def from_doc(change: Any) -> InvalidLifecycle:
    doc = copy.deepcopy(DOC)
    change(doc)
    with pytest.raises(InvalidLifecycle) as info:
        Lifecycle.from_json(doc)
    return info.value


def test_base_model_is_valid() -> None:
    lc = build()
    assert lc.name == "door"
    assert Lifecycle.from_json(DOC) == lc


# -- unknown references ------------------------------------------------------------


def test_unknown_event_in_transition() -> None:
    with pytest.raises(InvalidLifecycle, match=r"unknown event 'smash'.*'close'") as info:
        build(transitions=[Transition("smash", "open", "gone")])
    assert info.value.location == ("transitions", 0, "event")
    err = from_doc(lambda d: d["transitions"][2].update(event="smash"))
    assert err.path == "$.transitions[2].event"
    assert "'smash'" in str(err)


def test_unknown_source_state() -> None:
    with pytest.raises(InvalidLifecycle, match=r"unknown source state 'ajar'.*'open'"):
        build(transitions=[Transition("close", ["open", "ajar"], "closed")])
    err = from_doc(lambda d: d["transitions"][4]["source"].append("ajar"))
    assert err.path == "$.transitions[4].source[2]"
    assert "'ajar'" in str(err)


def test_unknown_target_state() -> None:
    with pytest.raises(InvalidLifecycle, match=r"unknown target state 'ajar'"):
        build(transitions=[Transition("close", "open", "ajar")])
    err = from_doc(lambda d: d["transitions"][0].update(target="ajar"))
    assert err.path == "$.transitions[0].target"
    assert "'ajar'" in str(err)


def test_unknown_flag_in_condition() -> None:
    with pytest.raises(InvalidLifecycle, match=r"unknown flag 'windy'.*'has_key'"):
        build(transitions=[Transition("close", "open", "closed", when={"windy": True})])
    err = from_doc(lambda d: d["transitions"][2]["when"].update(windy=False))
    assert err.path == "$.transitions[2].when.windy"
    assert "'windy'" in str(err)


def test_unknown_flag_when_none_declared() -> None:
    with pytest.raises(InvalidLifecycle, match=r"unknown flag 'has_key'; expected one of: \(none"):
        build(flags=[])


# -- duplicates ----------------------------------------------------------------------


def test_duplicate_state() -> None:
    with pytest.raises(InvalidLifecycle, match=r"duplicate state 'closed'") as info:
        build(states=["open", "closed", "locked", "gone", "closed"])
    assert info.value.path == "$.states[4]"
    err = from_doc(lambda d: d["states"].insert(1, "locked"))
    assert err.path == "$.states[3]"
    assert "'locked'" in str(err)


def test_duplicate_event() -> None:
    with pytest.raises(InvalidLifecycle, match=r"duplicate event 'lock'") as info:
        build(events=["close", "open", "lock", "unlock", "remove", "lock"])
    assert info.value.path == "$.events[5]"
    err = from_doc(lambda d: d["events"].append("close"))
    assert err.path == "$.events[5]"


def test_duplicate_flag() -> None:
    with pytest.raises(InvalidLifecycle, match=r"duplicate flag 'strict'") as info:
        build(flags=["strict", Flag("has_key", FlagKind.FACT), Flag("strict", FlagKind.FACT)])
    assert info.value.path == "$.flags[2]"
    err = from_doc(lambda d: d.update(flags=["has_key", "strict", "has_key"]))
    assert err.path == "$.flags[2]"
    assert "'has_key'" in str(err)


def test_duplicate_flag_as_repeated_json_key() -> None:
    text = (
        '{"format": "statusguard.lifecycle/v1", "name": "door", "states": ["a"], '
        '"initial": "a", "flags": {"x": "config", "x": "fact"}, "transitions": []}'
    )
    with pytest.raises(InvalidLifecycle, match=r"'x' appears more than once") as info:
        Lifecycle.from_json(text)
    assert info.value.path == "$.flags.x"


def test_duplicate_terminal() -> None:
    with pytest.raises(InvalidLifecycle, match=r"duplicate terminal state 'gone'") as info:
        build(terminal=["gone", "gone"])
    assert info.value.path == "$.terminal[1]"


def test_duplicate_invariant_name() -> None:
    with pytest.raises(InvalidLifecycle, match=r"duplicate invariant name 'gone-final'") as info:
        build(invariants=[Absorbing("gone-final", "gone"), Never("gone-final", "gone", "open")])
    assert info.value.path == "$.invariants[1].name"
    err = from_doc(lambda d: d["invariants"].append(dict(d["invariants"][0])))
    assert err.path == "$.invariants[1].name"


def test_duplicate_source_in_one_transition() -> None:
    with pytest.raises(InvalidLifecycle, match=r"'close' lists a source twice") as info:
        build(transitions=[Transition("close", ["open", "open"], "closed")])
    assert info.value.path == "$.transitions[0].source"


# -- initial / terminal ----------------------------------------------------------------


def test_initial_not_a_state() -> None:
    with pytest.raises(InvalidLifecycle, match=r"initial state 'ajar'.*expected one of: 'open'"):
        build(initial="ajar")
    err = from_doc(lambda d: d.update(initial="ajar"))
    assert err.path == "$.initial"
    assert "'ajar'" in str(err)


def test_terminal_not_a_state() -> None:
    with pytest.raises(InvalidLifecycle, match=r"terminal state 'ashes' is not a declared state"):
        build(terminal=["gone", "ashes"])
    err = from_doc(lambda d: d["terminal"].append("ashes"))
    assert err.path == "$.terminal[1]"


def test_transition_out_of_terminal_state() -> None:
    with pytest.raises(InvalidLifecycle, match=r"'open' leaves terminal state 'gone'") as info:
        build(
            transitions=[Transition("close", "open", "closed"), Transition("open", "gone", "open")]
        )
    assert info.value.path == "$.transitions[1].source[0]"
    err = from_doc(lambda d: d["transitions"][4]["source"].append("gone"))
    assert err.path == "$.transitions[4].source[2]"
    assert "'gone'" in str(err)


def test_terminal_may_be_entered() -> None:
    lc = build()
    assert lc.next("open", "remove", {"strict": False}) == "gone"
    assert lc.allowed_events("gone") == ()


# -- determinism -------------------------------------------------------------------------

LOCK = Transition("lock", "closed", "locked", when={"has_key": True})


def test_nondeterminism_unconditional() -> None:
    with pytest.raises(
        InvalidLifecycle, match=r"nondeterministic: in state 'open', event 'close'"
    ) as info:
        build(
            transitions=[Transition("close", "open", "closed"), Transition("close", "open", "gone")]
        )
    msg = str(info.value)
    assert "'closed' (transition 0)" in msg
    assert "'gone' (transition 1)" in msg
    assert "any flag setting" in msg
    assert info.value.path == "$.transitions[1]"


def test_nondeterminism_only_under_one_flag_setting() -> None:
    # Disjoint flags: both fire only when has_key AND strict are true.
    other = Transition("lock", "closed", "gone", when={"strict": True})
    with pytest.raises(InvalidLifecycle, match=r"nondeterministic") as info:
        build(transitions=[LOCK, other])
    assert "under has_key=true, strict=true" in str(info.value)
    assert "in state 'closed', event 'lock'" in str(info.value)


def test_nondeterminism_via_one_shared_source() -> None:
    a = Transition("remove", ["open", "locked"], "gone")
    b = Transition("remove", ["closed", "locked"], "open")
    with pytest.raises(InvalidLifecycle, match=r"in state 'locked', event 'remove'"):
        build(transitions=[a, b])


def test_nondeterminism_from_document() -> None:
    def add(d: dict[str, Any]) -> None:
        d["transitions"].append({"event": "close", "source": "open", "target": "locked"})

    err = from_doc(add)
    assert err.path == "$.transitions[5]"
    assert "nondeterministic" in str(err)


def test_exclusive_conditions_are_deterministic() -> None:
    a = Transition("lock", "closed", "locked", when={"has_key": True})
    b = Transition("lock", "closed", "gone", when={"has_key": False, "strict": True})
    lc = build(transitions=[a, b])
    assert lc.next("closed", "lock", {"has_key": True}) == "locked"
    assert lc.next("closed", "lock", {"has_key": False, "strict": True}) == "gone"


def test_overlap_with_equal_targets_is_deterministic() -> None:
    a = Transition("remove", "open", "gone", when={"strict": False})
    b = Transition("remove", "open", "gone", when={"has_key": True})
    lc = build(transitions=[a, b])
    assert lc.next("open", "remove", {"strict": True, "has_key": True}) == "gone"
    assert lc.next("open", "remove", {"strict": False}) == "gone"


def test_contradictory_condition() -> None:
    with pytest.raises(InvalidLifecycle, match=r"flag 'has_key' to be both true and false"):
        Transition("lock", "closed", "locked", when=[("has_key", True), ("has_key", False)])


def test_condition_values_must_be_bools() -> None:
    with pytest.raises(InvalidLifecycle, match=r"flag 'has_key' must be True or False, got 'no'"):
        Transition("lock", "closed", "locked", when={"has_key": "no"})  # type: ignore[dict-item]


# -- empty names -----------------------------------------------------------------------


def test_empty_lifecycle_name() -> None:
    with pytest.raises(InvalidLifecycle, match=r"non-empty name") as info:
        build(name="  ")
    assert info.value.path == "$.name"
    err = from_doc(lambda d: d.update(name=""))
    assert err.path == "$.name"


def test_empty_state_name() -> None:
    with pytest.raises(InvalidLifecycle, match=r"state names must be non-empty.*''") as info:
        build(states=["open", "closed", "", "locked", "gone"])
    assert info.value.path == "$.states[2]"
    err = from_doc(lambda d: d["states"].append(" "))
    assert err.path == "$.states[4]"


def test_empty_event_name() -> None:
    with pytest.raises(InvalidLifecycle, match=r"event names must be non-empty") as info:
        build(events=["close", "open", "lock", "unlock", "remove", ""])
    assert info.value.path == "$.events[5]"


def test_empty_flag_name() -> None:
    with pytest.raises(InvalidLifecycle, match=r"flag names must be non-empty") as info:
        build(flags=[Flag("has_key", FlagKind.FACT), Flag("strict"), Flag(" ")])
    assert info.value.path == "$.flags[2]"
    err = from_doc(lambda d: d["flags"].update({"": "fact"}))
    assert err.path.startswith("$.flags")


def test_empty_invariant_name() -> None:
    with pytest.raises(InvalidLifecycle, match=r"invariant names must be non-empty") as info:
        build(invariants=[Absorbing("", "gone")])
    assert info.value.path == "$.invariants[0].name"


def test_no_states() -> None:
    with pytest.raises(InvalidLifecycle, match=r"at least one state"):
        Lifecycle("empty", states=[], initial="x", transitions=[])


def test_transition_without_source() -> None:
    with pytest.raises(InvalidLifecycle, match=r"no source state") as info:
        build(transitions=[Transition("close", [], "closed")])
    assert info.value.path == "$.transitions[0].source"


# -- invariants -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("invariant", "path"),
    [
        (Absorbing("a", "ashes"), "$.invariants[0].state"),
        (Unreachable("u", "ashes", "open"), "$.invariants[0].from"),
        (Unreachable("u", "open", "ashes"), "$.invariants[0].to"),
        (Never("n", "open", "ashes"), "$.invariants[0].to"),
        (Closed("c", ["gone", "ashes"]), "$.invariants[0].states[1]"),
        (OnlyThrough("o", "ashes", ["open"]), "$.invariants[0].to"),
        (OnlyThrough("o", "gone", ["open", "ashes"]), "$.invariants[0].via[1]"),
    ],
)
def test_invariant_names_unknown_state(invariant: Any, path: str) -> None:
    with pytest.raises(InvalidLifecycle, match=r"names unknown state 'ashes'") as info:
        build(invariants=[invariant])
    assert info.value.path == path
    assert repr(invariant.name) in str(info.value)


def test_invariant_unknown_state_from_document() -> None:
    err = from_doc(
        lambda d: d["invariants"].append(
            {"name": "x", "kind": "never", "from": "open", "to": "ashes"}
        )
    )
    assert err.path == "$.invariants[1].to"
    assert "'ashes'" in str(err)


def test_closed_invariant_needs_states() -> None:
    with pytest.raises(InvalidLifecycle, match=r"invariant 'c' names no states"):
        build(invariants=[Closed("c", [])])


# -- frozen ---------------------------------------------------------------------------


def test_lifecycle_is_frozen() -> None:
    lc = build()
    with pytest.raises(AttributeError, match="frozen"):
        lc.initial = "closed"
    with pytest.raises(AttributeError, match="frozen"):
        del lc.name
    assert isinstance(lc.transitions, tuple)
    assert isinstance(lc.terminal, frozenset)


# -- invariant names and only_through ----------------------------------------------


@pytest.mark.parametrize("name", ["reachable", "terminal_final", "race.legal_steps.cas"])
def test_invariant_may_not_take_an_obligation_name(name: str) -> None:
    """Results and manifests key by obligation name: an invariant must not shadow one."""
    with pytest.raises(InvalidLifecycle, match=r"reserved") as info:
        build(invariants=[Absorbing(name, "gone")])
    assert info.value.location == ("invariants", 0, "name")
    err = from_doc(lambda d: d["invariants"][0].update(name=name))
    assert err.path == "$.invariants[0].name"


def test_only_through_target_may_not_be_in_via() -> None:
    with pytest.raises(InvalidLifecycle, match=r"target 'locked' is also in via") as info:
        build(invariants=[OnlyThrough("via-self", "locked", via=["closed", "locked"])])
    assert info.value.location == ("invariants", 0, "via")
    err = from_doc(
        lambda d: d["invariants"].append(
            {"name": "o", "kind": "only_through", "to": "locked", "via": ["locked"]}
        )
    )
    assert err.path == "$.invariants[1].via"
