"""The admin shows a refused transition as a message, never a server error (Django's test client).

``TicketAdmin`` (``admin.py``) is a ``GuardedAdmin`` with ``fire_action`` actions. The
tickets live on the ``alias`` database (a router sends them there); the admin's own tables
(users, sessions) on ``default``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.db import connections
from django.test import Client, override_settings

from statusguard.errors import TransitionConflict
from tests.integration.django_app import admin as test_admin
from tests.integration.django_app.models import AuditedTicket, Ticket, TicketHistory

MODELS = {"ticket", "auditedticket", "tickethistory", "plainticket", "namedticket"}


class TicketsOn:
    """Routes the test app's models to one alias (Django's own apps stay on default)."""

    def __init__(self, alias: str) -> None:
        self.alias = alias

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return self.alias if model._meta.app_label == "django_app" else None

    db_for_write = db_for_read


@pytest.fixture
def client(alias: str) -> Iterator[Client]:
    """A logged-in superuser's client, with the tickets on ``alias``."""
    user = User.objects.create_superuser("admin", "admin@example.com", "pw")
    routers = [TicketsOn(alias), "tests.integration.django_app.routers.ContribOnDefault"]
    try:
        with override_settings(DATABASE_ROUTERS=routers):
            c = Client()
            c.force_login(user)
            yield c
    finally:
        test_admin.BEFORE_SAVE.clear()
        User.objects.all().delete()


def _messages(response: Any) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def test_a_fire_action_reports_committed_and_refused_rows(alias: str, client: Client) -> None:
    fresh = Ticket.objects.using(alias).create()
    taken = Ticket.objects.using(alias).create()
    taken.fire("claim")
    response = client.post(
        "/admin/django_app/ticket/",
        {"action": "fire_claim", "_selected_action": [fresh.pk, taken.pk]},
        follow=True,
    )
    assert response.status_code == 200
    shown = _messages(response)
    assert ("success", "claim: committed for 1 row(s)") in shown
    errors = [text for level, text in shown if level == "error"]
    assert len(errors) == 1
    assert errors[0].startswith(f"claim refused for Ticket object ({taken.pk}): event 'claim'")
    assert "is not allowed in state 'claimed'" in errors[0]
    assert Ticket.objects.using(alias).get(pk=fresh.pk).status == "claimed"
    assert Ticket.objects.using(alias).get(pk=taken.pk).version == 1  # untouched


def test_the_action_records_the_admin_user_as_actor(alias: str, client: Client) -> None:
    t = AuditedTicket.objects.using(alias).create()
    client.post(
        "/admin/django_app/auditedticket/",
        {"action": "fire_claim", "_selected_action": [t.pk]},
    )
    rows = TicketHistory.objects.using(alias).filter(resource=t.pk)
    assert [(r.target, r.actor, r.reason) for r in rows] == [
        ("claimed", "admin", "picked up at the desk")
    ]


def test_an_illegal_edit_is_an_error_on_the_field(alias: str, client: Client) -> None:
    t = Ticket.objects.using(alias).create()
    response = client.post(
        f"/admin/django_app/ticket/{t.pk}/change/", {"status": "done", "note": "skip it"}
    )
    assert response.status_code == 200  # the form again, with the error on the field
    assert b"transition &#x27;open&#x27; -&gt; &#x27;done&#x27; is not allowed" in (
        response.content
    )
    row = Ticket.objects.using(alias).get(pk=t.pk)
    assert (row.status, row.note) == ("open", "")


def _claimed_meanwhile(alias: str) -> None:
    """Between the admin's read and its write, another worker claims the ticket (its own
    connection, committed at once)."""

    def hook(obj: Any) -> None:
        def claim() -> None:
            try:
                Ticket.guard(alias).fire(obj.pk, "claim")
            finally:
                connections.close_all()

        worker = threading.Thread(target=claim)
        worker.start()
        worker.join(10)

    test_admin.BEFORE_SAVE.append(hook)


