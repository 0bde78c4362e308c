"""Database errors are classified by SQLSTATE / errno / SQLite name, not by class."""

from __future__ import annotations

import sqlite3

import pytest

pytest.importorskip("sqlalchemy")

from statusguard.sql._classify import ErrorKind, classify, describe


class FakePsycopg(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"error {sqlstate}")
        self.sqlstate = sqlstate


class FakePyMySQL(Exception):
    pass


FakePyMySQL.__module__ = "pymysql.err"


@pytest.mark.parametrize(
    ("sqlstate", "kind"),
    [
        ("40001", ErrorKind.RETRY),
        ("40P01", ErrorKind.RETRY),
        ("55P03", ErrorKind.TIMEOUT),
        ("57014", ErrorKind.CANCELED),
        ("23502", ErrorKind.CONSTRAINT),
        ("23514", ErrorKind.TRIGGER),
        ("23505", ErrorKind.DUPLICATE),
        ("08006", ErrorKind.LOST),
        ("57P01", ErrorKind.LOST),
        ("42P01", ErrorKind.OTHER),
    ],
)
def test_postgres_sqlstates(sqlstate: str, kind: ErrorKind) -> None:
    assert classify(FakePsycopg(sqlstate)) is kind


@pytest.mark.parametrize(
    ("errno", "kind"),
    [
        (1213, ErrorKind.RETRY),
        (1020, ErrorKind.RETRY),
        (1205, ErrorKind.TIMEOUT),
        (2013, ErrorKind.LOST),
        (2006, ErrorKind.LOST),
        (1644, ErrorKind.TRIGGER),
        (1062, ErrorKind.DUPLICATE),
        (1146, ErrorKind.OTHER),
    ],
)
def test_mysql_errnos(errno: int, kind: ErrorKind) -> None:
    assert classify(FakePyMySQL(errno, "message")) is kind


class FakeAsyncmy(Exception):
    pass


FakeAsyncmy.__module__ = "asyncmy.errors"


@pytest.mark.parametrize(("errno", "kind"), [(1213, ErrorKind.RETRY), (2013, ErrorKind.LOST)])
def test_async_mysql_drivers_by_errno(errno: int, kind: ErrorKind) -> None:
    """aiomysql raises PyMySQL's own classes (FakePyMySQL covers it); asyncmy its own, whose
    first argument is the errno too: the same table classifies both."""
    assert classify(FakeAsyncmy(errno, "message")) is kind


def test_sqlite_names() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("create table t (k integer primary key)")
    conn.execute("insert into t values (1)")
    with pytest.raises(sqlite3.IntegrityError) as info:
        conn.execute("insert into t values (1)")
    assert classify(info.value) is ErrorKind.DUPLICATE
    assert "SQLITE_CONSTRAINT_PRIMARYKEY" in describe(info.value)
    busy = sqlite3.OperationalError("database is locked")
    busy.sqlite_errorname = "SQLITE_BUSY_SNAPSHOT"  # type: ignore[attr-defined]
    assert classify(busy) is ErrorKind.RETRY


class FakePsycopgConnect(Exception):
    """psycopg's connection failure: no SQLSTATE, a multi-line message as its only arg."""

    sqlstate = None


def test_describe_is_one_line_with_the_code() -> None:
    refused = FakePsycopgConnect(
        'connection failed: connection to server at "127.0.0.1", port 1 failed: Connection '
        "refused\n\tIs the server running on that host and accepting TCP/IP connections?"
    )
    text = describe(refused)
    assert "\n" not in text
    assert text == (
        'connection failed: connection to server at "127.0.0.1", port 1 failed: Connection refused'
    )
    syntax = FakePsycopg("42601")
    syntax.args = ('syntax error at or near "x"\nLINE 1: x\n        ^',)
    assert describe(syntax) == 'syntax error at or near "x" [42601]'
    mysql = FakePyMySQL(1146, "Table 'test.x' doesn't exist")
    assert describe(mysql) == str(mysql)  # carries its errno already
    assert "\n" not in describe(FakePyMySQL(2013, "Lost connection\nduring query"))


class FakePyMySQLServerError(Exception):
    """PyMySQL's error from a server error packet: ``args == (errno, message)``, ``.sqlstate``."""

    def __init__(self, errno: int, sqlstate: str | None, message: str) -> None:
        super().__init__(errno, message)
        self.sqlstate = sqlstate


FakePyMySQLServerError.__module__ = "pymysql.err"


@pytest.mark.parametrize(
    ("errno", "sqlstate", "kind"),
    [
        # measured on MariaDB 10.11 + Galera 26.4 (.ci/cluster/README.md)
        (1047, "08S01", ErrorKind.REFUSED),  # Galera node not in the Primary component
        (1040, "08004", ErrorKind.REFUSED),  # too many connections
        (1040, "08S01", ErrorKind.REFUSED),  # (what the reference note said it carries)
        (1045, "28000", ErrorKind.REFUSED),  # access denied
        (2003, None, ErrorKind.REFUSED),  # connection refused: nothing was sent
        (1290, "HY000", ErrorKind.REFUSED),  # --read-only
        (1213, "40001", ErrorKind.RETRY),  # certification failure: retried as before
        (1180, "HY000", ErrorKind.LOST),  # Galera COMMIT failed after running locally
        (2013, None, ErrorKind.LOST),  # lost during the query: fate unknown
        (1146, "42S02", ErrorKind.OTHER),
        (1062, "23000", ErrorKind.DUPLICATE),
    ],
)
def test_mysql_errno_decides_before_sqlstate(
    errno: int, sqlstate: str | None, kind: ErrorKind
) -> None:
    """PyMySQL attaches ``.sqlstate``; the errno decides (issue 14, defect 3)."""
    assert classify(FakePyMySQLServerError(errno, sqlstate, "message")) is kind


@pytest.mark.parametrize(
    ("sqlstate", "kind"), [("25006", ErrorKind.REFUSED), ("57P03", ErrorKind.REFUSED)]
)
def test_postgres_refusals(sqlstate: str, kind: ErrorKind) -> None:
    """A write sent to a hot standby (25006) or a server still starting ran nothing."""
    assert classify(FakePsycopg(sqlstate)) is kind


def test_refused_write_is_reported_not_committed() -> None:
    """A refusal before running is ``committed=False`` even for a write with a token,
    and never goes to the settle step; a lost connection does."""
    from statusguard.errors import StoreUnavailable
    from statusguard.sql._engine import Connector

    settled: list[str] = []

    def settle(problem: str, token: object, key: object, session: object) -> StoreUnavailable:
        settled.append(problem)
        return StoreUnavailable(problem, committed=None)

    conn = Connector(
        "sqlite://", settle, lock_timeout=None, idle_timeout=None, retries=0, backoff=0.0
    )
    try:
        exc = FakePyMySQLServerError(
            1047, "08S01", "WSREP has not yet prepared node for application use"
        )
        failure = conn._failure(classify(exc), describe(exc), True, "tok", "k", 12)
        assert isinstance(failure, StoreUnavailable)
        assert failure.committed is False
        assert "refused" in str(failure)
        assert "1047" in str(failure)
        assert settled == []
        lost = FakePyMySQLServerError(2013, None, "Lost connection to MySQL server during query")
        assert conn._failure(classify(lost), describe(lost), True, "tok", "k", 12).committed is None
        assert len(settled) == 1
    finally:
        conn.dispose()
