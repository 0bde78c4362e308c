"""``value_lines`` finds every element of any JSON text json.loads accepts, at its line."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from statusguard.lifecycle._positions import value_lines

SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=20,
)


def paths(value: Any, where: tuple[Any, ...] = ()) -> set[tuple[Any, ...]]:
    out = {where}
    if isinstance(value, dict):
        for k, v in value.items():
            out |= paths(v, (*where, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out |= paths(v, (*where, i))
    return out


@given(VALUES, st.sampled_from([None, 0, 1, 3]))
def test_every_element_is_found_at_its_line(value: Any, indent: int | None) -> None:
    text = json.dumps(value, indent=indent)
    lines = value_lines(text)
    assert set(lines) == paths(json.loads(text))
    rows = text.splitlines()
    for where, line in lines.items():
        if where and isinstance(where[-1], str):  # an object member starts at its key
            assert json.dumps(where[-1]) in rows[line - 1]
    if indent is not None:
        assert max(lines.values()) <= len(rows)
