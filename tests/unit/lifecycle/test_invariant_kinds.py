"""Invariant kinds are one class each: the shipped schema, the registry and the strategies agree.

The per-kind branches of ``schemas/lifecycle-v1.schema.json`` are written by hand (it is the
published v1 format); this test checks every registered kind against them, so a kind added
without its branch (or a branch that drifts from its class) fails here with the branch it
expects.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings

from statusguard.lifecycle import INVARIANT_KINDS, Invariant, Never, OnlyThrough
from statusguard.lifecycle._jsonio import lifecycle_schema
from statusguard.testing import invariants


def schema_mismatches(schema: dict[str, Any], kinds: dict[str, type[Invariant]]) -> list[str]:
    """What differs between the schema's invariant branches and ``kinds`` (empty: agreement)."""
    inv = schema["$defs"]["invariant"]
    problems = []
    if inv["properties"]["kind"]["enum"] != list(kinds):
        problems.append(f"kind enum {inv['properties']['kind']['enum']} != registry {list(kinds)}")
    for kind, cls in kinds.items():
        branches = [
            b["then"]
            for b in inv["allOf"]
            if kind == b["if"]["properties"]["kind"].get("const")
            or kind in b["if"]["properties"]["kind"].get("enum", ())
        ]
        want = cls.json_schema()
        if branches != [want]:
            problems.append(
                f"kind {kind!r}: expected one allOf branch "
                f'{{"if": {{"properties": {{"kind": {{"const": "{kind}"}}}}}}, '
                f'"then": {json.dumps(want)}}}; found {branches}'
            )
    return problems


def test_the_shipped_schema_matches_every_kind() -> None:
    problems = schema_mismatches(lifecycle_schema(), INVARIANT_KINDS)
    assert not problems, "\n".join(["schemas/lifecycle-v1.schema.json is out of date:", *problems])


def test_the_schema_check_catches_drift() -> None:
    """Negative controls: a loosened branch, a missing kind, an unknown kind are all reported."""
    loose = copy.deepcopy(lifecycle_schema())
    branch = next(
        b for b in loose["$defs"]["invariant"]["allOf"] if "only_through" in json.dumps(b["if"])
    )
    del branch["then"]["properties"]["via"]["minItems"]
    assert any("only_through" in p for p in schema_mismatches(loose, INVARIANT_KINDS))

    fewer = {k: v for k, v in INVARIANT_KINDS.items() if k != "never"}
    assert schema_mismatches(lifecycle_schema(), fewer)

    class Other(Never, register=False):
        kind = "other"

    more = {**INVARIANT_KINDS, "other": Other}
    assert any("'other'" in p for p in schema_mismatches(lifecycle_schema(), more))


def test_json_shape_comes_from_the_fields() -> None:
    inv = OnlyThrough("o", "b", ["a"])
    assert inv.to_json() == {"name": "o", "kind": "only_through", "to": "b", "via": ["a"]}
    assert type(inv).from_json(inv.to_json()) == inv
    assert inv.state_fields() == ((("to",), "b"), (("via", 0), "a"))
    assert inv.via == ("a",)  # lists are kept as tuples (hashable, frozen)


def test_a_kind_name_is_registered_once() -> None:
    with pytest.raises(TypeError, match="defined twice"):

        class Twin(Never):
            kind = "never"

    assert INVARIANT_KINDS["never"] is Never


def test_a_kind_run_again_replaces_itself() -> None:
    """A model file executed twice (``check`` then ``prove`` in one process) redefines its
    kinds: the same module and name replace the entry instead of clashing."""
    source = (
        "from dataclasses import dataclass\n"
        "from statusguard.lifecycle import Never\n"
        "@dataclass(frozen=True)\n"
        "class Again(Never):\n"
        "    kind = 'again-test'\n"
    )
    try:
        for _ in range(2):
            namespace: dict[str, Any] = {"__name__": "sg_kind_again"}
            exec(source, namespace)
        assert INVARIANT_KINDS["again-test"] is namespace["Again"]
    finally:
        INVARIANT_KINDS.pop("again-test", None)


def test_random_invariants_draw_every_registered_kind() -> None:
    """The strategies derive invariants from the registry (``lifecycles()`` draws through
    ``invariants``), and each draw is well formed by its kind's own rules."""
    seen: set[str] = set()

    @settings(max_examples=200, database=None)
    @given(invariants(["a", "b", "c"], max_size=4))
    def survey(drawn: list[Invariant]) -> None:
        for inv in drawn:
            assert inv.problem() is None
            assert set(inv.mentioned_states()) <= {"a", "b", "c"}
        seen.update(i.kind for i in drawn)

    survey()
    assert seen == set(INVARIANT_KINDS)
