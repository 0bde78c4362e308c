"""The trigger checks INSERT too, and can be uninstalled (issue 17, item 13).

A row could be inserted straight as ``deleted``: the trigger now refuses an INSERT whose
status is not one a resource may be created in (the lifecycle's initial state, plus any
``create_statuses`` given). ``statusguard sql trigger --drop`` and
``trigger_ddl(..., drop=True)`` print the DDL that removes what the install made (on
PostgreSQL the trigger function too), and ``drop_schema()`` leaves no trigger function
behind.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from statusguard import Guard
from statusguard.cli import cli
from statusguard.errors import StoreRejected, UnknownState
from statusguard.sql import trigger_ddl, trigger_script
from tests.integration._trigger import (
    DIALECT,
    MODEL,
    install,
    raw_insert,
    raw_update,
    run_script,
    trigger_cli,
)

NO_DELAY = {"delayed_delete": False}


def _pg_function_exists(store: Any) -> bool:
    with store.engine.connect() as c:
        return bool(
            c.execute(
                sa.text("SELECT count(*) FROM pg_proc WHERE proname = :n"),
                {"n": f"{store.table_name}_statusguard_check"},
            ).scalar()
        )


@pytest.mark.parametrize("engine", list(DIALECT), indirect=True)
def test_trigger_refuses_inserts_outside_the_creation_statuses(
    make_store: Any, engine: str, glance: Any
) -> None:
    dialect = DIALECT[engine]
    store = make_store()
    install(store, dialect, "delayed_delete=false")
    for status in ("deleted", "active", "bogus", "QUEUED"):
        with pytest.raises(Exception, match="illegal status transition") as info:
            raw_insert(store, f"k-{status}", status)
        if dialect != "sqlite":
            assert status in str(info.value)
    raw_insert(store, "fine", "queued")  # the initial state is a creation status
    guard = Guard(glance, store, NO_DELAY)
    guard.create("img")  # the guard's own inserts pass
    assert guard.status("img") == guard.status("fine") == "queued"
    with pytest.raises(Exception, match="illegal status transition"):
        raw_insert(store, "null", None)


@pytest.mark.parametrize("engine", list(DIALECT), indirect=True)
def test_declared_creation_statuses(make_store: Any, engine: str, glance: Any) -> None:
    dialect = DIALECT[engine]
    store = make_store()
    script = trigger_script(
        glance, dialect, store.table_name, "status", NO_DELAY, create_statuses=["active"]
    )
    run_script(store, script, dialect)
    raw_insert(store, "a", "active")
    raw_insert(store, "q", "queued")
    with pytest.raises(Exception, match="illegal status transition"):
        raw_insert(store, "d", "deleted")


def test_create_statuses_must_be_states(glance: Any) -> None:
    with pytest.raises(UnknownState):
        trigger_ddl(glance, "sqlite", "images", "status", NO_DELAY, create_statuses=["gone"])


@pytest.mark.parametrize("engine", list(DIALECT), indirect=True)
def test_drop_uninstalls_the_trigger(make_store: Any, engine: str, glance: Any) -> None:
    dialect = DIALECT[engine]
    store = make_store()
    install(store, dialect, "delayed_delete=false")
    guard = Guard(glance, store, NO_DELAY)
    guard.create("a")
    with pytest.raises(Exception, match="illegal status transition"):
        raw_update(store, "a", "killed")  # queued -> killed is no edge
    script = trigger_cli(store, dialect, "--drop")
    assert "DROP TRIGGER" in script
    run_script(store, script, dialect)
    raw_update(store, "a", "killed")  # nothing checks it any more
    raw_insert(store, "b", "deleted")
    assert store.get("a").status == "killed"
    if dialect == "postgresql":
        assert not _pg_function_exists(store)


def test_drop_needs_no_config(glance: Any) -> None:
    """Dropping does not depend on the lifecycle's config: no --config is asked for."""
    for dialect in ("sqlite", "postgresql", "mysql"):
        statements = trigger_ddl(glance, dialect, "images", "status", drop=True)
        assert statements
        assert all(s.startswith("DROP") for s in statements)


def test_drop_schema_leaves_no_trigger_function(make_store: Any, engine: str) -> None:
    if engine != "postgresql":
        pytest.skip("only PostgreSQL triggers call a separate function")
    store = make_store()
    install(store, "postgresql", "delayed_delete=false")
    assert _pg_function_exists(store)
    store.drop_schema()
    assert not _pg_function_exists(store)


@pytest.mark.parametrize("engine", list(DIALECT), indirect=True)
def test_the_guard_and_a_creation_trigger_disagreeing_is_typed(
    make_store: Any, engine: str, glance: Any
) -> None:
    store = make_store()
    script = trigger_script(
        glance, DIALECT[engine], store.table_name, "status", NO_DELAY, create_statuses=["active"]
    )
    script = script.replace("'queued', ", "").replace(", 'queued'", "")
    run_script(store, script, DIALECT[engine])
    with pytest.raises(StoreRejected) as info:
        Guard(glance, store, NO_DELAY).create("img")
    assert info.value.cause == "trigger"


def test_cli_create_status_must_be_a_state() -> None:
    base = ["sql", "trigger", MODEL, "--dialect", "sqlite", "--table", "t", "--column", "c"]
    bad = CliRunner().invoke(cli, [*base, "--config", "delayed_delete=false", "--create-status",
                                   "gone"])  # fmt: skip
    assert bad.exit_code == 2
    assert "unknown state 'gone'" in bad.output
    good = CliRunner().invoke(cli, [*base, "--config", "delayed_delete=false", "--create-status",
                                    "active"])  # fmt: skip
    assert good.exit_code == 0
    assert "rows are created as queued, active" in good.output
    dropped = CliRunner().invoke(cli, [*base, "--drop"])  # no --config needed to drop
    assert dropped.exit_code == 0, dropped.output
    assert "CREATE" not in dropped.output
