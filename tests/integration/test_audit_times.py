"""The audit history's ``at``, ``actor``, ``reason`` and ``history(since=, until=)``: one
answer from every store, sync and async."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from statusguard import Guard, SQLStore
from statusguard.errors import InvalidArgument, InvalidSchema
from statusguard.guard import AuditEntry
from tests.integration.conftest import unique

NO_DELAY = {"delayed_delete": False}
SECOND = timedelta(seconds=1)


@pytest.fixture
def guard(make_guard: Any) -> Guard[Any, Any]:
    """A Guard, or an AsyncGuard on the async twin of the store (conftest's make_guard)."""
    made: Guard[Any, Any] = make_guard(NO_DELAY, tokens=True, audit=True)
    return made


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


def test_actor_and_reason_are_recorded_with_the_transition(guard: Guard[Any, Any]) -> None:
    guard.create("img")
    a = guard.fire("img", "upload_started", actor="alice", reason="nightly import")
    b = guard.fire("img", "upload_failed")  # neither given: NULL, not the previous ones
    c = guard.move("img", "saving", actor="bob", reason="retry after ticket 42")
    d = guard.fire("img", "upload_failed", reason="é ✓ " * 300)  # long text, no actor
    assert guard.store.history("img") == [
        AuditEntry(
            "queued",
            "upload_started",
            "saving",
            a.version,
            a.token,
            None,
            "alice",
            "nightly import",
        ),
        AuditEntry("saving", "upload_failed", "queued", b.version, b.token),
        AuditEntry(
            "queued", None, "saving", c.version, c.token, None, "bob", "retry after ticket 42"
        ),
        AuditEntry(
            "saving", "upload_failed", "queued", d.version, d.token, None, None, "é ✓ " * 300
        ),
    ]


@pytest.mark.parametrize(
    ("given", "name"),
    [({"actor": 7}, "actor"), ({"actor": "x" * 256}, "actor"), ({"reason": b"why"}, "reason")],
)
def test_a_bad_actor_or_reason_writes_nothing(
    guard: Guard[Any, Any], given: dict[str, Any], name: str
) -> None:
    guard.create("img")
    with pytest.raises(InvalidArgument, match=name):
        guard.fire("img", "upload_started", **given)
    with pytest.raises(InvalidArgument, match=name):
        guard.move("img", "saving", "queued", **given)
    assert guard.status("img") == "queued"
    assert guard.version("img") == 0
    assert guard.store.history("img") == []


def test_an_audit_table_without_actor_and_reason_is_refused_with_the_fix(
    engine: str, make_store: Any, glance: Any
) -> None:
    if engine == "memory":
        pytest.skip("a MemoryStore has no table")
    store = make_store(audit=True)
    old = sa.Table(  # an audit table as statusguard made it before actor and reason
        unique("sg_old_obs"),
        sa.MetaData(),
        *[c._copy() for c in store.audit.columns if c.name not in ("actor", "reason")],
    )
    old.create(store.engine)
    try:
        adopted = SQLStore(
            store.engine,
            store.table_name,
            key="image_id",
            audit=old.name,
            token="last_token",
            version="version",
        )
        with pytest.raises(InvalidSchema) as info:
            adopted.create_schema()
        assert "predates the nullable actor and reason columns" in str(info.value)
        fixes = re.findall(r"ALTER TABLE .*? NULL", info.value.fix)
        assert len(fixes) == 2
        with store.engine.begin() as conn:  # the fix the message names
            for statement in fixes:
                conn.exec_driver_sql(statement)
        adopted.create_schema()  # now accepted
        guard = Guard(glance, adopted, NO_DELAY)
        guard.create("img")
        guard.fire("img", "upload_started", actor="carol")
        assert [e.actor for e in adopted.history("img")] == ["carol"]
    finally:
        old.drop(store.engine)
