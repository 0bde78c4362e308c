"""Bad input at the SQL boundary: identifiers with quotes, semicolons and unicode; guard
calls with hostile keys on SQLStore.

Every identifier must be refused with ``InvalidIdentifier`` before any SQL runs, or be
accepted and then work exactly under that name without touching anything else (a canary
table survives). Guard-call programs run on SQLStore as they do on MemoryStore, with
the same dict-model oracle. SQLite (in memory) takes the long run; PostgreSQL and MariaDB
run a smaller sample (each accepted case creates and drops real tables).
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statusguard import Guard, InvalidIdentifier, MemoryStore
from tests.integration._reliab_db import server_url, unique_table
from tests.property._bad_input import Tally, budget, check_message, run_boundary
from tests.property.test_bad_input_guard import GLANCE, programs, run_guard_program

PARAMS = ("table", "key", "status", "version", "token", "audit")
hostile = st.one_of(
    st.sampled_from(
        [
            "",
            "t; DROP TABLE canary; --",
            'a"b',
            "a'b",
            "a`b",
            "a b",
            "1abc",
            "ümlaut",
            "日本",
            "tab\tle",
            "x" * 65,
            "select",
            "ORDER",
            "_",
            "a\u0000b",
            "a-b",
            "a.b",
            "A",
        ]
    ),
    st.text(max_size=12),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True),
)


def _case(url: str, param: str, value: str, canary: str) -> str:
    from sqlalchemy import create_engine, inspect, text

    from statusguard import SQLStore

    kwargs: dict[str, Any] = {
        "table": unique_table("sg_id"),
        "key": "id",
        "status": "status",
        "version": "version",
        "token": "token",
        "audit": unique_table("sg_id_audit"),
    }
    kwargs[param] = value
    table = kwargs.pop("table")
    try:
        store = SQLStore(url, table, **kwargs)
    except InvalidIdentifier as exc:
        return check_message(exc, "invalid ")
    try:
        store.create_schema()
        guard: Guard[Any, Any] = Guard(GLANCE, store, {"delayed_delete": False})
        guard.create("k'; --")
        done = guard.fire("k'; --", "upload_started")
        assert (done.source, done.target) == ("queued", "saving")
        assert guard.status("k'; --") == "saving"
        names = set(inspect(store.engine).get_table_names())
        assert table in names, (table, names)
    finally:
        with contextlib.suppress(Exception):
            store.drop_schema()
        store.dispose()
    eng = create_engine(url)
    try:
        with eng.connect() as c:
            assert c.execute(text(f"SELECT count(*) FROM {canary}")).scalar() == 1
    finally:
        eng.dispose()
    return "accepted"


def _identifier_boundary(
    request: pytest.FixtureRequest, url: str, n: int, label: str, canary: str
) -> None:
    from sqlalchemy import create_engine, text

    eng = create_engine(url)
    with eng.begin() as c:
        c.execute(text(f"CREATE TABLE {canary} (x INTEGER)"))
        c.execute(text(f"INSERT INTO {canary} VALUES (1)"))
    tally = Tally(f"SQL identifiers ({label})")
    try:

        @given(param=st.sampled_from(PARAMS), value=hostile)
        def test(param: str, value: str) -> None:
            tally.run(lambda: _case(url, param, value, canary))

        run_boundary(request, tally, test, n)
    finally:
        with eng.begin() as c:
            c.execute(text(f"DROP TABLE {canary}"))
        eng.dispose()


def test_sql_identifiers_sqlite(request: pytest.FixtureRequest, tmp_path: Any) -> None:
    _identifier_boundary(
        request,
        f"sqlite:///{tmp_path / 'ids.db'}",
        budget(long=False),
        "SQLite",
        unique_table("sg_canary"),
    )


@pytest.mark.slow
def test_sql_identifiers_sqlite_long(request: pytest.FixtureRequest, tmp_path: Any) -> None:
    _identifier_boundary(
        request,
        f"sqlite:///{tmp_path / 'ids.db'}",
        budget(long=True),
        "SQLite",
        unique_table("sg_canary"),
    )


@pytest.mark.parametrize("engine", ["postgresql", "mysql"])
def test_sql_identifiers_servers(request: pytest.FixtureRequest, engine: str) -> None:
    url = server_url(engine)
    _identifier_boundary(request, url, 40, engine, unique_table("sg_canary"))


def unrepresentable(key: Any, *, nul: bool = True) -> bool:
    """Keys a ``String(255)`` key column cannot hold (PostgreSQL text also refuses NUL)."""
    return len(str(key)) > 255 or (nul and "\x00" in str(key))


def _guard_boundary(request: pytest.FixtureRequest, url: str, n: int, label: str) -> None:
    from statusguard import SQLStore

    tally = Tally(f"guard calls (SQLStore {label}), one case = one program of up to 14 calls")
    table, audit = unique_table("sg_calls"), unique_table("sg_calls_audit")
    admin = SQLStore(url, table, version="version", token="token", audit=audit)
    admin.create_schema()

    def fresh() -> Any:
        from sqlalchemy import text

        with admin.engine.begin() as c:
            c.execute(text(f"DELETE FROM {table}"))
        return admin

    def cannot_hold(key: Any) -> bool:
        return unrepresentable(key, nul=label == "postgresql")

    try:

        @given(program=programs)
        def test(program: tuple[dict[str, bool], list[tuple[Any, ...]]]) -> None:
            config, calls = program
            tally.run(lambda: run_guard_program(fresh, config, calls, cannot_hold))

        run_boundary(request, tally, test, n)
    finally:
        admin.drop_schema()
        admin.dispose()


def test_guard_calls_sqlite(request: pytest.FixtureRequest, tmp_path: Any) -> None:
    _guard_boundary(request, f"sqlite:///{tmp_path / 'calls.db'}", budget(long=False), "SQLite")


@pytest.mark.slow
def test_guard_calls_sqlite_long(request: pytest.FixtureRequest, tmp_path: Any) -> None:
    _guard_boundary(request, f"sqlite:///{tmp_path / 'calls.db'}", budget(long=True), "SQLite")


@pytest.mark.parametrize("engine", ["postgresql", "mysql"])
def test_guard_calls_servers(request: pytest.FixtureRequest, engine: str) -> None:
    _guard_boundary(request, server_url(engine), 60, engine)


def test_memory_store_is_the_reference() -> None:
    """The same runner on MemoryStore, so SQL differences show up as failures here."""
    assert run_guard_program(MemoryStore, {"delayed_delete": False}, [("create", "k")]) == [
        "create ok"
    ]
