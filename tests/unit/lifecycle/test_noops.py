"""No-ops ("accepted, no change") and fact defaults: construction, runtime, JSON v1.

The shape follows Glance: deactivate of a deactivated image is accepted without a change
(glance/domain/__init__.py:260-262, glance/api/v2/image_actions.py:61-65 at c76abb08e),
which is neither a transition nor a refusal.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import statusguard
from statusguard import Flag, FlagKind, IllegalTransition, Lifecycle, NoOp, Transition
from statusguard.errors import InvalidLifecycle, MissingFlag

ROOT = Path(__file__).resolve().parents[3]


def door(**extra: Any) -> Lifecycle[str, str]:
    parts: dict[str, Any] = {
        "states": ["open", "shut", "gone"],
        "initial": "open",
        "terminal": ["gone"],
        "flags": [Flag("locked", FlagKind.FACT, default=False)],
        "transitions": [
            Transition("close", "open", "shut"),
            Transition("open", "shut", "open", when={"locked": False}),
            Transition("remove", ["open", "shut"], "gone"),
        ],
        "noops": [NoOp("close", "shut"), NoOp("open", "open")],
    }
    parts.update(extra)
    return Lifecycle("door", **parts)


def test_next_answers_the_state_and_is_noop_says_why() -> None:
    lc = door()
    assert lc.next("shut", "close") == "shut"
    assert lc.is_noop("shut", "close")
    assert not lc.is_noop("open", "close")
    with pytest.raises(IllegalTransition):
        lc.is_noop("gone", "close")  # refused is not "no change"
    assert set(lc.allowed_events("shut")) == {"open", "remove", "close"}
    assert lc.can("open", "open")
    # a no-op is no edge: targets, edge_allowed and the projection leave it out
    assert "shut" not in lc.targets("shut")
    assert not lc.edge_allowed("shut", "shut")
    assert ("shut", "shut") not in lc.edges()
    assert len(lc) == 4


def test_fact_defaults_fill_in_what_the_caller_leaves_out() -> None:
    lc = door()
    assert lc.fact_defaults == {"locked": False}
    assert lc.next("shut", "open") == "open"  # locked defaults to false
    with pytest.raises(IllegalTransition):
        lc.next("shut", "open", {"locked": True})
    assert "open" not in lc.allowed_events("shut", {"locked": True})
    plain = door(flags=[Flag("locked", FlagKind.FACT)])  # the negative control: no default
    with pytest.raises(MissingFlag):
        plain.next("shut", "open")


def test_a_config_flag_takes_no_default() -> None:
    with pytest.raises(InvalidLifecycle, match="only fact flags take one"):
        Flag("delayed_delete", FlagKind.CONFIG, default=True)
    with pytest.raises(InvalidLifecycle, match="True, False or None"):
        Flag("x", FlagKind.FACT, default="yes")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("noop", "self_loop"),
    [(NoOp("close", "open"), False), (NoOp("remove", "open"), False)],
)
def test_a_noop_that_overlaps_a_transition_is_refused(
    noop: NoOp[str, str], self_loop: bool
) -> None:
    with pytest.raises(InvalidLifecycle, match="obligation 'noop_unchanged'") as info:
        door(noops=[noop])
    assert info.value.path == "$.noops[0]"
    # a condition that excludes the transition makes it legal
    door(
        transitions=[
            Transition("close", "open", "shut", when={"locked": False}),
            Transition("remove", ["open", "shut"], "gone"),
        ],
        noops=[NoOp("close", "open", when={"locked": True})],
    )


def test_a_noop_beside_a_self_loop_is_refused() -> None:
    with pytest.raises(InvalidLifecycle, match="self-loop transition 1 writes"):
        door(
            transitions=[Transition("close", "open", "shut"), Transition("wait", "open", "open")],
            noops=[NoOp("wait", "open")],
        )


@pytest.mark.parametrize(
    ("noop", "path", "culprit"),
    [
        (NoOp("slam", "shut"), "$.noops[0].event", "slam"),
        (NoOp("close", "ajar"), "$.noops[0].source[0]", "ajar"),
        (NoOp("close", "shut", when={"windy": True}), "$.noops[0].when.windy", "windy"),
    ],
)
def test_a_noop_naming_unknown_parts_is_refused(
    noop: NoOp[str, str], path: str, culprit: str
) -> None:
    with pytest.raises(InvalidLifecycle) as info:
        door(noops=[noop], events=["close", "open", "remove"])
    assert info.value.path == path
    assert repr(culprit) in str(info.value)


@pytest.mark.parametrize(
    ("event", "sources", "when", "message"),
    [
        ("slam", "shut", {}, "uses unknown event 'slam'"),
        ("close", [], {}, "has no source state"),
        ("close", ["shut", "shut"], {}, "'close' lists a source twice"),
        ("close", ["shut", "ajar"], {}, "'close' has unknown source state 'ajar'"),
        ("close", "shut", {"windy": True}, "'close' tests unknown flag 'windy'"),
    ],
)
def test_a_bad_noop_gets_the_transition_check_and_message(
    event: str, sources: Any, when: dict[str, bool], message: str
) -> None:
    """One check for both parts: the same mistake, the same message and path."""
    events = ["close", "open", "remove"]
    with pytest.raises(InvalidLifecycle) as as_noop:
        door(noops=[NoOp(event, sources, when=when)], events=events)
    with pytest.raises(InvalidLifecycle) as as_transition:
        door(transitions=[Transition(event, sources, "open", when=when)], noops=[], events=events)
    assert as_noop.value.problem.startswith("no-op ")
    assert message in as_noop.value.problem
    assert as_noop.value.problem == as_transition.value.problem.replace("transition", "no-op")
    assert as_noop.value.path == as_transition.value.path.replace("transitions", "noops")


def test_json_round_trip_with_noops_and_defaults() -> None:
    lc = door()
    doc = lc.to_json()
    assert doc["noops"] == [
        {"event": "close", "source": ["shut"]},
        {"event": "open", "source": ["open"]},
    ]
    assert doc["fact_defaults"] == {"locked": False}
    back = Lifecycle.from_json(json.dumps(doc))
    assert back == lc
    assert back.fingerprint == lc.fingerprint
    assert back.is_noop("shut", "close")


def test_documents_without_noops_keep_their_fingerprint() -> None:
    """The keys are optional and omitted when empty: the glance-task manifest (recorded
    before no-ops existed) still matches its model."""
    task = statusguard.load(ROOT / "model" / "glance_task.py")
    assert "noops" not in task.to_json()
    assert "fact_defaults" not in task.to_json()
    manifest = json.loads((ROOT / "proofs" / "glance-task" / "manifest.json").read_text())
    assert manifest["fingerprint"] == task.fingerprint


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        (lambda d: d["noops"][0].update(target="shut"), "$.noops[0].target", "unknown key"),
        (lambda d: d["noops"][0].pop("source"), "$.noops[0].source", "missing"),
        (lambda d: d["fact_defaults"].update(locked="no"), "$.fact_defaults.locked", "boolean"),
        (lambda d: d["fact_defaults"].update(lockd=True), "$.fact_defaults.lockd", "did you mean"),
        (
            lambda d: d["flags"].update(locked="config"),
            "$.fact_defaults.locked",
            "only fact flags",
        ),
    ],
)
def test_schema_and_decoder_refuse_bad_noops_and_defaults(
    change: Any, path: str, words: str
) -> None:
    doc = door().to_json()
    change(doc)
    with pytest.raises(InvalidLifecycle) as info:
        Lifecycle.from_json(doc)
    assert info.value.path == path
    assert words in str(info.value)


def test_the_published_schema_describes_the_new_keys() -> None:
    from statusguard.lifecycle import lifecycle_schema

    schema = lifecycle_schema()
    assert "noops" in schema["properties"]
    assert "fact_defaults" in schema["properties"]
    assert "noops" not in schema["required"]
    assert "fact_defaults" not in schema["required"]
    assert schema["$defs"]["noop"]["required"] == ["event", "source"]


def test_table_shows_no_change() -> None:
    assert "shut    close   (no change)" in door().table().splitlines()