def test_a_save_refused_at_write_time_is_a_message_and_a_rollback(
    alias: str, client: Client
) -> None:
    if connections[alias].vendor == "sqlite":
        pytest.skip("SQLite: the admin's open transaction blocks the other writer")
    t = Ticket.objects.using(alias).create()
    _claimed_meanwhile(alias)
    response = client.post(
        f"/admin/django_app/ticket/{t.pk}/change/", {"status": "claimed", "note": "mine"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/admin/django_app/ticket/{t.pk}/change/"
    shown = _messages(response)
    assert len(shown) == 1
    assert shown[0][0] == "error"
    assert shown[0][1].startswith(f"Not saved: key {t.pk}: expected status 'open' at version 0")
    row = Ticket.objects.using(alias).get(pk=t.pk)
    assert (row.status, row.version, row.note) == ("claimed", 1, "")  # the other's claim only


def test_without_guarded_admin_the_same_refusal_is_a_server_error(
    alias: str, client: Client
) -> None:
    """The negative control: a plain ModelAdmin lets the refusal through (a 500 in
    production; the test client re-raises it)."""
    if connections[alias].vendor == "sqlite":
        pytest.skip("SQLite: the admin's open transaction blocks the other writer")
    t = Ticket.objects.using(alias).create()
    _claimed_meanwhile(alias)
    with pytest.raises(TransitionConflict):
        client.post(f"/plain/django_app/ticket/{t.pk}/change/", {"status": "claimed", "note": "x"})


def _seen(client: Client, pk: int) -> str:
    """The hidden status-and-version field of the change page, as the browser would post it."""
    page = client.get(f"/admin/django_app/ticket/{pk}/change/").content.decode()
    found = re.search(r'name="statusguard_seen" value="([^"]*)"', page)
    assert found is not None, "the change form carries no statusguard_seen field"
    return found.group(1)


def test_a_stale_page_cannot_move_the_status_from_what_it_showed(
    alias: str, client: Client
) -> None:
    t = Ticket.objects.using(alias).create()
    seen = _seen(client, t.pk)
    assert seen == "0:open"
    Ticket.guard(alias).fire(t.pk, "claim")  # another worker, after the page was loaded
    Ticket.guard(alias).fire(t.pk, "release")  # open again, version 2
    response = client.post(
        f"/admin/django_app/ticket/{t.pk}/change/",
        {"status": "claimed", "note": "mine", "statusguard_seen": seen},
    )
    assert response.status_code == 302
    (level, text), *_ = _messages(response)
    assert level == "error"
    assert text.startswith(f"Not saved: key {t.pk}: expected status 'open' at version 0")
    row = Ticket.objects.using(alias).get(pk=t.pk)
    assert (row.status, row.version, row.note) == ("open", 2, "")


@pytest.mark.parametrize("with_seen", [True, False])
def test_a_stale_page_leaving_the_status_as_shown_does_not_put_it_back(
    alias: str, client: Client, with_seen: bool
) -> None:
    """The page showed 'open'; meanwhile a worker claimed the ticket; the user edits only
    the note. With the hidden field the save leaves the status alone; without it (the
    negative control: a form posting only its fields) the posted 'open' reads as an edit
    of the claimed row and releases it (claimed -> open is an edge)."""
    t = Ticket.objects.using(alias).create()
    seen = _seen(client, t.pk)
    Ticket.guard(alias).fire(t.pk, "claim")
    data = {"status": "open", "note": "called back"}
    if with_seen:
        data["statusguard_seen"] = seen
    response = client.post(f"/admin/django_app/ticket/{t.pk}/change/", data)
    assert response.status_code == 302
    row = Ticket.objects.using(alias).get(pk=t.pk)
    assert row.note == "called back"
    if with_seen:
        assert (row.status, row.version) == ("claimed", 1)
    else:
        assert (row.status, row.version) == ("open", 2)  # the worker's claim undone


def test_a_status_edit_in_the_change_form_records_the_admin_as_actor(
    alias: str, client: Client
) -> None:
    t = AuditedTicket.objects.using(alias).create()
    response = client.post(
        f"/admin/django_app/auditedticket/{t.pk}/change/", {"status": "claimed", "token": ""}
    )
    assert response.status_code == 302
    (entry,) = t.history()
    assert (entry.source, entry.event, entry.target) == ("open", None, "claimed")
    assert (entry.actor, entry.reason) == ("admin", "admin change form")
