"""Races, side by side: django-fsm-2's ConcurrentTransitionMixin misbehaves, statusguard does not.

Threads, each on a Django connection of its own, on SQLite, PostgreSQL and MariaDB.

* **Side effects.** ``WORKERS`` workers load the same open ticket, meet at a barrier, and
  claim it; a claim sends a notification (any effect outside the database: an email, a
  job, an HTTP call). django-fsm-2 runs the effect in the transition method, before
  ``save()`` finds out it lost: every worker sends, one claim commits. With
  ``fire()`` the effect runs after the claim committed (``transaction.on_commit``): once.
* **ABA.** A worker loads the open ticket; another claims and releases it (open again);
  the first claims from what it loaded. django-fsm-2 compares the status only, so the
  stale save lands and overwrites the other claim's ``claims`` count (a lost update);
  statusguard's save compares the version too and raises ``TransitionConflict``.

Each run records its counts in the session's "reliability records" (the terminal summary).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction
from django_fsm import ConcurrentTransition

from statusguard import IllegalTransition, TransitionConflict
from tests.integration.django_app._threads import TIMEOUT, WORKERS, run_threads
from tests.integration.django_app.models import SENT, FsmTicket, Ticket, send

ROUNDS = 5


def claim_race(alias: str, impl: str) -> Counter[str]:
    """``ROUNDS`` rounds of ``WORKERS`` workers claiming one freshly opened ticket at once."""
    counts: Counter[str] = Counter()
    lock = threading.Lock()
    model: Any = Ticket if impl == "statusguard" else FsmTicket
    for _ in range(ROUNDS):
        pk = model.objects.using(alias).create().pk
        barrier = threading.Barrier(WORKERS, timeout=TIMEOUT)

        def worker(pk: Any = pk, barrier: threading.Barrier = barrier) -> None:
            t = model.objects.using(alias).get(pk=pk)
            barrier.wait()  # every worker holds the open ticket before anyone claims
            outcome = "committed"
            if impl == "statusguard":
                try:
                    t.fire("claim")
                    transaction.on_commit(lambda: send("statusguard", pk), using=alias)
                except IllegalTransition:
                    outcome = "refused"
            else:
                try:
                    with transaction.atomic(using=alias):  # as django-fsm-2's docs advise
                        t.claim()
                        t.save()
                except ConcurrentTransition:
                    outcome = "refused"
            with lock:
                counts[outcome] += 1

        run_threads([worker] * WORKERS)
    counts["side effects"] = sum(1 for kind, _ in SENT if kind == impl)
    counts["claimed rows"] = model.objects.using(alias).filter(status="claimed").count()
    return counts


@pytest.mark.parametrize("impl", ["django-fsm-2", "statusguard"])
def test_side_effects_of_a_claim_race(
    alias: str, impl: str, record_property: Callable[[str, object], None]
) -> None:
    counts = claim_race(alias, "fsm" if impl == "django-fsm-2" else "statusguard")
    line = (
        f"django race [{alias}] {impl}: {WORKERS} workers x {ROUNDS} rounds: "
        f"{counts['committed']} claims committed, {counts['refused']} refused, "
        f"{counts['side effects']} side effects, {counts['claimed rows']} tickets claimed"
    )
    print(line)
    record_property("reliability", line)
    assert counts["committed"] == ROUNDS  # both keep the database right: one claim a ticket
    assert counts["claimed rows"] == ROUNDS
    if impl == "statusguard":
        assert counts["side effects"] == ROUNDS  # exactly once per committed claim
    else:
        # the misbehaviour: every worker ran the claim's effect, one per round committed
        assert counts["side effects"] == WORKERS * ROUNDS


def aba(alias: str, impl: str) -> dict[str, Any]:
    """A stale worker claims after another worker claimed and released (open -> ... -> open)."""
    model: Any = Ticket if impl == "statusguard" else FsmTicket
    pk = model.objects.using(alias).create().pk
    loaded, moved = threading.Event(), threading.Event()
    result: dict[str, Any] = {"claims committed": 0, "stale claim": "?"}

    def claim(t: Any) -> None:
        if impl == "statusguard":  # an edit, as a form or the admin makes it
            t.status, t.claims = "claimed", t.claims + 1
            t.save()
        else:
            with transaction.atomic(using=alias):
                t.claim()
                t.save()
        result["claims committed"] += 1

    def release(t: Any) -> None:
        if impl == "statusguard":
            t.fire("release")
        else:
            with transaction.atomic(using=alias):
                t.release()
                t.save()

    def stale() -> None:
        t = model.objects.using(alias).get(pk=pk)
        loaded.set()
        assert moved.wait(TIMEOUT)
        try:
            claim(t)
            result["stale claim"] = "committed"
        except (TransitionConflict, ConcurrentTransition) as exc:
            result["stale claim"] = type(exc).__name__

    def other() -> None:
        assert loaded.wait(TIMEOUT)
        t = model.objects.using(alias).get(pk=pk)
        claim(t)
        release(t)
        moved.set()

    run_threads([stale, other])
    result["claims column"] = model.objects.using(alias).get(pk=pk).claims
    return result


@pytest.mark.parametrize("impl", ["django-fsm-2", "statusguard"])
def test_aba_stale_claim(
    alias: str, impl: str, record_property: Callable[[str, object], None]
) -> None:
    got = aba(alias, "fsm" if impl == "django-fsm-2" else "statusguard")
    line = (
        f"django ABA [{alias}] {impl}: stale claim {got['stale claim']}, "
        f"{got['claims committed']} claims committed, claims column {got['claims column']}"
    )
    print(line)
    record_property("reliability", line)
    if impl == "statusguard":
        assert got["stale claim"] == "TransitionConflict"
        assert got["claims committed"] == got["claims column"] == 1
    else:  # the misbehaviour: the stale claim lands and one claim's count is lost
        assert got["stale claim"] == "committed"
        assert (got["claims committed"], got["claims column"]) == (2, 1)


def test_free_running_fires_count_every_commit_once(
    alias: str, record_property: Callable[[str, object], None]
) -> None:
    """Workers fire claim/release at one ticket without pause: the version counts the
    commits exactly, and the status is what the committed claims and releases leave."""
    pk = Ticket.objects.using(alias).create().pk
    counts: Counter[str] = Counter()
    lock = threading.Lock()
    attempts = 20

    def worker(first: str) -> None:
        t = Ticket.objects.using(alias).get(pk=pk)
        events = [first, "release" if first == "claim" else "claim"] * (attempts // 2)
        for event in events:
            try:
                t.fire(event)
                outcome = event
            except IllegalTransition:
                outcome = "refused"
            with lock:
                counts[outcome] += 1

    run_threads([lambda i=i: worker("claim" if i % 2 else "release") for i in range(WORKERS)])
    row = Ticket.objects.using(alias).get(pk=pk)
    line = (
        f"django free race [{alias}] statusguard: {WORKERS} workers x {attempts} fires: "
        f"{counts['claim']} claims, {counts['release']} releases, {counts['refused']} refused, "
        f"version {row.version}"
    )
    print(line)
    record_property("reliability", line)
    assert counts["claim"] + counts["release"] + counts["refused"] == WORKERS * attempts
    assert row.version == counts["claim"] + counts["release"]
    assert counts["claim"] - counts["release"] in (0, 1)
    assert row.status == ("claimed" if counts["claim"] > counts["release"] else "open")
