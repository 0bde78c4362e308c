"""Transition hooks on SQLStore (issue 15): the transactional outbox and after-commit hooks.

On SQLite (memory and file), PostgreSQL and MariaDB: an in-transaction hook's outbox row
commits with the status change and rolls back with it (a raising hook rolls the status
back too); a guard bound to a caller's Connection or Session calls after-commit hooks
only when that transaction commits, never after a rollback, once; a process killed
with SIGKILL inside its after-commit hook loses no outbox row.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from statusguard import Guard, IllegalTransition
from statusguard.errors import HookFailed
from statusguard.guard import Committed, after_commit, in_transaction
from tests.integration.conftest import SQL_ENGINES, engine_url, unique

sa = pytest.importorskip("sqlalchemy")

NO_DELAY = {"delayed_delete": False}
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=SQL_ENGINES)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return engine_url(str(request.param), tmp_path)


@pytest.fixture
def app_engine(url: str) -> Iterator[Any]:
    """The application's own (transactional) engine."""
    if url == "sqlite://":  # one in-memory database: every connection is the same one
        engine = sa.create_engine(url, poolclass=sa.pool.StaticPool)
    else:
        engine = sa.create_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def outbox(app_engine: Any) -> Iterator[Any]:
    """The caller's outbox table: one row per committed transition."""
    table = sa.Table(
        unique("sg_hooks_outbox"),
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("image", sa.String(64), nullable=False),
        sa.Column("event", sa.String(64)),
        sa.Column("version", sa.Integer, nullable=False),
    )
    table.create(app_engine)
    yield table
    table.drop(app_engine)


@pytest.fixture
def store(app_engine: Any) -> Iterator[Any]:
    from statusguard import SQLStore

    made = SQLStore(app_engine, unique("sg_hooks"), version="version", audit=unique("sg_hooka"))
    made.create_schema()
    yield made
    made.drop_schema()
    made.dispose()


def write_outbox(outbox: Any) -> Any:
    def hook(conn: Any, c: Committed) -> None:
        conn.execute(outbox.insert().values(image=c.key, event=c.event, version=c.version))

    return hook


@dataclass
class Hooked:
    """A guard whose in-transaction hook writes the outbox row of each transition and
    whose after-commit hook appends its :class:`Committed` to ``seen``."""

    guard: Guard[Any, Any]
    seen: list[Committed]


@pytest.fixture
def make_guard(glance: Any, store: Any) -> Callable[..., Guard[Any, Any]]:
    """``make_guard(*hooks)``: a Glance guard on ``store`` with ``hooks``; ``img`` created."""

    def factory(*hooks: Any) -> Guard[Any, Any]:
        guard = Guard(glance, store, NO_DELAY, hooks=list(hooks))
        guard.create("img")
        return guard

    return factory


@pytest.fixture
def hooked(make_guard: Callable[..., Guard[Any, Any]], outbox: Any) -> Hooked:
    """The outbox guard on ``store``, with the image ``img`` created (``queued``)."""
    seen: list[Committed] = []
    guard = make_guard(in_transaction(write_outbox(outbox)), after_commit(seen.append))
    return Hooked(guard, seen)


def outbox_rows(app_engine: Any, outbox: Any) -> list[tuple[str, str | None, int]]:
    with app_engine.connect() as conn:
        query = sa.select(outbox.c.image, outbox.c.event, outbox.c.version)
        return [tuple(r) for r in conn.execute(query.order_by(outbox.c.id))]


def test_the_outbox_row_commits_with_the_status(
    hooked: Hooked, store: Any, outbox: Any, app_engine: Any
) -> None:
    guard, seen = hooked.guard, hooked.seen
    done = guard.fire("img", "upload_started")
    guard.move("img", "active", "saving")
    assert store.get("img")[:2] == ("active", 2)
    assert outbox_rows(app_engine, outbox) == [("img", "upload_started", 1), ("img", None, 2)]
    assert [c.version for c in seen] == [1, 2]
    assert seen[0] == done
    assert [h.target for h in store.history("img")] == ["saving", "active"]


def test_a_raising_in_transaction_hook_rolls_the_transition_back(
    make_guard: Callable[..., Guard[Any, Any]], store: Any, outbox: Any, app_engine: Any
) -> None:
    seen: list[Committed] = []
    write = write_outbox(outbox)

    def write_then_fail(conn: Any, c: Committed) -> None:
        write(conn, c)  # this row must roll back too
        raise ValueError("outbox full")

    guard = make_guard(in_transaction(write_then_fail), after_commit(seen.append))
    with pytest.raises(HookFailed) as caught:
        guard.fire("img", "upload_started")
    assert caught.value.rolled_back is True
    assert isinstance(caught.value.errors[0], ValueError)
    assert store.get("img")[:2] == ("queued", 0)
    assert store.history("img") == []
    assert outbox_rows(app_engine, outbox) == []
    assert seen == []  # never for a rolled-back transition


