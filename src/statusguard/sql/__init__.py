"""SQL backends of the guard: SQLite, PostgreSQL and MariaDB/MySQL through SQLAlchemy.

What it owns: :class:`SQLStore` (engine handling, retries, settling lost
connections; dialect-neutral) and :class:`AsyncSQLStore` (the same store on an async
driver, through SQLAlchemy's greenlet bridge), the dialects (:mod:`statusguard.sql.dialects`: one
module per engine with its statements, session setup, error classes and trigger DDL,
and :data:`DIALECTS`, the one registry of them), the ORM helper
:class:`GuardedStatus`, trigger DDL generated from a lifecycle, identifier
validation, and database-error classification. It imports :mod:`statusguard.guard`
(the Store protocol) and below. SQLAlchemy is needed only for the store and the ORM
helper (extra ``statusguard[sql]``) and loads on first use; the dialects and the
trigger generator need no driver.

Layers inside, lowest first: ``_identifiers``, ``dialects``, ``_classify``,
``_outcomes`` (the verdicts the Django integration shares), ``_trigger``; then
(SQLAlchemy) ``_schema``, ``_statements``, ``_engine``, ``_settle``, ``_store``,
``_async_store``; ``_orm`` beside them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from statusguard._layout import load_lazily as _load_lazily
from statusguard._layout import publish as _publish
from statusguard.sql._trigger import trigger_ddl as trigger_ddl
from statusguard.sql._trigger import trigger_script as trigger_script
from statusguard.sql.dialects import DIALECTS as DIALECTS

if TYPE_CHECKING:
    from statusguard.sql._async_store import AsyncSQLStore as AsyncSQLStore
    from statusguard.sql._orm import GuardedStatus as GuardedStatus
    from statusguard.sql._store import SQLStore as SQLStore

_LAZY = {
    "SQLStore": "statusguard.sql._store",
    "AsyncSQLStore": "statusguard.sql._async_store",
    "GuardedStatus": "statusguard.sql._orm",
}


def __getattr__(name: str) -> Any:
    return _load_lazily(__name__, _LAZY, name)


__all__ = [
    "DIALECTS",
    "AsyncSQLStore",
    "GuardedStatus",
    "SQLStore",
    "trigger_ddl",
    "trigger_script",
]

_publish(__name__, globals(), __all__)
