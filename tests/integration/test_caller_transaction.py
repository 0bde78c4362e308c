"""The guard inside a caller's transaction, with other columns, on a table it did not create.

Issue 16 part 2, on SQLite (file and memory), PostgreSQL and MariaDB: ``fire``/``move``
with ``values=`` write the status and its companion columns in one statement;
``guard.bind(connection_or_session)`` commits with the caller, rolls back with the
caller, leaves the caller's transaction usable after a refusal and never half-writes;
a Glance-like ``images`` table (key ``id``, no version column) is adopted as it is.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest

from statusguard import Guard, IllegalTransition, MemoryStore, TransitionConflict
from statusguard.errors import (
    DuplicateKey,
    InvalidKey,
    ReservedColumn,
    StoreUnavailable,
    UnknownColumn,
)
from tests.integration.conftest import SQL_ENGINES, engine_url, unique

sa = pytest.importorskip("sqlalchemy")

NO_DELAY = {"delayed_delete": False}
COLUMNS = {"size": sa.BigInteger(), "checksum": sa.String(32), "updated_at": sa.DateTime()}
WHEN = dt.datetime(2026, 12, 1, 15, 30, 0)  # DATETIME: no fractional seconds on MariaDB


@pytest.fixture(params=SQL_ENGINES)
def app_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """The application's own engine (transactional, as SQLAlchemy makes it by default)."""
    url = engine_url(str(request.param), tmp_path)
    if request.param == "sqlite-memory":  # one database: every connection is the same one
        engine = sa.create_engine(url, poolclass=sa.pool.StaticPool)
    else:
        engine = sa.create_engine(url)
    yield engine
    engine.dispose()


def shared_memory(engine: Any) -> bool:
    """An in-memory SQLite database: one connection, so 'another session' sees everything."""
    return bool(engine.dialect.name == "sqlite" and not engine.url.database)


@pytest.fixture
def store(app_engine: Any) -> Iterator[Any]:
    from statusguard import SQLStore

    made = SQLStore(
        app_engine,
        unique("sg_ctx"),
        version="version",
        token="token",
        audit=unique("sg_ctxa"),
        columns=COLUMNS,
    )
    made.create_schema()
    yield made
    made.drop_schema()
    made.dispose()


@pytest.fixture
def guard(store: Any, glance: Any) -> Guard[Any, Any]:
    return Guard(glance, store, NO_DELAY, tokens=True)


def committed_row(store: Any, key: str) -> tuple[str, int, int | None, int]:
    """(status, version, size, audit rows) as committed: read on a fresh connection."""
    record = store.get(key)
    return record.status, record.version, store.values(key)["size"], len(store.history(key))


# -- commit with the caller, roll back with the caller ------------------------------------


def test_the_write_commits_with_the_caller(
    guard: Guard[Any, Any], store: Any, app_engine: Any
) -> None:
    guard.create("img")
    app = app_engine
    with app.connect() as conn:
        bound = guard.bind(conn)
        done = bound.fire("img", "upload_started", values={"size": 5, "updated_at": WHEN})
        assert (done.source, done.target, done.version) == ("queued", "saving", 1)
        assert conn.in_transaction()  # the guard opened nothing of its own: SQLAlchemy's
        assert bound.status("img") == "saving"  # the caller's transaction sees its write
        assert bound.store.history("img")[-1].target == "saving"
        if not shared_memory(app):
            assert committed_row(store, "img") == ("queued", 0, None, 0)  # not yet committed
        conn.commit()
    assert committed_row(store, "img") == ("saving", 1, 5, 1)
    assert store.values("img")["updated_at"] == WHEN


def test_the_write_rolls_back_with_the_caller(
    guard: Guard[Any, Any], store: Any, app_engine: Any
) -> None:
    guard.create("img")
    with app_engine.connect() as conn:
        bound = guard.bind(conn)
        bound.fire("img", "upload_started", values={"size": 5})
        bound.move("img", "active", "saving", values={"checksum": "abc"})
        assert bound.status("img") == "active"
        conn.rollback()
        assert bound.status("img") == "queued"  # the same connection, a new transaction
    assert committed_row(store, "img") == ("queued", 0, None, 0)
    assert store.values("img")["checksum"] is None