def test_refused_and_noop_transitions_write_no_outbox_row(
    hooked: Hooked, outbox: Any, app_engine: Any
) -> None:
    guard, seen = hooked.guard, hooked.seen
    with pytest.raises(IllegalTransition):
        guard.fire("img", "upload_succeeded")
    guard.fire("img", "upload_started")
    guard.fire("img", "upload_succeeded")
    assert guard.fire("img", "reactivate").noop
    assert [e for _, e, _ in outbox_rows(app_engine, outbox)] == [
        "upload_started",
        "upload_succeeded",
    ]
    assert len(seen) == 2


def test_a_bound_guard_calls_after_commit_hooks_when_the_caller_commits(
    hooked: Hooked, outbox: Any, app_engine: Any
) -> None:
    guard, seen = hooked.guard, hooked.seen
    guard.create("other")
    with app_engine.connect() as conn:
        bound = guard.bind(conn)
        bound.fire("img", "upload_started")
        bound.fire("other", "upload_started")
        assert conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar() == 2
        assert seen == []  # not yet: the caller has not committed
        conn.commit()
        assert [c.key for c in seen] == ["img", "other"]
        conn.execute(sa.select(1))
        conn.commit()  # a later commit on the same connection runs nothing again
    assert len(seen) == 2
    assert len(outbox_rows(app_engine, outbox)) == 2


def test_a_bound_guard_never_calls_them_after_a_rollback(
    hooked: Hooked, store: Any, outbox: Any, app_engine: Any
) -> None:
    guard, seen = hooked.guard, hooked.seen
    with app_engine.connect() as conn:
        guard.bind(conn).fire("img", "upload_started")
        conn.rollback()
        conn.execute(sa.select(1))
        conn.commit()  # the rolled-back transition's hook is gone, not run late
    assert seen == []
    assert outbox_rows(app_engine, outbox) == []
    assert store.get("img").status == "queued"


def test_an_orm_session_commits_and_rolls_back_hooks(
    hooked: Hooked, outbox: Any, app_engine: Any
) -> None:
    from sqlalchemy.orm import Session

    guard, seen = hooked.guard, hooked.seen
    with Session(app_engine) as session:
        guard.bind(session).fire("img", "upload_started")
        session.rollback()
        assert seen == []
        guard.bind(session).fire("img", "upload_started")
        assert seen == []
        session.commit()
        assert [c.version for c in seen] == [1]
        session.commit()
    assert len(seen) == 1
    assert outbox_rows(app_engine, outbox) == [("img", "upload_started", 1)]


def test_a_raising_after_commit_hook_on_commit_leaves_it_committed(
    make_guard: Callable[..., Guard[Any, Any]], store: Any, outbox: Any, app_engine: Any
) -> None:
    def fail(c: Committed) -> None:
        raise OSError("broker down")

    guard = make_guard(in_transaction(write_outbox(outbox)), after_commit(fail))
    with app_engine.connect() as conn:
        guard.bind(conn).fire("img", "upload_started")
        with pytest.raises(HookFailed) as caught:
            conn.commit()
        assert caught.value.rolled_back is False
    assert store.get("img")[:2] == ("saving", 1)
    assert outbox_rows(app_engine, outbox) == [("img", "upload_started", 1)]


CRASHING_CHILD = textwrap.dedent(
    """
    import os, signal, sys
    import sqlalchemy as sa
    import statusguard
    from statusguard import Guard, SQLStore
    from statusguard.guard import after_commit, in_transaction

    url, table, audit, outbox_name, model = sys.argv[1:6]
    outbox = sa.Table(outbox_name, sa.MetaData(), autoload_with=sa.create_engine(url))

    def write(conn, c):
        conn.execute(outbox.insert().values(image=c.key, event=c.event, version=c.version))

    def crash(c):
        os.kill(os.getpid(), signal.SIGKILL)  # between the commit and the side effect

    store = SQLStore(url, table, version="version", audit=audit)
    guard = Guard(statusguard.load(model), store, {"delayed_delete": False},
                  hooks=[in_transaction(write), after_commit(crash)])
    guard.fire("img", "upload_started")
    print("the after-commit hook did not run", flush=True)
    """
)


