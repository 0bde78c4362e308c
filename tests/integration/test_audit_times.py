"""The audit history's ``at``, ``actor``, ``reason`` and ``history(since=, until=)``: one
answer from every store, sync and async."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from statusguard import Guard, SQLStore
from statusguard.errors import InvalidArgument, InvalidSchema
from statusguard.guard import AuditEntry
from tests.integration.conftest import engine_url, unique

NO_DELAY = {"delayed_delete": False}
SECOND = timedelta(seconds=1)
MICRO = timedelta(microseconds=1)
#: the bounds are given in these zones in turn: the window compares instants
ZONES = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]


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


def in_window(
    entries: list[AuditEntry], since: datetime | None, until: datetime | None
) -> list[AuditEntry]:
    """The documented window, in Python: since inclusive, until exclusive."""
    return [
        e
        for e in entries
        if e.at is not None and (since is None or e.at >= since) and (until is None or e.at < until)
    ]


def assert_every_window_is_the_filter(store: Any, key: str) -> int:
    """``history(key, since=, until=)`` equals :func:`in_window` of the whole history for
    bounds on each entry's time, a microsecond and a second either side, and no bound,
    given in three zones; the number of windows asked."""
    everything = store.history(key)
    times = [e.at for e in everything if e.at is not None]
    assert len(times) == len(everything) > 1
    edges = sorted({at + d for at in times for d in (-SECOND, -MICRO, MICRO * 0, MICRO, SECOND)})
    bounds: list[datetime | None] = [None, *edges]
    asked = 0
    for i, since in enumerate(bounds):
        for j, until in enumerate(bounds):
            zone = ZONES[(i + j) % len(ZONES)]
            got = store.history(
                key,
                since=None if since is None else since.astimezone(zone),
                until=None if until is None else until.astimezone(zone),
            )
            want = in_window(everything, since, until)
            assert got == want, (since, until, zone)
            assert [e.at for e in got] == [e.at for e in want]  # == leaves out at
            asked += 1
    return asked


def test_the_window_is_the_filter_on_every_edge(guard: Guard[Any, Any]) -> None:
    guard.create("img")
    for _ in range(2):
        guard.fire("img", "upload_started")
        guard.fire("img", "upload_failed")
    guard.create("other")  # another key's rows stay out of every window
    guard.fire("other", "upload_started")
    assert assert_every_window_is_the_filter(guard.store, "img") >= 36


@pytest.mark.parametrize("engine", ["postgresql", "mysql"], indirect=True)
def test_the_window_holds_in_a_session_of_another_time_zone(
    engine: str, glance: Any, tmp_path: Any
) -> None:
    """The session's zone (PostgreSQL TimeZone, MariaDB time_zone) changes nothing."""
    zone = {"postgresql": {"options": "-c TimeZone=Asia/Kolkata"}}.get(
        engine, {"init_command": "SET time_zone = '+05:30'"}
    )
    given = sa.create_engine(engine_url(engine, tmp_path), connect_args=zone)
    store = SQLStore(given, unique("tidy_tz"), version="version", audit=unique("tidy_tza"))
    store.create_schema()
    try:
        with given.connect() as conn:
            shown = conn.exec_driver_sql(
                "SHOW TimeZone" if engine == "postgresql" else "SELECT @@session.time_zone"
            ).scalar()
        assert shown in ("Asia/Kolkata", "+05:30")
        guard = Guard(glance, store, NO_DELAY)
        guard.create("img")
        guard.fire("img", "upload_started")
        guard.fire("img", "upload_failed")
        assert assert_every_window_is_the_filter(store, "img") > 0
    finally:
        store.drop_schema()
        store.dispose()
        given.dispose()


def test_the_window_is_in_the_sql_where(
    engine: str, make_store: Any, glance: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLStore's read returns only the window's rows: the bounds are in its WHERE."""
    if engine == "memory":
        pytest.skip("a MemoryStore has no SQL")
    store = make_store(audit=True)
    guard = Guard(glance, store, NO_DELAY)
    guard.create("img")
    guard.fire("img", "upload_started")
    guard.fire("img", "upload_failed")
    reads: list[tuple[str, int]] = []
    run = store._run

    def spy(conn: Any, text: str, params: Any) -> Any:
        out = run(conn, text, params)
        reads.append((text, len(out.rows)))
        return out

    monkeypatch.setattr(store, "_run", spy)
    later = datetime.now(UTC) + timedelta(days=1)
    assert store.history("img", since=later) == []
    assert len(store.history("img", until=later)) == 2
    assert len(store.history("img")) == 2
    assert [n for _, n in reads] == [0, 2, 2]  # no row read to be dropped after
    where = [text.split("WHERE", 1)[1] for text, _ in reads]
    assert ">=" in where[0]
    assert "<" not in where[0].replace(">=", "")
    assert "<" in where[1]
    assert ">=" not in where[1]
    assert "<" not in where[2]


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
