"""Finding lifecycles: model files, ``file.py:NAME``, module names, JSON documents, folders.

Loading a ``.py`` model executes it, exactly as importing it would (like a
pytest conftest). Loading a JSON document never executes code.
Imports :mod:`statusguard.errors`, ``_model`` and (for JSON) ``_jsonio``.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from statusguard.errors import InvalidLifecycle, LoadError
from statusguard.lifecycle._model import AnyLifecycle, Lifecycle

__all__ = ["load", "load_all"]


def _module_from_path(path: Path, target: str) -> ModuleType:
    name = "_statusguard_model_" + "".join(c if c.isalnum() else "_" for c in str(path.resolve()))
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise LoadError(target, "not an importable Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except InvalidLifecycle:
        del sys.modules[name]
        raise
    except Exception as exc:
        del sys.modules[name]
        raise LoadError(target, f"executing the model raised {type(exc).__name__}: {exc}") from exc
    return module


def _lifecycles_in(module: ModuleType) -> dict[str, AnyLifecycle]:
    found: dict[str, AnyLifecycle] = {}
    for attr, value in vars(module).items():
        if isinstance(value, Lifecycle) and not attr.startswith("_"):
            found[attr] = value
    return found


def _pick(found: dict[str, AnyLifecycle], name: str | None, target: str) -> list[AnyLifecycle]:
    if name is not None:
        if name not in found:
            raise LoadError(
                target,
                f"no Lifecycle named {name!r}; the module defines: "
                + (", ".join(sorted(found)) or "none"),
            )
        return [found[name]]
    if not found:
        raise LoadError(target, "the module defines no Lifecycle at top level")
    # One object may be bound to several names; keep each lifecycle once.
    unique: dict[int, AnyLifecycle] = {}
    for value in found.values():
        unique.setdefault(id(value), value)
    return list(unique.values())


def _load_json_file(path: Path, target: str) -> AnyLifecycle:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadError(target, f"cannot read the file: {exc}") from None
    from statusguard.lifecycle._jsonio import parse_document

    return Lifecycle.from_json(parse_document(text, source=path.name))


def load_all(target: str | Path) -> list[AnyLifecycle]:
    """Every lifecycle ``target`` names, in a stable order.

    ``target`` is a ``.py`` model file (``file.py:NAME`` picks one), a ``.json``
    document, a dotted module name (``module:NAME`` picks one), or a directory
    (every ``*.py`` and ``*.json`` model directly in it, sorted by file name).
    """
    text = str(target)
    path_part, _, name = text.partition(":") if not Path(text).exists() else (text, "", "")
    picked = name or None
    path = Path(path_part)
    if path.is_dir():
        out: list[AnyLifecycle] = []
        files = sorted(
            p
            for p in path.iterdir()
            if p.suffix in (".py", ".json") and not p.name.startswith(("_", "."))
        )
        if not files:
            raise LoadError(text, "the directory holds no .py or .json models")
        for p in files:
            out.extend(load_all(p))
        return out
    if path.suffix == ".json":
        if not path.is_file():
            raise LoadError(text, "no such file")
        return [_load_json_file(path, text)]
    if path.suffix == ".py":
        if not path.is_file():
            raise LoadError(text, "no such file")
        return _pick(_lifecycles_in(_module_from_path(path, text)), picked, text)
    if not path_part.replace(".", "").replace("_", "").isalnum():
        raise LoadError(
            text,
            "not a .py or .json file, a directory, or a dotted module name",
        )
    try:
        module = importlib.import_module(path_part)
    except ImportError as exc:
        raise LoadError(text, f"no such file, and importing it as a module failed: {exc}") from None
    except InvalidLifecycle:
        raise
    except Exception as exc:
        raise LoadError(text, f"importing the module raised {type(exc).__name__}: {exc}") from exc
    return _pick(_lifecycles_in(module), picked, text)


def load(target: str | Path) -> AnyLifecycle:
    """The one lifecycle ``target`` names (see :func:`load_all` for the forms).

    Raises :class:`LoadError` if it names none or several (pick one with ``:NAME``),
    and :class:`InvalidLifecycle` if the model is malformed.
    """
    found = load_all(target)
    if len(found) != 1:
        names = ", ".join(lc.name for lc in found)
        raise LoadError(
            str(target), f"it holds {len(found)} lifecycles ({names}); pick one with :NAME"
        )
    return found[0]
