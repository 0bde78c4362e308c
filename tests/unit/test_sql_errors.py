"""Database errors are classified by SQLSTATE / errno / SQLite name, not by class."""

from __future__ import annotations

import sqlite3

import pytest

pytest.importorskip("sqlalchemy")

from statusguard._sql_errors import ErrorKind, classify, describe


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
        ("57014", ErrorKind.TIMEOUT),
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
