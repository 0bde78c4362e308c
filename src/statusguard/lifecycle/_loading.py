"""Finding lifecycles: model files, ``file.py:NAME``, module names, JSON documents, folders.

Loading a ``.py`` model executes it, exactly as importing it would (like a
pytest conftest); while it runs, its folder is first on ``sys.path``, so it can import
helper modules kept beside it. Loading a JSON document never executes code.

The folder rule (:func:`model_files`): a folder's models are the ``*.py`` and ``*.json``
files directly in it, sorted by name, except those whose name starts with ``_`` or ``.``
(private: ``__init__.py``, helpers). A ``.py`` file in a folder that defines no
``Lifecycle`` at top level is a helper module: it is skipped with a note
(:attr:`Loaded.notes`); named on its own it is an error. Two different lifecycles with
one name in what one call loads is an error naming both files (manifests and ``diff``
match lifecycles by name). An error raised while a model runs names its file and line;
:class:`~statusguard.errors.OutOfTime` (a time budget ran out: ``_deadline``) passes
through as it is.
Imports :mod:`statusguard.errors`, :mod:`statusguard._text`, ``_model`` and (for JSON)
``_jsonio``.
"""

from __future__ import annotations

import enum
import importlib
import importlib.util
import sys
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, TracebackType

from statusguard._text import closest, did_you_mean
from statusguard.errors import InvalidLifecycle, LoadError, Origin, OutOfTime
from statusguard.lifecycle._deadline import check
from statusguard.lifecycle._model import AnyLifecycle, Lifecycle

__all__ = ["Loaded", "load", "load_all", "model_files", "scan", "unique_names"]

MODEL_SUFFIXES = (".py", ".json")


@dataclass(frozen=True)
class Loaded:
    """What a target holds: each lifecycle with the file it was loaded from, and notes
    (helper modules skipped) for the person who asked."""

    found: tuple[tuple[AnyLifecycle, str], ...]
    notes: tuple[str, ...] = ()

    @property
    def lifecycles(self) -> list[AnyLifecycle]:
        return [lc for lc, _ in self.found]


def model_files(folder: Path) -> list[Path]:
    """The model files of ``folder`` by the folder rule (see the module docstring)."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.suffix in MODEL_SUFFIXES and not p.name.startswith(("_", ".")) and p.is_file()
    )


# -- running a .py model ------------------------------------------------------------------


@contextmanager
def _beside(folder: Path) -> Iterator[None]:
    """``folder`` first on ``sys.path`` while a model in it runs (for its helper modules)."""
    entry = str(folder.resolve())
    added = entry not in sys.path
    if added:
        sys.path.insert(0, entry)
    try:
        yield
    finally:
        if added and entry in sys.path:
            sys.path.remove(entry)


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
        with _beside(path.parent):
            spec.loader.exec_module(module)
    except (InvalidLifecycle, OutOfTime):  # OutOfTime: the budget, not the model's fault
        del sys.modules[name]
        raise
    except Exception as exc:
        del sys.modules[name]
        raise LoadError(target, _raised("executing the model", exc, path.parent)) from exc
    return module


def _raised(doing: str, exc: BaseException, folder: Path | None) -> str:
    """``doing raised AttributeError: AVAILBLE at model/x.py:12; did you mean ...?``."""
    text = f"{doing} raised {type(exc).__name__}: {exc}"
    where, names = _where(exc, folder)
    if where is not None:
        text += f" at {where}"
    missing = _missing_name(exc)
    if missing is not None:
        text += did_you_mean(missing, names)
    return text


def _where(exc: BaseException, folder: Path | None) -> tuple[Origin | None, list[str]]:
    """The innermost line of the user's code the error passed through (in ``folder``,
    or any file outside statusguard and the standard library), and the names in scope
    there (for a did-you-mean)."""
    if isinstance(exc, SyntaxError) and exc.filename and exc.lineno:
        return Origin(exc.filename, exc.lineno), []
    tb: TracebackType | None = exc.__traceback__
    found = None
    for frame, line in traceback.walk_tb(tb):
        file = frame.f_code.co_filename
        if _is_users(file, folder):
            found = (frame, line)
    if found is None:
        return None, []
    frame, line = found
    return Origin(frame.f_code.co_filename, line), _names_in(frame.f_globals, frame.f_locals)


def _is_users(file: str, folder: Path | None) -> bool:
    if file.startswith("<"):
        return False
    path = Path(file).resolve()
    if folder is not None:
        return path.is_relative_to(folder.resolve())
    ours = Path(__file__).resolve().parents[1]
    stdlib = Path(traceback.__file__).resolve().parent
    return not (path.is_relative_to(ours) or path.is_relative_to(stdlib))


def _missing_name(exc: BaseException) -> str | None:
    """The name an ``AttributeError``/``NameError``/``KeyError`` could not find."""
    if isinstance(exc, AttributeError | NameError):
        name = getattr(exc, "name", None)
        if isinstance(name, str):
            return name
        arg = exc.args[0] if exc.args else None  # enum: AttributeError('AVAILBLE')
        return arg if isinstance(arg, str) and arg.isidentifier() else None
    return None


def _names_in(*scopes: dict[str, object]) -> list[str]:
    """Names in scope, with each enum's members as ``Enum.MEMBER`` and ``MEMBER``."""
    out: list[str] = []
    for scope in scopes:
        for key, value in scope.items():
            out.append(key)
            if isinstance(value, type) and issubclass(value, enum.Enum):
                out.extend(value.__members__)
    return list(dict.fromkeys(out))


