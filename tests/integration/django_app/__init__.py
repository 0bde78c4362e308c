"""A Django app for statusguard's Django integration tests (settings, models, migrations)."""
