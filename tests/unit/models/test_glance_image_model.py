"""The Glance image model: the 23-edge projection and the runtime API on every pair."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

import statusguard
from statusguard import IllegalTransition, Lifecycle
from statusguard.errors import MissingFlag, UnknownEvent, UnknownState

MODEL_DIR = Path(__file__).resolve().parents[3] / "model"
GLANCE_IMAGE: Lifecycle[Any, Any] = statusguard.load(MODEL_DIR / "glance_image.py")
GLANCE_TASK: Lifecycle[Any, Any] = statusguard.load(MODEL_DIR / "glance_task.py")

# Glance master at c76abb08e, glance/domain/__init__.py, Image.valid_state_targets
# (see /work/shared/reference/glance.md section 1). Keys: current status; values: allowed targets.
VALID_STATE_TARGETS: dict[str, tuple[str, ...]] = {
    "queued": ("saving", "uploading", "importing", "active", "deleted"),
    "saving": ("active", "killed", "deleted", "queued"),
    "uploading": ("importing", "queued", "deleted"),
    "importing": ("active", "deleted", "queued"),
    "active": ("pending_delete", "deleted", "deactivated"),
    "killed": ("deleted",),
    "pending_delete": ("deleted", "active"),
    "deleted": (),
    "deactivated": ("active", "deleted"),
}

FLAGS = ("delayed_delete", "formats_set", "has_locations", "import_locked", "protected")
DEFAULTS = {"formats_set": True, "import_locked": False, "protected": False}
SETTINGS = [
    dict(zip(FLAGS, bits, strict=True))
    for bits in itertools.product([False, True], repeat=len(FLAGS))
]


def expected(lc: Lifecycle[Any, Any], state: str, event: str, flags: dict[str, bool]) -> set[str]:
    """Outcomes under a complete setting, read off the raw lists: the targets of the enabled
    transitions, and the state itself for an enabled no-op."""
    moves = {
        str(t.target)
        for t in lc.transitions
        if t.event == event and state in t.sources and all(flags[n] == v for n, v in t.when)
    }
    stays = {
        str(state)
        for n in lc.noops
        if n.event == event and state in n.sources and all(flags[k] == v for k, v in n.when)
    }
    return moves | stays


def test_projection_is_glances_table() -> None:
    table = {(s, t) for s, targets in VALID_STATE_TARGETS.items() for t in targets}
    assert len(table) == 23
    assert {(str(s), str(t)) for s, t in GLANCE_IMAGE.edges()} == table


def test_states_and_terminal_match_glance() -> None:
    assert {str(s) for s in GLANCE_IMAGE.states} == set(VALID_STATE_TARGETS)
    assert GLANCE_IMAGE.initial == "queued"
    assert GLANCE_IMAGE.terminal == {"deleted"}
    assert GLANCE_IMAGE.config_flags == ("delayed_delete",)
    assert GLANCE_IMAGE.fact_flags == ("formats_set", "has_locations", "import_locked", "protected")
    assert GLANCE_IMAGE.fact_defaults == DEFAULTS


@pytest.mark.parametrize(
    "flags", SETTINGS, ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items())
)
def test_next_on_every_pair_under_every_setting(flags: dict[str, bool]) -> None:
    checked = 0
    for state, event in itertools.product(GLANCE_IMAGE.states, GLANCE_IMAGE.events):
        want = expected(GLANCE_IMAGE, state, event, flags)
        assert len(want) <= 1, f"model is nondeterministic at {state}/{event}"
        if want:
            assert GLANCE_IMAGE.next(state, event, flags) == want.pop()
            assert GLANCE_IMAGE.can(state, event, flags)
            # Plain strings work as well as the enum members.
            assert GLANCE_IMAGE.next(str(state), str(event), flags) == state.__class__(
                GLANCE_IMAGE.next(state, event, flags)
            )
        else:
            with pytest.raises(IllegalTransition) as info:
                GLANCE_IMAGE.next(state, event, flags)
            err = info.value
            assert (err.state, err.event) == (str(state), str(event))
            allowed = {
                str(e) for e in GLANCE_IMAGE.events if expected(GLANCE_IMAGE, state, e, flags)
            }
            assert set(err.allowed) == allowed
            assert set(GLANCE_IMAGE.allowed_events(state, flags)) == allowed
            assert not GLANCE_IMAGE.can(state, event, flags)
            assert f"event {str(event)!r} is not allowed in state {str(state)!r}" in str(err)
        checked += 1
    assert checked == 9 * 18


PARTIAL_FLAGS = ("delayed_delete", "has_locations", "protected")
PARTIAL = [
    {k: v for k, v in zip(PARTIAL_FLAGS, bits, strict=True) if v is not None}
    for bits in itertools.product([None, False, True], repeat=len(PARTIAL_FLAGS))
]


@pytest.mark.parametrize("flags", PARTIAL, ids=repr)
def test_next_with_partial_flags(flags: dict[str, bool]) -> None:
    """Missing flags raise MissingFlag exactly when the outcome depends on them; a missing
    fact with a default takes its default."""
    given = {**DEFAULTS, **flags}
    for state, event in itertools.product(GLANCE_IMAGE.states, GLANCE_IMAGE.events):
        completions = [s for s in SETTINGS if all(s[k] == v for k, v in given.items())]
        outcomes = {frozenset(expected(GLANCE_IMAGE, state, event, s)) for s in completions}
        if len(outcomes) > 1:
            with pytest.raises(MissingFlag) as info:
                GLANCE_IMAGE.next(state, event, flags)
            assert info.value.missing
            assert set(info.value.missing) <= set(FLAGS) - set(given)
            assert (info.value.state, info.value.event) == (state, event)
        elif outcomes == {frozenset()}:
            with pytest.raises(IllegalTransition):
                GLANCE_IMAGE.next(state, event, flags)
        else:
            (only,) = outcomes
            assert GLANCE_IMAGE.next(state, event, flags) == next(iter(only))


def test_delete_depends_on_both_flags() -> None:
    lc = GLANCE_IMAGE
    with pytest.raises(MissingFlag, match=r"'delayed_delete', 'has_locations'"):
        lc.next("active", "delete")
    with pytest.raises(MissingFlag, match=r"'has_locations'") as info:
        lc.next("active", "delete", {"delayed_delete": True})
    assert info.value.missing == ("has_locations",)
    assert lc.next("active", "delete", {"delayed_delete": False}) == "deleted"
    assert lc.next("active", "delete", {"delayed_delete": True, "has_locations": True}) == (
        "pending_delete"
    )
    # Glance's table forbids queued -> pending_delete: that delete is illegal.
    with pytest.raises(IllegalTransition) as illegal:
        lc.next("queued", "delete", {"delayed_delete": True, "has_locations": True})
    assert "delete" not in illegal.value.allowed
    assert "upload_started" in illegal.value.allowed


def test_unknown_names_raise_typed_errors() -> None:
    with pytest.raises(UnknownState, match=r"unknown state 'purged'.*'queued'"):
        GLANCE_IMAGE.next("purged", "delete")
    with pytest.raises(UnknownEvent, match=r"unknown event 'explode'.*'delete'"):
        GLANCE_IMAGE.next("active", "explode")
    with pytest.raises(UnknownState):
        GLANCE_IMAGE.next(["not", "hashable"], "delete")  # type: ignore[arg-type]
    with pytest.raises(statusguard.errors.UnknownFlag, match=r"'colour'"):
        GLANCE_IMAGE.next("active", "delete", {"colour": True})


def test_allowed_events_and_can_treat_missing_flags_as_possible() -> None:
    lc = GLANCE_IMAGE
    # reactivate and copy_image_import are accepted in active without a change (no-ops).
    assert set(lc.allowed_events("active")) == {
        "deactivate",
        "delete",
        "reactivate",
        "copy_image_import",
    }
    assert set(lc.allowed_events("queued")) == {
        "upload_started",
        "stage_started",
        "web_download_import",
        "glance_download_import",
        "location_added",
        "delete",
    }
    assert "delete" in lc.allowed_events("queued", {"delayed_delete": True})
    assert "delete" not in lc.allowed_events(
        "queued", {"delayed_delete": True, "has_locations": True}
    )
    assert lc.allowed_events("deleted") == ()
    assert lc.can("pending_delete", "restore")
    assert not lc.can("deleted", "restore")
    with pytest.raises(UnknownEvent):
        lc.can("active", "explode")
    with pytest.raises(UnknownState):
        lc.allowed_events("purged")


def test_edge_allowed_and_check_edge_follow_the_table() -> None:
    lc = GLANCE_IMAGE
    for source, target in itertools.product(VALID_STATE_TARGETS, repeat=2):
        legal = target in VALID_STATE_TARGETS[source]
        assert lc.edge_allowed(source, target) is legal, (source, target)
        if legal:
            lc.check_edge(source, target)
        else:
            with pytest.raises(IllegalTransition) as info:
                lc.check_edge(source, target)
            assert info.value.event is None
            assert (info.value.state, info.value.target) == (source, target)
            assert set(info.value.allowed) == set(VALID_STATE_TARGETS[source])
            assert f"transition {source!r} -> {target!r} is not allowed" in str(info.value)


def test_edge_allowed_under_flags() -> None:
    lc = GLANCE_IMAGE
    assert lc.edge_allowed("active", "pending_delete", {"delayed_delete": True})
    assert not lc.edge_allowed("active", "pending_delete", {"delayed_delete": False})
    assert not lc.edge_allowed("queued", "deleted", {"delayed_delete": True, "has_locations": True})
    with pytest.raises(UnknownState):
        lc.edge_allowed("active", "purged")


def test_successors_under_each_config() -> None:
    lc = GLANCE_IMAGE
    on = set(lc.successors("active", {"delayed_delete": True}))
    off = set(lc.successors("active", {"delayed_delete": False}))
    assert on == {
        ("deactivate", "deactivated"),
        ("delete", "pending_delete"),
        ("delete", "deleted"),
    }
    assert off == {("deactivate", "deactivated"), ("delete", "deleted")}
    # web-download and glance-download both lead to importing: two events, one edge.
    assert len(lc.successors("queued", {"delayed_delete": False})) == 6
    assert list(lc.config_settings()) == [{"delayed_delete": False}, {"delayed_delete": True}]


def test_invariants_declared() -> None:
    kinds = {(inv.kind, inv.name) for inv in GLANCE_IMAGE.invariants}
    assert ("absorbing", "deleted-is-final") in kinds
    assert ("unreachable", "no-resurrection") in kinds
    closed = {frozenset(inv.states) for inv in GLANCE_IMAGE.invariants if inv.kind == "closed"}  # type: ignore[attr-defined]
    assert frozenset({"active", "deactivated", "pending_delete", "deleted"}) in closed
    assert frozenset({"killed", "deleted"}) in closed


def test_glance_task_model() -> None:
    lc = GLANCE_TASK
    assert lc.edges() == {
        ("pending", "processing"),
        ("processing", "success"),
        ("pending", "failure"),
        ("processing", "failure"),
    }
    assert lc.terminal == {"success", "failure"}
    assert lc.next("pending", "fail") == "failure"
    with pytest.raises(IllegalTransition):
        lc.next("pending", "succeed")


def test_iteration_and_table() -> None:
    triples = list(GLANCE_IMAGE)
    assert len(triples) == len(set(triples)) == len(GLANCE_IMAGE)
    assert ("active", "deactivate", "deactivated") in triples
    text = GLANCE_IMAGE.table()
    assert text.splitlines()[0] == "glance-image: initial queued; terminal deleted"
    assert "pending_delete  scrub" in text
    assert "deactivated     deactivate              (no change)" in text
