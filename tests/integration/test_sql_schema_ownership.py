"""``SQLStore.drop_schema()`` drops only the tables its ``create_schema()`` created."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from statusguard import SQLStore
from tests.integration.conftest import SQL_ENGINES, engine_url, unique


@pytest.fixture(params=SQL_ENGINES)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return engine_url(str(request.param), tmp_path)


def _tables(store: SQLStore) -> set[str]:
    with store.engine.connect() as conn:
        return set(sa.inspect(conn).get_table_names())


def test_drops_what_it_created(url: str) -> None:
    table, audit = unique("sg_own"), unique("sg_own_a")
    store = SQLStore(url, table, version="version", audit=audit)
    try:
        store.create_schema()
        assert {table, audit} <= _tables(store)
        store.create_schema()  # idempotent; still ours
        store.drop_schema()
        assert not {table, audit} & _tables(store)
    finally:
        store.drop_schema(existing=True)
        store.dispose()


def test_leaves_a_table_it_found_alone(url: str) -> None:
    table, audit = unique("sg_own"), unique("sg_own_a")
    store = SQLStore(url, table, version="version", audit=audit)
    try:
        # keys compare exactly only under a binary NO PAD collation on MariaDB (else
        # create_schema refuses the table: test_sql_exact_keys.py)
        exact = " COLLATE utf8mb4_nopad_bin" if url.startswith("mysql") else ""
        with store.engine.connect() as conn:  # the application's own table, same columns
            conn.execute(
                sa.text(
                    f"CREATE TABLE {table} (id VARCHAR(255){exact} PRIMARY KEY, "
                    "status VARCHAR(64) NOT NULL, version BIGINT NOT NULL)"
                )
            )
            conn.execute(sa.text(f"INSERT INTO {table} VALUES ('app-row', 'active', 3)"))
            conn.commit()
        store.create_schema()  # creates only the missing audit table
        assert store.get("app-row").status == "active"
        store.drop_schema()
        names = _tables(store)
        assert table in names, "drop_schema() dropped a table it did not create"
        assert audit not in names
        assert store.get("app-row").version == 3
        store.drop_schema(existing=True)  # the explicit flag drops it anyway
        assert table not in _tables(store)
    finally:
        store.drop_schema(existing=True)
        store.dispose()


def test_another_store_instance_drops_nothing(url: str) -> None:
    if url == "sqlite://":
        pytest.skip("each sqlite:// store has its own memory database")
    table = unique("sg_own")
    owner = SQLStore(url, table)
    other = SQLStore(url, table)
    try:
        owner.create_schema()
        other.create_schema()  # found it: not other's
        other.drop_schema()
        assert table in _tables(owner)
        owner.drop_schema()
        assert table not in _tables(owner)
    finally:
        owner.drop_schema(existing=True)
        for s in (owner, other):
            s.dispose()
