"""The admin side: refusals as messages, never a server error.

:func:`fire_action` makes a ``ModelAdmin`` action that fires an event on each selected
row (recording the admin user as the audit row's actor) and reports what committed and
what was refused, row by row, with ``message_user``. :class:`GuardedAdmin` is a
``ModelAdmin`` whose change form turns a refusal at save time (a row changed between the
form's read and its write, a trigger disagreeing) into an error message and a return
to the form, with the whole save rolled back. An illegal edit of the status never gets
that far: :meth:`StatusField.validate` shows it on the field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from statusguard.errors import StatusGuardError
from statusguard.guard._store import MAX_ACTOR

if TYPE_CHECKING:
    from django.db.models import Model, QuerySet

    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = admin.ModelAdmin

__all__ = ["GuardedAdmin", "admin_actor", "fire_action"]

#: refusals reported one by one; more are counted in one last message
SHOWN = 10


def admin_actor(request: HttpRequest) -> str | None:
    """Who acts in ``request``: the admin user's username (``None`` if anonymous)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return str(user.get_username())[:MAX_ACTOR]


def fire_action(
    event: str,
    *,
    facts: Mapping[str, bool] | None = None,
    description: str | None = None,
    reason: str | None = None,
) -> Callable[[Any, HttpRequest, QuerySet[Any]], None]:
    """A ``ModelAdmin`` action firing ``event`` on every selected row of a ``GuardedModel``.

    Each row is fired on its own (one conditional ``UPDATE``, committed by itself); the
    user sees how many committed, then each refusal (the row and statusguard's message,
    such as the stored state and the events allowed there), as messages on the change
    list. ``facts`` are passed to every fire; the audit row's actor is the admin user and
    its reason ``reason`` (default: ``"admin action <event>"``). Needs the change
    permission.
    """
    why = reason if reason is not None else f"admin action {event}"

    def action(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        actor = admin_actor(request)
        committed = 0
        refused: list[tuple[Model, StatusGuardError]] = []
        for row in queryset:
            try:
                row.fire(event, facts, actor=actor, reason=why)
            except StatusGuardError as exc:
                refused.append((row, exc))
            else:
                committed += 1
        if committed:
            modeladmin.message_user(
                request, f"{event}: committed for {committed} row(s)", messages.SUCCESS
            )
        for row, refusal in refused[:SHOWN]:
            modeladmin.message_user(
                request, f"{event} refused for {row}: {refusal}", messages.ERROR
            )
        if len(refused) > SHOWN:
            modeladmin.message_user(
                request, f"{event} refused for {len(refused) - SHOWN} more row(s)", messages.ERROR
            )

    action.__name__ = f"fire_{event}"
    action.short_description = description or f"Fire {event!r} on the selected rows"  # type: ignore[attr-defined]
    action.allowed_permissions = ("change",)  # type: ignore[attr-defined]
    return action


class GuardedAdmin(_ModelAdmin):
    """A ``ModelAdmin`` for a ``GuardedModel``: a refused save is a message, not a 500.

    The change form's save runs in the admin's transaction; when the guard refuses it
    (:class:`~statusguard.errors.TransitionConflict`: the row changed since the form
    read it; :class:`~statusguard.errors.StoreRejected`; any statusguard error), that
    transaction rolls back, the user sees the refusal as an error message and is sent
    back to the form, which shows the row as stored now.
    """

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except StatusGuardError as exc:
            self.message_user(request, f"Not saved: {exc}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
