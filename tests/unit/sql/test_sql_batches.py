"""MariaDB's one-round-trip batches and PostgreSQL's miss answer, without a database.

What decides whether a connection gets a batch, what a batch's results mean, and the
flags a store's own engine connects with.
"""

from __future__ import annotations

from typing import Any

import pytest

from statusguard.sql.dialects import DIALECTS
from statusguard.sql.dialects._records import ABSENT, Layout, Outcome, Server, Session

MYSQL, PG = DIALECTS["mysql"], DIALECTS["postgresql"]
AUDITED = Layout("t", "id", "status", "version", "tok", "a").quoted(MYSQL.quote)
PLAIN = Layout("t", "id", "status", "version", "tok").quoted(MYSQL.quote)


class FakePyMySQL:  # what MySQL.install reads: PyMySQL's class module and client_flag
    __module__ = "pymysql.connections"

    def __init__(self, flags: int) -> None:
        self.client_flag = flags


def _info(flags: int) -> dict[str, object]:
    info: dict[str, object] = {}
    MYSQL.install(FakePyMySQL(flags), info)
    return info


SERVER = Session(7, Server("db", 3306, None, 1.0e9))
GALERA = Session(7, Server("db", 3306, "uuid", None, galera=True))
UNKNOWN = Session(7, Server(None, None))


@pytest.mark.parametrize(
    ("flags", "session", "ready"),
    [
        (65536 | 2, SERVER, True),
        (65536 | 2, GALERA, False),  # a conflict from another node ends it silently mid-batch
        (65536 | 2, UNKNOWN, False),  # a server not identified may be a Galera node
        (65536 | 2, None, False),
        (2, SERVER, False),  # no CLIENT_MULTI_STATEMENTS
        (65536, SERVER, False),  # no FOUND_ROWS: row counts would count changed rows
    ],
)
def test_which_connections_take_a_batch(flags: int, session: Session | None, ready: bool) -> None:
    assert MYSQL.batch_ready(_info(flags), session) is ready


def test_only_pymysql_and_aiomysql_take_batches() -> None:
    class Other:
        client_flag = 65536 | 2

    info: dict[str, object] = {}
    MYSQL.install(Other(), info)
    assert MYSQL.batch_ready(info, SERVER) is False


class FakeAiomysql:  # aiomysql's Connection, behind SQLAlchemy's adapter
    __module__ = "aiomysql.connection"

    def __init__(self, flags: int) -> None:
        self.client_flag = flags


@pytest.mark.parametrize(
    ("flags", "session", "ready"),
    [(65536 | 2, SERVER, True), (65536 | 2, GALERA, False), (2, SERVER, False)],
)
def test_aiomysql_flags_are_read_from_the_adapted_connection(
    flags: int, session: Session, ready: bool
) -> None:
    from sqlalchemy.engine import AdaptedConnection

    class Adapted(AdaptedConnection):  # what an async engine's pool hands out
        __slots__ = ()

    adapted = Adapted()
    adapted._connection = FakeAiomysql(flags)
    info: dict[str, object] = {}
    MYSQL.install(adapted, info)
    assert MYSQL.batch_ready(info, session) is ready


def test_the_audit_row_follows_the_insert_id_never_row_count() -> None:
    stmt = MYSQL.apply(AUDITED, ("queued",), ("saving",))
    assert stmt.batch is not None
    assert "ROW_COUNT" not in stmt.batch  # -1 once the client is gone (see the module doc)
    parts = [p.strip() for p in stmt.batch.split("; ")]
    assert parts[0] == "START TRANSACTION"
    assert parts[1] == "SET @statusguard_code = LAST_INSERT_ID(0)"
    assert parts[2] == stmt.text
    assert parts[4].endswith("WHERE @statusguard_code > 0")
    assert parts[-1] == "COMMIT"
    cas = MYSQL.cas_batch(Layout("t", "id", "status").quoted(MYSQL.quote), False)
    assert cas is not None
    assert "ELT(LAST_INSERT_ID(1), :tgt)" in cas  # an unversioned write marks its match too


def _sets(update_rowcount: int, row: tuple[object, ...] | None, audit: bool) -> list[Outcome]:
    update = Outcome([], update_rowcount, 0)
    read = Outcome([] if row is None else [row], 1, 0)
    if not audit:
        return [update, read]
    ok = Outcome([], 0, 0)
    return [ok, ok, update, ok, Outcome([], update_rowcount, 1), read, ok]


@pytest.mark.parametrize("audit", [False, True])
def test_a_batch_answers_a_hit_and_a_miss(audit: bool) -> None:
    lay = AUDITED if audit else PLAIN
    stmt = MYSQL.apply(lay, ("queued", "saving"), ("deleted", "deleted"))
    code = 3 * 4096 + 2  # version 3, from the second source
    out, seen = MYSQL.unbatch(lay, _sets(1, (code, "deleted", 3, "x"), audit))
    assert seen is None
    assert MYSQL.applied(lay, stmt, out, {}) == ("saving", "deleted", 3)
    out, seen = MYSQL.unbatch(lay, _sets(0, (99, "active", 5, "y"), audit))
    assert MYSQL.applied(lay, stmt, out, {}) is None
    assert seen == ("active", 5, "y")
    _, seen = MYSQL.unbatch(lay, _sets(0, None, audit))
    assert seen == ABSENT


