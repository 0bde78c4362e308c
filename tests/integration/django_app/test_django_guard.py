"""The Django integration on SQLite, PostgreSQL and MariaDB: fire, save, errors, transactions."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connections, models, transaction

from statusguard import Guard, IllegalTransition, TransitionConflict
from statusguard.errors import MissingFlag, StoreRejected
from statusguard.integrations.django import DjangoStore, as_validation_error
from tests.integration.django_app.lifecycles import TICKET
from tests.integration.django_app.models import PlainTicket, Ticket


def stored(model: type[models.Model], alias: str, pk: Any) -> tuple[Any, ...]:
    """The row as another reader sees it now (a fresh query, no instance cache)."""
    fields = ["status", "version"] if model is Ticket else ["status"]
    return tuple(model.objects.using(alias).filter(pk=pk).values_list(*fields).get())


def in_other_thread(fn: Any) -> Any:
    """``fn()`` on a connection of its own (another Django thread), its result."""
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(fn())
        finally:
            connections.close_all()

    t = threading.Thread(target=run)
    t.start()
    t.join(30)
    assert not t.is_alive()
    return out[0]


def test_fire_moves_the_row_and_bumps_the_version(alias: str) -> None:
    t = Ticket.objects.using(alias).create()
    assert (t.status, t.version) == ("open", 0)
    done = t.fire("claim")
    assert (done.source, done.event, done.target, done.version) == ("open", "claim", "claimed", 1)
    assert (t.status, t.version) == ("claimed", 1)
    assert stored(Ticket, alias, t.pk) == ("claimed", 1)
    t.fire("finish")
    assert stored(Ticket, alias, t.pk) == ("done", 2)


def test_a_refused_event_is_a_typed_error_and_writes_nothing(alias: str) -> None:
    t = Ticket.objects.using(alias).create()
    with pytest.raises(IllegalTransition) as refused:
        t.fire("finish")  # direct_finish is off in this deployment
    assert (refused.value.state, refused.value.event) == ("open", "finish")
    assert refused.value.allowed == ("claim",)
    assert stored(Ticket, alias, t.pk) == ("open", 0)
    error = as_validation_error(refused.value)
    assert error.code == "illegal_transition"
    assert error.params is not None
    assert error.params["state"] == "open"
    assert error.params["allowed"] == "claim"
    assert "not allowed in state 'open'" in error.messages[0]


def test_an_event_depending_on_a_fact_asks_for_it(alias: str) -> None:
    t = Ticket.objects.using(alias).create()
    t.fire("claim")
    t.fire("finish")
    with pytest.raises(MissingFlag) as missing:
        t.fire("reopen")
    assert as_validation_error(missing.value).code == "missing_fact"
    with pytest.raises(IllegalTransition):
        t.fire("reopen", {"warranty": False})
    t.fire("reopen", {"warranty": True})
    assert stored(Ticket, alias, t.pk) == ("open", 3)


def test_fire_applies_to_the_stored_status_not_the_instance(alias: str) -> None:
    a = Ticket.objects.using(alias).create()
    b = Ticket.objects.using(alias).get(pk=a.pk)  # loaded while open
    a.fire("claim")
    with pytest.raises(IllegalTransition) as refused:
        b.fire("claim")  # b still says open; the row says claimed
    assert refused.value.state == "claimed"
    b.fire("release")  # legal from the stored status
    assert (b.status, b.version) == ("open", 2)


def test_guard_by_primary_key_without_loading(alias: str) -> None:
    t = Ticket.objects.using(alias).create()
    guard = Ticket.guard(alias)
    assert isinstance(guard, Guard)
    assert guard.fire(t.pk, "claim").target == "claimed"
    assert guard.status(t.pk) == "claimed"
    assert guard.version(t.pk) == 1


def test_save_never_writes_a_stale_status_back(alias: str) -> None:
    a = Ticket.objects.using(alias).create()
    b = Ticket.objects.using(alias).get(pk=a.pk)
    a.fire("claim")
    b.note = "edited while open"
    b.save()  # writes the note only
    assert stored(Ticket, alias, a.pk) == ("claimed", 1)
    assert Ticket.objects.using(alias).get(pk=a.pk).note == "edited while open"


def test_negative_control_django_s_own_save_writes_the_stale_status_back(alias: str) -> None:
    a = Ticket.objects.using(alias).create()
    b = Ticket.objects.using(alias).get(pk=a.pk)
    a.fire("claim")
    models.Model.save(b)  # what save() does without the mixin: every column
    assert stored(Ticket, alias, a.pk) == ("open", 0)  # the claim is lost, version rolled back


def test_an_edited_status_is_moved_by_compare_and_set(alias: str) -> None:
    t = Ticket.objects.using(alias).create()
    t.status = "claimed"
    t.note = "claimed in the admin"
    t.save()
    assert (t.status, t.version) == ("claimed", 1)
    assert stored(Ticket, alias, t.pk) == ("claimed", 1)
    t.status = "open"  # release
    t.save(update_fields=["status"])
    assert stored(Ticket, alias, t.pk) == ("open", 2)


def test_an_illegal_edit_is_refused_with_nothing_written(alias: str) -> None:
    t = Ticket.objects.using(alias).create()
    t.status, t.note = "done", "should not be saved"
    with pytest.raises(IllegalTransition) as refused:
        t.save()
    assert (refused.value.state, refused.value.target) == ("open", "done")
    fresh = Ticket.objects.using(alias).get(pk=t.pk)
    assert (fresh.status, fresh.version, fresh.note) == ("open", 0, "")


def test_refresh_from_db_rereads_the_status_a_partial_refresh_keeps_the_edit(alias: str) -> None:
    t = Ticket.objects.using(alias).create()
    other = Ticket.objects.using(alias).get(pk=t.pk)
    other.fire("claim")
    t.status = "claimed"
    t.refresh_from_db(fields=["note"])  # the edit and what it was loaded from stay
    with pytest.raises(TransitionConflict):
        t.save()  # open at version 0 is no longer stored
    t.refresh_from_db()
    assert (t.status, t.version) == ("claimed", 1)
    t.fire("release")
    assert stored(Ticket, alias, t.pk) == ("open", 2)


def test_full_clean_reports_an_illegal_edit_on_the_field(alias: str) -> None:
    t = Ticket.objects.using(alias).create()
    t.status = "done"
    with pytest.raises(ValidationError) as invalid:
        t.full_clean()
    [error] = invalid.value.error_dict["status"]
    assert error.code == "illegal_transition"
    t.status = "claimed"
    t.full_clean()  # a legal edit validates


def test_aba_a_stale_edit_conflicts_with_a_version_but_not_without(alias: str) -> None:
    for model in (Ticket, PlainTicket):
        a = model.objects.using(alias).create()
        stale = model.objects.using(alias).get(pk=a.pk)
        a.fire("claim")
        a.fire("release")  # back to open: A -> B -> A
        stale.status = "claimed"
        if model is Ticket:
            with pytest.raises(TransitionConflict) as conflict:
                stale.save()
            assert (conflict.value.expected_version, conflict.value.actual_version) == (0, 2)
            assert as_validation_error(conflict.value).code == "transition_conflict"
            assert stored(model, alias, a.pk) == ("open", 2)
        else:  # the status alone cannot tell: the stale edit lands (ABA), as documented
            stale.save()
            assert stored(model, alias, a.pk) == ("claimed",)


def test_a_new_row_starts_in_the_initial_state(alias: str) -> None:
    with pytest.raises(IllegalTransition) as refused:
        Ticket(status="claimed").save(using=alias)
    assert refused.value.allowed == ("open",)
    assert not Ticket.objects.using(alias).exists()
    with pytest.raises(ValidationError):
        Ticket(status="claimed").full_clean()


def test_a_new_row_with_an_existing_primary_key_does_not_overwrite_it(alias: str) -> None:
    a = Ticket.objects.using(alias).create()
    a.fire("claim")
    with pytest.raises(DatabaseError), transaction.atomic(using=alias):
        Ticket(pk=a.pk).save(using=alias)  # plain Django would UPDATE the row back to open
    assert stored(Ticket, alias, a.pk) == ("claimed", 1)
    Ticket(pk=a.pk, note="forced").save(using=alias, force_update=True)  # the other fields only
    assert stored(Ticket, alias, a.pk) == ("claimed", 1)
    assert Ticket.objects.using(alias).get(pk=a.pk).note == "forced"


def test_a_model_form_shows_an_illegal_edit_and_saves_a_legal_one(alias: str) -> None:
    from django import forms

    class TicketForm(forms.ModelForm):  # what the admin builds for the model
        class Meta:
            model = Ticket
            fields = ("status", "note")

    t = Ticket.objects.using(alias).create()
    form = TicketForm(
        {"status": "done", "note": ""}, instance=Ticket.objects.using(alias).get(pk=t.pk)
    )
    assert not form.is_valid()
    assert form.errors.as_data()["status"][0].code == "illegal_transition"
    form = TicketForm(
        {"status": "claimed", "note": "via a form"},
        instance=Ticket.objects.using(alias).get(pk=t.pk),
    )
    assert form.is_valid(), form.errors
    saved = form.save()
    assert (saved.status, saved.version) == ("claimed", 1)
    assert stored(Ticket, alias, t.pk) == ("claimed", 1)


def test_a_historical_model_in_a_migration_saves_as_django_does(alias: str) -> None:
    from django.db.migrations.loader import MigrationLoader

    apps = MigrationLoader(connections[alias]).project_state().apps
    historical = apps.get_model("django_app", "Ticket")
    row = historical.objects.using(alias).create(status="open")  # a data migration's write
    row.note = "from a data migration"
    row.save()
    assert Ticket.objects.using(alias).get(pk=row.pk).note == "from a data migration"


# -- Django's transactions ---------------------------------------------------------------


class Rollback(Exception):
    pass


def test_fire_inside_atomic_rolls_back_with_the_block(alias: str) -> None:
    t = Ticket.objects.using(alias).create()

    def claim_then_fail() -> None:
        with transaction.atomic(using=alias):
            t.fire("claim")
            assert stored(Ticket, alias, t.pk) == ("claimed", 1)  # this transaction sees it
            raise Rollback

    with pytest.raises(Rollback):
        claim_then_fail()
    assert stored(Ticket, alias, t.pk) == ("open", 0)


def test_fire_inside_atomic_commits_only_with_the_block(alias: str) -> None:
    t = Ticket.objects.using(alias).create()
    with transaction.atomic(using=alias):
        t.fire("claim")
        assert connections[alias].in_atomic_block
        # another connection does not see it yet: the guard did not commit
        assert in_other_thread(lambda: stored(Ticket, alias, t.pk)) == ("open", 0)
    assert in_other_thread(lambda: stored(Ticket, alias, t.pk)) == ("claimed", 1)


def test_a_refusal_inside_atomic_leaves_the_transaction_usable(alias: str) -> None:
    t = Ticket.objects.using(alias).create()
    with transaction.atomic(using=alias):
        with pytest.raises(IllegalTransition):
            t.fire("finish")
        assert not connections[alias].needs_rollback
        t.fire("claim")  # the same transaction goes on (no aborted PostgreSQL transaction)
    assert stored(Ticket, alias, t.pk) == ("claimed", 1)


def test_a_conflicting_save_inside_atomic_rolls_back_only_its_savepoint(alias: str) -> None:
    a = Ticket.objects.using(alias).create()
    stale = Ticket.objects.using(alias).get(pk=a.pk)
    a.fire("claim")
    with transaction.atomic(using=alias):
        other = Ticket.objects.using(alias).create()
        stale.status, stale.note = "claimed", "lost"
        with pytest.raises(TransitionConflict):
            stale.save()
        other.fire("claim")  # the caller's transaction is still good
    assert stored(Ticket, alias, other.pk) == ("claimed", 1)
    assert Ticket.objects.using(alias).get(pk=a.pk).note == ""


# -- the database's own rules: the trigger the migration installed -------------------------


def test_the_migrated_trigger_rejects_an_illegal_raw_update(alias: str) -> None:
    t = Ticket.objects.using(alias).create()
    with pytest.raises(DatabaseError) as rejected, transaction.atomic(using=alias):
        Ticket.objects.using(alias).filter(pk=t.pk).update(status="done")
    assert "statusguard" in str(rejected.value).lower() or "illegal" in str(rejected.value)
    Ticket.objects.using(alias).filter(pk=t.pk).update(status="claimed")  # a legal edge passes
    assert stored(Ticket, alias, t.pk) == ("claimed", 0)


def test_a_guard_out_of_step_with_the_trigger_gets_store_rejected(alias: str) -> None:
    """A guard whose config allows open -> done, over a table whose trigger does not."""
    t = Ticket.objects.using(alias).create()
    store = DjangoStore(Ticket, status="status", version="version", using=alias)
    loose = Guard(TICKET, store, {"direct_finish": True})
    with pytest.raises(StoreRejected), transaction.atomic(using=alias):
        loose.fire(t.pk, "finish")
    assert stored(Ticket, alias, t.pk) == ("open", 0)
