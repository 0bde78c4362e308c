"""Arguments of the wrong kind are typed errors naming what was expected (issue 17, items 6, 8).

``facts`` that is not a mapping (a list of pairs, a str, a set), an unhashable fact value,
a ``config`` that is a str, an int or a set: each is a :class:`StatusGuardError` from
``Guard``, ``GuardedStatus``, the lifecycle's own questions and the trigger generator,
never a raw ``AttributeError``/``TypeError``/``ValueError``. An event or state that is
not a ``str`` (a plain ``Enum`` whose ``str()`` is a valid name) is refused with a message
that says so, never the self-contradictory "'x' is not allowed; allowed: 'x'".
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import statusguard
from statusguard import Guard, MemoryStore, StatusGuardError
from statusguard.errors import (
    InvalidArgument,
    InvalidFlagValue,
    UnknownEvent,
    UnknownState,
)
from statusguard.sql import trigger_ddl

GLANCE = statusguard.load(str(Path(__file__).resolve().parents[3] / "model" / "glance_image.py"))
NO_DELAY = {"delayed_delete": False}

NOT_MAPPINGS: list[Any] = [
    [("has_locations", True)],
    "has_locations",
    {"has_locations"},
    ("has_locations", True),
    7,
]


def _guard() -> Guard[Any, Any]:
    guard: Guard[Any, Any] = Guard(GLANCE, MemoryStore(), NO_DELAY)
    guard.create("img")
    guard.fire("img", "upload_started")
    return guard


def _typed(call: Callable[[], object], *kinds: type[StatusGuardError]) -> StatusGuardError:
    with pytest.raises(StatusGuardError) as info:
        call()
    assert isinstance(info.value, kinds or (StatusGuardError,)), repr(info.value)
    return info.value


@pytest.mark.parametrize("facts", NOT_MAPPINGS, ids=repr)
def test_facts_that_are_not_a_mapping(facts: Any) -> None:
    guard = _guard()
    for call in (
        lambda: guard.fire("img", "upload_succeeded", facts),
        lambda: guard.move("img", "active", facts=facts),
        lambda: GLANCE.next("saving", "upload_succeeded", facts),
        lambda: GLANCE.allowed_events("saving", facts),
        lambda: GLANCE.targets("saving", facts),
    ):
        err = _typed(call, InvalidArgument)
        assert isinstance(err, TypeError)
        assert "mapping" in str(err), str(err)
    assert guard.status("img") == "saving"


def test_facts_after_a_cached_call_are_still_checked() -> None:
    guard = _guard()
    guard.fire("img", "upload_failed", {"has_locations": True})  # caches no plan for these
    guard.fire("img", "upload_started")
    for facts in NOT_MAPPINGS:
        _typed(lambda f=facts: guard.fire("img", "upload_succeeded", f), InvalidArgument)


@pytest.mark.parametrize("value", [[True], {"a": 1}, {True}], ids=repr)
def test_an_unhashable_fact_value(value: Any) -> None:
    guard = _guard()
    err = _typed(lambda: guard.fire("img", "upload_succeeded", {"has_locations": value}))
    assert isinstance(err, InvalidFlagValue)
    assert guard.status("img") == "saving"


@pytest.mark.parametrize("config", ["delayed_delete", 1, {"delayed_delete"}, [("a", 1)]], ids=repr)
def test_config_that_is_not_a_mapping(config: Any) -> None:
    for call in (
        lambda: Guard(GLANCE, MemoryStore(), config),
        lambda: GLANCE.check_config(config),
        lambda: trigger_ddl(GLANCE, "postgresql", "images", "status", config),
    ):
        err = _typed(call, InvalidArgument)
        assert err.parameter == "config"  # type: ignore[attr-defined]


class Event(enum.Enum):
    """A plain Enum (not a str) whose str() is the event's name."""

    UPLOAD_STARTED = "upload_started"
    NOPE = "nope"

    def __str__(self) -> str:
        return self.value


class State(enum.Enum):
    SAVING = "saving"
    QUEUED = "queued"

    def __str__(self) -> str:
        return self.value


