"""The ``statusguard.lifecycle/v1`` JSON format: schema validation and decoding.

Decoding never executes code: the document is checked against the published
JSON Schema, then built into a :class:`Lifecycle`, whose structural checks
report problems with the JSON path of the culprit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from statusguard._errors import InvalidLifecycle
from statusguard._invariants import INVARIANT_KINDS, Invariant
from statusguard._lifecycle import FORMAT, Flag, FlagKind, Lifecycle, Transition

__all__ = ["lifecycle_from_json", "lifecycle_schema"]


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


def _schema_error(document: Any, name: str | None) -> InvalidLifecycle | None:
    errors = sorted(
        _validator().iter_errors(document), key=lambda e: (len(e.absolute_path), e.path)
    )
    if not errors:
        return None
    # The deepest error on the shortest path tells the most; oneOf/if-then errors carry context.
    err = errors[0]
    while err.context:
        err = min(err.context, key=lambda e: len(e.absolute_path))
    location = tuple(err.absolute_path)
    message = err.message
    if list(err.absolute_path) == ["format"]:
        message = (
            f"unknown format {document.get('format')!r}; expected {FORMAT!r}"
            if isinstance(document, Mapping)
            else message
        )
    return InvalidLifecycle(message, location, lifecycle=name)


def lifecycle_from_json(document: Mapping[str, Any] | str) -> Lifecycle[str, str]:
    """Decode a document (a mapping or JSON text) into a lifecycle."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError as exc:
            raise InvalidLifecycle(
                f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
            ) from None
    if not isinstance(document, Mapping):
        raise InvalidLifecycle(f"expected a JSON object, got {type(document).__name__}")
    name = document.get("name") if isinstance(document.get("name"), str) else None
    if "format" not in document:
        raise InvalidLifecycle(f"missing 'format'; expected {FORMAT!r}", lifecycle=name)
    problem = _schema_error(document, name)
    if problem is not None:
        raise problem
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
    transitions = [
        Transition(t["event"], t["source"], t["target"], t.get("when"))
        for t in document["transitions"]
    ]
    invariants: list[Invariant] = []
    for raw in document.get("invariants", []):
        cls = INVARIANT_KINDS[raw["kind"]]
        kwargs = {k: v for k, v in raw.items() if k != "kind"}
        renames = {"from": "source", "to": "target"}
        kwargs = {renames.get(k, k): v for k, v in kwargs.items()}
        invariants.append(cls(**kwargs))
    return Lifecycle(
        document["name"],
        states=document["states"],
        initial=document["initial"],
        terminal=document.get("terminal", []),
        events=document.get("events"),
        flags=flags,
        transitions=transitions,
        invariants=invariants,
    )
