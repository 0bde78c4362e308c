"""The admin side: refusals as messages, never a server error.

:func:`fire_action` makes a ``ModelAdmin`` action that fires an event on each selected
row (recording the admin user as the audit row's actor) and reports what committed and
what was refused, row by row, with ``message_user``. :class:`GuardedAdmin` is a
``ModelAdmin`` whose change form moves the status from what the page showed (its status
and version ride in a hidden field) and turns a refusal at save time (a row changed since
the page was loaded, a trigger disagreeing) into an error message and a return to the
form, with the whole save rolled back. An illegal edit of the status never gets
that far: :meth:`StatusField.validate` shows it on the field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from statusguard.errors import StatusGuardError
from statusguard.guard._store import MAX_ACTOR
from statusguard.integrations.django._model import assume_loaded, loaded_state

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


#: the change form's hidden field: the status and version the page showed
SEEN = "statusguard_seen"


def _parse_seen(value: object) -> tuple[str, int] | None:
    """``"<version>:<status>"`` as (status, version); ``None`` for anything else."""
    if not isinstance(value, str):
        return None
    version, sep, status = value.partition(":")
    if not sep or not version.isdigit() or not status:
        return None
    return status, int(version)


class _SeenForm(forms.ModelForm):  # type: ignore[type-arg]
    """A model form remembering the status and version it showed (a hidden field), so the
    save moves from what the user saw, not from the row as the POST read it."""

    statusguard_seen = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        shown = loaded_state(self.instance)
        if shown is not None:
            self.fields[SEEN].initial = f"{shown[1]}:{shown[0]}"

    def _post_clean(self) -> None:
        seen = _parse_seen(self.cleaned_data.get(SEEN))
        if seen is not None and not self.instance._state.adding:
            assume_loaded(self.instance, *seen)
        super()._post_clean()  # type: ignore[misc]


class GuardedAdmin(_ModelAdmin):
    """A ``ModelAdmin`` for a ``GuardedModel``: a refused save is a message, not a 500.

    The change form carries the status and version it showed (a hidden field): its save
    moves the status by compare-and-set from those, so a page loaded before another
    writer changed the row can neither move it from a state it no longer holds nor put
    the old status back (a form that leaves the status as shown leaves it alone). The
    save runs in the admin's transaction; when the guard refuses it
    (:class:`~statusguard.errors.TransitionConflict`: the row changed since the page
    showed it; :class:`~statusguard.errors.StoreRejected`; any statusguard error), that
    transaction rolls back, the user sees the refusal as an error message and is sent
    back to the form, which shows the row as stored now.
    """

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Save ``obj``; an edited status is recorded with the admin user as its actor."""
        if change and hasattr(obj, "statusguard_fields"):
            obj.save(actor=admin_actor(request), reason="admin change form")
        else:
            super().save_model(request, obj, form, change)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        kwargs.setdefault("form", _SeenForm)
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))
        return fields if SEEN in fields else [*fields, SEEN]

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