def _not_contradictory(err: StatusGuardError) -> None:
    text = str(err)
    assert "not a str" in text, text
    assert "allowed events: 'upload_started'" not in text


def test_a_non_str_event_is_refused_as_such() -> None:
    guard: Guard[Any, Any] = Guard(GLANCE, MemoryStore(), NO_DELAY)
    guard.create("img")
    for call in (
        lambda: guard.fire("img", Event.UPLOAD_STARTED),
        lambda: GLANCE.next("queued", Event.UPLOAD_STARTED),
        lambda: GLANCE.can("queued", Event.UPLOAD_STARTED),
        lambda: GLANCE.event(Event.UPLOAD_STARTED),  # type: ignore[arg-type]
    ):
        err = _typed(call, UnknownEvent)
        _not_contradictory(err)
    assert guard.status("img") == "queued"


def test_a_non_str_state_is_refused_as_such() -> None:
    guard: Guard[Any, Any] = Guard(GLANCE, MemoryStore(), NO_DELAY)
    guard.create("img")
    for call in (
        lambda: guard.move("img", State.SAVING),
        lambda: guard.move("img", "saving", State.QUEUED),
        lambda: GLANCE.edge_allowed("queued", State.SAVING),
        lambda: GLANCE.targets(State.QUEUED),
        lambda: GLANCE.allowed_events(State.QUEUED),
        lambda: GLANCE.next(State.QUEUED, "upload_started"),
    ):
        err = _typed(call, UnknownState)
        assert "not a str" in str(err), str(err)
    assert guard.status("img") == "queued"
    assert guard.version("img") == 0


def test_str_enums_still_work() -> None:
    class Ev(enum.StrEnum):
        UPLOAD_STARTED = "upload_started"

    guard: Guard[Any, Any] = Guard(GLANCE, MemoryStore(), NO_DELAY)
    guard.create("img")
    assert guard.fire("img", Ev.UPLOAD_STARTED).target == "saving"


@pytest.mark.parametrize("store", [None, object(), {"img": "queued"}], ids=repr)
def test_a_store_that_is_not_a_store(store: Any) -> None:
    err = _typed(lambda: Guard(GLANCE, store, NO_DELAY), InvalidArgument)
    assert isinstance(err, TypeError)  # what check_store raised before: still caught so
    assert "lacks" in str(err) or "Store" in str(err)


@pytest.mark.parametrize("value", [1, 0, 1.0, "true", None], ids=repr)
def test_lifecycle_next_refuses_non_bool_facts_on_its_fast_path(value: Any) -> None:
    """A sibling of item 2 in Lifecycle.next: the tabled outcome was looked up with 1 == True."""
    GLANCE.next("active", "delete", {"delayed_delete": False, "has_locations": True})
    err = _typed(
        lambda: GLANCE.next("active", "delete", {"delayed_delete": False, "has_locations": value}),
        InvalidFlagValue,
    )
    assert "has_locations" in str(err)


@pytest.mark.parametrize("hooked", [False, True], ids=["Guard", "HookedGuard"])
def test_fire_refuses_an_unknown_keyword_as_python_would(hooked: bool) -> None:
    """fire() takes its keywords as **options (a cheaper call): a misspelt one is still the
    TypeError Python raises for a keyword-only parameter, before anything is written."""
    from statusguard.guard import after_commit

    hooks = [after_commit(lambda done: None)] if hooked else []
    guard = Guard(GLANCE, MemoryStore(columns=["size"]), NO_DELAY, hooks=hooks)
    guard.create("img")
    with pytest.raises(TypeError) as caught:
        guard.fire("img", "upload_started", valuse={"size": 1})  # type: ignore[call-arg]
    assert str(caught.value) == "Guard.fire() got an unexpected keyword argument 'valuse'"
    assert (guard.status("img"), guard.version("img")) == ("queued", 0)
    # keywords given as None are not given: the plain path, and the write still happens
    done = guard.fire("img", "upload_started", values=None, actor=None, reason=None)
    assert (done.target, done.version) == ("saving", 1)
    done = guard.fire("img", "upload_failed", values={"size": 3}, actor="ops")
    assert (done.target, guard.store.values("img")) == ("queued", {"size": 3})  # type: ignore[attr-defined]