def test_an_exception_in_the_callers_block_undoes_the_write(
    guard: Guard[Any, Any], store: Any, app_engine: Any
) -> None:
    guard.create("img")

    def request() -> None:
        with app_engine.begin() as conn:
            guard.bind(conn).fire("img", "upload_started", values={"size": 5})
            _ = 1 / 0  # the caller's own code fails after the transition

    with pytest.raises(ZeroDivisionError):
        request()
    assert committed_row(store, "img") == ("queued", 0, None, 0)


def test_an_orm_session_commits_and_rolls_back_the_write(
    guard: Guard[Any, Any], store: Any, app_engine: Any
) -> None:
    from sqlalchemy.orm import Session

    guard.create("a")
    guard.create("b")
    with Session(app_engine) as session:
        bound = guard.bind(session)
        bound.fire("a", "upload_started", values={"size": 1})
        session.rollback()
        bound.fire("b", "upload_started", values={"size": 2})  # the session's next transaction
        session.commit()
    assert committed_row(store, "a") == ("queued", 0, None, 0)
    assert committed_row(store, "b") == ("saving", 1, 2, 1)


def test_the_callers_own_writes_and_the_transition_are_one_transaction(
    guard: Guard[Any, Any], store: Any, app_engine: Any
) -> None:
    """Glance's shape: the caller writes its rows, the guard the status, one COMMIT."""
    notes = sa.Table(
        unique("sg_ctxn"), sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True)
    )
    notes.create(store.engine)
    try:
        guard.create("img")
        for outcome in ("rollback", "commit"):
            with app_engine.connect() as conn:
                conn.execute(notes.insert().values(id=1))
                guard.bind(conn).fire("img", "upload_started")
                getattr(conn, outcome)()
            with app_engine.connect() as conn:
                rows = conn.execute(sa.select(sa.func.count()).select_from(notes)).scalar()
            assert (rows, store.get("img").status) == (
                (0, "queued") if outcome == "rollback" else (1, "saving")
            )
    finally:
        notes.drop(store.engine)


# -- refusals leave the caller's transaction usable -------------------------------------------


def test_a_refused_transition_leaves_the_callers_transaction_usable(
    guard: Guard[Any, Any], store: Any, app_engine: Any
) -> None:
    guard.create("img")
    guard.create("other")
    with app_engine.connect() as conn:
        bound = guard.bind(conn)
        bound.fire("other", "upload_started", values={"size": 7})  # the caller's earlier work
        with pytest.raises(IllegalTransition, match="not allowed in state 'queued'"):
            bound.fire("img", "upload_succeeded", values={"size": 1})
        with pytest.raises(TransitionConflict):
            bound.move("img", "active", "saving", values={"size": 1})
        with pytest.raises(DuplicateKey):
            bound.create("img")  # on PostgreSQL a failed INSERT would abort it: a savepoint
        with pytest.raises(UnknownColumn, match="did you mean 'size'"):
            bound.fire("img", "upload_started", values={"szie": 1})
        with pytest.raises(ReservedColumn):
            bound.fire("img", "upload_started", values={"status": "active"})
        assert conn.exec_driver_sql("SELECT 1").scalar() == 1  # still usable
        bound.fire("img", "upload_started", values={"size": 3})
        conn.commit()
    assert committed_row(store, "img") == ("saving", 1, 3, 1)
    assert committed_row(store, "other") == ("saving", 1, 7, 1)


def _half_write(
    store: Any, glance: Any, monkeypatch: pytest.MonkeyPatch, *, control: bool, app_engine: Any
) -> str:
    """Fire inside a caller's transaction whose audit INSERT fails; commit what is left.

    ``control``: savepoints are dropped (the protection removed).
    """
    from statusguard import SQLStore
    from statusguard.sql import _store as store_module

    broken = SQLStore(
        store.engine,
        store.table_name,
        version="version",
        token="token",
        audit=unique("sg_missing"),  # never created: the audit INSERT fails
        columns=COLUMNS,
    )
    if control:
        real = store_module.run_in_transaction

        def no_savepoints(conn: Any, text: str, params: Any = None) -> Any:
            if "SAVEPOINT" in text:
                return real(conn, "SELECT 1", None)
            return real(conn, text, params)

        monkeypatch.setattr(store_module, "run_in_transaction", no_savepoints)
    guard = Guard(glance, broken, NO_DELAY)
    with app_engine.connect() as conn:
        with pytest.raises(StoreUnavailable) as info:
            guard.bind(conn).fire("img", "upload_started", values={"size": 9})
        assert info.value.committed is False
        with suppress(Exception):  # PostgreSQL: the failed statement aborted it
            conn.commit()
    monkeypatch.undo()
    return str(store.get("img").status)


