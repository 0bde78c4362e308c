"""Keys compare exactly on every store (issue 17, item 1).

On MariaDB the key columns used to take the server's default collation (case- and
accent-insensitive, PAD SPACE): ``create("img-1")`` then ``fire("IMG-1", ...)`` moved
``img-1`` and audited it under ``IMG-1``, and ``"café"``/``"cafe"``, ``"pad "``/``"pad"``,
``" "``/``""`` collided. Every store must treat those as different keys, as MemoryStore
does; a key column of an existing table that does not compare exactly is refused with
:class:`InvalidSchema` naming the column, its collation and the fix.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from statusguard import Guard, SQLStore
from statusguard.errors import InvalidSchema, UnknownKey
from tests.integration._reliab_db import server_url, unique_table

NO_DELAY = {"delayed_delete": False}

#: pairs of keys some collation calls equal: case, accents, trailing spaces, empty vs blank
ALIASES = [("img-1", "IMG-1"), ("cafe", "café"), ("pad", "pad "), ("", " "), ("ß", "ss")]


@pytest.mark.parametrize(("first", "second"), ALIASES)
def test_collation_equal_keys_are_different_keys(
    make_store: Any, glance: Any, first: str, second: str
) -> None:
    store = make_store(audit=True)
    guard = Guard(glance, store, NO_DELAY)
    guard.create(first)
    with pytest.raises(UnknownKey):
        guard.fire(second, "upload_started")
    with pytest.raises(UnknownKey):
        guard.status(second)
    assert store.history(second) == []
    guard.create(second)  # not a DuplicateKey
    done = guard.fire(second, "upload_started")
    assert (done.key, done.source, done.target) == (second, "queued", "saving")
    assert guard.status(first) == "queued"
    assert [e.target for e in store.history(second)] == ["saving"]
    assert store.history(first) == []


def _mysql_table(
    url: str, name: str, collation: str, *, audit_collation: str | None = None
) -> None:
    eng = sa.create_engine(url)
    with eng.begin() as c:
        c.execute(
            sa.text(
                f"CREATE TABLE `{name}` (`id` VARCHAR(255) CHARACTER SET utf8mb4 COLLATE "
                f"{collation} PRIMARY KEY, `status` VARCHAR(64) NOT NULL, `version` BIGINT NOT "
                "NULL DEFAULT 0)"
            )
        )
    eng.dispose()


def _drop(url: str, *names: str) -> None:
    eng = sa.create_engine(url)
    with eng.begin() as c:
        for name in names:
            q = '"' if url.startswith("postgresql") else "`"
            c.execute(sa.text(f"DROP TABLE IF EXISTS {q}{name}{q}"))
    eng.dispose()


@pytest.mark.parametrize(
    "collation", ["utf8mb4_general_ci", "utf8mb4_bin", "utf8mb4_unicode_ci", "utf8mb4_nopad_bin"]
)
def test_an_existing_mariadb_key_column_must_compare_exactly(collation: str) -> None:
    url = server_url("mysql")
    name = unique_table("sg_defects_keys")
    _mysql_table(url, name, collation)
    store = SQLStore(url, name, version="version")
    try:
        if collation == "utf8mb4_nopad_bin":
            store.create_schema()  # compares exactly: adopted as it is
            store.create("pad", "queued")
            store.create("pad ", "queued")
            return
        with pytest.raises(InvalidSchema) as info:
            store.create_schema()
        text = str(info.value)
        assert collation in text
        assert f"{name}.id" in text
        assert "utf8mb4_nopad_bin" in text  # the fix
        assert "\n" not in text
    finally:
        store.dispose()
        _drop(url, name)


def test_an_existing_postgresql_key_column_must_be_deterministic() -> None:
    url = server_url("postgresql")
    name = unique_table("sg_defects_keys")
    coll = unique_table("sg_defects_ci")
    eng = sa.create_engine(url)
    try:
        with eng.begin() as c:
            c.execute(
                sa.text(
                    f'CREATE COLLATION "{coll}" (provider = icu, locale = "und-u-ks-level2", '
                    "deterministic = false)"
                )
            )
            c.execute(
                sa.text(
                    f'CREATE TABLE "{name}" ("id" VARCHAR(255) COLLATE "{coll}" PRIMARY KEY, '
                    '"status" VARCHAR(64) NOT NULL)'
                )
            )
        store = SQLStore(url, name)
        with pytest.raises(InvalidSchema) as info:
            store.create_schema()
        assert coll in str(info.value)
        assert "deterministic" in str(info.value)
        store.dispose()
    finally:
        with eng.begin() as c:
            c.execute(sa.text(f'DROP TABLE IF EXISTS "{name}"'))
            c.execute(sa.text(f'DROP COLLATION IF EXISTS "{coll}"'))
        eng.dispose()


def test_an_existing_sqlite_key_column_must_be_binary(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    eng = sa.create_engine(url)
    with eng.begin() as c:
        c.execute(
            sa.text('CREATE TABLE "images" ("id" TEXT COLLATE NOCASE PRIMARY KEY, "status" TEXT)')
        )
        c.execute(sa.text('CREATE TABLE "good" ("id" TEXT PRIMARY KEY, "status" TEXT)'))
    eng.dispose()
    store = SQLStore(url, "images")
    with pytest.raises(InvalidSchema) as info:
        store.create_schema()
    assert "NOCASE" in str(info.value)
    store.dispose()
    good = SQLStore(url, "good")
    good.create_schema()
    good.create("a", "queued")
    good.create("A", "queued")
    good.dispose()


def test_a_key_type_with_an_inexact_collation_is_refused_after_creating() -> None:
    url = server_url("mysql")
    name = unique_table("sg_defects_keys")
    store = SQLStore(url, name, key_type=sa.String(64, collation="utf8mb4_general_ci"))
    try:
        with pytest.raises(InvalidSchema):
            store.create_schema()
    finally:
        store.drop_schema(existing=True)
        store.dispose()


def test_an_existing_sqlite_status_column_must_be_binary(tmp_path: Any) -> None:
    """A sibling: under NOCASE a stored 'QUEUED' (written behind the guard's back) would match
    the event's source 'queued' and be moved, instead of being UnknownStatus."""
    url = f"sqlite:///{tmp_path / 'status.db'}"
    eng = sa.create_engine(url)
    with eng.begin() as c:
        c.execute(
            sa.text('CREATE TABLE "images" ("id" TEXT PRIMARY KEY, "status" TEXT COLLATE NOCASE)')
        )
    eng.dispose()
    store = SQLStore(url, "images")
    with pytest.raises(InvalidSchema) as info:
        store.create_schema()
    assert info.value.column == "status"
    assert "statuses" in str(info.value)
    store.dispose()


def test_mariadb_status_columns_are_compared_as_bytes_anyway() -> None:
    """MariaDB's statements compare the status with BINARY: its collation does not matter."""
    url = server_url("mysql")
    name = unique_table("sg_defects_keys")
    eng = sa.create_engine(url)
    with eng.begin() as c:
        c.execute(
            sa.text(
                f"CREATE TABLE `{name}` (`id` VARCHAR(255) COLLATE utf8mb4_nopad_bin PRIMARY KEY, "
                "`status` VARCHAR(64) COLLATE utf8mb4_general_ci NOT NULL)"
            )
        )
    eng.dispose()
    store = SQLStore(url, name)
    try:
        store.create_schema()
        store.create("a", "queued")
    finally:
        store.dispose()
        _drop(url, name)


def test_reflect_refuses_an_adopted_table_whose_keys_do_not_compare_exactly() -> None:
    url = server_url("mysql")
    name = unique_table("sg_defects_keys")
    _mysql_table(url, name, "utf8mb4_general_ci")
    try:
        with pytest.raises(InvalidSchema) as info:
            SQLStore.reflect(url, name, version="version")
        assert "utf8mb4_general_ci" in str(info.value)
    finally:
        _drop(url, name)
    exact = unique_table("sg_defects_keys")
    _mysql_table(url, exact, "utf8mb4_nopad_bin")
    try:
        store = SQLStore.reflect(url, exact, version="version")
        store.create("pad", "queued")
        store.create("pad ", "queued")
        store.dispose()
    finally:
        _drop(url, exact)
