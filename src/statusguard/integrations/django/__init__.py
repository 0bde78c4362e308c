"""statusguard for Django: guarded status fields, Django-native errors, a trigger migration.

What it owns: :class:`StatusField` (a ``CharField`` whose lifecycle is the source of
truth), :class:`VersionField`, the :class:`GuardedModel` mixin (``fire()`` and a guarded
``save()``), :class:`DjangoStore` (the guard's :class:`~statusguard.guard.Store` on
Django's own connection and transaction, running the statements of
:mod:`statusguard.sql.dialects`), :func:`as_validation_error` (a statusguard refusal as
Django's ``ValidationError``) and :class:`InstallTrigger` (a migration operation
installing, and reversing, the DDL of :func:`statusguard.sql.trigger_ddl`).
Needs Django 4.2 or later (extra ``statusguard[django]``); docs/django.md shows it all.
"""

from __future__ import annotations

try:
    import django
except ImportError as exc:  # pragma: no cover - the extra is not installed
    raise ImportError(
        "statusguard.integrations.django needs Django; install it with "
        "pip install 'statusguard[django]'"
    ) from exc

if django.VERSION < (4, 2):  # pragma: no cover
    raise ImportError(
        f"statusguard.integrations.django needs Django 4.2 or later, found "
        f"{django.get_version()}; upgrade with pip install 'statusguard[django]'"
    )

from statusguard._layout import publish as _publish
from statusguard.integrations.django._migrations import InstallTrigger as InstallTrigger
from statusguard.integrations.django._model import GuardedModel as GuardedModel
from statusguard.integrations.django._model import StatusField as StatusField
from statusguard.integrations.django._model import VersionField as VersionField
from statusguard.integrations.django._model import as_validation_error as as_validation_error
from statusguard.integrations.django._store import DjangoStore as DjangoStore

__all__ = [
    "DjangoStore",
    "GuardedModel",
    "InstallTrigger",
    "StatusField",
    "VersionField",
    "as_validation_error",
]

_publish(__name__, globals(), __all__)
