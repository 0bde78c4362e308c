"""A write whose connection breaks is settled from its token, as ``SQLStore`` settles it.

A loopback proxy (``tests/integration/_proxy.py``) sits between a Django connection and
the server and cuts the socket on cue: after the statement that commits reached the server
(the transition committed, the client saw an error), or before the UPDATE was sent (nothing
ran). With tokens and an audit model the store then answers ``committed=True`` or
``False``, never a guess; without a token ``None``; inside the caller's ``atomic()`` block
``False`` (the transaction died with its connection).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections, transaction

from statusguard import Guard
from statusguard.errors import StoreUnavailable
from statusguard.integrations.django import DjangoStore
from tests.integration._proxy import LoopbackProxy
from tests.integration.django_app.lifecycles import CONFIG, TICKET
from tests.integration.django_app.models import AuditedTicket, TicketHistory

pytestmark = pytest.mark.timeout(60)

PROXIED = "django2_proxied"


@pytest.fixture
def proxied(alias: str) -> Iterator[tuple[str, LoopbackProxy]]:
    """A database alias reaching ``alias``'s test database through a cutting proxy."""
    if connections[alias].vendor == "sqlite":
        pytest.skip("SQLite runs in process: no connection to lose")
    entry = dict(connections.settings[alias])
    with LoopbackProxy(str(entry["HOST"] or "127.0.0.1"), int(entry["PORT"])) as proxy:
        entry.update(HOST="127.0.0.1", PORT=str(proxy.port))
        if connections[alias].vendor == "postgresql":
            entry["OPTIONS"] = {**entry.get("OPTIONS", {}), "sslmode": "disable"}
        connections.settings[PROXIED] = entry
        try:
            yield alias, proxy
        finally:
            connections[PROXIED].close()
            del connections[PROXIED]
            del connections.settings[PROXIED]


def _guard(tokens: bool = True) -> Guard[Any, Any]:
    store = DjangoStore(AuditedTicket, version="version", audit=TicketHistory, using=PROXIED)
    return Guard(TICKET, store, CONFIG, tokens=tokens)


def _stored(alias: str, pk: int) -> tuple[str, int, int]:
    row = AuditedTicket.objects.using(alias).get(pk=pk)
    return row.status, row.version, TicketHistory.objects.using(alias).filter(resource=pk).count()


def _commit_statement(alias: str) -> bytes:
    """The bytes of the statement that commits a transition with its audit row.

    PostgreSQL: the UPDATE, which carries the audit row (one autocommitted statement).
    MariaDB: SET AUTOCOMMIT = 0, UPDATE, INSERT, COMMIT; the COM_QUERY command byte (3)
    before the text, as the protocol sends it, tells COMMIT from SET AUTOCOMMIT (which a
    bare b"COMMIT" would match: a cut before the UPDATE)."""
    return b"UPDATE" if connections[alias].vendor == "postgresql" else b"\x03COMMIT"


def _lost_fire(
    proxied: tuple[str, LoopbackProxy],
    cut: str,
    marker: bytes,
    *,
    tokens: bool = True,
    atomic: bool = False,
) -> tuple[StoreUnavailable, int]:
    """Fire ``claim`` on a new ticket through the proxy, cut ``"before"`` or ``"after"`` the
    statement starting with ``marker`` (inside ``transaction.atomic()`` with ``atomic``);
    the error the guard raised and the ticket's pk."""
    alias, proxy = proxied
    guard = _guard(tokens)
    t = AuditedTicket.objects.using(alias).create()
    guard.status(t.pk)  # connected through the proxy
    (proxy.cut_after if cut == "after" else proxy.cut_before)(marker)
    scope = transaction.atomic(using=PROXIED) if atomic else contextlib.nullcontext()
    with pytest.raises(StoreUnavailable) as lost, scope:
        guard.fire(t.pk, "claim")
    if cut == "after":
        assert proxy.wait_cut(5)
    return lost.value, t.pk


def test_a_cut_after_the_commit_is_settled_as_committed(
    proxied: tuple[str, LoopbackProxy],
) -> None:
    alias, _ = proxied
    lost, pk = _lost_fire(proxied, "after", _commit_statement(alias))
    assert lost.committed is True, lost
    assert "is stored" in str(lost)
    assert _stored(alias, pk) == ("claimed", 1, 1)
    assert _guard().status(pk) == "claimed"  # the alias reconnected


def test_a_cut_before_the_update_is_settled_as_not_committed(
    proxied: tuple[str, LoopbackProxy],
) -> None:
    lost, pk = _lost_fire(proxied, "before", b"UPDATE")
    assert lost.committed is False, lost
    assert "in no audit row and the old session has ended" in str(lost)
    assert _stored(proxied[0], pk) == ("open", 0, 0)


def test_without_a_token_the_outcome_is_unknown(proxied: tuple[str, LoopbackProxy]) -> None:
    lost, _ = _lost_fire(proxied, "after", _commit_statement(proxied[0]), tokens=False)
    assert lost.committed is None
    assert "no token" in str(lost)


def test_inside_the_callers_transaction_nothing_was_committed(
    proxied: tuple[str, LoopbackProxy],
) -> None:
    lost, pk = _lost_fire(proxied, "after", b"UPDATE", atomic=True)
    assert lost.committed is False
    assert "transaction.atomic()" in str(lost)
    assert _stored(proxied[0], pk) == ("open", 0, 0)