# -- what a module or file holds ------------------------------------------------------


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
                + (", ".join(sorted(found)) or "none")
                + did_you_mean(name, found),
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
    check(f"reading {path.name}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadError(target, f"cannot read the file: {exc}") from None
    from statusguard.lifecycle._jsonio import parse_document

    return Lifecycle.from_json(parse_document(text, source=path.name, file=str(path)))


def _where_defined(lc: AnyLifecycle, file: str) -> str:
    """Where to tell the user ``lc`` comes from: its origin's file:line, else the file."""
    origin = lc.origin
    return str(origin) if origin is not None else file


def unique_names(found: Iterable[tuple[AnyLifecycle, str]], target: str) -> None:
    """:class:`LoadError` naming both files when two different lifecycles share a name.

    The same lifecycle reached twice (a model importing another's) is not a clash.
    """
    first: dict[str, tuple[AnyLifecycle, str]] = {}
    for lc, file in found:
        seen = first.setdefault(lc.name, (lc, file))
        if seen[0] is not lc and seen[0] != lc:
            raise LoadError(
                target,
                f"two lifecycles are named {lc.name!r}: {_where_defined(seen[0], seen[1])} "
                f"and {_where_defined(lc, file)}; give each lifecycle a unique name "
                "(proof manifests and diff match lifecycles by name)",
            )


def _dedupe(found: Iterable[tuple[AnyLifecycle, str]]) -> tuple[tuple[AnyLifecycle, str], ...]:
    """Each lifecycle once: the same object, or an equal one (a model imported by another
    under its module name is executed twice), is kept where it was first found."""
    out: dict[AnyLifecycle, tuple[AnyLifecycle, str]] = {}
    for lc, file in found:
        out.setdefault(lc, (lc, file))
    return tuple(out.values())


def scan(target: str | Path) -> Loaded:
    """Every lifecycle ``target`` names, each with its file, and the notes for the user.

    ``target`` is a ``.py`` model file (``file.py:NAME`` picks one), a ``.json``
    document, a dotted module name (``module:NAME`` picks one), or a folder (its model
    files by the folder rule; see the module docstring).
    """
    text = str(target)
    path_part, _, name = text.partition(":") if not Path(text).exists() else (text, "", "")
    picked = name or None
    path = Path(path_part)
    if path.is_dir():
        files = model_files(path)
        if not files:
            raise LoadError(text, "the directory holds no .py or .json models")
        found: list[tuple[AnyLifecycle, str]] = []
        notes: list[str] = []
        for p in files:
            if p.suffix == ".py":
                module_lcs = _lifecycles_in(_module_from_path(p, str(p)))
                if not module_lcs:
                    notes.append(
                        f"{p}: defines no Lifecycle at top level; skipped as a helper module "
                        "(prefix its name with '_' to skip it without this note)"
                    )
                    continue
                found.extend((lc, str(p)) for lc in _pick(module_lcs, None, str(p)))
            else:
                found.append((_load_json_file(p, str(p)), str(p)))
        if not found:
            raise LoadError(
                text,
                "the directory's .py files define no Lifecycle at top level and it holds no "
                ".json models",
            )
        deduped = _dedupe(found)
        unique_names(deduped, text)
        return Loaded(deduped, tuple(notes))
    if path.suffix == ".json":
        if not path.is_file():
            raise LoadError(text, _no_such_file(path))
        return Loaded(((_load_json_file(path, text), str(path)),))
    if path.suffix == ".py":
        if not path.is_file():
            raise LoadError(text, _no_such_file(path))
        lcs = _pick(_lifecycles_in(_module_from_path(path, text)), picked, text)
        return _checked(((lc, str(path)) for lc in lcs), text)
    if not path_part.replace(".", "").replace("_", "").isalnum():
        raise LoadError(
            text,
            "not a .py or .json file, a directory, or a dotted module name",
        )
    try:
        module = importlib.import_module(path_part)
    except ImportError as exc:
        raise LoadError(text, f"no such file, and importing it as a module failed: {exc}") from None
    except (InvalidLifecycle, OutOfTime):
        raise
    except Exception as exc:
        raise LoadError(text, _raised("importing the module", exc, None)) from exc
    lcs = _pick(_lifecycles_in(module), picked, text)
    return _checked(((lc, getattr(module, "__file__", None) or text) for lc in lcs), text)


def _checked(found: Iterable[tuple[AnyLifecycle, str]], target: str) -> Loaded:
    deduped = _dedupe(found)
    unique_names(deduped, target)
    return Loaded(deduped)


def _no_such_file(path: Path) -> str:
    """``no such file``, with the closest model file in its folder when one is close."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        near = [p.name for p in model_files(folder)] if folder.is_dir() else []
    except OSError:
        near = []
    found = closest(path.name, near)
    return "no such file" + (f"; did you mean {str(folder / found)!r}?" if found else "")


def load_all(target: str | Path) -> list[AnyLifecycle]:
    """Every lifecycle ``target`` names, in a stable order.

    ``target`` is a ``.py`` model file (``file.py:NAME`` picks one), a ``.json``
    document, a dotted module name (``module:NAME`` picks one), or a directory (its
    ``*.py`` and ``*.json`` files not starting with ``_`` or ``.``, sorted by file name;
    a ``.py`` there that defines no Lifecycle is a helper module and is skipped).
    Raises :class:`LoadError` when two different lifecycles share a name.
    """
    return scan(target).lifecycles


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
