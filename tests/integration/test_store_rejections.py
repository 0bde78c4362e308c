"""A write the database refuses for good is ``StoreRejected``, not an outage (issue 17, item 9).

A constraint violation (``create`` on a table with an extra NOT NULL column, a CHECK of
the application's own, a unique index on another column) cannot be helped by a retry:
it used to be ``StoreUnavailable`` ("retry"), or a ``DuplicateKey`` for a key that does
not exist. A PostgreSQL cancel (57014: ``pg_cancel_backend``, ``statement_timeout``) is
an outage of the moment, described as a cancel, not as a lock timeout.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa

from statusguard import AsyncGuard, Guard, SQLStore
from statusguard.errors import StoreRejected, StoreUnavailable
from statusguard.sql import AsyncSQLStore
from statusguard.testing import EventLoopThread, blocking
from tests.integration._reliab_db import server_url, unique_table
from tests.integration.conftest import async_url

NO_DELAY = {"delayed_delete": False}
ENGINES = ["sqlite", "postgresql", "mysql"]


def _url(engine: str, tmp_path: Any) -> str:
    return f"sqlite:///{tmp_path / 'rej.db'}" if engine == "sqlite" else server_url(engine)


def _table(url: str, name: str, extra: str) -> None:
    exact = " COLLATE utf8mb4_nopad_bin" if url.startswith("mysql") else ""
    eng = sa.create_engine(url)
    with eng.begin() as c:
        c.execute(
            sa.text(
                f"CREATE TABLE {name} (id VARCHAR(255){exact} PRIMARY KEY, status VARCHAR(64) "
                f"NOT NULL, version BIGINT NOT NULL DEFAULT 0, {extra})"
            )
        )
    eng.dispose()


def _drop(url: str, name: str) -> None:
    eng = sa.create_engine(url)
    with eng.begin() as c:
        c.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))
    eng.dispose()


def _rejected(call: Any, what: str) -> StoreRejected:
    with pytest.raises(StoreRejected) as info:
        call()
    err = info.value
    assert not isinstance(err, StoreUnavailable)
    assert err.cause == "constraint"
    assert "constraint" in str(err)
    assert "regenerate" not in str(err)  # not the trigger's advice
    assert what in str(err).lower(), str(err)
    return err


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("extra", "what"),
    [
        ("owner VARCHAR(40) NOT NULL", "owner"),
        ("owner VARCHAR(40) NOT NULL DEFAULT 'x' UNIQUE", "unique"),
        ("CHECK (status <> 'saving')", "check"),
    ],
    ids=["not-null", "unique-elsewhere", "check"],
)
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_constraint_violation_is_a_rejection(
    engine: str, tmp_path: Any, glance: Any, extra: str, what: str, mode: str
) -> None:
    """Also through the async drivers (aiosqlite, psycopg async, aiomysql): their errors are
    classified by the same codes."""
    url = _url(engine, tmp_path)
    name = unique_table("async_rej" if mode == "async" else "sg_defects_rej")
    _table(url, name, extra)
    if mode == "sync":
        store: Any = SQLStore(url, name, version="version")
    else:
        loop = EventLoopThread()
        store = blocking(AsyncSQLStore(async_url(url), name, version="version"), loop)
    try:
        store.create_schema()
        guard: Any = (
            Guard(glance, store, NO_DELAY)
            if mode == "sync"
            else blocking(AsyncGuard(glance, store.wrapped, NO_DELAY), store.event_loop)
        )
        if what == "unique":  # the second row repeats owner 'x': not a duplicate *key*
            guard.create("img-1")
            _rejected(lambda: guard.create("img-2"), "")
            assert guard.status("img-1") == "queued"
        elif what == "check":
            guard.create("img")
            _rejected(lambda: guard.fire("img", "upload_started"), what)
            assert guard.status("img") == "queued"
            assert guard.version("img") == 0
        else:
            _rejected(lambda: guard.create("img"), what)
    finally:
        store.dispose()
        if mode == "async":
            store.event_loop.close()
        _drop(url, name)


def test_a_postgresql_cancel_is_described_as_a_cancel(glance: Any) -> None:
    """pg_cancel_backend on a write waiting for a row lock: 57014, not a lock timeout."""
    url = server_url("postgresql")
    name = unique_table("sg_defects_cancel")
    store = SQLStore(url, name, version="version", lock_timeout=20.0)
    store.create_schema()
    guard = Guard(glance, store, NO_DELAY)
    guard.create("img")
    holder = sa.create_engine(url)
    try:
        with holder.connect() as hold:
            hold.execute(sa.text(f'SELECT 1 FROM "{name}" FOR UPDATE'))  # holds the row
            canceled: list[int] = []

            def cancel() -> None:
                deadline = time.monotonic() + 10
                with holder.connect() as side:
                    while time.monotonic() < deadline and not canceled:
                        pids = side.execute(
                            sa.text(
                                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                "AND query LIKE :q"
                            ),
                            {"q": f'%"{name}"%'},
                        ).scalars()
                        for pid in pids:
                            side.execute(sa.text("SELECT pg_cancel_backend(:p)"), {"p": pid})
                            canceled.append(pid)
                        time.sleep(0.05)

            thread = threading.Thread(target=cancel)
            thread.start()
            with pytest.raises(StoreUnavailable) as info:
                guard.fire("img", "upload_started")
            thread.join()
            hold.rollback()
        assert canceled
        text = str(info.value)
        assert "cancel" in text, text
        assert "lock or statement timeout" not in text, text
        assert info.value.committed is False
        assert guard.status("img") == "queued"
    finally:
        holder.dispose()
        store.drop_schema()
        store.dispose()
