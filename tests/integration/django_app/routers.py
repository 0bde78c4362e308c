"""The test project's router: Django's own apps (the admin's) live on ``default`` only.

Their tables are needed for the admin tests, which run on SQLite; migrating them on the
server aliases too would only slow every session's setup.
"""

from __future__ import annotations

from typing import Any

CONTRIB = {"admin", "auth", "contenttypes", "sessions", "messages"}


class ContribOnDefault:
    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        if app_label in CONTRIB:
            return db == "default"
        return None
