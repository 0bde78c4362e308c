"""``DjangoStore`` as a statusguard Store on each engine: the contract's error paths."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connections

from statusguard import Guard
from statusguard.errors import DuplicateKey, UnknownKey, UnknownStatus
from statusguard.integrations.django import DjangoStore
from statusguard.sql.dialects import DIALECTS
from statusguard.sql.dialects._records import Layout
from tests.integration.django_app.lifecycles import CONFIG, TICKET
from tests.integration.django_app.models import FsmTicket, Ticket


def test_create_get_and_duplicates(alias: str) -> None:
    guard = Ticket.guard(alias)
    t = Ticket.objects.using(alias).create()
    with pytest.raises(DuplicateKey) as duplicate:
        guard.create(t.pk)
    assert duplicate.value.status == "open"
    assert guard.create(t.pk + 1000) == "open"  # by key, the other fields take defaults
    assert Ticket.objects.using(alias).get(pk=t.pk + 1000).version == 0


@pytest.mark.parametrize("call", ["status", "fire", "move"])
def test_unknown_key(alias: str, call: str) -> None:
    guard = Ticket.guard(alias)
    with pytest.raises(UnknownKey):
        {
            "status": lambda: guard.status(10**9),
            "fire": lambda: guard.fire(10**9, "claim"),
            "move": lambda: guard.move(10**9, "claimed", "open"),
        }[call]()


def test_a_multi_source_event_reports_the_source_it_moved_from(alias: str) -> None:
    """finish moves claimed -> done or (with direct_finish) open -> done: two sources in
    one UPDATE; the committed source must be the stored one (a trigger is on the table)."""
    loose = Guard(TICKET, DjangoStore(Ticket, version="version", using=alias), {**CONFIG})
    both = Guard(
        TICKET, DjangoStore(Ticket, version="version", using=alias), {"direct_finish": True}
    )
    t = Ticket.objects.using(alias).create()
    loose.fire(t.pk, "claim")
    done = both.fire(t.pk, "finish")
    assert (done.source, done.target, done.version) == ("claimed", "done", 2)


def test_any_model_can_be_guarded_and_an_unknown_status_is_never_overwritten(alias: str) -> None:
    """DjangoStore on a model that is no GuardedModel (and has no version or trigger)."""
    guard = Guard(TICKET, DjangoStore(FsmTicket, using=alias), CONFIG)
    row = FsmTicket.objects.using(alias).create()
    assert guard.fire(row.pk, "claim").target == "claimed"
    FsmTicket.objects.using(alias).filter(pk=row.pk).update(status="bogus")
    with pytest.raises(UnknownStatus):
        guard.fire(row.pk, "release")
    assert FsmTicket.objects.using(alias).get(pk=row.pk).status == "bogus"


def test_mariadb_reports_insert_id_0_for_an_update_on_a_table_with_a_trigger(alias: str) -> None:
    """The server behaviour the store works around (`_store.py`): the OK packet's insert id
    is 0, the session's LAST_INSERT_ID() is right. If a MariaDB release fixes it, this fails."""
    conn = connections[alias]
    if conn.vendor != "mysql":
        pytest.skip("MariaDB/MySQL only")
    dialect = DIALECTS["mysql"]
    lay = Layout(Ticket._meta.db_table, "id", "status", "version").quoted(dialect.quote)
    stmt = dialect.apply(lay, ("open",), ("claimed",))
    text = stmt.text.replace(":s0", "%s").replace(":t0", "%s").replace(":k", "%s")
    t = Ticket.objects.using(alias).create()
    with conn.cursor() as cursor:
        cursor.execute(text, ["open", "open", "claimed", t.pk, "open"])
        assert cursor.rowcount == 1
        reported: Any = cursor.lastrowid
        cursor.execute("SELECT LAST_INSERT_ID()")
        session = cursor.fetchone()[0]
    assert (reported, divmod(session, 4096)) == (0, (1, 1))
