"""The other columns a transition writes (``values=``): checked before any write.

Pure: a store passes the columns it can write and the ones the guard itself writes
(key, status, version, token) and gets the values back as a plain dict, or the typed
error naming what is wrong. Every store checks with this one function, so the same
``values=`` gets the same answer from every store.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from statusguard.errors import ReservedColumn, UnknownColumn

__all__ = ["MEMORY_RESERVED", "check_values"]

#: the notional columns of a :class:`MemoryStore` record, which values= cannot set
MEMORY_RESERVED: Mapping[str, str] = {"status": "status", "version": "version", "token": "token"}


def check_values(
    values: object,
    writable: Collection[str],
    reserved: Mapping[str, str],
    *,
    table: str | None = None,
) -> dict[str, Any]:
    """``values`` as a dict, if every name is one of ``writable``.

    ``reserved`` maps the names the guard writes itself to their role (``"status"``
    ...): naming one raises :class:`ReservedColumn`; compared case-insensitively, as
    SQLite and MariaDB compare column names. Any other unknown name raises
    :class:`UnknownColumn` (with the closest writable name); ``values`` that is not a
    mapping, ``TypeError``.
    """
    if not isinstance(values, Mapping):
        raise TypeError(
            f"values= takes a mapping of column names to values, not {type(values).__name__}"
        )
    checked = dict(values)
    for name in checked:
        if name in writable:
            continue
        role = reserved.get(str(name).lower()) if isinstance(name, str) else None
        if role is not None:
            raise ReservedColumn(name, role)
        raise UnknownColumn(name, writable, table=table)
    return checked
