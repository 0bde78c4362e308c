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
