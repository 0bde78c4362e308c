"""Django's test machinery under pytest, without pytest-django.

Django is set up when this folder is collected (settings: ``settings.py`` beside this
file); the test databases are created by ``django.test.utils.setup_databases`` (which
runs the migrations, so ``InstallTrigger`` installs the triggers) once per session, for
SQLite and for each server whose URL is set, and destroyed at the end.

The ``alias`` fixture runs a test on ``default`` (SQLite), ``postgresql`` and ``mysql``;
the server ones skip, naming the variable to set, when it is unset. Every test starts
with empty tables.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import django
import pytest

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.integration.django_app.settings"
django.setup()
del os.environ["DJANGO_SETTINGS_MODULE"]  # configured now; the session's subprocesses need none

from django.conf import settings  # noqa: E402 - after django.setup()

from tests.integration._reliab_db import server_url  # noqa: E402

ALIASES = ["default", "postgresql", "mysql"]


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Remove the settings' scratch folder (the SQLite files), after every fixture's teardown."""
    from django.db import connections

    connections.close_all()
    shutil.rmtree(settings.SCRATCH, ignore_errors=True)


@pytest.fixture(scope="session")
def django_databases() -> Iterator[list[str]]:
    """Create the test databases (migrated) of every configured alias; destroy them after."""
    from django.test.utils import (
        setup_databases,
        setup_test_environment,
        teardown_databases,
        teardown_test_environment,
    )

    setup_test_environment()
    aliases = [a for a in ALIASES if a in settings.DATABASES]
    old = setup_databases(verbosity=0, interactive=False, aliases=set(aliases))
    try:
        yield aliases
    finally:
        teardown_databases(old, verbosity=0)
        teardown_test_environment()


@pytest.fixture(params=ALIASES)
def alias(request: pytest.FixtureRequest, django_databases: list[str]) -> Iterator[str]:
    """A database alias with empty tables; the servers skip when their URL is unset."""
    name = str(request.param)
    if name != "default":
        server_url(name)  # skips, naming the variable, when unset
    assert name in django_databases
    from django.db import connections

    from tests.integration.django_app.models import (
        SENT,
        AuditedTicket,
        FsmTicket,
        NamedTicket,
        PlainTicket,
        Ticket,
        TicketHistory,
    )

    models = (Ticket, PlainTicket, FsmTicket, TicketHistory, AuditedTicket, NamedTicket)
    for model in models:
        model.objects.using(name).all().delete()
    SENT.clear()
    yield name
    for model in models:
        model.objects.using(name).all().delete()
    connections[name].close()
