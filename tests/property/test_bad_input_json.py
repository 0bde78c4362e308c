"""Bad lifecycle JSON documents: random JSON, schema violations, near-valid Glance mutations.

Every document must either raise ``InvalidLifecycle`` (text and mappings) or ``LoadError``
(files), or be accepted as a lifecycle the independent oracle finds valid and that survives
its own round trip. Never another exception, a hang, or an accepted invalid model.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statusguard import Lifecycle, load
from statusguard.errors import InvalidLifecycle, LoadError
from statusguard.lifecycle._loading import _module_from_path
from tests.property._bad_input import Tally, assert_sound, budget, check_message, run_boundary

ROOT = Path(__file__).resolve().parents[2]


def _real_documents() -> list[dict[str, Any]]:
    docs = []
    for name in ("glance_image.py", "glance_task.py"):
        module = _module_from_path(ROOT / "model" / name, name)
        docs.extend(v.to_json() for v in vars(module).values() if isinstance(v, Lifecycle))
    return docs


REAL = _real_documents()

names = st.one_of(
    st.sampled_from(
        sorted(
            {
                *(s for d in REAL for s in d["states"]),
                *(e for d in REAL for e in d["events"]),
                *(f for d in REAL for f in d["flags"]),
            }
        )
    ),
    st.sampled_from(["", " ", "\t", "queued ", "x;DROP TABLE t", "é", "\u0000", "\U0001d518"]),
    st.text(max_size=8),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    names,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=20,
)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out.extend(_paths(v, (*prefix, i)))
    return out


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        doc = doc[p]
    return doc


@st.composite
def near_valid(draw: st.DrawFn) -> Any:
    """A real document with one to three small mutations."""
    doc = copy.deepcopy(draw(st.sampled_from(REAL)))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        if not path:
            continue
        parent, last = _get(doc, path[:-1]), path[-1]
        op = draw(st.sampled_from(["replace", "rename", "delete", "duplicate", "insert", "swap"]))
        if op == "replace":
            parent[last] = draw(json_values)
        elif op == "rename":
            parent[last] = draw(names)
        elif op == "delete":
            del parent[last]
        elif op == "duplicate" and isinstance(parent, list):
            parent.insert(last, copy.deepcopy(parent[last]))
        elif op == "insert" and isinstance(parent, dict):
            parent[draw(names)] = draw(json_values)
        elif op == "swap" and isinstance(parent, list) and len(parent) > 1:
            other = draw(st.integers(0, len(parent) - 1))
            parent[last], parent[other] = parent[other], parent[last]
    return doc


schema_shaped = st.fixed_dictionaries(
    {"format": st.sampled_from(["statusguard.lifecycle/v1", "v2", ""])},
    optional={
        "name": json_values,
        "states": st.lists(names, max_size=5) | json_values,
        "initial": names | json_values,
        "terminal": st.lists(names, max_size=3),
        "events": st.lists(names, max_size=4),
        "flags": st.lists(names, max_size=3)
        | st.dictionaries(names, st.sampled_from(["config", "fact", "x"])),
        "transitions": st.lists(
            st.fixed_dictionaries(
                {"event": names, "source": names | st.lists(names, max_size=3), "target": names},
                optional={"when": st.dictionaries(names, st.booleans() | json_values, max_size=2)},
            ),
            max_size=6,
        ),
        "invariants": st.lists(
            st.fixed_dictionaries(
                {"name": names, "kind": st.sampled_from(["absorbing", "never", "closed", "x"])},
                optional={"state": names, "from": names, "to": names, "states": st.lists(names)},
            ),
            max_size=3,
        ),
    },
)

documents = st.one_of(
    json_values,
    schema_shaped,
    near_valid(),
    st.text(max_size=40),  # not even JSON
)


def _case(doc: Any, as_text: bool) -> str:
    try:
        if as_text and not isinstance(doc, str):
            lc = Lifecycle.from_json(json.dumps(doc))
        else:
            lc = Lifecycle.from_json(doc)
    except InvalidLifecycle as exc:
        return check_message(exc, "invalid ")
    assert_sound(lc)
    return "accepted"


def _boundary(request: pytest.FixtureRequest, n: int) -> None:
    tally = Tally("lifecycle JSON documents")

    @given(doc=documents, as_text=st.booleans())
    def test(doc: Any, as_text: bool) -> None:
        tally.run(lambda: _case(doc, as_text))

    run_boundary(request, tally, test, n)


def test_bad_json_documents(request: pytest.FixtureRequest) -> None:
    _boundary(request, budget(long=False))


@pytest.mark.slow
def test_bad_json_documents_long(request: pytest.FixtureRequest) -> None:
    _boundary(request, budget(long=True))


def _files_boundary(request: pytest.FixtureRequest, tmp_path: Path, n: int) -> None:
    """The file route: unreadable bytes, bad JSON and bad documents end in typed errors."""
    tally = Tally("lifecycle JSON files")
    path = tmp_path / "model.json"

    @given(content=st.binary(max_size=60) | documents.map(lambda d: json.dumps(d).encode()))
    def test(content: bytes) -> None:
        def case() -> str:
            path.write_bytes(content)
            try:
                assert_sound(load(path))
            except (InvalidLifecycle, LoadError) as exc:
                return check_message(exc)
            return "accepted"

        tally.run(case)

    run_boundary(request, tally, test, n)


def test_bad_json_files(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    _files_boundary(request, tmp_path, budget(long=False))


@pytest.mark.slow
def test_bad_json_files_long(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    _files_boundary(request, tmp_path, budget(long=True))


def test_mutations_are_caught() -> None:
    """The oracle is not vacuous: a nondeterministic or dangling model is flagged."""
    from statusguard import Transition
    from tests.property._bad_input import lifecycle_problems

    ok = Lifecycle("x", states=["a", "b"], initial="a", transitions=[Transition("go", "a", "b")])
    assert lifecycle_problems(ok) == []
    broken = Lifecycle(
        "x", states=["a", "b"], initial="a", transitions=[Transition("go", "a", "b")]
    )
    object.__setattr__(
        broken, "transitions", (Transition("go", "a", "b"), Transition("go", "a", "a"))
    )
    assert any("nondeterministic" in p for p in lifecycle_problems(broken))
    object.__setattr__(broken, "transitions", (Transition("go", "a", "zz"),))
    assert lifecycle_problems(broken)


def test_odd_keys_keep_messages_on_one_line() -> None:
    """Found by the generator: a key holding a newline used to split the error message."""
    doc = {**REAL[0], "\n": 1}
    with pytest.raises(InvalidLifecycle) as err:
        Lifecycle.from_json(doc)
    assert check_message(err.value, "invalid ") == "InvalidLifecycle"
    assert err.value.path == '$["\\n"]'