def test_nothing_is_half_written_when_the_audit_row_fails(
    guard: Guard[Any, Any],
    store: Any,
    glance: Any,
    monkeypatch: pytest.MonkeyPatch,
    app_engine: Any,
) -> None:
    guard.create("img")
    assert _half_write(store, glance, monkeypatch, control=False, app_engine=app_engine) == "queued"
    assert store.values("img")["size"] is None
    if store.dialect != "postgresql":  # one statement there (the audit INSERT is a CTE)
        # the negative control: without the savepoint the UPDATE stays in the caller's
        # transaction and commits without its audit row
        assert (
            _half_write(store, glance, monkeypatch, control=True, app_engine=app_engine) == "saving"
        )


def test_a_read_after_a_miss_sees_the_newest_row_not_the_snapshot(
    guard: Guard[Any, Any], store: Any, monkeypatch: pytest.MonkeyPatch, app_engine: Any
) -> None:
    """MariaDB's REPEATABLE READ: the caller's snapshot still shows 'queued' after another
    session moved the row; the refusal names the status stored now."""
    if store.dialect == "sqlite":
        pytest.skip("SQLite serializes writers: a stale read transaction cannot write at all")
    guard.create("img")

    def refusal() -> Exception:
        with app_engine.connect() as conn:
            bound = guard.bind(conn)
            assert bound.status("img") == "queued"  # the caller's transaction read it
            guard.fire("img", "upload_started")  # another session, committed
            with pytest.raises((IllegalTransition, TransitionConflict)) as info:
                bound.fire("img", "upload_started")
            conn.rollback()
        return info.value

    found = refusal()
    assert isinstance(found, IllegalTransition)
    assert found.state == "saving"
    if store.dialect == "mysql":  # REPEATABLE READ: status() shows the snapshot
        guard.fire("img", "upload_failed")  # back to queued
        with app_engine.connect() as conn:  # a move() deciding on the stale view never writes
            bound = guard.bind(conn)
            assert bound.status("img") == "queued"
            guard.fire("img", "upload_started")  # another session, committed
            with pytest.raises(TransitionConflict) as conflict:
                bound.move("img", "saving")  # reads the view (queued), compares the row
            assert conflict.value.args[0].count("'saving'") >= 1
            conn.rollback()
        assert store.get("img").version == 3
    if store.dialect == "mysql":  # the negative control: a plain (snapshot) read loops
        from statusguard.sql.dialects.mysql import MySQL

        guard.fire("img", "upload_failed")  # back to queued
        monkeypatch.setattr(MySQL, "locking_read", "")
        monkeypatch.setattr(store, "race_retries", 3)
        store._sql.select_locked = store._sql.select
        assert isinstance(refusal(), TransitionConflict)


def test_bind_refuses_what_it_cannot_join(
    guard: Guard[Any, Any], store: Any, glance: Any, app_engine: Any
) -> None:
    with pytest.raises(TypeError, match="cannot join a caller's transaction"):
        Guard(glance, MemoryStore(), NO_DELAY).bind(object())
    with pytest.raises(TypeError, match="Connection or ORM Session"):
        guard.bind(store.engine)  # an Engine is no transaction
    with app_engine.connect() as conn, pytest.raises(TypeError, match="create_schema"):
        guard.bind(conn).store.create_schema()
    with app_engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        with pytest.raises(ValueError, match="AUTOCOMMIT"):
            guard.bind(conn)
    with pytest.raises(ValueError, match="AUTOCOMMIT"), store.engine.connect() as conn:
        guard.bind(conn)  # the store's own engine runs in autocommit
    if store.dialect != "sqlite":
        from statusguard import SQLStore

        other = SQLStore("sqlite://", "sg_ctx_other")
        with app_engine.connect() as conn, pytest.raises(ValueError, match="same kind"):
            other.bind(conn)
        other.dispose()


