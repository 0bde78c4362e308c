"""One store's statements, rendered once for its driver's parameter style and cached.

The dialect writes SQL text with ``:name`` parameters; this module compiles it with
SQLAlchemy for the engine's DBAPI (``%(k)s``, ``?``, ...) and keeps the result:
the fixed statements at construction, an event's UPDATE per set of moves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from statusguard.sql.dialects._base import Dialect
from statusguard.sql.dialects._records import Layout, Statement

__all__ = ["Rendered", "Statements"]

_CACHE_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class Rendered:
    """One statement rendered for the driver's paramstyle."""

    text: str
    positions: tuple[str, ...] | None  # parameter order for positional paramstyles

    def params(self, values: Mapping[str, Any]) -> Any:
        """``values`` as the driver takes them: a dict, or a tuple in parameter order."""
        if self.positions is None:
            return dict(values)
        return tuple(values[n] for n in self.positions)


class Statements:
    """The statements of one table layout on one engine (rendered, cached)."""

    def __init__(self, dialect: Dialect, lay: Layout, engine_dialect: sa.engine.Dialect) -> None:
        self.dialect = dialect
        self.layout = lay
        self._engine_dialect = engine_dialect
        self._apply: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[Rendered, Statement]] = {}
        self._cas: dict[bool, Rendered] = {}
        self.insert = self.render(dialect.insert(lay))
        self.select = self.render(dialect.select(lay))
        token = dialect.token_select(lay)
        self.token_select = None if token is None else self.render(token)
        if lay.audit is not None:
            self.audit_insert = self.render(dialect.audit_insert(lay))
            self.audit_select = self.render(dialect.audit_select(lay))
            self.audit_token = self.render(dialect.audit_token(lay))

    def render(self, sql: str) -> Rendered:
        """``sql`` (with ``:name`` parameters) compiled for the driver."""
        compiled = sa.text(sql).compile(dialect=self._engine_dialect)
        positions = compiled.positiontup if self._engine_dialect.positional else None
        return Rendered(compiled.string, tuple(positions) if positions is not None else None)

    def apply(
        self, sources: tuple[str, ...], targets: tuple[str, ...]
    ) -> tuple[Rendered, Statement]:
        """An event's conditional UPDATE for these moves."""
        found = self._apply.get((sources, targets))
        if found is not None:
            return found
        stmt = self.dialect.apply(self.layout, sources, targets)
        made = (self.render(stmt.text), stmt)
        if len(self._apply) > _CACHE_LIMIT:
            self._apply.clear()
        self._apply[(sources, targets)] = made
        return made

    def cas(self, versioned: bool) -> Rendered:
        """The compare-and-set UPDATE, with or without the version in its condition."""
        found = self._cas.get(versioned)
        if found is None:
            found = self._cas[versioned] = self.render(self.dialect.cas(self.layout, versioned))
        return found
