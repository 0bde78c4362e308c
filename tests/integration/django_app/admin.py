"""The admin of the test app: guarded tickets with fire actions (test_django_admin.py), and
a plain admin of the same tickets on a site of its own (the negative control)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin

from statusguard.integrations.django import GuardedAdmin, fire_action
from tests.integration.django_app.models import AuditedTicket, Ticket, TicketHistory

#: run by TicketAdmin.save_model before it saves: a test's concurrent writer
BEFORE_SAVE: list[Callable[[Any], None]] = []


@admin.register(Ticket)
class TicketAdmin(GuardedAdmin):
    list_display = ("id", "status", "version", "note")
    fields = ("status", "note")
    actions = (fire_action("claim"), fire_action("finish", description="Finish the tickets"))

    def save_model(self, request: Any, obj: Any, form: Any, change: bool) -> None:
        for hook in BEFORE_SAVE:
            hook(obj)
        super().save_model(request, obj, form, change)


@admin.register(AuditedTicket)
class AuditedTicketAdmin(GuardedAdmin):
    actions = (fire_action("claim", reason="picked up at the desk"),)


class PlainTicketAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The same ticket admin without GuardedAdmin: the negative control's."""

    fields = ("status", "note")

    def save_model(self, request: Any, obj: Any, form: Any, change: bool) -> None:
        for hook in BEFORE_SAVE:
            hook(obj)
        super().save_model(request, obj, form, change)


#: a second admin site (at /plain/) holding PlainTicketAdmin
plain_site = admin.AdminSite(name="plain")
plain_site.register(Ticket, PlainTicketAdmin)


@admin.register(TicketHistory)
class TicketHistoryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("resource", "source", "event", "target", "version", "at", "actor", "reason")