def test_a_crash_between_commit_and_after_commit_hook_loses_no_outbox_row(
    make_guard: Callable[..., Guard[Any, Any]], store: Any, outbox: Any, app_engine: Any, url: str
) -> None:
    if url == "sqlite://":
        pytest.skip("an in-memory SQLite database is not visible to another process")
    make_guard()
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            CRASHING_CHILD,
            url,
            store.table_name,
            store.audit_table,
            outbox.name,
            str(ROOT / "model" / "glance_image.py"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert store.get("img")[:2] == ("saving", 1)
    assert outbox_rows(app_engine, outbox) == [("img", "upload_started", 1)]


@pytest.mark.parametrize("caller", ["connection", "session"])
def test_a_rolled_back_savepoint_drops_only_its_own_hooks(
    hooked: Hooked, store: Any, outbox: Any, app_engine: Any, caller: str
) -> None:
    from sqlalchemy.orm import Session

    guard = hooked.guard
    for key in ("early", "kept", "undone", "released"):
        guard.create(key)
    with app_engine.connect() if caller == "connection" else Session(app_engine) as target:
        bound = guard.bind(target)
        first = target.begin_nested()  # a savepoint begun before any hook was queued
        bound.fire("early", "upload_started")
        first.rollback()
        bound.fire("kept", "upload_started")
        inner = target.begin_nested()
        bound.fire("undone", "upload_started")
        inner.rollback()
        with target.begin_nested():
            bound.fire("released", "upload_started")
        assert hooked.seen == []
        target.commit()
    assert [c.key for c in hooked.seen] == ["kept", "released"]
    assert [k for k, _, _ in outbox_rows(app_engine, outbox)] == ["kept", "released"]
    assert store.get("undone").status == "queued"
    assert store.get("early").status == "queued"


RACING_CHILD = textwrap.dedent(
    """
    import os, sys, time
    import sqlalchemy as sa
    import statusguard
    from statusguard import Guard, IllegalTransition, SQLStore
    from statusguard.errors import StoreUnavailable, TransitionConflict
    from statusguard.guard import after_commit, in_transaction

    url, table, audit, outbox_name, model, keys, calls, start = sys.argv[1:9]
    outbox = sa.Table(outbox_name, sa.MetaData(), autoload_with=sa.create_engine(url))

    def write(conn, c):
        conn.execute(outbox.insert().values(image=c.key, event=c.event, version=c.version))

    log = open(calls, "a", buffering=1)

    def record(c):
        log.write(f"{c.key} {c.version}\\n")

    store = SQLStore(url, table, version="version", audit=audit)
    guard = Guard(statusguard.load(model), store, {"delayed_delete": False},
                  hooks=[in_transaction(write), after_commit(record)])
    deadline = time.monotonic() + 20
    while not os.path.exists(start) and time.monotonic() < deadline:
        time.sleep(0.005)
    for event in ("upload_started", "upload_succeeded"):
        for key in keys.split(","):
            for attempt in range(20):  # bounded: a lost race on a lock is retried
                try:
                    guard.fire(key, event)
                except IllegalTransition:
                    pass  # another process moved it first: refused, no hook
                except (StoreUnavailable, TransitionConflict):
                    time.sleep(0.01)
                    continue
                break
    """
)


def test_after_commit_hooks_run_exactly_once_under_a_multi_process_race(
    make_guard: Callable[..., Guard[Any, Any]],
    store: Any,
    outbox: Any,
    app_engine: Any,
    url: str,
    tmp_path: Path,
) -> None:
    if url == "sqlite://":
        pytest.skip("an in-memory SQLite database is not visible to another process")
    keys = [f"img-{i}" for i in range(12)]
    plain = make_guard()
    for key in keys:
        plain.create(key)
    start = tmp_path / "start"
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                RACING_CHILD,
                url,
                store.table_name,
                store.audit_table,
                outbox.name,
                str(ROOT / "model" / "glance_image.py"),
                ",".join(keys),
                str(tmp_path / f"calls-{n}"),
                str(start),
            ],
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        )
        for n in range(4)
    ]
    start.touch()
    try:
        for child in children:
            _, err = child.communicate(timeout=120)
            assert child.returncode == 0, err
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    calls = [
        tuple(line.split())
        for n in range(4)
        for line in (tmp_path / f"calls-{n}").read_text().splitlines()
    ]
    expected = sorted((key, str(v)) for key in keys for v in (1, 2))
    assert sorted(calls) == expected  # every committed transition once, none twice
    rows = outbox_rows(app_engine, outbox)
    assert sorted((k, str(v)) for k, _, v in rows) == expected
    assert all(store.get(key)[:2] == ("active", 2) for key in keys)


def test_a_failing_commit_is_store_unavailable_and_runs_no_after_commit_hook(
    make_guard: Callable[..., Guard[Any, Any]], store: Any, app_engine: Any, url: str
) -> None:
    if not url.startswith("postgresql"):
        pytest.skip("a constraint checked only at COMMIT (DEFERRABLE) is PostgreSQL's")
    from statusguard.errors import StoreUnavailable

    name = unique("sg_hooks_deferred")
    with app_engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE TABLE {name} (image TEXT, UNIQUE (image) DEFERRABLE INITIALLY DEFERRED)"
        )
    try:

        def twice(conn: Any, c: Committed) -> None:  # fails at the COMMIT, not here
            conn.exec_driver_sql(f"INSERT INTO {name} VALUES ('{c.key}'), ('{c.key}')")

        seen: list[Committed] = []
        guard = make_guard(in_transaction(twice), after_commit(seen.append))
        with pytest.raises(StoreUnavailable) as caught:
            guard.fire("img", "upload_started")
        assert caught.value.committed is None
        assert "COMMIT" in str(caught.value)
        assert seen == []
        assert store.get("img")[:2] == ("queued", 0)
    finally:
        with app_engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE {name}")
