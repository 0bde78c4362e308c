"""Bad input at the SQL boundary: identifiers with quotes, semicolons and unicode; guard
calls with hostile keys on SQLStore.

Every identifier must be refused with ``InvalidIdentifier`` before any SQL runs, or be
accepted and then work exactly under that name without touching anything else (a canary
table survives). Guard-call programs run on SQLStore as they do on MemoryStore, with
the same dict-model oracle, and the same programs must give the same outcomes on
MemoryStore and SQLStore. The default run takes a small sample on PostgreSQL and MariaDB
(each accepted identifier case creates and drops real tables); ``--run-slow`` runs the
long budget (10,000 cases) on SQLite and 1,000 on each server.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statusguard import Guard, MemoryStore
from statusguard.errors import InvalidIdentifier
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


def _case(url: str, param: str, value: str, canary: str, watch: Any) -> str:
    """One identifier case; ``watch`` is the engine that counts the canary's rows."""
    from sqlalchemy import inspect, text

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
    with watch.connect() as c:
        assert c.execute(text(f"SELECT count(*) FROM {canary}")).scalar() == 1
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
            tally.run(lambda: _case(url, param, value, canary, eng))

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


def server_budget() -> int:
    """Long runs on the servers: SQLite carries each boundary's 10,000 cases in CI.

    Every server case is several network round trips (and DDL for identifiers): 10,000
    of them per server took about 23 minutes of CI; 1,000 keep the engines' own quirks
    (collations, quoting, key limits) under generated input at a tenth of the cost.
    ``STATUSGUARD_BAD_INPUT_EXAMPLES`` still overrides.
    """
    return budget(long=True) if os.environ.get("STATUSGUARD_BAD_INPUT_EXAMPLES") else 1_000


@pytest.mark.slow
def test_sql_identifiers_sqlite_long(request: pytest.FixtureRequest, tmp_path: Any) -> None:
    _identifier_boundary(
        request,
        f"sqlite:///{tmp_path / 'ids.db'}",
        budget(long=True),
        "SQLite",
        unique_table("sg_canary"),
    )


#: The default run's sample on the real servers (each accepted identifier case creates
#: and drops real tables); --run-slow gives them the full long budget.
SERVER_QUICK = 40
#: Programs compared between MemoryStore and SQLStore on SQLite (fewer on the servers).
REFERENCE_CASES = 60


@pytest.mark.parametrize("engine", ["postgresql", "mysql"])
def test_sql_identifiers_servers(request: pytest.FixtureRequest, engine: str) -> None:
    url = server_url(engine)
    _identifier_boundary(request, url, SERVER_QUICK, engine, unique_table("sg_canary"))


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["postgresql", "mysql"])
def test_sql_identifiers_servers_long(request: pytest.FixtureRequest, engine: str) -> None:
    url = server_url(engine)
    _identifier_boundary(request, url, server_budget(), engine, unique_table("sg_canary"))


def unrepresentable(key: Any, *, nul: bool = True) -> bool:
    """Keys a ``String(255)`` key column cannot hold: not text, longer than 255 characters,
    or (PostgreSQL text) with a NUL."""
    return not isinstance(key, str) or len(key) > 255 or (nul and "\x00" in key)


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


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["postgresql", "mysql"])
def test_guard_calls_servers_long(request: pytest.FixtureRequest, engine: str) -> None:
    _guard_boundary(request, server_url(engine), server_budget(), engine)


@pytest.mark.parametrize("engine", ["sqlite", "postgresql", "mysql"])
def test_memory_store_is_the_reference(
    request: pytest.FixtureRequest, tmp_path: Any, engine: str
) -> None:
    """The same generated programs on MemoryStore and on SQLStore give the same outcomes.

    Keys a SQL key column cannot hold are left out (MemoryStore takes them, SQLStore
    answers ``StoreUnavailable``, and ``test_guard_calls_*`` checks that answer).
    """
    from hypothesis import assume

    from statusguard import SQLStore

    url = f"sqlite:///{tmp_path / 'ref.db'}" if engine == "sqlite" else server_url(engine)
    tally = Tally(f"guard calls, MemoryStore vs SQLStore ({engine}), same outcomes")
    table, audit = unique_table("sg_ref"), unique_table("sg_ref_audit")
    admin = SQLStore(url, table, version="version", token="token", audit=audit)
    admin.create_schema()

    def fresh() -> Any:
        from sqlalchemy import text

        with admin.engine.begin() as c:
            c.execute(text(f"DELETE FROM {table}"))
        return admin

    try:

        @given(program=programs)
        def test(program: tuple[dict[str, bool], list[tuple[Any, ...]]]) -> None:
            config, calls = program
            assume(not any(unrepresentable(op[1]) for op in calls))

            def case() -> list[str]:
                reference = run_guard_program(MemoryStore, config, calls)
                on_sql = run_guard_program(fresh, config, calls, unrepresentable)
                assert on_sql == reference, (config, calls)
                return on_sql

            tally.run(case)

        run_boundary(request, tally, test, REFERENCE_CASES if engine == "sqlite" else 30)
    finally:
        admin.drop_schema()
        admin.dispose()
