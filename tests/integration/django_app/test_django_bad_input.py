"""``DjangoStore`` answers bad input as the other stores do (siblings of issue 17, items 7, 9, 13).

An ``expected_version`` that is not a version number is :class:`InvalidArgument` before any
SQL; a bool or a number that is not an int is :class:`InvalidKey` (the database would take
True for the pk 1); a key the primary key field cannot hold (``"5"`` for an integer pk, which
Django's lookup would turn into the row 5; an int out of its range; text too long for a
``CharField``) is :class:`InvalidKey` too, with the message ``SQLStore`` gives on such a
column; the migrations' trigger refuses an INSERT outside the creation statuses.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from statusguard.errors import InvalidArgument, InvalidKey, InvalidSchema
from statusguard.integrations.django import DjangoStore
from tests.integration.django_app.models import NamedTicket, Ticket


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
        with pytest.raises(InvalidKey, match=r"not (an )?int|bool"):
            call()
    assert store.get(t.pk)[:2] == ("open", 0)  # nothing was written


def _sqlstore_refusal(key_type: Any, key: Any) -> str:
    from statusguard import SQLStore

    store = SQLStore("sqlite://", "keys", key_type=key_type)
    try:
        with pytest.raises(InvalidKey) as caught:
            store.get(key)
    finally:
        store.dispose()
    return str(caught.value)


@pytest.mark.parametrize("bad", ["the row's pk as text", "5", 1 << 63, -(1 << 63) - 1, b"1"])
def test_an_integer_pk_takes_ints_in_its_range_as_sqlstore_does(alias: str, bad: Any) -> None:
    import sqlalchemy as sa

    store = DjangoStore(Ticket, version="version", using=alias)
    t = Ticket.objects.using(alias).create()
    key = str(t.pk) if bad == "the row's pk as text" else bad
    assert Ticket.objects.using(alias).filter(pk=key).exists() is (key == str(t.pk))
    for call in (
        lambda: store.create(key, "open"),
        lambda: store.get(key),
        lambda: store.apply(key, {"open": "claimed"}),
        lambda: store.compare_and_set(key, "open", "claimed"),
    ):
        with pytest.raises(InvalidKey) as caught:
            call()
        assert str(caught.value) == _sqlstore_refusal(sa.BigInteger(), key)
    assert store.get(t.pk)[:2] == ("open", 0)  # nothing was written
    assert Ticket.objects.using(alias).count() == 1


@pytest.mark.parametrize("bad", [5, "x" * 33], ids=["int", "33 characters"])
def test_a_text_pk_takes_text_up_to_its_length_as_sqlstore_does(alias: str, bad: Any) -> None:
    import sqlalchemy as sa

    store = DjangoStore(NamedTicket, using=alias)
    for call in (lambda: store.create(bad, "open"), lambda: store.get(bad)):
        with pytest.raises(InvalidKey) as caught:
            call()
        assert str(caught.value) == _sqlstore_refusal(sa.String(32), bad)
    assert not NamedTicket.objects.using(alias).exists()
    from django.db import connections

    if connections[alias].vendor == "mysql":  # the key fits; the default collation does not
        with pytest.raises(InvalidSchema, match="collation"):
            store.create("x" * 32, "open")
        return
    store.create("x" * 32, "open")  # the longest key the column holds
    assert store.get("x" * 32).status == "open"


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