def test_a_failed_create_keeps_the_callers_transaction_on_postgresql(
    guard: Guard[Any, Any], store: Any, app_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL aborts a transaction at its first failed statement: the duplicate
    INSERT runs under a savepoint. The negative control removes it."""
    if store.dialect != "postgresql":
        pytest.skip("only PostgreSQL aborts the whole transaction on a failed statement")
    from sqlalchemy.exc import InternalError

    from statusguard.sql.dialects.postgresql import PostgreSQL

    guard.create("img")
    for control in (False, True):
        if control:
            monkeypatch.setattr(PostgreSQL, "error_aborts_transaction", False)
        with app_engine.connect() as conn:
            if control:  # even reading the existing status fails: the transaction is gone
                with pytest.raises(StoreUnavailable, match="current transaction is aborted"):
                    guard.bind(conn).create("img")
                with pytest.raises(InternalError, match="current transaction is aborted"):
                    conn.exec_driver_sql("SELECT 1")
            else:
                with pytest.raises(DuplicateKey, match="its status is 'queued'"):
                    guard.bind(conn).create("img")
                assert conn.exec_driver_sql("SELECT 1").scalar() == 1
            conn.rollback()


# -- values: all together or not at all, the same on every store -----------------------------


@pytest.fixture(params=["memory", *SQL_ENGINES])
def any_guard(request: pytest.FixtureRequest, tmp_path: Path, glance: Any) -> Iterator[Any]:
    if request.param == "memory":
        yield Guard(glance, MemoryStore(audit=True, columns=COLUMNS), NO_DELAY, tokens=True)
        return
    from statusguard import SQLStore

    made = SQLStore(
        engine_url(str(request.param), tmp_path),
        unique("sg_val"),
        version="version",
        token="token",
        audit=unique("sg_vala"),
        columns=COLUMNS,
    )
    made.create_schema()
    yield Guard(glance, made, NO_DELAY, tokens=True)
    made.drop_schema()
    made.dispose()


def test_values_are_written_with_the_transition_or_not_at_all(any_guard: Any) -> None:
    g, store = any_guard, any_guard.store
    g.create("img")
    assert store.values("img") == {"size": None, "checksum": None, "updated_at": None}
    g.fire("img", "upload_started", values={"size": 10})
    with pytest.raises(IllegalTransition):
        g.fire("img", "upload_started", values={"size": 99, "checksum": "x"})
    with pytest.raises(TransitionConflict):
        g.move("img", "active", "queued", values={"size": 98})
    assert store.values("img") == {"size": 10, "checksum": None, "updated_at": None}
    g.move("img", "active", values={"checksum": "c0ffee", "updated_at": WHEN})
    assert store.values("img") == {"size": 10, "checksum": "c0ffee", "updated_at": WHEN}
    assert (g.status("img"), g.version("img")) == ("active", 2)


def test_a_noop_writes_no_value_either(any_guard: Any) -> None:
    """Glance skips the save of a deactivate on a deactivated image
    (glance/api/v2/image_actions.py:61-65 at c76abb08e): the no-op writes nothing, its
    values included."""
    g, store = any_guard, any_guard.store
    g.create("img")
    g.fire("img", "location_added")
    g.fire("img", "deactivate", values={"size": 1})
    history = store.history("img")
    done = g.fire("img", "deactivate", values={"size": 2, "updated_at": WHEN})
    assert (done.noop, done.source, done.target, done.version) == (
        True,
        "deactivated",
        "deactivated",
        2,
    )
    assert store.values("img") == {"size": 1, "checksum": None, "updated_at": None}
    assert store.history("img") == history


def test_a_noop_in_the_callers_transaction_writes_nothing(
    guard: Guard[Any, Any], store: Any, app_engine: Any
) -> None:
    guard.create("img")
    guard.fire("img", "location_added")
    guard.fire("img", "deactivate")
    with app_engine.connect() as conn:
        bound = guard.bind(conn)
        done = bound.fire("img", "deactivate", values={"size": 3})
        assert (done.noop, done.version) == (True, 2)
        conn.commit()
    assert committed_row(store, "img") == ("deactivated", 2, None, 2)


@pytest.mark.parametrize(
    ("values", "error", "message"),
    [
        ({"szie": 1}, UnknownColumn, "unknown column 'szie'.*did you mean 'size'\\?"),
        ({"status": "active"}, ReservedColumn, "'status' is the status column"),
        ({"VERSION": 7}, ReservedColumn, "'VERSION' is the version column"),
        ({"token": "t"}, ReservedColumn, "'token' is the token column"),
        (["size"], TypeError, "takes a mapping"),
    ],
)
def test_bad_values_get_the_same_answer_from_every_store(
    any_guard: Any, values: Any, error: type[Exception], message: str
) -> None:
    any_guard.create("img")
    with pytest.raises(error, match=message):
        any_guard.fire("img", "upload_started", values=values)
    with pytest.raises(error, match=message):
        any_guard.move("img", "saving", "queued", values=values)
    assert (any_guard.status("img"), any_guard.version("img")) == ("queued", 0)


def test_racing_writers_never_mix_their_values(any_guard: Any) -> None:
    """Status, version, token and values always come from the same write."""
    g = any_guard
    g.create("img")
    results: list[Any] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        for i in range(15):
            event = "upload_started" if i % 2 == 0 else "upload_failed"
            with suppress(IllegalTransition):
                done = g.fire("img", event, values={"size": n * 1000 + i, "checksum": str(n)})
                with lock:
                    results.append((done.version, n * 1000 + i, done.target))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    version, size, target = max(results)
    assert (g.status("img"), g.version("img")) == (target, version)
    assert g.store.values("img")["size"] == size
    assert g.store.values("img")["checksum"] == str(size // 1000)
    assert sorted(v for v, _, _ in results) == list(range(1, version + 1))


# -- adopting a table statusguard did not create: Glance's images ---------------------------


def glance_images(name: str) -> Any:
    """A table shaped like Glance's ``images`` (glance/db/sqlalchemy/models.py:113-144)."""
    return sa.Table(
        name,
        sa.MetaData(),
        # keys must compare exactly: on MariaDB the server's default collation would make
        # 'ABC' and 'abc' one row, and reflect() refuses such a table (test_sql_exact_keys)
        sa.Column(
            "id",
            sa.String(36).with_variant(sa.String(36, collation="utf8mb4_nopad_bin"), "mysql"),
            primary_key=True,
        ),
        sa.Column("name", sa.String(255)),
        sa.Column("size", sa.BigInteger().with_variant(sa.Integer, "sqlite")),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("checksum", sa.String(32)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime()),
        sa.Column("deleted_at", sa.DateTime()),
        sa.Column("deleted", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


@pytest.fixture
def images(app_engine: Any) -> Iterator[Any]:
    table = glance_images(unique("sg_images"))
    table.create(app_engine)
    yield table
    table.drop(app_engine)


def insert_image(conn: Any, images: Any, key: str) -> None:
    """What Glance's image_create does, in the caller's own code (not the guard's)."""
    conn.execute(images.insert().values(id=key, status="queued", created_at=WHEN))


@pytest.mark.parametrize("how", ["table", "reflect"])
def test_an_adopted_glance_like_table(app_engine: Any, images: Any, glance: Any, how: str) -> None:
    from statusguard import SQLStore

    if how == "table":
        store = SQLStore(app_engine, images, key="id", status="status")
    else:
        store = SQLStore.reflect(app_engine, images.name, key="id", status="status")
    assert store.columns == (
        "name",
        "size",
        "checksum",
        "created_at",
        "updated_at",
        "deleted_at",
        "deleted",
    )
    assert not store.versioned
    key = "6a1f8d3c-0000-4000-8000-00000000000a"
    guard = Guard(glance, store, {"delayed_delete": False})
    with app_engine.begin() as conn:  # Glance's session_for_write()
        insert_image(conn, images, key)
        bound = guard.bind(conn)
        bound.fire(key, "upload_started", values={"updated_at": WHEN})
        bound.move(
            key,
            "active",
            "saving",  # image_update(..., from_state='saving')
            values={"size": 4096, "checksum": "d41d8cd98f00b204e9800998ecf8427e"},
        )
    with app_engine.begin() as conn:
        bound = guard.bind(conn)
        bound.fire(
            key,
            "delete",
            {"has_locations": True},
            values={"deleted": True, "deleted_at": WHEN, "updated_at": WHEN},
        )
    with app_engine.connect() as conn:
        row = conn.execute(sa.select(images).where(images.c.id == key)).one()
    assert (row.status, row.size, row.deleted, row.deleted_at) == (
        "deleted",
        4096,
        True,
        WHEN,
    )
    assert store.get(key).version == 0  # no version column: versions are not kept
    with pytest.raises(InvalidKey):
        guard.create("x" * 37)  # the adopted key column is String(36)


def test_adopting_names_columns_the_table_lacks(app_engine: Any, images: Any) -> None:
    from statusguard import SQLStore

    with pytest.raises(UnknownColumn, match=r"no column 'state'.*did you mean 'status'"):
        SQLStore(app_engine, images, key="id", status="state")
    with pytest.raises(UnknownColumn, match="'version' to use as the version column"):
        SQLStore(app_engine, images, key="id", status="status", version="version")
    with pytest.raises(ValueError, match="no table 'sg_nowhere' in the database"):
        SQLStore.reflect(app_engine, "sg_nowhere", key="id")


def test_without_a_version_column_a_target_move_is_open_to_aba(
    app_engine: Any, images: Any, glance: Any
) -> None:
    """What docs/guard.md says: events stay race-free; a move read-then-CAS on status
    alone cannot tell 'saving' from 'saving again' (queued -> saving -> queued -> saving)."""
    from statusguard import SQLStore

    store = SQLStore(app_engine, images, key="id", status="status")
    guard = Guard(glance, store, NO_DELAY)
    key = "6a1f8d3c-0000-4000-8000-00000000000b"
    with app_engine.begin() as conn:
        insert_image(conn, images, key)
    guard.fire(key, "upload_started")
    seen = guard.status(key)  # a worker reads 'saving' (upload #1) ...
    guard.fire(key, "upload_failed")  # ... upload #1 fails, upload #2 starts
    guard.fire(key, "upload_started")
    done = guard.move(key, "active", seen)  # ... and #1's late 'active' still lands
    assert done.target == "active"  # ABA: the status alone cannot tell


def test_racing_caller_transactions_never_mix_their_values(
    guard: Guard[Any, Any], store: Any, app_engine: Any
) -> None:
    """Each worker's transition and its values commit in the worker's own transaction;
    whatever the interleaving, the row's status, version and values are one write's."""
    if shared_memory(app_engine):
        pytest.skip("one shared connection: there are no concurrent transactions")
    guard.create("img")
    results: list[tuple[int, int, str]] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(8):
                event = "upload_started" if i % 2 == 0 else "upload_failed"
                with suppress(IllegalTransition), app_engine.begin() as conn:
                    size = n * 1000 + i
                    done = guard.bind(conn).fire("img", event, values={"size": size})
                    with lock:
                        results.append((done.version, size, done.target))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    version, size, target = max(results)
    assert committed_row(store, "img")[:3] == (target, version, size)
    assert sorted(v for v, _, _ in results) == list(range(1, version + 1))
    history = store.history("img")
    assert [h.version for h in history] == list(range(1, version + 1))
    assert all(a.target == b.source for a, b in itertools.pairwise(history))


def test_an_orm_model_table_and_its_session(app_engine: Any, glance: Any) -> None:
    """What a SQLAlchemy user has: a declarative model, its ``__table__``, a Session."""
    from sqlalchemy.orm import DeclarativeBase, Session, mapped_column

    from statusguard import SQLStore

    class Base(DeclarativeBase):
        pass

    class Image(Base):
        __tablename__ = unique("sg_orm_images")
        id = mapped_column(sa.String(36), primary_key=True)
        status = mapped_column(sa.String(30), nullable=False)
        size = mapped_column(sa.BigInteger)

    Base.metadata.create_all(app_engine)
    try:
        store = SQLStore(app_engine, Image.__table__, key="id", status="status")  # type: ignore[arg-type]
        guard = Guard(glance, store, NO_DELAY)
        with Session(app_engine) as session, session.begin():
            image = Image(id="img", status="queued")
            session.add(image)
            session.flush()  # the caller's INSERT, in its transaction
            guard.bind(session).fire("img", "upload_started", values={"size": 12})
            assert image.status == "queued"  # the identity map has not seen the UPDATE
            session.refresh(image)
            assert (image.status, image.size) == ("saving", 12)
        with Session(app_engine) as session:
            loaded = session.get(Image, "img")
            assert loaded is not None
            with pytest.raises(IllegalTransition):
                guard.bind(session).fire("img", "upload_started", values={"size": 13})
            loaded.size = 14  # the session is still usable: the caller's own change commits
            session.commit()
        with Session(app_engine) as session:
            loaded = session.get(Image, "img")
            assert loaded is not None
            assert (loaded.status, loaded.size) == ("saving", 14)
    finally:
        Base.metadata.drop_all(app_engine)


def _uploads_after_a_miss(
    guard: Guard[Any, Any], app_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> list[Any]:
    """Two transactions fire upload_started while a third holds an uncommitted
    saving -> queued: both UPDATEs miss ('saving' is committed), then, paused before
    their re-read until the third commits, both re-read 'queued' (a source of the
    event) and, once both have read, retry. What each one ended with."""
    from statusguard import SQLStore

    guard.create("img")
    guard.fire("img", "upload_started")  # committed: saving
    holder = app_engine.connect()
    guard.bind(holder).fire("img", "upload_failed")  # saving -> queued, not committed
    paused, go = threading.Semaphore(0), threading.Event()
    # after the re-read both wait for each other (1 s at most: with an exclusive lock
    # the second one's read waits for the first one's commit instead)
    both_read = threading.Barrier(2, timeout=1.0)
    real_read = SQLStore._read

    def paused_read(self: Any, conn: Any, key: Any, *, newest: bool = False) -> Any:
        if not newest or both_read.broken:
            return real_read(self, conn, key, newest=newest)
        first = not go.is_set()
        if first:
            paused.release()
            go.wait(timeout=10)
        record = real_read(self, conn, key, newest=newest)
        if first:
            with suppress(threading.BrokenBarrierError):
                both_read.wait()
        return record

    monkeypatch.setattr(SQLStore, "_read", paused_read)
    outcomes: list[object] = []

    def uploader() -> None:
        try:
            with app_engine.begin() as conn:
                outcomes.append(guard.bind(conn).fire("img", "upload_started").target)
        except Exception as exc:  # the assertions name it
            outcomes.append(exc)

    threads = [threading.Thread(target=uploader) for _ in range(2)]
    for t in threads:
        t.start()
    for _ in threads:  # both missed and wait before their re-read
        assert paused.acquire(timeout=10)
    holder.commit()
    holder.close()
    go.set()
    for t in threads:
        t.join(timeout=60)
    monkeypatch.setattr(SQLStore, "_read", real_read)
    return outcomes


def test_two_transactions_retrying_after_a_miss_do_not_deadlock(
    guard: Guard[Any, Any], store: Any, app_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL. The re-read after a miss takes the lock the UPDATE takes (FOR NO KEY
    UPDATE): one uploader commits, the other waits for it, then is refused. The negative
    control re-reads with a shared lock (FOR SHARE): both hold it, both upgrade: deadlock."""
    if store.dialect != "postgresql":
        pytest.skip("the interleaving is PostgreSQL's (MariaDB's UPDATE reads the newest row)")
    from statusguard.sql.dialects.postgresql import PostgreSQL

    outcomes = _uploads_after_a_miss(guard, app_engine, monkeypatch)
    assert sorted(map(type, outcomes), key=str) == [IllegalTransition, str], outcomes
    assert store.get("img").status == "saving"

    monkeypatch.setattr(PostgreSQL, "locking_read", " FOR SHARE")  # the control
    store._sql.select_locked = store._sql.render(
        PostgreSQL().select(store._sql.layout, locking=True)
    )
    store.drop_schema()
    store.create_schema()
    outcomes = _uploads_after_a_miss(guard, app_engine, monkeypatch)
    assert any("deadlock detected" in str(o) for o in outcomes), outcomes


def test_behind_the_generated_trigger_in_a_callers_transaction(
    guard: Guard[Any, Any], store: Any, app_engine: Any, glance: Any
) -> None:
    """The trigger on the status table (MariaDB then reports insert id 0: the outcome is
    asked of the same session, inside the caller's transaction) and values= together."""
    from statusguard.sql import trigger_ddl

    with app_engine.begin() as conn:
        cursor = conn.connection.dbapi_connection.cursor()  # DDL as written: no paramstyle
        for statement in trigger_ddl(glance, store.dialect, store.table_name, "status", NO_DELAY):
            cursor.execute(statement)
        cursor.close()
    guard.create("img")
    with app_engine.begin() as conn:
        done = guard.bind(conn).fire("img", "upload_started", values={"size": 8})
        assert (done.source, done.target, done.version) == ("queued", "saving", 1)
        moved = guard.bind(conn).move("img", "active", "saving", values={"checksum": "c"})
        assert moved.version == 2
    assert committed_row(store, "img") == ("active", 2, 8, 2)
    assert [h.version for h in store.history("img")] == [1, 2]
