"""The audit model: :class:`AuditRecord`, the abstract table of a guarded model's history.

A concrete subclass is the audit table of a guarded model: one row per committed
transition, with the columns of ``SQLStore``'s audit table (``id``, ``resource_key``,
``source``, ``event``, ``target``, ``version``, ``token``, ``at``, ``actor``, ``reason``),
so the dialect's own audit statements (:mod:`statusguard.sql.dialects`) write and read it.
``makemigrations`` writes its ``CreateModel``; ``migrate`` creates the table. (Defining
a model needs Django's app registry: the package loads this module on first use.)
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import models

# the fields' types as django-stubs spells them, and as they are at runtime (where
# Django's fields are not generic), so the annotations resolve in both
if TYPE_CHECKING:
    _Id = models.BigAutoField[int, int]
    _Text = models.CharField[str, str]
    _MaybeText = models.CharField[str | None, str | None]
    _Version = models.BigIntegerField[int | None, int | None]
    _At = models.DateTimeField[datetime, datetime]
    _Reason = models.TextField[str | None, str | None]
else:
    _Id, _Version, _At, _Reason = (
        models.BigAutoField,
        models.BigIntegerField,
        models.DateTimeField,
        models.TextField,
    )
    _Text = _MaybeText = models.CharField

__all__ = ["AuditRecord"]


class AuditRecord(models.Model):
    """The abstract audit table; subclass it with an ``AuditKey`` named ``resource``.

    ``class OrderHistory(AuditRecord): resource = AuditKey(Order)``, then configure it
    on the model (``statusguard_audit = "shop.OrderHistory"``) or on a ``DjangoStore``
    (``audit=OrderHistory``). ``at`` is the database's clock at the commit (UTC).
    """

    id: _Id = models.BigAutoField(primary_key=True)
    source: _Text = models.CharField(max_length=64)
    event: _MaybeText = models.CharField(max_length=64, null=True, blank=True)
    target: _Text = models.CharField(max_length=64)
    version: _Version = models.BigIntegerField(null=True)
    token: _MaybeText = models.CharField(max_length=64, null=True, blank=True, db_index=True)
    at: _At = models.DateTimeField()
    actor: _MaybeText = models.CharField(max_length=255, null=True, blank=True)
    reason: _Reason = models.TextField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ("id",)

    def __str__(self) -> str:
        how = self.event or "move"
        return f"{self.source} -> {self.target} ({how}, version {self.version})"
