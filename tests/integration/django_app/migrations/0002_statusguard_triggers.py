# ruff: noqa: RUF012  (Django migrations declare their lists as class attributes)
"""Install the statusguard trigger on both statusguard tables (reversible)."""

from django.db import migrations

from statusguard.integrations.django import InstallTrigger


class Migration(migrations.Migration):
    dependencies = [("django_app", "0001_initial")]

    operations = [
        InstallTrigger(
            "Ticket",
            "tests.integration.django_app.lifecycles:TICKET",
            config={"direct_finish": False},
        ),
        InstallTrigger(
            "PlainTicket",
            "tests.integration.django_app.lifecycles:TICKET",
            config={"direct_finish": False},
        ),
    ]
