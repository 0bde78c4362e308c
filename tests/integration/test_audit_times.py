"""The audit history's ``at`` and ``history(since=, until=)``: one answer from every store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from statusguard import Guard
from statusguard.errors import InvalidArgument

NO_DELAY = {"delayed_delete": False}
SECOND = timedelta(seconds=1)


@pytest.fixture
def guard(make_store: Any, glance: Any) -> Guard[Any, Any]:
    return Guard(glance, make_store(audit=True), NO_DELAY, tokens=True)


def test_every_entry_has_its_commit_time_in_utc(guard: Guard[Any, Any]) -> None:
    # the database clock may keep whole seconds only (SQLite): bound to the second
    before = datetime.now(UTC).replace(microsecond=0) - SECOND
    guard.create("img")
    guard.fire("img", "upload_started")
    guard.move("img", "queued", "saving")
    after = datetime.now(UTC) + SECOND
    history = guard.store.history("img")
    assert [(h.source, h.target) for h in history] == [("queued", "saving"), ("saving", "queued")]
    for entry in history:
        assert entry.at is not None
        assert entry.at.utcoffset() == timedelta(0)
        assert before <= entry.at <= after
    assert history[0].at <= history[1].at


def test_history_filters_by_time(guard: Guard[Any, Any]) -> None:
    guard.create("img")
    guard.fire("img", "upload_started")
    guard.fire("img", "upload_failed")
    everything = guard.store.history("img")
    assert len(everything) == 2
    first = everything[0].at
    assert first is not None
    assert guard.store.history("img", since=first) == everything  # since is inclusive
    assert guard.store.history("img", until=first) == [
        e for e in everything if e.at is not None and e.at < first
    ]  # until is exclusive
    assert guard.store.history("img", since=first + timedelta(days=1)) == []
    assert guard.store.history("img", until=first - timedelta(days=1)) == []
    assert (
        guard.store.history("img", since=first - SECOND, until=first + timedelta(days=1))
        == everything
    )


@pytest.mark.parametrize("bound", [datetime(2026, 1, 1), "2026-01-01", 0])
def test_a_bound_must_be_an_aware_datetime(guard: Guard[Any, Any], bound: object) -> None:
    guard.create("img")
    for name in ("since", "until"):
        with pytest.raises(InvalidArgument, match=f"{name}.*aware datetime"):
            guard.store.history("img", **{name: bound})
