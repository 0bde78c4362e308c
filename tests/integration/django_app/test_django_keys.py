"""Text keys compare exactly, or the store refuses the table (as ``SQLStore`` does).

``NamedTicket``'s primary key is a ``CharField`` in the database's default collation. On
SQLite (BINARY) and PostgreSQL (deterministic) that compares exactly: ``'a'`` and ``'A '``
are two tickets. On MariaDB the default collation folds case and trailing spaces, so they
would be one row: the store checks the key columns at its first use of a database and
refuses with :class:`InvalidSchema` naming the column, its collation and the fix
(``tests/integration/test_sql_exact_keys.py`` is ``SQLStore``'s side).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connections

from statusguard import Guard
from statusguard.errors import InvalidSchema, UnknownKey
from statusguard.integrations.django import DjangoStore
from tests.integration.django_app.lifecycles import CONFIG, TICKET
from tests.integration.django_app.models import NamedTicket

TABLE = NamedTicket._meta.db_table


def _guard(alias: str) -> Guard[str, str]:
    return Guard(TICKET, DjangoStore(NamedTicket, using=alias), CONFIG)


def _collation(alias: str) -> str | None:
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
            "DATABASE() AND TABLE_NAME = %s AND COLUMN_NAME = 'name'",
            [TABLE],
        )
        row = cursor.fetchone()
    return None if row is None else str(row[0])


def _set_collation(alias: str, collation: str) -> None:
    with connections[alias].cursor() as cursor:
        cursor.execute(
            f"ALTER TABLE `{TABLE}` MODIFY `name` varchar(32) CHARACTER SET utf8mb4 "
            f"COLLATE {collation} NOT NULL"
        )


@pytest.fixture
def mariadb(alias: str) -> Iterator[str]:
    if connections[alias].vendor != "mysql":
        pytest.skip("MariaDB/MySQL only")
    original = _collation(alias)
    assert original is not None
    yield alias
    NamedTicket.objects.using(alias).all().delete()  # 'a' and 'A ' would collide again
    _set_collation(alias, original)


def test_a_and_a_padded_capital_are_two_keys_where_the_default_compares_exactly(
    alias: str,
) -> None:
    if connections[alias].vendor == "mysql":
        pytest.skip("MariaDB's default collation folds them: refused, below")
    guard = _guard(alias)
    guard.create("a")
    with pytest.raises(UnknownKey):
        guard.fire("A ", "claim")
    guard.create("A ")  # not a DuplicateKey
    assert guard.fire("A ", "claim").target == "claimed"
    assert (guard.status("a"), guard.status("A ")) == ("open", "claimed")


def test_mariadbs_default_collation_is_refused_naming_column_collation_and_fix(
    mariadb: str,
) -> None:
    collation = _collation(mariadb)
    # the problem is real: under this collation the ORM finds 'a' when asked for 'A '
    NamedTicket.objects.using(mariadb).create(name="a")
    assert NamedTicket.objects.using(mariadb).filter(name="A ").exists()
    guard = _guard(mariadb)
    for call in (lambda: guard.fire("A ", "claim"), lambda: guard.create("b")):
        with pytest.raises(InvalidSchema) as refused:
            call()
        message = str(refused.value)
        assert refused.value.column == "name"
        assert f"its collation {collation} makes different keys equal" in message
        assert "give django_app.NamedTicket.name db_collation='utf8mb4_nopad_bin'" in message
    assert NamedTicket.objects.using(mariadb).get(name="a").status == "open"  # nothing moved
    assert not NamedTicket.objects.using(mariadb).filter(name="b").exists()  # nothing created


def test_mariadb_with_the_exact_collation_keeps_a_and_a_padded_capital_apart(
    mariadb: str,
) -> None:
    _set_collation(mariadb, "utf8mb4_nopad_bin")
    guard = _guard(mariadb)
    guard.create("a")
    with pytest.raises(UnknownKey):
        guard.fire("A ", "claim")
    guard.create("A ")
    assert guard.fire("A ", "claim").target == "claimed"
    assert (guard.status("a"), guard.status("A ")) == ("open", "claimed")


@pytest.mark.parametrize("collation", ["utf8mb4_bin", "utf8mb4_general_ci"])
def test_mariadb_pad_space_and_case_folding_collations_are_refused(
    mariadb: str, collation: str
) -> None:
    """utf8mb4_bin compares case but still pads: 'a' = 'a ' (so it is refused too)."""
    _set_collation(mariadb, collation)
    with pytest.raises(InvalidSchema, match=collation):
        _guard(mariadb).status("a")


def test_an_integer_key_needs_no_collation(alias: str) -> None:
    from tests.integration.django_app.models import Ticket

    t = Ticket.objects.using(alias).create()
    assert Ticket.guard(alias).fire(t.pk, "claim").target == "claimed"


def test_the_key_check_runs_once_per_database(alias: str) -> None:
    """The catalog query runs at the store's first use only, also where it answers no rows
    (PostgreSQL: the audit key is an integer, with no collation)."""
    from django.test.utils import CaptureQueriesContext

    from tests.integration.django_app.models import AuditedTicket

    store = DjangoStore(AuditedTicket, version="version", audit="django_app.TicketHistory")
    guard = Guard(TICKET, store, CONFIG)
    store.using = alias
    t = AuditedTicket.objects.using(alias).create()
    catalog = ("information_schema", "pg_attribute", "sqlite_master")
    with CaptureQueriesContext(connections[alias]) as first:
        guard.fire(t.pk, "claim")
    with CaptureQueriesContext(connections[alias]) as second:
        guard.fire(t.pk, "release")
    asked = [
        [q["sql"] for q in run if any(c in q["sql"] for c in catalog)] for run in (first, second)
    ]
    assert len(asked[0]) == 2  # the ticket table's key, the audit table's key
    assert asked[1] == []
