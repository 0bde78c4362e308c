"""The dialect registry: one module per engine, listed once, read by the store, trigger and CLI."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from statusguard.cli import cli
from statusguard.sql import DIALECTS
from statusguard.sql.dialects import SUPPORTED, Dialect, dialect_for
from statusguard.sql.dialects._records import Layout, Outcome


def test_the_registry_is_keyed_by_name_in_cli_order() -> None:
    assert list(DIALECTS) == ["postgresql", "mysql", "sqlite"]
    for name, dialect in DIALECTS.items():
        assert isinstance(dialect, Dialect)
        assert dialect.name == name
        assert name in dialect.serves
        assert dialect_for(name) is dialect
    assert dialect_for("mariadb") is DIALECTS["mysql"]
    assert dialect_for("oracle") is None


def test_the_supported_phrase_names_every_served_engine() -> None:
    served = {n for d in DIALECTS.values() for n in d.serves}
    assert set(re.split(r", | or ", SUPPORTED)) == served


def test_the_cli_offers_exactly_the_registry() -> None:
    out = CliRunner().invoke(cli, ["sql", "trigger", "--help"]).output
    assert "[" + "|".join(DIALECTS) + "]" in out


@pytest.mark.parametrize("name", list(DIALECTS))
def test_every_dialect_builds_both_writes_without_a_database(name: str) -> None:
    d = DIALECTS[name]
    lay = Layout("t", "id", "status", "version", "tok", "a").quoted(d.quote)
    stmt = d.apply(lay, ("queued", "saving"), ("active", "active"))
    assert ":s1" in stmt.text
    assert ":t1" in stmt.text
    assert d.applied(lay, stmt, Outcome([], 0, None), {}) is None  # a miss reads as None
    assert ":exp" in d.cas(lay, versioned=True)
    assert d.cas_version(lay, Outcome([], 0, None)) is None
    assert d.quote("t") in d.insert(lay)


def test_mysql_reads_the_source_and_version_from_the_insert_id() -> None:
    d = DIALECTS["mysql"]
    lay = Layout("t", "id", "status", "version").quoted(d.quote)
    stmt = d.apply(lay, ("queued", "saving"), ("active", "killed"))
    assert d.applied(lay, stmt, Outcome([], 1, 7 * 4096 + 2), {}) == ("saving", "killed", 7)
    unversioned = Layout("t", "id", "status").quoted(d.quote)
    stmt = d.apply(unversioned, ("queued", "saving"), ("active", "killed"))
    assert d.applied(unversioned, stmt, Outcome([], 1, 1), {}) == ("queued", "active", 0)


@pytest.mark.parametrize("name", list(DIALECTS))
def test_other_columns_are_set_by_the_same_statement(name: str) -> None:
    """values=: each column a bind parameter in the one UPDATE, never a second statement."""
    d = DIALECTS[name]
    lay = Layout("t", "id", "status", "version", None, "a").quoted(d.quote)
    cols = (d.quote("checksum"), d.quote("size"))
    for text in (d.apply(lay, ("saving",), ("active",), cols).text, d.cas(lay, True, cols)):
        assert f"{cols[0]} = :x0" in text
        assert f"{cols[1]} = :x1" in text
        assert text.count("UPDATE") == 1
        assert ";" not in text
    assert "x0" not in d.apply(lay, ("saving",), ("active",)).text


def test_a_read_inside_a_callers_transaction_locks_the_row_as_an_update_would() -> None:
    lay = Layout("t", "id", "status")
    assert DIALECTS["postgresql"].select(lay, locking=True).endswith(" FOR NO KEY UPDATE")
    assert DIALECTS["mysql"].select(lay, locking=True).endswith(" FOR UPDATE")
    assert DIALECTS["sqlite"].select(lay, locking=True) == DIALECTS["sqlite"].select(lay)


def test_mysql_asks_the_session_only_when_the_insert_id_is_lost() -> None:
    """MariaDB behind a trigger reports insert id 0; ``SELECT LAST_INSERT_ID()`` has it."""
    d = DIALECTS["mysql"]
    lay = Layout("t", "id", "status", "version").quoted(d.quote)
    stmt = d.apply(lay, ("queued", "saving"), ("active", "killed"))
    asked: list[str] = []

    def ask(query: str) -> int:
        asked.append(query)
        return 3 * 4096 + 1

    assert d.applied(lay, stmt, Outcome([], 1, 0, ask), {}) == ("queued", "active", 3)
    assert d.cas_version(lay, Outcome([], 1, 0, ask)) == 3 * 4096 + 1
    assert asked == ["SELECT LAST_INSERT_ID()"] * 2
    asked.clear()
    assert d.applied(lay, stmt, Outcome([], 1, 5 * 4096 + 2, ask), {}) == ("saving", "killed", 5)
    assert d.applied(lay, stmt, Outcome([], 0, 0, ask), {}) is None  # a miss: nothing to ask
    unversioned = Layout("t", "id", "status").quoted(d.quote)
    assert d.cas_version(unversioned, Outcome([], 1, 0, ask)) == 0  # sets no LAST_INSERT_ID
    assert asked == []
