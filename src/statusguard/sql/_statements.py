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
_Moves = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]  # sources, targets, columns


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
        self._apply: dict[_Moves, tuple[Rendered, Statement]] = {}
        self._cas: dict[tuple[bool, tuple[str, ...]], Rendered] = {}
        self._values: dict[tuple[str, ...], Rendered] = {}
        self._windows: dict[tuple[bool, bool], Rendered] = {}
        self.insert = self.render(dialect.insert(lay))
        self.select = self.render(dialect.select(lay))
        #: the read inside a caller's transaction that sees the newest committed row
        self.select_locked = self.render(dialect.select(lay, locking=True))
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
        self, sources: tuple[str, ...], targets: tuple[str, ...], columns: tuple[str, ...] = ()
    ) -> tuple[Rendered, Statement]:
        """An event's conditional UPDATE for these moves (setting ``columns`` too)."""
        found = self._apply.get((sources, targets, columns))
        if found is not None:
            return found
        stmt = self.dialect.apply(self.layout, sources, targets, columns)
        made = (self.render(stmt.text), stmt)
        if len(self._apply) > _CACHE_LIMIT:
            self._apply.clear()
        self._apply[(sources, targets, columns)] = made
        return made

    def cas(self, versioned: bool, columns: tuple[str, ...] = ()) -> Rendered:
        """The compare-and-set UPDATE, with or without the version in its condition."""
        found = self._cas.get((versioned, columns))
        if found is None:
            if len(self._cas) > _CACHE_LIMIT:
                self._cas.clear()
            text = self.dialect.cas(self.layout, versioned, columns)
            found = self._cas[(versioned, columns)] = self.render(text)
        return found

    def audit_window(self, since: bool, until: bool) -> Rendered:
        """A key's audit rows, with a lower bound ``since`` and/or upper bound ``until``."""
        found = self._windows.get((since, until))
        if found is None:
            text = self.dialect.audit_select(self.layout, since=since, until=until)
            found = self._windows[(since, until)] = self.render(text)
        return found

    def select_values(self, columns: tuple[str, ...]) -> Rendered:
        """The read of a key's ``columns`` (quoted names)."""
        found = self._values.get(columns)
        if found is None:
            if len(self._values) > _CACHE_LIMIT:
                self._values.clear()
            text = self.dialect.select_values(self.layout, columns)
            found = self._values[columns] = self.render(text)
        return found