def test_postgresql_statement_answers_a_miss_with_its_snapshot() -> None:
    lay = Layout("t", "id", "status", "version", "tok").quoted(PG.quote)
    stmt = PG.apply(lay, ("queued",), ("saving",))
    hit = Outcome([("queued", "saving", 1, "queued", 0, None)], 1, None)
    assert PG.applied(lay, stmt, hit, {}) == ("queued", "saving", 1)
    miss = Outcome([(None, None, None, "active", 4, "t")], 1, None)
    assert PG.applied(lay, stmt, miss, {}) is None
    assert PG.seen(lay, miss) == ("active", 4, "t")
    assert PG.seen(lay, Outcome([], 0, None)) == ABSENT


class _AioCursor:
    """An asyncio driver cursor over ``sets`` results (rowcount, rows), as aiomysql's:
    ``nextset()`` answers True while another result follows, then None."""

    def __init__(self, sets: list[tuple[int, list[tuple[int]]]]) -> None:
        self.sets, self.at = sets, 0

    async def __aenter__(self) -> _AioCursor:
        return self

    async def execute(self, text: str, params: object = None) -> None:
        self.at = 0

    @property
    def description(self) -> object:
        return (("c",),) if self.sets[self.at][1] else None

    @property
    def rowcount(self) -> int:
        return self.sets[self.at][0]

    lastrowid = 0

    async def fetchall(self) -> list[tuple[int]]:
        return list(self.sets[self.at][1])

    async def nextset(self) -> bool | None:
        if self.at + 1 >= len(self.sets):
            return None
        self.at += 1
        return True

    async def close(self) -> None:
        pass


def _through_the_adapter(
    sets: list[tuple[int, list[tuple[int]]]], results: int
) -> tuple[object, int, list[Outcome]]:
    """On SQLAlchemy's real asyncio cursor adapter, inside the greenlet bridge: what its
    ``nextset()`` answers when it moves to the second result (and that result's rowcount),
    and what ``_outcomes`` reads of the batch."""
    import asyncio
    from types import SimpleNamespace

    from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_cursor
    from sqlalchemy.engine import AdaptedConnection
    from sqlalchemy.util import greenlet_spawn

    from statusguard.sql._engine import _outcomes

    class Adapted(AdaptedConnection):
        __slots__ = ("_execute_mutex",)

    def read() -> tuple[object, int, list[Outcome]]:
        adapted = Adapted()
        adapted._connection = SimpleNamespace(cursor=lambda: _AioCursor(sets))
        adapted._execute_mutex = asyncio.Lock()
        cursor = AsyncAdapt_dbapi_cursor(adapted)  # type: ignore[arg-type]
        cursor.execute("a batch")
        answer = cursor.nextset()  # type: ignore[func-returns-value]
        moved_to = cursor.rowcount
        cursor.execute("a batch")
        conn: Any = SimpleNamespace(connection=SimpleNamespace(dbapi_connection=adapted))
        return answer, moved_to, _outcomes(conn, cursor, results)

    async def main() -> tuple[object, int, list[Outcome]]:
        return await greenlet_spawn(read)

    return asyncio.run(main())


def test_the_async_adapter_gives_every_result_of_a_batch() -> None:
    """SQLAlchemy's adapter answers None from nextset() though it moved to the next result
    (the control: reading until nextset() is falsy stops after the first), so a batch on
    it is read by its count, and every result comes back in order."""
    pytest.importorskip("greenlet")
    sets = [(1, []), (5, []), (1, [(7,)])]
    answer, moved_to, got = _through_the_adapter(sets, 3)
    assert (answer, moved_to) == (None, 5)
    assert [(o.rowcount, o.rows) for o in got] == [(1, []), (5, []), (1, [(7,)])]


def test_a_batch_with_too_few_or_too_many_results_is_refused() -> None:
    from types import SimpleNamespace

    from statusguard.errors import StoreUnavailable
    from statusguard.sql._engine import _outcomes

    class Cursor:  # a PEP 249 cursor over `count` results
        def __init__(self, count: int) -> None:
            self.left, self.description, self.rowcount, self.lastrowid = count - 1, None, 1, 0

        def nextset(self) -> bool | None:
            if self.left == 0:
                return None
            self.left -= 1
            return True

    conn: Any = SimpleNamespace(connection=SimpleNamespace(dbapi_connection=object()))
    assert len(_outcomes(conn, Cursor(7), 7)) == 7
    for count in (6, 8):
        with pytest.raises(StoreUnavailable, match="a batch of 7 statements") as raised:
            _outcomes(conn, Cursor(count), 7)
        assert raised.value.committed is None


def test_a_store_url_engine_connects_with_multi_statements() -> None:
    pytest.importorskip("pymysql")
    from statusguard.errors import InvalidArgument
    from statusguard.sql._engine import _create_engine

    engine, _ = _create_engine("mysql+pymysql://u@127.0.0.1:1/db?client_flag=4")
    assert engine.url.query["client_flag"] == str(4 | 65536)  # the URL's own flag kept
    engine.dispose()
    with pytest.raises(InvalidArgument, match="client_flag"):
        _create_engine("mysql+pymysql://u@127.0.0.1:1/db?client_flag=lots")


def test_an_async_store_url_engine_connects_with_multi_statements() -> None:
    pytest.importorskip("aiomysql")
    from statusguard.sql._engine import _create_engine

    engine, _ = _create_engine("mysql+aiomysql://u@127.0.0.1:1/db", asynchronous=True)
    assert engine.url.query["client_flag"] == str(65536)
    engine.dispose()
