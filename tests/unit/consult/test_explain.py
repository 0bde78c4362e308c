"""``statusguard explain``: how a state is reached and why an event is (not) allowed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import statusguard as sg
from statusguard.cli import cli
from statusguard.consult._explain import explain_event, explain_state

IMAGE = str(Path(__file__).resolve().parents[3] / "model" / "glance_image.py")


@pytest.fixture(scope="module")
def glance() -> sg.Lifecycle[str, str]:
    return sg.load(IMAGE)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_state_path_per_config(glance: sg.Lifecycle[str, str]) -> None:
    a = explain_state(glance, "pending_delete", {})
    assert [dict(p.config) for p in a.paths] == [{"delayed_delete": True}]
    (walk,) = a.paths
    assert walk.events == ["location_added", "delete"]
    state = walk.start
    for hop in walk.hops:
        state = glance.next(state, hop.event, {**walk.config, **hop.facts})
    assert state == "pending_delete"
    assert a.unreached == ({"delayed_delete": False},)
    # Image.delete from pending_delete is deleted at the domain layer
    # (glance/domain/__init__.py:249-255 at c76abb08e).
    assert {(o.event, o.target) for o in a.enabled} == {
        ("scrub", "deleted"),
        ("restore", "active"),
        ("delete", "deleted"),
    }


def test_state_initial_and_terminal(glance: sg.Lifecycle[str, str]) -> None:
    q = explain_state(glance, "queued", {"delayed_delete": False})
    assert q.initial
    assert [p.hops for p in q.paths] == [()]
    d = explain_state(glance, "deleted", {})
    assert d.terminal
    assert d.enabled == ()
    assert "no event leaves it: it is terminal" in d.render()


# ``protected`` is fixed to false below: a protected image's delete is refused
# (glance/domain/__init__.py:250-251 at c76abb08e), so leaving it free makes delete depend on it.
UNPROTECTED = {"protected": False}


def test_event_allowed_whatever_the_flags(glance: sg.Lifecycle[str, str]) -> None:
    a = explain_event(glance, "active", "delete", UNPROTECTED)
    assert a.allowed == "yes"
    assert {(o.target, o.condition) for o in a.outcome} == {
        ("pending_delete", "delayed_delete and has_locations"),
        ("deleted", "not delayed_delete or not has_locations"),
    }


def test_event_that_depends_on_flags(glance: sg.Lifecycle[str, str]) -> None:
    a = explain_event(glance, "deactivated", "delete", {"delayed_delete": True, **UNPROTECTED})
    assert a.allowed == "depends"
    assert [(o.target, o.condition) for o in a.outcome] == [("deleted", "not has_locations")]
    b = explain_event(
        glance,
        "deactivated",
        "delete",
        {"delayed_delete": True, "has_locations": True, **UNPROTECTED},
    )
    assert b.allowed == "no"
    # deactivate is accepted there without a change (glance/domain/__init__.py:260-262).
    assert [(o.event, o.noop) for o in b.instead] == [("reactivate", False), ("deactivate", True)]
    effects = {(e.flag, e.value): [o.target for o in e.outcome] for e in b.effects}
    assert effects == {
        ("delayed_delete", False): ["deleted"],
        ("has_locations", False): ["deleted"],
    }
    # Each effect is true of the model: flipping that flag really allows the event.
    for e in b.effects:
        flags = {**b.flags, e.flag: e.value}
        assert glance.next("deactivated", "delete", flags) == "deleted"
    with pytest.raises(sg.IllegalTransition):
        glance.next("deactivated", "delete", dict(b.flags))


def test_event_no_flag_helps(glance: sg.Lifecycle[str, str]) -> None:
    a = explain_event(glance, "deleted", "restore", {})
    assert a.allowed == "no"
    assert a.effects == ()
    assert a.enabled_in == ("pending_delete",)
    assert "restore happens in: pending_delete" in a.render()


def test_cli_text_and_json() -> None:
    code, out, _ = run("explain", IMAGE, "pending_delete")
    assert code == 0
    assert (
        "delayed_delete=true: queued --location_added [formats_set=true]--> active "
        "--delete [has_locations=true, protected=false]--> pending_delete"
    ) in out
    assert "delayed_delete=false: not reachable from the initial state" in out
    code, out, _ = run(
        "explain",
        IMAGE,
        "deactivated",
        "delete",
        "--config",
        "delayed_delete=true",
        "--config",
        "has_locations=true",
        "--config",
        "protected=false",
        "--format",
        "json",
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["allowed"] == "no"
    assert [o["event"] for o in doc["allowed_instead"]] == ["reactivate", "deactivate"]
    assert doc["allowed_instead"][1] == {
        "event": "deactivate",
        "target": "deactivated",
        "when": None,
        "noop": True,
    }
    assert {(e["flag"], e["value"], e["allowed"]) for e in doc["flag_effects"]} == {
        ("delayed_delete", False, "yes"),
        ("has_locations", False, "yes"),
    }


@pytest.mark.parametrize(
    "args",
    [
        ("explain", IMAGE, "nowhere"),
        ("explain", IMAGE, "active", "undelete"),
        ("explain", IMAGE, "active", "--config", "nope=true"),
        ("explain", str(Path(IMAGE).parent), "active"),
    ],
)
def test_cli_bad_input_exits_2(args: tuple[str, ...]) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1


def test_flag_effect_that_still_depends_says_so(glance: sg.Lifecycle[str, str]) -> None:
    a = explain_event(glance, "deactivated", "delete", UNPROTECTED)
    effects = {(e.flag, e.value): e for e in a.effects}
    partial = effects[("delayed_delete", True)]
    assert partial.allowed == "depends"
    assert partial.depends_on == ("has_locations",)
    assert partial.render() == (
        "with delayed_delete=true: depends on has_locations, -> deleted when not has_locations"
    )
    # The model agrees: with delayed_delete=true the answer turns on has_locations.
    assert glance.next("deactivated", "delete", {"delayed_delete": True, "has_locations": False})
    with pytest.raises(sg.IllegalTransition):
        glance.next("deactivated", "delete", {"delayed_delete": True, "has_locations": True})
    assert (
        effects[("delayed_delete", False)].render()
        == "with delayed_delete=false: allowed, -> deleted"
    )
    # In active, delete is allowed either way; only where it leads depends on has_locations.
    b = explain_event(glance, "active", "delete", UNPROTECTED)
    both = {(e.flag, e.value): e for e in b.effects}[("delayed_delete", True)]
    assert both.allowed == "yes"
    assert both.render().startswith("with delayed_delete=true: allowed, -> pending_delete when")


def test_protected_is_a_flag_that_changes_delete(glance: sg.Lifecycle[str, str]) -> None:
    """Image.delete refuses a protected image before it touches the status
    (glance/domain/__init__.py:250-251 at c76abb08e): explain names protected."""
    a = explain_event(glance, "active", "delete", {"delayed_delete": False})
    assert a.allowed == "depends"
    effects = {(e.flag, e.value): e.allowed for e in a.effects}
    assert effects[("protected", True)] == "no"
    assert effects[("protected", False)] == "yes"


def test_noop_event_is_allowed_with_no_change(glance: sg.Lifecycle[str, str]) -> None:
    """deactivate of a deactivated image is accepted and changes nothing
    (glance/domain/__init__.py:260-262; glance/api/v2/image_actions.py:61-65, 107-108)."""
    a = explain_event(glance, "deactivated", "deactivate", {})
    assert a.allowed == "yes"
    assert [(o.target, o.noop) for o in a.outcome] == [("deactivated", True)]
    assert "-> (no change)" in a.render()
    assert "deactivated" in a.enabled_in
    assert "active" in a.enabled_in
