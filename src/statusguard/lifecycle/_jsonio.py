"""The ``statusguard.lifecycle/v1`` JSON format: schema validation and decoding.

Decoding never executes code: the document is checked against the published
JSON Schema, then built into a :class:`Lifecycle`, whose structural checks
report problems with the JSON path of the culprit. Each invariant is decoded by its kind
(:data:`~statusguard.lifecycle._kind.INVARIANT_KINDS`). Parsing, the duplicate-key scan,
validation and decoding look at the time budget (``_deadline``: an
:class:`~statusguard.errors.OutOfTime` naming the step, inside ``bounded()``). Imports
:mod:`statusguard.errors`, ``_deadline``, ``_parts`` and ``_invariants`` (never ``_model``,
which imports this module when called).

Validation is two-tier: the compiled validator ``jsonschema-rs`` says whether a document
is valid (10,000 states in a few ms); only a document it refuses is walked again by the
pure ``jsonschema`` validator, which phrases the error with its JSON path (and is the
judge: a document it accepts is accepted). Either loads on first validation, never on
the guard's import path; without ``jsonschema-rs`` installed, ``jsonschema`` does both.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from typing import Any

from statusguard._text import did_you_mean
from statusguard.errors import InvalidLifecycle, Location, Origin
from statusguard.lifecycle._deadline import EVERY, check
from statusguard.lifecycle._invariants import INVARIANT_KINDS, Invariant
from statusguard.lifecycle._parts import FORMAT, Flag, FlagKind, NoOp, Transition
from statusguard.lifecycle._positions import Lines
from statusguard.lifecycle._scenarios import KEY as SCENARIOS_KEY
from statusguard.lifecycle._scenarios import RaceScenario

__all__ = ["lifecycle_parts", "lifecycle_schema", "origin_in", "parse_document"]


@cache
def lifecycle_schema() -> dict[str, Any]:
    """The JSON Schema of ``statusguard.lifecycle/v1``, as shipped in the package."""
    text = resources.files("statusguard").joinpath("schemas/lifecycle-v1.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(lifecycle_schema())


@cache
def _compiled() -> Callable[[Any], bool] | None:
    """``is_valid`` of the compiled validator, or ``None`` when it is not installed."""
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - a dependency; the pure validator still works
        return None
    is_valid: Callable[[Any], bool] = jsonschema_rs.validator_for(lifecycle_schema()).is_valid
    return is_valid


class _Object(dict[str, Any]):
    """A decoded JSON object that remembers keys given more than once; a document read
    from a file also knows the file and the line of each element (``lines``)."""

    duplicates: tuple[str, ...] = ()
    file: str | None = None
    lines: Lines | None = None


def origin_in(document: Any, location: Location) -> Origin | None:
    """The file and line of the element at ``location`` (or of its closest enclosing
    element) in a document :func:`parse_document` read from a file; else ``None``."""
    file = getattr(document, "file", None)
    lines = getattr(document, "lines", None)
    if file is None or lines is None:
        return None
    for n in range(len(location), -1, -1):
        line = lines.get(tuple(location[:n]))
        if line is not None:
            return Origin(file, line)
    return None


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = _Object(pairs)
    if len(obj) != len(pairs):
        keys = [k for k, _ in pairs]
        obj.duplicates = tuple(k for i, k in enumerate(keys) if k in keys[:i])
    return obj


def _find_duplicate(node: Any, location: Location) -> tuple[Location, str] | None:
    """The first key given twice, depth first (iterative: nesting depth is not bounded)."""
    stack: list[tuple[Any, Location]] = [(node, location)]
    n = 0
    while stack:
        n += 1
        if not n % EVERY:
            check("the duplicate-key scan")
        cur, loc = stack.pop()
        if isinstance(cur, dict):
            if isinstance(cur, _Object) and cur.duplicates:
                return loc, cur.duplicates[0]
            children: list[tuple[Any, Any]] = list(cur.items())
        elif isinstance(cur, list):
            children = list(enumerate(cur))
        else:
            continue
        stack.extend((child, (*loc, key)) for key, child in reversed(children))
    return None


def parse_document(text: str, *, source: str = "the document", file: str | None = None) -> Any:
    """Decode JSON text; :class:`InvalidLifecycle` for bad JSON or a key given twice.

    With ``file`` (the path it was read from), the document remembers where each
    element starts, so errors and reports name ``file:line``.
    """
    repeated: list[dict[str, Any]] = []  # objects with a key given twice, as they decode
    decoded = [0]

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = _object(pairs)
        if len(obj) != len(pairs):
            repeated.append(obj)
        decoded[0] += 1
        if not decoded[0] % EVERY:
            check(f"parsing the JSON of {source}")
        return obj

    check(f"parsing the JSON of {source}")

    try:
        document = json.loads(text, object_pairs_hook=hook)
    except json.JSONDecodeError as exc:
        raise InvalidLifecycle(
            f"{source} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            origin=Origin(file, exc.lineno) if file is not None else None,
        ) from None
    except RecursionError:
        raise InvalidLifecycle(
            f"{source} nests arrays or objects too deeply to read; "
            "a lifecycle document needs only a few levels"
        ) from None
    if file is not None and isinstance(document, _Object):
        document.file = file
        document.lines = Lines(text, doing=f"finding the lines of {source}")
    found = _find_duplicate(document, ()) if repeated else None  # the first, depth first
    if found is not None:
        location, key = found
        name = document.get("name") if isinstance(document, dict) else None
        raise InvalidLifecycle(
            f"key {key!r} appears more than once in the same object; give it once",
            (*location, key),
            lifecycle=name if isinstance(name, str) else None,
            origin=origin_in(document, (*location, key)),
        )
    return document


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return {dict: "object", list: "array", str: "string", int: "integer", float: "number"}.get(
        type(value), type(value).__name__
    )


def _schema_error(document: Any, name: str | None) -> InvalidLifecycle | None:
    fast = _compiled()
    if fast is not None:
        try:
            if fast(document):
                return None
        except (ValueError, TypeError, OverflowError):  # a value it cannot read: ask jsonschema
            pass
    # The shortest path first; at one path an unknown key before a missing one ("sources"
    # given for "source" is the unknown key it is, not a missing "source").
    errors = sorted(
        _validator().iter_errors(document),
        key=lambda e: (len(e.absolute_path), e.validator != "additionalProperties", e.path),
    )
    if not errors:
        return None
    # The error on the shortest path comes first; for a oneOf, follow the branch whose
    # type fits the value (a type mismatch with the other branch tells nothing).
    err = errors[0]
    while err.context:
        depth = len(err.absolute_path)
        fitting = [
            e for e in err.context if not (e.validator == "type" and len(e.absolute_path) == depth)
        ]
        if not fitting:
            break
        err = max(fitting, key=lambda e: len(e.absolute_path))
    location: Location = tuple(err.absolute_path)
    message = err.message
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        known = err.schema.get("properties", {}) if isinstance(err.schema, dict) else {}
        extra = [k for k in err.instance if k not in known]
        if extra and known:
            location = (*location, extra[0])
            message = (
                f"unknown key {extra[0]!r}; expected one of: "
                + ", ".join(repr(k) for k in known)
                + did_you_mean(extra[0], known)
            )
    elif err.validator == "required" and isinstance(err.instance, dict):
        absent = [k for k in err.validator_value if k not in err.instance]
        if absent:
            location = (*location, absent[0])
            message = f"missing required key {absent[0]!r}"
    elif err.validator == "enum" and isinstance(err.validator_value, list):
        message += did_you_mean(err.instance, [str(v) for v in err.validator_value])
    elif err.validator in ("pattern", "minLength") and isinstance(err.instance, str):
        message = f"expected a non-empty name (with a non-space character), got {err.instance!r}"
    elif err.validator == "oneOf" and isinstance(err.schema, dict):
        kinds = [str(b.get("type", "string")) for b in err.schema["oneOf"] if isinstance(b, dict)]
        message = f"expected {' or '.join(kinds)}, got {_json_type(err.instance)}"
    elif err.validator == "type":
        message = f"expected {err.validator_value}, got {_json_type(err.instance)} ({message})"
    if list(err.absolute_path) == ["format"]:
        message = (
            f"unknown format {document.get('format')!r}; expected {FORMAT!r}"
            if isinstance(document, Mapping)
            else message
        )
    return InvalidLifecycle(message, location, lifecycle=name)


def lifecycle_parts(document: Mapping[str, Any] | str) -> tuple[str, dict[str, Any]]:
    """Decode a document (a mapping or JSON text) into a lifecycle's name and parts.

    ``Lifecycle(name, **parts)`` builds it (:meth:`Lifecycle.from_json` does).
    """
    if isinstance(document, str):
        document = parse_document(document)
    if not isinstance(document, Mapping):
        raise InvalidLifecycle(f"expected a JSON object, got {type(document).__name__}")
    name = document.get("name") if isinstance(document.get("name"), str) else None
    if "format" not in document:
        raise InvalidLifecycle(
            f"missing 'format'; expected {FORMAT!r}", ("format",), lifecycle=name
        )
    doing = f"validating {name or 'the document'} against the lifecycle schema"
    check(doing)
    problem = _schema_error(document, name)
    check(doing)
    if problem is not None:
        raise problem.located(origin_in(document, problem.location))
    try:
        return _parts(document, name)
    except InvalidLifecycle as exc:
        raise exc.located(origin_in(document, exc.location)) from None


def _parts(document: Mapping[str, Any], name: str | None) -> tuple[str, dict[str, Any]]:
    """The parts of a schema-valid document, each knowing the line it starts on."""
    raw_flags = document.get("flags", {})
    if isinstance(raw_flags, list):
        flags = [Flag(f, FlagKind.CONFIG) for f in raw_flags]
        if len(set(raw_flags)) != len(raw_flags):
            dup = next(f for f in raw_flags if raw_flags.count(f) > 1)
            raise InvalidLifecycle(
                f"duplicate flag {dup!r}",
                ("flags", raw_flags.index(dup, raw_flags.index(dup) + 1)),
                lifecycle=name,
            )
    else:
        flags = [Flag(n, FlagKind(k)) for n, k in raw_flags.items()]
    defaults = document.get("fact_defaults", {})
    names = [f.name for f in flags]
    for n in defaults:
        if n not in names:
            raise InvalidLifecycle(
                f"fact_defaults names unknown flag {n!r}; expected one of: "
                + (", ".join(repr(x) for x in names) or "(none declared)")
                + did_you_mean(n, names),
                ("fact_defaults", n),
                lifecycle=name,
            )
    flags = [Flag(f.name, f.kind, default=defaults.get(f.name)) for f in flags]
    doing = f"decoding the transitions of {name or 'the document'}"
    transitions = []
    for i, t in enumerate(document["transitions"]):
        if not i % EVERY:
            check(doing)
        transitions.append(
            Transition(
                t["event"],
                t["source"],
                t["target"],
                t.get("when"),
                origin=origin_in(document, ("transitions", i)),
            )
        )
    check(doing)
    noops = [
        NoOp(n["event"], n["source"], n.get("when"), origin=origin_in(document, ("noops", i)))
        for i, n in enumerate(document.get("noops", []))
    ]
    invariants: list[Invariant] = []
    for i, raw in enumerate(document.get("invariants", [])):
        inv = INVARIANT_KINDS[raw["kind"]].from_json(raw)
        # Built by from_json (our frame): set where the document wrote it.
        object.__setattr__(inv, "origin", origin_in(document, ("invariants", i)))
        invariants.append(inv)
    return document["name"], {
        "origin": origin_in(document, ()),
        "states": document["states"],
        "initial": document["initial"],
        "terminal": document.get("terminal", []),
        "events": document.get("events"),
        "flags": flags,
        "transitions": transitions,
        "noops": noops,
        "invariants": invariants,
        "race_scenarios": [RaceScenario.from_json(raw) for raw in document.get(SCENARIOS_KEY, [])],
    }
