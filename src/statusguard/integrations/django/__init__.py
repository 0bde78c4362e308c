"""statusguard for Django: guarded status fields, Django-native errors, a trigger migration.

What it owns: :class:`StatusField` (a ``CharField`` whose lifecycle is the source of
truth), :class:`VersionField`, the :class:`GuardedModel` mixin (``fire()``, a guarded
``save()``, ``history()``), :class:`DjangoStore` (the guard's
:class:`~statusguard.guard.Store` on Django's own connection and transaction, running
the statements of :mod:`statusguard.sql.dialects`), :class:`AuditRecord` and
:class:`AuditKey` (the audit model), :func:`as_validation_error` (a statusguard refusal
as Django's ``ValidationError``), :func:`fire_action` and :class:`GuardedAdmin` (the
admin: refusals as messages) and :class:`InstallTrigger` (a migration operation
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

from typing import TYPE_CHECKING, Any

from statusguard._layout import load_lazily as _load_lazily
from statusguard._layout import publish as _publish
from statusguard.integrations.django._migrations import InstallTrigger as InstallTrigger
from statusguard.integrations.django._model import AuditKey as AuditKey
from statusguard.integrations.django._model import GuardedModel as GuardedModel
from statusguard.integrations.django._model import StatusField as StatusField
from statusguard.integrations.django._model import VersionField as VersionField
from statusguard.integrations.django._model import as_validation_error as as_validation_error
from statusguard.integrations.django._store import DjangoStore as DjangoStore

if TYPE_CHECKING:
    from statusguard.integrations.django._admin import GuardedAdmin as GuardedAdmin
    from statusguard.integrations.django._admin import fire_action as fire_action
    from statusguard.integrations.django._audit import AuditRecord as AuditRecord

# the audit model needs Django's app registry, the admin helpers django.contrib.admin:
# they load on first use (from a models.py or an admin.py)
_LAZY = {
    "AuditRecord": "statusguard.integrations.django._audit",
    "GuardedAdmin": "statusguard.integrations.django._admin",
    "fire_action": "statusguard.integrations.django._admin",
}


def __getattr__(name: str) -> Any:
    return _load_lazily(__name__, _LAZY, name)


__all__ = [
    "AuditKey",
    "AuditRecord",
    "DjangoStore",
    "GuardedAdmin",
    "GuardedModel",
    "InstallTrigger",
    "StatusField",
    "VersionField",
    "as_validation_error",
    "fire_action",
]

_publish(__name__, globals(), __all__)
