"""Round trips of the SQL store's writes, counted on the wire, and what keeps them honest.

A fire, with or without its audit row, and an illegal event are one round trip each on
PostgreSQL and MariaDB (counted by ``benchmarks/bench_guard.TurnCounter``, a loopback
proxy). What makes one trip safe is shown too: a MariaDB batch that fails inside its
transaction is rolled back (without that ROLLBACK the next write's START TRANSACTION
would commit half of it: the negative control), and a PostgreSQL miss whose snapshot
shows a legal source is a lost race, never reported as an illegal event.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from statusguard import AsyncGuard, Guard, IllegalTransition, SQLStore
from statusguard.errors import StoreRejected
from statusguard.sql import AsyncSQLStore
from statusguard.testing import EventLoopThread, blocking
from tests.integration._reliab_db import plain_url, raw_engine, server_url, unique_table
from tests.integration.conftest import async_url

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_guard import CONFIG, GLANCE, TurnCounter  # noqa: E402


@pytest.fixture(params=["postgresql", "mysql"])
def url(request: pytest.FixtureRequest) -> str:
    return server_url(str(request.param))


@pytest.fixture
def stores() -> Iterator[list[SQLStore]]:
    made: list[SQLStore] = []
    yield made
    for store in made:
        try:
            store.drop_schema()
        finally:
            store.dispose()


def make(stores: list[SQLStore], engine: Any, *, audit: bool) -> SQLStore:
    store = SQLStore(
        engine,
        unique_table("sqlrt_t"),
        version="version",
        token="token",
        audit=unique_table("sqlrt_a") if audit else None,
    )
    store.create_schema()
    stores.append(store)
    return store


def through_proxy(url: str) -> tuple[TurnCounter, str]:
    parsed = plain_url(url)
    proxy = TurnCounter(parsed.host or "127.0.0.1", parsed.port or 0)
    return proxy, parsed.set(port=proxy.port).render_as_string(hide_password=False)


def trips(proxy: TurnCounter, call: Any, *args: Any) -> float:
    """Client turns per call over 10 calls (``call`` may raise IllegalTransition), after 6
    untimed ones: psycopg prepares a statement at its 6th execution (``prepare_threshold``
    5, https://www.psycopg.org/psycopg3/docs/advanced/prepare.html), one extra turn."""
    counts = []
    for _ in range(16):
        before = proxy.turns
        with contextlib.suppress(IllegalTransition):
            call(*args)
        counts.append(proxy.turns - before)
    return sum(counts[6:]) / 10


@pytest.mark.parametrize("audit", [False, True], ids=["plain", "audit"])
def test_one_round_trip_per_write(url: str, stores: list[SQLStore], audit: bool) -> None:
    proxy, via = through_proxy(url)
    store = make(stores, via, audit=audit)
    guard = Guard(GLANCE, store, CONFIG, tokens=True)
    guard.create("img")
    for event in ("web_download_import", "import_succeeded", "deactivate", "reactivate"):
        guard.fire("img", event)  # warm the pool and the session setup
    toggle = iter(["deactivate", "reactivate"] * 8)
    assert trips(proxy, lambda: guard.fire("img", next(toggle))) == 1.0
    assert trips(proxy, guard.fire, "img", "upload_succeeded") == 1.0  # illegal in active
    moves = iter([("active", "deactivated"), ("deactivated", "active")] * 8)
    # a move with the status it expects: one compare-and-set (without: a read first)
    assert trips(proxy, lambda: store.compare_and_set("img", *next(moves))) == 1.0
    assert guard.status("img") == "active"
    if audit:
        assert len(store.history("img")) == 4 + 16 + 16


@pytest.mark.parametrize("audit", [False, True], ids=["plain", "audit"])
def test_async_one_round_trip_per_write(url: str, audit: bool) -> None:
    """AsyncGuard on an AsyncSQLStore through the same proxy: one trip per fire and per
    illegal event too (psycopg's async mode; aiomysql takes MariaDB's batches)."""
    proxy, via = through_proxy(url)
    name = unique_table("sqlrt_at")
    with asyncio.Runner() as runner:
        store = AsyncSQLStore(
            async_url(via),
            name,
            version="version",
            token="token",
            audit=f"{name}_a" if audit else None,
        )
        runner.run(store.create_schema())
        try:
            guard = AsyncGuard(GLANCE, store, CONFIG, tokens=True)
            runner.run(guard.create("img"))
            for event in ("web_download_import", "import_succeeded", "deactivate", "reactivate"):
                runner.run(guard.fire("img", event))  # warm the pool and the session setup
            toggle = iter(["deactivate", "reactivate"] * 8)
            assert trips(proxy, lambda: runner.run(guard.fire("img", next(toggle)))) == 1.0
            illegal = guard.fire  # upload_succeeded is illegal in active
            assert trips(proxy, lambda: runner.run(illegal("img", "upload_succeeded"))) == 1.0
            assert runner.run(guard.status("img")) == "active"
            if audit:
                assert len(runner.run(store.history("img"))) == 4 + 16
        finally:
            runner.run(store.drop_schema())
            runner.run(store.dispose())


def test_mariadb_without_batches_one_statement_per_trip(stores: list[SQLStore]) -> None:
    """A given Engine without CLIENT_MULTI_STATEMENTS: the write and its audit row are
    START TRANSACTION, UPDATE, INSERT, COMMIT, and a miss is followed by a read."""
    from sqlalchemy import create_engine

    proxy, via = through_proxy(server_url("mysql"))
    # (no pool reset: its ROLLBACK at every checkin would be one more trip)
    engine = create_engine(via, isolation_level="AUTOCOMMIT", pool_reset_on_return=None)
    store = make(stores, engine, audit=True)
    guard = Guard(GLANCE, store, CONFIG, tokens=True)
    guard.create("img")
    for event in ("web_download_import", "import_succeeded"):
        guard.fire("img", event)
    toggle = iter(["deactivate", "reactivate"] * 8)
    assert trips(proxy, lambda: guard.fire("img", next(toggle))) == 4.0
    assert trips(proxy, guard.fire, "img", "upload_succeeded") == 4.0  # with a ROLLBACK


BOOM = "sqlrt_boom"


def _refusing_audit_trigger(store: SQLStore) -> None:
    """A trigger on the audit table refusing rows with reason 'boom': the batch then fails
    after its UPDATE ran, inside its transaction."""
    engine = raw_engine(server_url("mysql"))
    with engine.connect() as conn:
        conn.exec_driver_sql(
            f"CREATE TRIGGER {BOOM}_{store.audit_table} BEFORE INSERT ON `{store.audit_table}` "
            "FOR EACH ROW BEGIN IF NEW.reason = 'boom' THEN "
            "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'boom', MYSQL_ERRNO = 1644; END IF; END"
        )
    engine.dispose()


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("rollback", [True, False], ids=["rollback", "no-rollback-control"])
def test_mariadb_failed_batch_leaves_nothing(
    event_loop_thread: EventLoopThread,  # first: closed after the stores are dropped
    stores: list[SQLStore],
    monkeypatch: pytest.MonkeyPatch,
    rollback: bool,
    mode: str,
) -> None:
    """The audit INSERT fails after the UPDATE: the fire is refused and nothing is written,
    even once the same connection runs the next write. Control: without the store's
    ROLLBACK the transaction stays open, and the next batch's START TRANSACTION commits
    the orphaned UPDATE (a status change without its audit row). ``async``: the same on
    AsyncSQLStore's aiomysql connections, through AsyncGuard."""
    guard: Any
    if mode == "sync":
        store: Any = make(stores, server_url("mysql"), audit=True)
        guard = Guard(GLANCE, store, CONFIG)
    else:
        table = unique_table("sqlrt_t")
        made = AsyncSQLStore(
            async_url(server_url("mysql")),
            table,
            version="version",
            token="token",
            audit=f"{table}_a",
        )
        store = blocking(made, event_loop_thread)
        store.create_schema()
        stores.append(store)
        guard = blocking(AsyncGuard(GLANCE, made, CONFIG), event_loop_thread)
    _refusing_audit_trigger(store)
    guard.create("a")
    guard.create("b")
    if not rollback:
        monkeypatch.setattr("statusguard.sql._store.quiet_rollback", lambda conn: None)
    with pytest.raises(StoreRejected):
        guard.fire("a", "web_download_import", reason="boom")
    guard.fire("b", "web_download_import")  # the same pooled connection, next batch
    a = store.get("a")
    if rollback:
        assert (a.status, a.version, store.history("a")) == ("queued", 0, [])
    else:  # the protection's negative control: half a write committed
        assert (a.status, a.version, store.history("a")) == ("importing", 1, [])


def test_postgresql_lost_race_is_not_an_illegal_event(
    stores: list[SQLStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """READ COMMITTED: the fire's snapshot shows 'queued' (where upload_started is legal);
    its UPDATE waits for another session's lock, which commits 'deleted': the UPDATE then
    matches nothing. The statement's own answer ('queued', nothing moved) is not an
    illegal event: the store goes again and reports the stored 'deleted'."""
    from statusguard.sql.dialects.postgresql import PostgreSQL

    url = server_url("postgresql")
    store = make(stores, url, audit=True)
    guard = Guard(GLANCE, store, CONFIG)
    guard.create("a")
    seen: list[Any] = []
    original = PostgreSQL.seen

    def recording(self: Any, lay: Any, out: Any) -> Any:
        found = original(self, lay, out)
        seen.append(found)
        return found

    monkeypatch.setattr(PostgreSQL, "seen", recording)
    statement = store._sql.apply(("queued",), ("saving",))[0].text  # the fire's own text
    holder = raw_engine(url).connect()
    table = store.table_name
    try:
        holder.exec_driver_sql(
            f"UPDATE {table} SET status = 'deleted', version = version + 1 WHERE id = 'a'"
        )  # holds the row lock, uncommitted (the connection autobegan)
        errors: list[BaseException] = []

        def fire() -> None:
            try:
                guard.fire("a", "upload_started")
            except BaseException as exc:
                errors.append(exc)

        worker = threading.Thread(target=fire)
        worker.start()
        _wait_for_lock_waiter(url, table)
        holder.commit()
        worker.join(10)
    finally:
        holder.close()
    assert len(errors) == 1, errors
    assert isinstance(errors[0], IllegalTransition), errors
    assert errors[0].state == "deleted"  # the stored status, not the snapshot's
    assert [s[0] for s in seen] == ["queued", "deleted"]  # the race was run into, once
    # control: the very statement, in the same race, answers "nothing moved, row 'queued'"
    assert _statement_in_race(url, table, statement) == (None, None, None, "queued")


def _wait_for_lock_waiter(url: str, table: str) -> None:
    with raw_engine(url).connect() as conn:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            waiting = conn.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND strpos(query, %(t)s) > 0",
                {"t": table},
            ).scalar()
            # pg_stat_activity is read once per transaction: end it, or every later poll
            # sees the first one's snapshot (taken, under load, before the fire waited)
            conn.rollback()
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("the fire never waited for the row lock")


def _statement_in_race(url: str, table: str, statement: str) -> tuple[Any, ...]:
    """Run ``statement`` (the fire's, queued -> saving) while another session moves the row
    from 'queued' to 'deleted' under it; what its one row says."""
    engine = raw_engine(url)
    with engine.connect() as setup:
        setup.exec_driver_sql(f"UPDATE {table} SET status = 'queued' WHERE id = 'a'")
        setup.commit()
    holder = engine.connect()
    answer: list[Any] = []
    try:
        holder.exec_driver_sql(f"UPDATE {table} SET status = 'deleted' WHERE id = 'a'")

        def run() -> None:
            with engine.connect() as conn:
                params = {"k": "a", "s0": "queued", "t0": "saving", "tok": None}
                params.update(ev="upload_started", actor=None, why=None)
                row = conn.exec_driver_sql(statement, params).first()
                conn.commit()
                answer.append(None if row is None else tuple(row)[:4])

        worker = threading.Thread(target=run)
        worker.start()
        _wait_for_lock_waiter(url, table)
        holder.commit()
        worker.join(10)
    finally:
        holder.close()
        engine.dispose()
    return answer[0]
