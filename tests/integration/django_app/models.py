"""The models under test: statusguard's (with and without a version, with an audit history,
with a text key) and django-fsm-2's."""

from __future__ import annotations

import threading
from typing import Any

from django.db import models
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from statusguard.integrations.django import (
    AuditKey,
    AuditRecord,
    GuardedModel,
    StatusField,
    VersionField,
)
from tests.integration.django_app.lifecycles import CONFIG, TICKET

#: side effects the transitions ran (e.g. "send the claim notification"), per model
SENT: list[tuple[str, Any]] = []
_SENT_LOCK = threading.Lock()


def send(kind: str, key: Any) -> None:
    """The side effect of a claim (what a notification or an enqueued job would be)."""
    with _SENT_LOCK:
        SENT.append((kind, key))


class Ticket(GuardedModel, models.Model):
    status = StatusField(TICKET, config=CONFIG)
    version = VersionField()
    claims = models.IntegerField(default=0)
    note = models.CharField(max_length=100, default="", blank=True)


class PlainTicket(GuardedModel, models.Model):
    """No version field: the guard's compare-and-set compares the status only."""

    status = StatusField("tests.integration.django_app.lifecycles:TICKET", config=CONFIG)
    claims = models.IntegerField(default=0)


class AuditedTicket(GuardedModel, models.Model):
    """A ticket with an audit history (TicketHistory) and a token per write attempt."""

    status = StatusField(TICKET, config=CONFIG)
    version = VersionField()
    token = models.CharField(max_length=64, null=True, blank=True)
    statusguard_audit = "django_app.TicketHistory"
    statusguard_tokens = True


class TicketHistory(AuditRecord):
    resource = AuditKey(AuditedTicket)


class NamedTicket(GuardedModel, models.Model):
    """A text primary key in the database's default collation (on MariaDB: not exact)."""

    name = models.CharField(max_length=32, primary_key=True)
    status = StatusField(TICKET, config=CONFIG)


class FsmTicket(ConcurrentTransitionMixin, models.Model):
    """The same ticket in django-fsm-2, protected as its docs advise."""

    status = FSMField(default="open")
    claims = models.IntegerField(default=0)

    @transition(field=status, source="open", target="claimed")
    def claim(self) -> None:
        self.claims += 1
        send("fsm", self.pk)

    @transition(field=status, source="claimed", target="open")
    def release(self) -> None:
        pass
