"""The audit history and per-attempt tokens of ``DjangoStore``, on each engine.

An audit model (``TicketHistory``, a subclass of ``AuditRecord``) gets one row per committed
transition, written by the dialect's own audit statements in the write's transaction:
``history()`` reads them back as ``SQLStore.history`` does (``AuditEntry`` with ``at``,
``actor``, ``reason``, the token).
"""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import DatabaseError, models, transaction

from statusguard import Guard, IllegalTransition
from statusguard.errors import InvalidArgument, InvalidSchema, TransitionConflict
from statusguard.guard import AuditEntry
from statusguard.integrations.django import AuditKey, AuditRecord, DjangoStore
from tests.integration.django_app._threads import WORKERS, run_threads
from tests.integration.django_app.lifecycles import CONFIG, TICKET
from tests.integration.django_app.models import AuditedTicket, Ticket, TicketHistory


class MissingHistory(AuditRecord):
    """An audit model whose table was never created: every audit INSERT fails."""

    resource = AuditKey(AuditedTicket)

    class Meta:
        app_label = "django_app"
        managed = False
        db_table = "django2_missing_history"


def test_history_is_the_committed_path_with_actor_reason_token_and_time(alias: str) -> None:
    before = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    t = AuditedTicket.objects.using(alias).create()
    claim = t.fire("claim", actor="ana", reason="on shift")
    with pytest.raises(IllegalTransition):
        t.fire("claim", actor="bo")  # refused: no row
    t.fire("release")
    t.refresh_from_db()
    t.status = "claimed"  # a move (save with an edited status): event None
    t.save()
    entries = t.history()
    assert entries == [
        AuditEntry("open", "claim", "claimed", 1, claim.token, actor="ana", reason="on shift"),
        AuditEntry("claimed", "release", "open", 2, entries[1].token),
        AuditEntry("open", None, "claimed", 3, entries[2].token),
    ]
    tokens = [e.token for e in entries]
    assert all(tokens)
    assert len(set(tokens)) == 3
    after = datetime.now(UTC) + timedelta(seconds=1)
    assert all(e.at is not None and before <= e.at < after for e in entries)
    assert all(e.at is not None and e.at.utcoffset() == timedelta(0) for e in entries)
    # the same rows through the ORM (the admin lists them so)
    rows = TicketHistory.objects.using(alias).filter(resource_id=t.pk)
    assert [(r.source, r.target, r.actor) for r in rows] == [
        ("open", "claimed", "ana"),
        ("claimed", "open", None),
        ("open", "claimed", None),
    ]


def test_history_windows_and_bad_windows(alias: str) -> None:
    t = AuditedTicket.objects.using(alias).create()
    t.fire("claim")
    later = datetime.now(UTC) + timedelta(hours=1)
    assert [e.target for e in t.history(until=later)] == ["claimed"]
    assert t.history(since=later) == []
    with pytest.raises(InvalidArgument, match="aware datetime"):
        t.history(since=datetime(2026, 1, 1))  # naive
    # the bounds are in the read's WHERE (the dialect's audit_time): since <= at < until,
    # in any zone
    (entry,) = t.history()
    assert entry.at is not None
    assert t.history(since=entry.at) == [entry]
    assert t.history(until=entry.at) == []
    plus5 = timezone(timedelta(hours=5, minutes=30))
    assert t.history(since=entry.at.astimezone(plus5)) == [entry]
    assert t.history(until=entry.at.astimezone(plus5) + timedelta(microseconds=1)) == [entry]


def test_a_transition_rolled_back_with_the_callers_transaction_leaves_no_audit_row(
    alias: str,
) -> None:
    t = AuditedTicket.objects.using(alias).create()

    def give_up() -> None:
        with transaction.atomic(using=alias):
            t.fire("claim")
            raise RuntimeError("the caller gives up")

    with pytest.raises(RuntimeError, match="the caller gives up"):
        give_up()
    assert AuditedTicket.objects.using(alias).get(pk=t.pk).status == "open"
    assert AuditedTicket.guard(alias).store.history(t.pk) == []


def test_a_failing_audit_insert_takes_the_update_back_with_it(alias: str) -> None:
    """The audit row is a statement of its own on SQLite and MariaDB (PostgreSQL: in the
    UPDATE's CTE): both commit together or neither does."""
    t = AuditedTicket.objects.using(alias).create()
    broken = Guard(
        TICKET,
        DjangoStore(AuditedTicket, version="version", audit=MissingHistory, using=alias),
        CONFIG,
        tokens=True,
    )
    with pytest.raises(DatabaseError, match="django2_missing_history"):
        broken.fire(t.pk, "claim")
    row = AuditedTicket.objects.using(alias).get(pk=t.pk)
    assert (row.status, row.version) == ("open", 0)
    # the control: the same store without the audit model commits the claim
    plain = Guard(TICKET, DjangoStore(AuditedTicket, version="version", using=alias), CONFIG)
    assert plain.fire(t.pk, "claim").version == 1


