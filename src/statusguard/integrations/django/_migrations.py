"""``InstallTrigger``: a migration operation installing (and reversing) the statusguard trigger.

The DDL is exactly what ``statusguard sql trigger`` prints and
:func:`statusguard.sql.trigger_ddl` returns, for the migrating connection's engine and
the model's table and status column as they are at that point of the migration history.
Reversing drops the trigger (and, on PostgreSQL, its function): the drop statements are
the ones the installing DDL itself begins with, so they name exactly what it created.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.db.migrations.operations.base import Operation

from statusguard.integrations.django._model import resolve
from statusguard.integrations.django._store import column_of
from statusguard.lifecycle._model import Lifecycle
from statusguard.sql._trigger import trigger_ddl
from statusguard.sql.dialects import SUPPORTED, dialect_for

if TYPE_CHECKING:
    from django.db.backends.base.schema import BaseDatabaseSchemaEditor
    from django.db.migrations.state import ProjectState
    from django.db.models import Model

__all__ = ["InstallTrigger", "drop_statements"]

_FUNCTION = re.compile(r"CREATE OR REPLACE FUNCTION (\S+\(\))")


def drop_statements(ddl: Sequence[str]) -> list[str]:
    """The statements undoing ``ddl`` (a dialect's trigger DDL): its drops, then its functions.

    Every dialect's DDL starts by dropping the trigger it creates, so an installation
    can be repeated; those drops, plus ``DROP FUNCTION`` for a function it creates,
    remove it. ``ValueError`` if ``ddl`` drops nothing (a dialect breaking that rule).
    """
    drops = [s for s in ddl if s.startswith("DROP TRIGGER")]
    if not drops:
        raise ValueError(
            "the trigger DDL drops no trigger before creating one, so it cannot be reversed; "
            "a dialect's trigger() must begin with DROP TRIGGER IF EXISTS"
        )
    functions = [m.group(1) for s in ddl for m in [_FUNCTION.match(s)] if m]
    return drops + [f"DROP FUNCTION IF EXISTS {f}" for f in functions]


class InstallTrigger(Operation):
    """Install the trigger that rejects status changes off ``lifecycle``'s edges.

    ``model_name`` is a model of the migration's app, ``field`` its status field and
    ``config`` the deployment's config flags (as for ``Guard``). Pass ``lifecycle`` as an
    import path (``"shop.lifecycles:ORDER"``) so the migration file can be written and
    squashed; a :class:`~statusguard.lifecycle.Lifecycle` object works too. Runs on the
    databases the router lets the model migrate to; reversible.
    """

    reversible = True
    reduces_to_sql = True

    def __init__(
        self,
        model_name: str,
        lifecycle: Lifecycle[Any, Any] | str,
        *,
        field: str = "status",
        config: Mapping[str, bool] | None = None,
    ) -> None:
        self.model_name = model_name
        self.lifecycle = lifecycle
        self.field = field
        self.config = dict(config or {})
        resolve(lifecycle).check_config(self.config)  # a bad path or config fails early

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs: dict[str, Any] = {"lifecycle": self.lifecycle}
        if self.field != "status":
            kwargs["field"] = self.field
        if self.config:
            kwargs["config"] = self.config
        return type(self).__name__, [self.model_name], kwargs

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """The trigger lives in the database only: the project state does not change."""

    def statements(self, vendor: str, model: type[Model]) -> list[str]:
        """The installing DDL for a connection of ``vendor`` and the (historical) ``model``."""
        dialect = dialect_for(vendor)
        if dialect is None:
            raise ValueError(
                f"InstallTrigger: a {vendor} database has no statusguard trigger; "
                f"statusguard speaks {SUPPORTED}"
            )
        column = column_of(model, self.field)
        lc = resolve(self.lifecycle)
        return trigger_ddl(lc, dialect.name, model._meta.db_table, str(column), self.config)

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            for sql in self.statements(schema_editor.connection.vendor, model):
                schema_editor.execute(sql, params=None)

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            ddl = self.statements(schema_editor.connection.vendor, model)
            for sql in drop_statements(ddl):
                schema_editor.execute(sql, params=None)

    def describe(self) -> str:
        name = resolve(self.lifecycle).name
        return f"Install the statusguard trigger of lifecycle {name} on {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"statusguard_trigger_{self.model_name.lower()}"
