"""``DjangoStore`` answers bad input as the other stores do (siblings of issue 17, items 7, 9, 13).

An ``expected_version`` that is not a version number is :class:`InvalidArgument` before any
SQL; a bool or a number that is not an int is :class:`InvalidKey` (the database would take
True for the pk 1); the migrations' trigger refuses an INSERT outside the creation statuses.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from statusguard.errors import InvalidArgument, InvalidKey
from statusguard.integrations.django import DjangoStore
from tests.integration.django_app.models import Ticket


@pytest.mark.parametrize("bad", ["0", False, [0], 1 << 64, -1], ids=repr)
def test_expected_version_must_be_a_version_number(alias: str, bad: Any) -> None:
    store = DjangoStore(Ticket, version="version", using=alias)
    t = Ticket.objects.using(alias).create()
    with pytest.raises(InvalidArgument):
        store.compare_and_set(t.pk, "open", "claimed", bad)
    assert store.get(t.pk).status == "open"


@pytest.mark.parametrize("bad", [True, 1.0, Decimal(1), float("nan")], ids=repr)
def test_a_bool_or_a_float_is_no_key(alias: str, bad: Any) -> None:
    store = DjangoStore(Ticket, version="version", using=alias)
    t = Ticket.objects.using(alias).create()
    calls = [
        lambda: store.create(bad, "open"),
        lambda: store.get(bad),
        lambda: store.apply(bad, {"open": "claimed"}),
        lambda: store.compare_and_set(bad, "open", "claimed"),
    ]
    for call in calls:
        with pytest.raises(InvalidKey, match=r"not an int|bool"):
            call()
    assert store.get(t.pk)[:2] == ("open", 0)  # nothing was written


def test_the_migrated_trigger_refuses_inserts_outside_the_creation_statuses(alias: str) -> None:
    """InstallTrigger installs the INSERT trigger too (GuardedModel refuses such a save
    itself, with IllegalTransition; a raw INSERT meets the database's trigger)."""
    from django.db import DatabaseError, connections, transaction

    table = Ticket._meta.db_table
    columns = [f.column for f in Ticket._meta.concrete_fields if not f.primary_key]
    values = {"status": "done", "version": 0, "claims": 0}
    row = [values.get(c, "") for c in columns]
    with (
        pytest.raises(DatabaseError, match="illegal status transition"),
        transaction.atomic(using=alias),
        connections[alias].cursor() as cursor,
    ):
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))})",
            row,
        )
    assert not Ticket.objects.using(alias).filter(status="done").exists()
