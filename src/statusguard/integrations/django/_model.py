"""The model side: :class:`StatusField`, :class:`VersionField`, :class:`AuditKey`, the mixin.

The mixin is :class:`GuardedModel`; :class:`AuditKey` is the key field of an audit
model. The lifecycle is the source of truth. ``instance.fire(event)`` applies an event with the
guard's one conditional ``UPDATE`` (:class:`~statusguard.guard.Guard` over a
:class:`DjangoStore`); ``save()`` never writes the status or version columns with the
other fields: a status changed in memory (a form, the admin) becomes the guard's
compare-and-set from the status and version the instance was loaded with, in the same
transaction as the other columns. Refusals are statusguard's typed errors;
:func:`as_validation_error` turns them into Django's ``ValidationError``, and
:meth:`StatusField.validate` refuses an illegal edit in ``full_clean()`` (so a model form
or the admin shows it on the field).
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Collection, Hashable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Self, cast

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models, router, transaction

from statusguard.errors import (
    IllegalTransition,
    MissingFlag,
    StatusGuardError,
    TransitionConflict,
    UnknownStatus,
)
from statusguard.guard._guard import Committed, Guard
from statusguard.guard._store import AuditEntry
from statusguard.integrations.django._store import DjangoStore
from statusguard.lifecycle._model import Lifecycle

__all__ = [
    "AuditKey",
    "GuardedModel",
    "StatusField",
    "VersionField",
    "as_validation_error",
    "assume_loaded",
    "loaded_state",
    "resolve",
]

#: the ``state`` an :class:`IllegalTransition` names when a new row is saved off the
#: initial state
NEW_ROW = "(new row)"

if TYPE_CHECKING:
    _CharField = models.CharField[str, str]
    _BigIntegerField = models.PositiveBigIntegerField[int, int]
    _ModelBase = models.Model
    _ForeignKey = models.ForeignKey[Any, Any]
else:
    _CharField = models.CharField
    _BigIntegerField = models.PositiveBigIntegerField
    _ModelBase = object
    _ForeignKey = models.ForeignKey


def resolve(lifecycle: Lifecycle[Any, Any] | str) -> Lifecycle[Any, Any]:
    """``lifecycle``, or the one an import path names (``"pkg.mod:NAME"`` or ``"pkg.mod.NAME"``)."""
    if isinstance(lifecycle, Lifecycle):
        return lifecycle
    if not isinstance(lifecycle, str):
        raise TypeError(
            f"lifecycle must be a statusguard Lifecycle or an import path such as "
            f"'shop.lifecycles:ORDER', not {type(lifecycle).__name__}"
        )
    module, sep, name = lifecycle.partition(":")
    if not sep:
        module, _, name = lifecycle.rpartition(".")
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ImproperlyConfigured(
            f"cannot import lifecycle {lifecycle!r} ({exc}); expected an import path such "
            "as 'shop.lifecycles:ORDER' naming a statusguard Lifecycle"
        ) from exc
    if not isinstance(found, Lifecycle):
        raise ImproperlyConfigured(
            f"{lifecycle!r} is a {type(found).__name__}, not a statusguard Lifecycle"
        )
    return found


def as_validation_error(exc: StatusGuardError, field: str | None = None) -> ValidationError:
    """``exc`` as Django's ``ValidationError`` (for forms, ``full_clean`` and the admin).

    The code says which refusal it was (``illegal_transition``, ``missing_fact``,
    ``transition_conflict``, ``unknown_status``, else ``statusguard``); the params carry
    the error's parts (state, event, target, allowed). With ``field`` the error belongs
    to that field (``{field: [error]}``), as ``Model.clean()`` reports field errors.
    """
    params: dict[str, Any] = {}
    if isinstance(exc, IllegalTransition):
        code = "illegal_transition"
        params = {
            "state": exc.state,
            "event": exc.event,
            "target": exc.target,
            "allowed": ", ".join(exc.allowed) or "none",
        }
    elif isinstance(exc, MissingFlag):
        code = "missing_fact"
        params = {"state": exc.state, "event": exc.event, "missing": ", ".join(exc.missing)}
    elif isinstance(exc, TransitionConflict):
        code = "transition_conflict"
        params = {"expected": exc.expected, "actual": exc.actual}
    elif isinstance(exc, UnknownStatus):
        code = "unknown_status"
    else:
        code = "statusguard"
    # the message is formatted with params when shown: keep a literal '%' literal
    error = ValidationError(str(exc).replace("%", "%%"), code=code, params=params)
    return error if field is None else ValidationError({field: [error]})


class StatusField(_CharField):
    """A ``CharField`` holding a status of ``lifecycle`` (the source of truth).

    ``lifecycle`` is a :class:`~statusguard.lifecycle.Lifecycle` or its import path;
    ``config`` fixes every config flag for this deployment, as for ``Guard``. The choices
    are the lifecycle's states and the default is its initial state. The field
    deconstructs as a plain ``CharField``: migrations hold only the column, and the
    lifecycle stays in code (install its trigger with :class:`InstallTrigger`).
    """

    def __init__(
        self,
        lifecycle: Lifecycle[Any, Any] | str,
        *,
        config: Mapping[str, bool] | None = None,
        **kwargs: Any,
    ) -> None:
        self.lifecycle = resolve(lifecycle)
        self.config: Mapping[str, bool] = self.lifecycle.check_config(config)
        names = [str(s) for s in self.lifecycle.states]
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("choices", [(n, n) for n in names])
        kwargs.setdefault("default", str(self.lifecycle.initial))
        too_long = [n for n in names if len(n) > kwargs["max_length"]]
        if too_long:
            raise ImproperlyConfigured(
                f"states {too_long} of lifecycle {self.lifecycle.name!r} do not fit "
                f"max_length={kwargs['max_length']}; pass a larger max_length"
            )
        super().__init__(**kwargs)

    def deconstruct(self) -> Any:
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs

    def clone(self) -> Self:
        """A copy with the same lifecycle (``deconstruct`` leaves it out of migrations)."""
        _, _, args, kwargs = self.deconstruct()
        return type(self)(self.lifecycle, *args, config=self.config, **kwargs)

    def validate(self, value: Any, model_instance: models.Model | None) -> None:
        """The ``CharField`` checks, then the lifecycle's: an edit must follow an edge."""
        super().validate(value, model_instance)
        if model_instance is None:
            return
        lc = self.lifecycle
        if model_instance._state.adding:
            if value != str(lc.initial):
                raise as_validation_error(_not_initial(lc, model_instance.pk, str(value)))
            return
        loaded = getattr(model_instance, _LOADED, None)
        if loaded is None or value == loaded[0]:
            return
        if not lc.edge_allowed(loaded[0], value, self.config):
            allowed = tuple(map(str, lc.targets(loaded[0], self.config)))
            exc = IllegalTransition(
                loaded[0],
                None,
                allowed,
                target=str(value),
                key=model_instance.pk,
                lifecycle=lc.name,
            )
            raise as_validation_error(exc)


