"""``InstallTrigger``: the migration installs exactly the CLI's DDL, and reverses it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from django.core.management import call_command
from django.db import DatabaseError, connections, transaction

from statusguard.cli import cli
from statusguard.integrations.django import InstallTrigger
from statusguard.integrations.django._migrations import drop_statements
from statusguard.sql import DIALECTS, trigger_ddl
from tests.integration.django_app.lifecycles import CONFIG, TICKET
from tests.integration.django_app.models import Ticket

LIFECYCLES = Path(__file__).with_name("lifecycles.py")


def illegal_raw_update_passes(alias: str) -> bool:
    """Whether the database lets a raw UPDATE make the illegal change open -> done."""
    t = Ticket.objects.using(alias).create()
    try:
        with transaction.atomic(using=alias):
            Ticket.objects.using(alias).filter(pk=t.pk).update(status="done")
    except DatabaseError:
        return False
    return True


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_the_reverse_drops_what_the_ddl_creates(dialect: str) -> None:
    ddl = trigger_ddl(TICKET, dialect, "django_app_ticket", "status", CONFIG)
    drops = drop_statements(ddl)
    assert drops
    assert all("django_app_ticket_statusguard" in d for d in drops)
    assert [d for d in drops if "FUNCTION" in d] == (
        ['DROP FUNCTION IF EXISTS "django_app_ticket_statusguard_check"()']
        if dialect == "postgresql"
        else []
    )


def test_a_ddl_that_drops_nothing_cannot_be_reversed() -> None:
    with pytest.raises(ValueError, match="cannot be reversed"):
        drop_statements(["CREATE TRIGGER t BEFORE UPDATE ON x FOR EACH ROW BEGIN END"])


def test_the_operation_deconstructs_for_the_migration_writer() -> None:
    op = InstallTrigger("Ticket", "tests.integration.django_app.lifecycles:TICKET", config=CONFIG)
    assert op.deconstruct() == (
        "InstallTrigger",
        ["Ticket"],
        {"lifecycle": "tests.integration.django_app.lifecycles:TICKET", "config": CONFIG},
    )
    assert op.describe() == "Install the statusguard trigger of lifecycle ticket on Ticket"
    with pytest.raises(Exception, match="direct_finish"):
        InstallTrigger("Ticket", TICKET)  # every config flag must be fixed


def test_the_migration_installs_the_cli_s_ddl(alias: str) -> None:
    vendor = connections[alias].vendor
    dialect = {"postgresql": "postgresql", "mysql": "mysql", "sqlite": "sqlite"}[vendor]
    op = InstallTrigger("Ticket", TICKET, config=CONFIG)
    statements = op.statements(vendor, Ticket)
    assert statements == trigger_ddl(TICKET, dialect, "django_app_ticket", "status", CONFIG)
    table = Ticket._meta.db_table
    args = ["sql", "trigger", f"{LIFECYCLES}:TICKET", "--dialect", dialect, "--table", table]
    printed = CliRunner().invoke(
        cli, [*args, "--column", "status", "--config", "direct_finish=false"]
    )
    assert printed.exit_code == 0, printed.output
    for statement in statements:
        assert statement in printed.output
    out = io.StringIO()
    call_command("sqlmigrate", "django_app", "0002", database=alias, stdout=out)
    assert "CREATE TRIGGER" in out.getvalue()


def test_migrating_back_drops_the_trigger_and_forward_installs_it(alias: str) -> None:
    assert not illegal_raw_update_passes(alias)
    call_command("migrate", "django_app", "0001", database=alias, verbosity=0)
    try:
        assert illegal_raw_update_passes(alias)  # the trigger is gone
        if connections[alias].vendor == "postgresql":
            with connections[alias].cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_proc WHERE proname = %s",
                    ["django_app_ticket_statusguard_check"],
                )
                assert cursor.fetchone()[0] == 0  # and so is its function
    finally:
        call_command("migrate", "django_app", database=alias, verbosity=0)
    assert not illegal_raw_update_passes(alias)


def test_sqlite_rebuilding_a_table_drops_its_trigger(django_databases: list[str]) -> None:
    """What docs/django.md warns about: on SQLite, Django's AlterField rebuilds the table
    (create new, copy, drop old, rename), and the old table's trigger goes with it."""
    from django.db import models

    class Rebuilt(models.Model):
        status = models.CharField(max_length=20, default="open")
        note = models.CharField(max_length=10, default="")

        class Meta:
            app_label = "sg_rebuild"

    conn = connections["default"]
    table = Rebuilt._meta.db_table

    def triggers() -> int:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [table],
            )
            return int(cursor.fetchone()[0])

    with conn.schema_editor() as editor:
        editor.create_model(Rebuilt)
    try:
        with conn.schema_editor() as editor:
            for sql in trigger_ddl(TICKET, "sqlite", table, "status", CONFIG):
                editor.execute(sql, params=None)
        assert triggers() == 2  # the UPDATE trigger and the INSERT trigger
        old = Rebuilt._meta.get_field("note")
        new = models.CharField(max_length=50, default="")
        new.set_attributes_from_name("note")
        new.model = Rebuilt
        with conn.schema_editor() as editor:
            editor.alter_field(Rebuilt, old, new)
        assert triggers() == 0
    finally:
        with conn.schema_editor() as editor:
            editor.delete_model(Rebuilt)
