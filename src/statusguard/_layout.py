"""The package's shape, written once: its layers, its public modules, and their names' home.

``LAYERS`` lists the layers lowest first. A module may import modules of its own layer
and of the layers before it, never of a later one; function-level imports count, and
so do imports under ``TYPE_CHECKING``. ``tests/unit/test_layers.py`` checks every import
of ``src/statusguard`` against this list (and that there is no import cycle);
``docs/architecture.md`` cites it. The package itself (``statusguard/__init__``) and
``__main__`` sit above every layer: they may import anything, and nothing imports them.

:func:`publish` makes a public module's names report that module as their home, so
tracebacks, ``repr`` and pickles say ``statusguard.guard.Guard``, not the private file it
is written in. It imports nothing of ours.
"""

from __future__ import annotations

import importlib
import sys
import typing
from collections.abc import Iterable, Mapping
from types import FunctionType
from typing import Any

__all__ = ["FACADE", "LAYERS", "PUBLIC_MODULES", "has_home", "load_lazily", "publish"]

LAYERS: tuple[tuple[str, ...], ...] = (
    ("statusguard._text", "statusguard._layout"),
    ("statusguard.errors",),
    ("statusguard.results",),
    ("statusguard.lifecycle",),
    ("statusguard.guard",),
    ("statusguard.sql",),
    ("statusguard.race",),
    ("statusguard.verify",),
    ("statusguard.consult",),
    ("statusguard.cli",),
    ("statusguard.testing",),
    ("statusguard.integrations",),
)
"""Each entry is one layer: modules and packages (a package includes its submodules)."""

FACADE = ("statusguard", "statusguard.__main__")
"""Above every layer: they may import any module, and no module may import them."""

PUBLIC_MODULES = (
    "statusguard",
    "statusguard.cli",
    "statusguard.consult",
    "statusguard.errors",
    "statusguard.guard",
    "statusguard.integrations.django",
    "statusguard.lifecycle",
    "statusguard.race",
    "statusguard.results",
    "statusguard.sql",
    "statusguard.testing",
    "statusguard.verify",
)
"""Every module whose ``__all__`` is public API; every other module is private."""


def publish(module: str, namespace: Mapping[str, object], names: Iterable[str]) -> None:
    """Make each class and function among ``names`` report ``module`` as its home.

    Only objects written in ``module``'s private submodules move (a name re-exported from
    a lower public module keeps that home). An object exported under another name than
    its own also takes that name, so pickling by reference finds it through ``module``.
    """
    for name in names:
        obj: Any = namespace.get(name)
        if not has_home(obj) or not obj.__module__.startswith(module + "."):
            continue
        if isinstance(obj, type):
            _resolve_annotations(obj)
        obj.__module__ = module
        if obj.__qualname__ != name:
            obj.__name__ = obj.__qualname__ = name


def load_lazily(module: str, table: Mapping[str, str], name: str) -> Any:
    """The module ``__getattr__`` of a package whose names load on first use.

    ``table`` maps each lazy name to the private module that defines it; the value is
    published as ``module``'s. Any other name is an ``AttributeError``.
    """
    home = table.get(name)
    if home is None:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    publish(module, {name: value}, (name,))
    return value


def _resolve_annotations(cls: type) -> None:
    """Evaluate ``cls``'s own string annotations where it was written.

    ``typing.get_type_hints`` looks a class's annotations up in the module its
    ``__module__`` names; once that is the public module, names only the private module
    imports (``Mapping``, a type variable) would not resolve. An annotation that cannot be
    evaluated now (a name imported only for type checking) stays as it was.
    """
    own = cls.__dict__.get("__annotations__")  # noqa: RUF063 - only the class's own
    if not own:
        return
    where = vars(sys.modules[cls.__module__])
    local = dict(vars(cls))
    resolved = dict(own)
    for name, value in own.items():
        text = value.__forward_arg__ if isinstance(value, typing.ForwardRef) else value
        if isinstance(text, str):
            try:
                resolved[name] = eval(text, where, local)  # noqa: S307 - our own annotations
            except Exception:  # noqa: S112 - left unevaluated, as before
                continue
    cls.__annotations__ = resolved


def has_home(obj: object) -> bool:
    """Whether ``obj`` is found by its ``__module__`` and ``__qualname__`` (and so pickles
    by reference): classes, functions and their wrappers; not constants or type aliases."""
    return isinstance(obj, type | FunctionType) or (
        callable(obj)
        and isinstance(getattr(obj, "__qualname__", None), str)
        and isinstance(getattr(obj, "__module__", None), str)
        and hasattr(obj, "__wrapped__")
    )