class VersionField(_BigIntegerField):
    """How many transitions the row has committed (the guard bumps it; never edited).

    With one on the model, every compare-and-set also compares the version (no ABA).
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("default", 0)
        kwargs.setdefault("editable", False)
        super().__init__(**kwargs)

    def deconstruct(self) -> Any:
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.PositiveBigIntegerField", args, kwargs


class AuditKey(_ForeignKey):
    """The audit row's key: the guarded row it records, as column ``resource_key``.

    ``AuditKey(Order)`` is a ``ForeignKey`` without a database constraint (history
    outlives a deleted row; ``on_delete=DO_NOTHING``) and without a reverse accessor, so
    the column takes the key's type (and collation) whatever the guarded model's primary
    key is, and the admin can link an entry to its row.
    """

    def __init__(self, to: Any, **kwargs: Any) -> None:
        kwargs.setdefault("on_delete", models.DO_NOTHING)
        kwargs.setdefault("db_constraint", False)
        kwargs.setdefault("db_column", "resource_key")
        kwargs.setdefault("related_name", "+")
        super().__init__(to, **kwargs)

    def deconstruct(self) -> Any:
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.ForeignKey", args, kwargs


_LOADED = "_statusguard_loaded"  # on an instance: (status, version) as last read or written
_FIELDS: dict[type, tuple[StatusField, VersionField | None] | None] = {}
_GUARDS: dict[tuple[type, str], Guard[Any, Any]] = {}
_LOCK = threading.Lock()


def loaded_state(instance: models.Model) -> tuple[str, int] | None:
    """The (status, version) ``instance`` was loaded with: what a status edit moves from."""
    found: tuple[str, int] | None = getattr(instance, _LOADED, None)
    return found


def assume_loaded(instance: models.Model, status: str, version: int) -> None:
    """Make ``instance``'s next status edit move from ``status`` at ``version`` (what a page
    showed when it was loaded, earlier than this instance was read)."""
    setattr(instance, _LOADED, (status, version))


def _not_initial(lc: Lifecycle[Any, Any], key: object, status: str) -> IllegalTransition:
    return IllegalTransition(
        NEW_ROW, None, (str(lc.initial),), target=status, key=key, lifecycle=lc.name
    )


class GuardedModel(_ModelBase):
    """A mixin for a model with one :class:`StatusField` (and at most one :class:`VersionField`).

    ``class Order(GuardedModel, models.Model)``. Status changes go through the guard:

    * :meth:`fire` applies an event to whatever status the row holds now, in one
      conditional ``UPDATE`` on Django's connection (inside the caller's
      ``transaction.atomic()`` block, if any); a refusal raises statusguard's typed
      error and writes nothing;
    * :meth:`save` writes every other field; a status edited in memory is moved by
      compare-and-set from the status (and version) the instance was loaded with, in
      one transaction with the other fields: an illegal edge is
      :class:`~statusguard.errors.IllegalTransition`, a row changed since it was loaded
      :class:`~statusguard.errors.TransitionConflict`. A new row starts in the
      initial state.
    """

    #: the audit model (a subclass of :class:`AuditRecord`, or its ``"app_label.Model"``
    #: label): every committed transition writes a row there (:meth:`history`)
    statusguard_audit: ClassVar[type[models.Model] | str | None] = None
    #: whether every write carries a fresh per-attempt token (``Guard(tokens=True)``),
    #: which settles a write whose connection broke (with an audit model: exactly)
    statusguard_tokens: ClassVar[bool] = False

    @classmethod
    def statusguard_fields(cls) -> tuple[StatusField, VersionField | None]:
        """The model's status field and its version field (``None`` without one)."""
        found = cls._statusguard_fields()
        if found is None:
            raise ImproperlyConfigured(
                f"{cls.__name__} has no StatusField; a GuardedModel needs exactly one"
            )
        return found

    @classmethod
    def _statusguard_fields(cls) -> tuple[StatusField, VersionField | None] | None:
        """The fields, or ``None`` for a model without a StatusField: a historical model
        in a migration, whose status is a plain ``CharField`` (it saves as Django does)."""
        if cls in _FIELDS:
            return _FIELDS[cls]
        fields = cls._meta.concrete_fields
        status = [f for f in fields if isinstance(f, StatusField)]
        versions = [f for f in fields if isinstance(f, VersionField)]
        if len(status) > 1 or len(versions) > 1:
            raise ImproperlyConfigured(
                f"{cls.__name__} has {len(status)} StatusFields and {len(versions)} "
                "VersionFields; a GuardedModel has one StatusField and at most one VersionField"
            )
        found = (status[0], versions[0] if versions else None) if status else None
        _FIELDS[cls] = found
        return found

    @classmethod
    def guard(cls, using: str | None = None) -> Guard[Any, Any]:
        """The :class:`~statusguard.guard.Guard` of this model on database ``using``.

        ``None`` asks Django's router at every call. Use it to fire by primary key
        without loading the row: ``Order.guard().fire(pk, "pay")``.
        """
        alias = using or ""
        found = _GUARDS.get((cls, alias))
        if found is None:
            status, version = cls.statusguard_fields()
            store = DjangoStore(
                cast("type[models.Model]", cls),
                status=status.name,
                version=None if version is None else version.name,
                audit=cls.statusguard_audit,
                using=using,
            )
            guard = Guard(status.lifecycle, store, status.config, tokens=cls.statusguard_tokens)
            with _LOCK:
                found = _GUARDS.setdefault((cls, alias), guard)
        return found

    def _statusguard_remember(self) -> None:
        found = self._statusguard_fields()
        if found is None:
            return
        status, version = found
        values = self.__dict__
        if status.attname not in values:  # deferred: nothing known
            setattr(self, _LOADED, None)
            return
        ver = 0 if version is None else values.get(version.attname)
        setattr(self, _LOADED, None if ver is None else (values[status.attname], int(ver)))

    @classmethod
    def from_db(
        cls, db: str | None, field_names: Collection[str], values: Collection[Any], **kwargs: Any
    ) -> Self:
        instance = super().from_db(db, field_names, values, **kwargs)
        instance._statusguard_remember()
        return instance

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        super().refresh_from_db(*args, **kwargs)
        fields = kwargs.get("fields", args[1] if len(args) > 1 else None)
        found = self._statusguard_fields()
        if found is not None and (fields is None or found[0].name in fields):
            self._statusguard_remember()  # a refresh of other fields keeps what was loaded

    def _statusguard_db(self, using: str | None) -> str:
        return using or self._state.db or router.db_for_write(type(self), instance=self)

    def fire(
        self,
        event: str,
        facts: Mapping[str, bool] | None = None,
        *,
        using: str | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> Committed:
        """Apply ``event`` to the row's stored status in one atomic step; update this instance.

        Raises :class:`~statusguard.errors.IllegalTransition` (naming the stored state and
        the events allowed there) when the event is not enabled, with nothing written;
        :class:`~statusguard.errors.MissingFlag` when it depends on a fact not given.
        ``actor`` (who) and ``reason`` (why) go to the audit row (:meth:`history`).
        """
        guard = type(self).guard(self._statusguard_db(using))
        if actor is None and reason is None:
            committed = guard.fire(self.pk, event, facts)
        else:
            committed = guard.fire(self.pk, event, facts, actor=actor, reason=reason)
        self._statusguard_took(committed)
        return committed

    def history(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        using: str | None = None,
    ) -> list[AuditEntry]:
        """The row's committed transitions, oldest first (needs :attr:`statusguard_audit`)."""
        guard = type(self).guard(self._statusguard_db(using))
        return guard.store.history(self.pk, since=since, until=until)

    def _statusguard_took(self, committed: Committed) -> None:
        status, version = self.statusguard_fields()
        setattr(self, status.attname, committed.target)
        if version is not None:
            setattr(self, version.attname, committed.version)
        setattr(self, _LOADED, (committed.target, committed.version))

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save the other fields; move an edited status through the guard (see the class).

        ``actor=`` and ``reason=`` (keywords of this ``save`` only) go to the move's audit
        row, as for :meth:`fire`.
        """
        why = {k: kwargs.pop(k) for k in ("actor", "reason") if kwargs.get(k) is not None}
        found = self._statusguard_fields()
        if found is None:  # a historical model in a migration
            super().save(*args, **kwargs)
            return
        status, version = found
        lc = status.lifecycle
        current = self.__dict__.get(status.attname)
        if self._state.adding and not kwargs.get("force_update"):
            if current != str(lc.initial):
                raise _not_initial(lc, self.pk, str(current))
            kwargs["force_insert"] = True  # an existing row's status is never overwritten
            super().save(*args, **kwargs)
            self._statusguard_remember()
            return
        guarded = {status.name, status.attname}
        if version is not None:
            guarded |= {version.name, version.attname}
        given: Any = kwargs.get("update_fields")
        if given is None:
            deferred = self.get_deferred_fields()
            fields = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in guarded and f.attname not in deferred
            ]
        else:
            fields = [f for f in given if f not in guarded]
        loaded: tuple[str, int] | None = getattr(self, _LOADED, None)
        moves = (
            loaded is not None
            and current is not None
            and current != loaded[0]
            and (given is None or not guarded.isdisjoint(given))
        )
        kwargs["update_fields"] = fields
        if not moves:
            super().save(*args, **kwargs)
            return
        assert loaded is not None
        using = self._statusguard_db(kwargs.get("using"))
        with transaction.atomic(using=using):
            committed = (
                type(self)
                .guard(using)
                .move(
                    cast(Hashable, self.pk),
                    current,
                    loaded[0],
                    expected_version=loaded[1] if version is not None else None,
                    **why,
                )
            )
            self._statusguard_took(committed)
            super().save(*args, **kwargs)
