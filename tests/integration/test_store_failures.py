"""StoreUnavailable: lock timeouts and lost connections on real engines."""

from __future__ import annotations

import time
from typing import Any

import pytest
import sqlalchemy as sa

from statusguard import Guard
from statusguard.errors import StoreUnavailable


@pytest.fixture(params=["sqlite-file", "postgresql", "mysql"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_a_held_lock_times_out_instead_of_blocking(make_store: Any, glance: Any) -> None:
    store = make_store(lock_timeout=1.0, retries=1, backoff=0.01)
    guard = Guard(glance, store, {"delayed_delete": False}, tokens=True)
    guard.create("img")
    holder = sa.create_engine(store.engine.url)
    conn = holder.connect()
    try:
        if store.dialect == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # the database-wide write lock
        t = store.table
        conn.execute(sa.update(t).where(t.c.image_id == "img").values(last_token="holder"))
        started = time.monotonic()
        with pytest.raises(StoreUnavailable) as info:
            guard.fire("img", "upload_started")
        waited = time.monotonic() - started
    finally:
        conn.rollback()
        conn.close()
        holder.dispose()
    assert info.value.committed is False
    assert "nothing was committed" in str(info.value)
    assert waited < 10
    assert guard.status("img") == "queued"
    assert guard.fire("img", "upload_started").target == "saving"


@pytest.mark.parametrize("audit", [True, False])
def test_a_lost_connection_is_settled(
    make_store: Any, glance: Any, engine: str, audit: bool
) -> None:
    if engine == "sqlite-file":
        pytest.skip("SQLite is in-process: no connection to lose")
    store = make_store(audit=audit)
    guard = Guard(glance, store, {"delayed_delete": False}, tokens=True)
    guard.create("img")
    with store.engine.connect() as conn:  # the pooled connection the next fire reuses
        session = conn.connection.info["statusguard_session"].id
    kill = (
        f"SELECT pg_terminate_backend({session})"
        if store.dialect == "postgresql"
        else f"KILL CONNECTION {session}"
    )
    killer = sa.create_engine(store.engine.url, isolation_level="AUTOCOMMIT")
    with killer.connect() as conn:
        conn.exec_driver_sql(kill)
    killer.dispose()
    time.sleep(0.2)
    with pytest.raises(StoreUnavailable) as info:
        guard.fire("img", "upload_started")
    # the statement never reached a live session: with an audit table that is certain
    assert info.value.committed is (False if audit else None)
    assert "connection lost" in str(info.value)
    assert guard.status("img") == "queued"
    assert guard.fire("img", "upload_started").target == "saving"  # the pool recovered
