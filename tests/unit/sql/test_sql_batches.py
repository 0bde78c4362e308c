"""MariaDB's one-round-trip batches and PostgreSQL's miss answer, without a database.

What decides whether a connection gets a batch, what a batch's results mean, and the
flags a store's own engine connects with.
"""

from __future__ import annotations

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


def test_only_pymysql_takes_batches() -> None:
    class Other:
        client_flag = 65536 | 2

    info: dict[str, object] = {}
    MYSQL.install(Other(), info)
    assert MYSQL.batch_ready(info, SERVER) is False


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


def test_a_store_url_engine_connects_with_multi_statements() -> None:
    pytest.importorskip("pymysql")
    from statusguard.errors import InvalidArgument
    from statusguard.sql._engine import _create_engine

    engine, _ = _create_engine("mysql+pymysql://u@127.0.0.1:1/db?client_flag=4")
    assert engine.url.query["client_flag"] == str(4 | 65536)  # the URL's own flag kept
    engine.dispose()
    with pytest.raises(InvalidArgument, match="client_flag"):
        _create_engine("mysql+pymysql://u@127.0.0.1:1/db?client_flag=lots")
