"""statusguard: a resource's status never takes an illegal step.

A :class:`Lifecycle` is the single source of truth; the z3 proof engine checks it
(``statusguard check``), and a :class:`Guard` applies its transitions atomically to a
:class:`Store`. This module offers the few names most users need; the rest lives in
the public subpackages. Importing it loads neither z3, SQLAlchemy, hypothesis nor
jsonschema: every name is loaded on first use.

Layout (each layer imports only the ones above it in this list)::

    errors, results   the error hierarchy; verdicts and counterexamples
    lifecycle/        the model, its checks, the JSON format, loading, graph search
    guard/            Guard, the Store protocol, MemoryStore
    sql/              SQLStore, dialects, trigger DDL, the ORM helper
    race/             write protocols, their proofs, the interpreter, scenarios
    verify/           obligations, the z3 engine, the oracle, proof manifests
    consult/          views, diff, explain
    cli/              the ``statusguard`` command
    testing/          hypothesis strategies and stateful machines for users
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing itself stays off the import path (mypy reads this as True)
if TYPE_CHECKING:
    from typing import Any

    from statusguard.errors import IllegalTransition as IllegalTransition
    from statusguard.errors import StatusGuardError as StatusGuardError
    from statusguard.errors import TransitionConflict as TransitionConflict
    from statusguard.guard import AsyncGuard as AsyncGuard
    from statusguard.guard import Committed as Committed
    from statusguard.guard import Guard as Guard
    from statusguard.guard import MemoryStore as MemoryStore
    from statusguard.guard import Store as Store
    from statusguard.lifecycle import Flag as Flag
    from statusguard.lifecycle import FlagKind as FlagKind
    from statusguard.lifecycle import Lifecycle as Lifecycle
    from statusguard.lifecycle import NoOp as NoOp
    from statusguard.lifecycle import Transition as Transition
    from statusguard.lifecycle import load as load
    from statusguard.lifecycle import load_all as load_all
    from statusguard.sql import SQLStore as SQLStore
del TYPE_CHECKING

__version__ = "0.1.0"

_HOME = {
    "IllegalTransition": "statusguard.errors",
    "StatusGuardError": "statusguard.errors",
    "TransitionConflict": "statusguard.errors",
    "AsyncGuard": "statusguard.guard",
    "Committed": "statusguard.guard",
    "Guard": "statusguard.guard",
    "MemoryStore": "statusguard.guard",
    "Store": "statusguard.guard",
    "Flag": "statusguard.lifecycle",
    "FlagKind": "statusguard.lifecycle",
    "Lifecycle": "statusguard.lifecycle",
    "NoOp": "statusguard.lifecycle",
    "Transition": "statusguard.lifecycle",
    "load": "statusguard.lifecycle",
    "load_all": "statusguard.lifecycle",
    "SQLStore": "statusguard.sql",
}


_SUBPACKAGES = frozenset(
    (
        "cli",
        "consult",
        "errors",
        "guard",
        "lifecycle",
        "race",
        "results",
        "sql",
        "testing",
        "verify",
    )
)


def __getattr__(name: str) -> Any:
    import importlib

    if name in _SUBPACKAGES:  # ``statusguard.errors.X`` works after a bare ``import statusguard``
        return importlib.import_module(f"statusguard.{name}")
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'statusguard' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOME])


__all__ = [
    "AsyncGuard",
    "Committed",
    "Flag",
    "FlagKind",
    "Guard",
    "IllegalTransition",
    "Lifecycle",
    "MemoryStore",
    "NoOp",
    "SQLStore",
    "StatusGuardError",
    "Store",
    "Transition",
    "TransitionConflict",
    "load",
    "load_all",
]
