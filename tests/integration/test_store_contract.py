"""One contract for every store: MemoryStore, SQLite (memory, file), PostgreSQL, MariaDB.

Every error path of the guard and its message, run identically on each engine, by the
Guard and by the AsyncGuard over the async twin of each store (the ``guard`` fixture).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from statusguard import Committed, Guard, IllegalTransition, TransitionConflict
from statusguard.errors import (
    DuplicateKey,
    InvalidSchema,
    MissingFlag,
    UnknownEvent,
    UnknownFlag,
    UnknownKey,
    UnknownStatus,
)

NO_DELAY = {"delayed_delete": False}


@pytest.fixture
def guard(make_guard: Any) -> Guard[Any, Any]:
    made: Guard[Any, Any] = make_guard(NO_DELAY, tokens=True, audit=True)
    return made


def test_create_starts_in_the_initial_state(guard: Guard[Any, Any]) -> None:
    assert guard.create("img") == "queued"
    assert guard.status("img") == "queued"
    assert guard.version("img") == 0


def test_duplicate_create_names_the_existing_status(guard: Guard[Any, Any]) -> None:
    guard.create("img")
    guard.fire("img", "upload_started")
    with pytest.raises(DuplicateKey) as info:
        guard.create("img")
    assert str(info.value) == (
        "key 'img' already exists (its status is 'saving'); use status() or fire() instead"
    )
    assert guard.status("img") == "saving"


CALLS = {
    "status": lambda g: g.status("nope"),
    "version": lambda g: g.version("nope"),
    "fire": lambda g: g.fire("nope", "upload_started"),
    "move": lambda g: g.move("nope", "saving", "queued"),
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_unknown_key(guard: Guard[Any, Any], call: str) -> None:
    with pytest.raises(UnknownKey) as info:
        CALLS[call](guard)
    assert str(info.value) == "no resource with key 'nope'; create() it first"
    assert info.value.key == "nope"


def test_fire_commits_source_event_target_version_token(guard: Guard[Any, Any]) -> None:
    guard.create("img")
    first = guard.fire("img", "upload_started")
    assert isinstance(first, Committed)
    assert (first.key, first.source, first.event, first.target, first.version) == (
        "img",
        "queued",
        "upload_started",
        "saving",
        1,
    )
    assert first.token is not None
    assert 0 < len(first.token) <= 64  # the token column holds 64 characters
    second = guard.fire("img", "upload_succeeded")
    assert second.token not in (None, first.token)
    assert (second.source, second.target, second.version) == ("saving", "active", 2)
    assert guard.store.get("img").token == second.token
    assert guard.status("img") == "active"


def test_fire_uses_the_stored_status_not_a_caller_view(guard: Guard[Any, Any]) -> None:
    # 'delete' is enabled from many states: the store picks the source it holds.
    guard.create("img")
    guard.fire("img", "stage_started")
    done = guard.fire("img", "delete", {"has_locations": False})
    assert (done.source, done.target) == ("uploading", "deleted")


def test_illegal_event_names_state_event_and_allowed(guard: Guard[Any, Any]) -> None:
    guard.create("img")
    with pytest.raises(IllegalTransition) as info:
        guard.fire("img", "upload_succeeded")
    err = info.value
    assert (err.state, err.event, err.key) == ("queued", "upload_succeeded", "img")
    assert err.allowed == (
        "upload_started",
        "stage_started",
        "web_download_import",
        "glance_download_import",
        "location_added",
        "delete",
    )
    assert str(err) == (
        "event 'upload_succeeded' is not allowed in state 'queued' (key 'img'); allowed events: "
        "'upload_started', 'stage_started', 'web_download_import', 'glance_download_import', "
        "'location_added', 'delete'"
    )
    assert guard.status("img") == "queued"
    assert guard.version("img") == 0
    # the second rejection takes the guard's cached path: the same error, field for field
    with pytest.raises(IllegalTransition) as again:
        guard.fire("img", "upload_succeeded")
    assert str(again.value) == str(err)
    assert (again.value.state, again.value.event, again.value.allowed, again.value.key) == (
        err.state,
        err.event,
        err.allowed,
        err.key,
    )
    assert all(type(a) is str for a in again.value.allowed)


def test_terminal_state_allows_nothing(guard: Guard[Any, Any]) -> None:
    guard.create("img")
    guard.fire("img", "delete", {"has_locations": False})
    with pytest.raises(IllegalTransition, match=r"allowed events: \(none\)"):
        guard.fire("img", "restore")
    with pytest.raises(
        IllegalTransition, match=r"'deleted' -> 'active'.*allowed targets: \(none\)"
    ):
        guard.move("img", "active")


def test_unknown_event_and_flag_fail_before_the_store(guard: Guard[Any, Any]) -> None:
    guard.create("img")
    with pytest.raises(UnknownEvent, match="unknown event 'explode'"):
        guard.fire("img", "explode")
    with pytest.raises(
        UnknownFlag, match="flag 'delayed_delete' is a config flag of lifecycle 'glance-image'"
    ):
        guard.fire("img", "delete", {"delayed_delete": True})  # config, not a fact
    with pytest.raises(UnknownFlag, match="unknown flag 'colour'"):
        guard.fire("img", "delete", {"colour": True})
    assert guard.version("img") == 0


def test_missing_fact_is_named(make_guard: Any) -> None:
    guard = make_guard({"delayed_delete": True})
    guard.create("img")
    guard.fire("img", "location_added")
    with pytest.raises(MissingFlag) as info:
        guard.fire("img", "delete")
    assert info.value.missing == ("has_locations",)
    assert str(info.value) == (
        "event 'delete' in state 'active' depends on flag(s) 'has_locations', which were not "
        "given; pass them in facts={...}"
    )
    assert guard.status("img") == "active"
    assert guard.fire("img", "delete", {"has_locations": True}).target == "pending_delete"


def test_guard_needs_every_config_flag(make_guard: Any) -> None:
    with pytest.raises(MissingFlag, match="config flag"):
        make_guard(None)
    with pytest.raises(UnknownFlag):
        make_guard({"delayed_delete": False, "turbo": True})


def test_move_with_expected(guard: Guard[Any, Any]) -> None:
    guard.create("img")
    done = guard.move("img", "saving", "queued")
    assert (done.source, done.event, done.target, done.version) == ("queued", None, "saving", 1)
    assert guard.status("img") == "saving"


def test_move_reads_when_expected_is_omitted(guard: Guard[Any, Any]) -> None:
    guard.create("img")
    assert guard.move("img", "uploading").source == "queued"


def test_move_conflict_says_expected_and_found(guard: Guard[Any, Any]) -> None:
    guard.create("img")
    guard.fire("img", "upload_started")
    with pytest.raises(TransitionConflict) as info:
        guard.move("img", "uploading", "queued")
    err = info.value
    assert (err.key, err.expected, err.actual) == ("img", "queued", "saving")
    assert str(err) == (
        "key 'img': expected status 'queued', found 'saving'; another writer changed it first: "
        "re-read the status and decide again"
    )
    assert guard.status("img") == "saving"


def test_move_illegal_edge_lists_targets(guard: Guard[Any, Any]) -> None:
    guard.create("img")
    with pytest.raises(IllegalTransition) as info:
        guard.move("img", "deactivated", "queued")
    assert info.value.target == "deactivated"
    assert str(info.value) == (
        "transition 'queued' -> 'deactivated' is not allowed for key 'img'; allowed targets: "
        "'saving', 'uploading', 'importing', 'active', 'deleted'"
    )
    assert guard.version("img") == 0


def test_move_version_closes_aba(guard: Guard[Any, Any]) -> None:
    guard.create("img")
    guard.fire("img", "location_added")
    seen = guard.version("img")
    guard.fire("img", "deactivate")
    guard.fire("img", "reactivate")  # active again: ABA
    with pytest.raises(TransitionConflict) as info:
        guard.move("img", "deactivated", "active", expected_version=seen)
    err = info.value
    assert (err.expected, err.actual, err.expected_version, err.actual_version) == (
        "active",
        "active",
        1,
        3,
    )
    assert "expected status 'active' at version 1, found 'active' at version 3" in str(err)
    assert guard.move("img", "deactivated", "active", expected_version=3).version == 4


@pytest.mark.parametrize("bogus", ["bogus", "ACTIVE", "active ", "Queued"])
def test_unknown_stored_status_is_never_overwritten(
    guard: Guard[Any, Any], force: Any, bogus: str
) -> None:
    guard.create("img")
    force(guard.store, "img", bogus)
    for attempt in (
        lambda: guard.status("img"),
        lambda: guard.fire("img", "deactivate"),
        lambda: guard.fire("img", "upload_started"),
        lambda: guard.fire("img", "delete", {"has_locations": False}),
        lambda: guard.move("img", "deactivated"),
    ):
        with pytest.raises(UnknownStatus) as info:
            attempt()
        assert info.value.name == bogus
        assert f"unknown stored status {bogus!r} in lifecycle 'glance-image'" in str(info.value)
        assert "stored for key 'img'" in str(info.value)
        assert "nothing was changed" in str(info.value)
    assert guard.store.get("img").status == bogus
    assert guard.store.get("img").version == 0
    # a CAS that names the known status it expects cannot match either
    with pytest.raises(UnknownStatus):
        guard.move("img", "saving", "queued")
    assert guard.store.get("img").status == bogus


def test_audit_history_is_the_committed_path(guard: Guard[Any, Any]) -> None:
    guard.create("img")
    done = [
        guard.fire("img", "upload_started"),
        guard.fire("img", "upload_failed"),
        guard.move("img", "importing", "queued"),
        guard.fire("img", "import_succeeded"),
    ]
    with pytest.raises(IllegalTransition):
        guard.fire("img", "upload_started")
    history = guard.store.history("img")
    assert [(h.source, h.event, h.target, h.version, h.token) for h in history] == [
        (c.source, c.event, c.target, c.version, c.token) for c in done
    ]


def test_unversioned_store_without_tokens(make_guard: Any, engine: str) -> None:
    if engine == "memory":
        pytest.skip("MemoryStore always keeps versions")
    guard = make_guard(NO_DELAY, version=False, token=False)
    guard.create("img")
    done = guard.fire("img", "upload_started")
    assert (done.source, done.target, done.version, done.token) == ("queued", "saving", 0, None)
    assert guard.move("img", "active").source == "saving"  # no version compared
    with pytest.raises(InvalidSchema, match="needs a version column"):  # a ValueError
        guard.move("img", "deactivated", "active", expected_version=0)
    with pytest.raises(IllegalTransition):
        guard.fire("img", "upload_started")


def test_threads_race_for_one_winner(guard: Guard[Any, Any]) -> None:
    """9 threads fire conflicting events on one queued image: exactly one wins."""
    guard.create("img")
    events = ["upload_started", "web_download_import", "location_added"] * 3
    wins: list[Committed] = []
    losses: list[IllegalTransition] = []
    barrier = threading.Barrier(len(events))

    def worker(event: str) -> None:
        barrier.wait()
        try:
            wins.append(guard.fire("img", event))
        except IllegalTransition as exc:
            losses.append(exc)

    threads = [threading.Thread(target=worker, args=(e,)) for e in events]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    assert len(losses) == len(events) - 1
    assert all(loss.state == wins[0].target for loss in losses)
    assert [h.token for h in guard.store.history("img")] == [wins[0].token]