def test_a_token_field_keeps_the_last_write_token(alias: str) -> None:
    store = DjangoStore(AuditedTicket, version="version", token="token", using=alias)
    guard = Guard(TICKET, store, CONFIG, tokens=True)
    t = AuditedTicket.objects.using(alias).create()
    done = guard.fire(t.pk, "claim")
    assert done.token is not None
    assert store.get(t.pk).token == done.token
    assert AuditedTicket.objects.using(alias).get(pk=t.pk).token == done.token
    moved = guard.move(t.pk, "open", "claimed", expected_version=1)
    assert store.get(t.pk).token == moved.token != done.token


def test_a_stale_move_is_refused_and_audits_nothing(alias: str) -> None:
    t = AuditedTicket.objects.using(alias).create()
    stale = AuditedTicket.objects.using(alias).get(pk=t.pk)
    t.fire("claim")
    t.fire("release")  # open again, version 2: ABA for a status-only check
    stale.status = "claimed"
    with pytest.raises(TransitionConflict):
        stale.save()
    assert [e.version for e in t.history()] == [1, 2]


def test_without_an_audit_model_there_is_no_history(alias: str) -> None:
    t = Ticket.objects.using(alias).create()
    t.fire("claim", actor="ana", reason="kept nowhere")  # accepted, recorded nowhere
    with pytest.raises(ValueError, match="no audit model"):
        t.history()


def test_an_audit_model_without_the_audit_columns_is_refused() -> None:
    with pytest.raises(InvalidSchema, match="has no column 'resource_key'"):
        DjangoStore(Ticket, audit=Ticket)


def test_an_unknown_audit_model_label_is_refused() -> None:
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match=r"app_label\.ModelName"):
        DjangoStore(Ticket, audit="django_app.NoSuchHistory")


def test_actor_and_reason_are_checked_before_any_write(alias: str) -> None:
    t = AuditedTicket.objects.using(alias).create()
    with pytest.raises(InvalidArgument, match="actor"):
        t.fire("claim", actor="x" * 256)
    assert AuditedTicket.objects.using(alias).get(pk=t.pk).status == "open"


def test_audit_key_is_a_plain_foreign_key_in_migrations() -> None:
    field = TicketHistory._meta.get_field("resource")
    _, path, _, kwargs = field.deconstruct()
    assert path == "django.db.models.ForeignKey"
    assert kwargs["db_column"] == "resource_key"
    assert kwargs["db_constraint"] is False
    assert kwargs["on_delete"] is models.DO_NOTHING


def test_racing_workers_leave_one_audit_row_per_commit(alias: str) -> None:
    """Workers fire claim/release at one audited ticket without pause, each on its own
    connection: the history is exactly the committed path (versions 1..n, each entry's
    source the previous entry's target, one token each)."""
    pk = AuditedTicket.objects.using(alias).create().pk
    committed: list[int] = []
    lock = threading.Lock()

    def worker(first: str) -> None:
        t = AuditedTicket.objects.using(alias).get(pk=pk)
        for event in [first, "release" if first == "claim" else "claim"] * 5:
            try:
                done = t.fire(event)
            except IllegalTransition:
                continue
            with lock:
                committed.append(done.version)

    run_threads([lambda i=i: worker("claim" if i % 2 else "release") for i in range(WORKERS)])
    entries = AuditedTicket.guard(alias).store.history(pk)
    version = AuditedTicket.objects.using(alias).get(pk=pk).version
    assert [e.version for e in entries] == list(range(1, version + 1))
    assert sorted(committed) == [e.version for e in entries]
    assert all(a.target == b.source for a, b in itertools.pairwise(entries))
    assert len({e.token for e in entries}) == len(entries)


def test_save_records_actor_and_reason_of_a_status_edit(alias: str) -> None:
    t = AuditedTicket.objects.using(alias).create()
    t.status = "claimed"
    t.save(actor="ana", reason="by hand")
    t.save(actor="bo")  # nothing moved: no row
    assert [(e.target, e.actor, e.reason) for e in t.history()] == [("claimed", "ana", "by hand")]
