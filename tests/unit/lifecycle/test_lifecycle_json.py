"""The statusguard.lifecycle/v1 format: round trips and schema rejection with JSON paths."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import statusguard
from statusguard import Lifecycle
from statusguard.errors import InvalidLifecycle
from statusguard.lifecycle._jsonio import lifecycle_schema

MODEL_DIR = Path(__file__).resolve().parents[3] / "model"
MODELS = {
    name: statusguard.load(MODEL_DIR / f"{name}.py") for name in ("glance_image", "glance_task")
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_round_trip(name: str) -> None:
    lc = MODELS[name]
    doc = lc.to_json()
    back = Lifecycle.from_json(doc)
    assert back == lc
    assert hash(back) == hash(lc)
    assert back.to_json() == doc
    assert back.fingerprint == lc.fingerprint
    assert lc.fingerprint.startswith("sha256:")
    assert len(lc.fingerprint) == len("sha256:") + 64
    # Through text, too, and the canonical text is reproduced byte for byte.
    text = lc.canonical_json()
    again = Lifecycle.from_json(text)
    assert again.canonical_json() == text
    assert again.edges() == lc.edges()
    assert list(again) == [tuple(map(str, t)) for t in lc]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_documents_validate_against_published_schema(name: str) -> None:
    jsonschema.Draft202012Validator(lifecycle_schema()).validate(MODELS[name].to_json())


def test_fingerprint_changes_with_the_model() -> None:
    doc = MODELS["glance_task"].to_json()
    doc["transitions"].append({"event": "fail", "source": ["processing"], "target": "failure"})
    same = Lifecycle.from_json(doc)  # a duplicate transition: same edges, different document
    assert same.fingerprint != MODELS["glance_task"].fingerprint
    doc2 = MODELS["glance_task"].to_json()
    doc2["name"] = "glance-task-2"
    assert Lifecycle.from_json(doc2).fingerprint != MODELS["glance_task"].fingerprint


def test_issue_example_forms() -> None:
    """Flags as a plain list are config; a source may be a single string."""
    doc = {
        "format": "statusguard.lifecycle/v1",
        "name": "mini",
        "states": ["queued", "active", "pending_delete", "deleted"],
        "initial": "queued",
        "terminal": ["deleted"],
        "flags": ["delayed_delete"],
        "transitions": [
            {"event": "upload", "source": "queued", "target": "active"},
            {
                "event": "delete",
                "source": ["active"],
                "target": "pending_delete",
                "when": {"delayed_delete": True},
            },
            {
                "event": "delete",
                "source": ["active"],
                "target": "deleted",
                "when": {"delayed_delete": False},
            },
            {"event": "scrub", "source": "pending_delete", "target": "deleted"},
        ],
        "invariants": [
            {"name": "deleted-is-final", "kind": "absorbing", "state": "deleted"},
            {"name": "no-resurrection", "kind": "unreachable", "from": "deleted", "to": "active"},
            {"name": "n", "kind": "never", "from": "deleted", "to": "queued"},
            {"name": "c", "kind": "closed", "states": ["active", "pending_delete", "deleted"]},
            {"name": "o", "kind": "only_through", "to": "deleted", "via": ["active"]},
        ],
    }
    lc = Lifecycle.from_json(doc)
    assert lc.config_flags == ("delayed_delete",)
    assert lc.events == ("upload", "delete", "scrub")  # derived from the transitions
    assert lc.next("active", "delete", {"delayed_delete": True}) == "pending_delete"
    assert [i.kind for i in lc.invariants] == [
        "absorbing",
        "unreachable",
        "never",
        "closed",
        "only_through",
    ]
    out = lc.to_json()
    assert out["flags"] == {"delayed_delete": "config"}
    assert out["transitions"][0]["source"] == ["queued"]
    assert Lifecycle.from_json(out) == lc
    assert Lifecycle.from_json(json.dumps(doc)) == lc


BASE: dict[str, Any] = MODELS["glance_image"].to_json()


def reject(change: Any) -> InvalidLifecycle:
    doc = copy.deepcopy(BASE)
    change(doc)
    with pytest.raises(InvalidLifecycle) as info:
        Lifecycle.from_json(doc)
    return info.value


def reject_text(text: str) -> InvalidLifecycle:
    with pytest.raises(InvalidLifecycle) as info:
        Lifecycle.from_json(text)
    return info.value


def test_bad_json_text() -> None:
    err = reject_text('{"format": "statusguard.lifecycle/v1", "name": ')
    assert "not valid JSON" in str(err)
    assert "line 1" in str(err)
    assert err.path == "$"


def test_not_an_object() -> None:
    assert "expected a JSON object, got list" in str(reject_text("[1, 2]"))


def test_missing_format() -> None:
    err = reject(lambda d: d.pop("format"))
    assert err.path == "$.format"
    assert "missing 'format'" in str(err)


@pytest.mark.parametrize("value", ["statusguard.lifecycle/v2", "lifecycle/v1", 1, None])
def test_unknown_format_version(value: Any) -> None:
    err = reject(lambda d: d.update(format=value))
    assert err.path == "$.format"
    assert "statusguard.lifecycle/v1" in str(err)
    assert repr(value) in str(err)


@pytest.mark.parametrize("key", ["name", "states", "initial", "transitions"])
def test_missing_required_key(key: str) -> None:
    err = reject(lambda d: d.pop(key))
    assert err.path == f"$.{key}"
    assert f"missing required key {key!r}" in str(err)


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        (lambda d: d.update(states="queued"), "$.states", "expected array, got string"),
        (lambda d: d["states"].__setitem__(2, 5), "$.states[2]", "expected string, got integer"),
        (lambda d: d.update(initial=["queued"]), "$.initial", "expected string, got array"),
        (lambda d: d.update(flags=5), "$.flags", "expected array or object, got integer"),
        (lambda d: d["flags"].update(x="runtime"), "$.flags.x", "'runtime' is not one of"),
        (lambda d: d.update(transitions={}), "$.transitions", "expected array, got object"),
        (lambda d: d["transitions"][0].update(source=4), "$.transitions[0].source", "got integer"),
        (lambda d: d["transitions"][0].update(source=[]), "$.transitions[0].source", "non-empty"),
        (
            lambda d: d["transitions"][13]["when"].update(delayed_delete="yes"),
            "$.transitions[13].when.delayed_delete",
            "expected boolean, got string",
        ),
        (lambda d: d["transitions"][0].pop("target"), "$.transitions[0].target", "missing"),
        (lambda d: d["invariants"][0].pop("state"), "$.invariants[0].state", "missing"),
        (
            lambda d: d["invariants"][1].update(kind="eventually"),
            "$.invariants[1].kind",
            "'eventually'",
        ),
        (
            lambda d: d["invariants"][2].update(states="active"),
            "$.invariants[2].states",
            "expected array",
        ),
        (lambda d: d.update(name=" "), "$.name", "non-empty name"),
        (lambda d: d["events"].__setitem__(0, ""), "$.events[0]", "non-empty name"),
    ],
)
def test_wrong_types(change: Any, path: str, words: str) -> None:
    err = reject(change)
    assert err.path == path
    assert words in str(err)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d.update(colour="red"), "$.colour"),
        (lambda d: d["transitions"][3].update(colour="red"), "$.transitions[3].colour"),
        (lambda d: d["invariants"][1].update(colour="red"), "$.invariants[1].colour"),
        (lambda d: d["invariants"][0].update(to="active"), "$.invariants[0].to"),
    ],
)
def test_unknown_keys(change: Any, path: str) -> None:
    err = reject(change)
    assert err.path == path
    assert "unknown key" in str(err)
    assert "expected one of" in str(err)


@pytest.mark.parametrize(
    ("change", "path", "culprit"),
    [
        (
            lambda d: d["transitions"][2].update(event="explode"),
            "$.transitions[2].event",
            "explode",
        ),
        (
            lambda d: d["transitions"][2].update(source=["gone"]),
            "$.transitions[2].source[0]",
            "gone",
        ),
        (lambda d: d["transitions"][2].update(target="gone"), "$.transitions[2].target", "gone"),
        (
            lambda d: d["transitions"][13]["when"].update(windy=True),
            "$.transitions[13].when.windy",
            "windy",
        ),
        (lambda d: d.update(initial="gone"), "$.initial", "gone"),
        (lambda d: d.update(terminal=["deleted", "gone"]), "$.terminal[1]", "gone"),
        (lambda d: d["invariants"][0].update(state="gone"), "$.invariants[0].state", "gone"),
    ],
)
def test_unknown_references(change: Any, path: str, culprit: str) -> None:
    err = reject(change)
    assert err.path == path
    assert repr(culprit) in str(err)


@pytest.mark.parametrize(
    ("change", "path", "culprit"),
    [
        (lambda d: d["states"].append("active"), "$.states[9]", "active"),
        (lambda d: d["events"].append("scrub"), "$.events[18]", "scrub"),
        (lambda d: d.update(flags=["a", "b", "a"]), "$.flags[2]", "a"),
        (lambda d: d["terminal"].append("deleted"), "$.terminal[1]", "deleted"),
        (
            lambda d: d["invariants"].append(dict(d["invariants"][3])),
            f"$.invariants[{len(BASE['invariants'])}].name",
            BASE["invariants"][3]["name"],
        ),
    ],
)
def test_duplicates(change: Any, path: str, culprit: str) -> None:
    err = reject(change)
    assert err.path == path
    assert "duplicate" in str(err)
    assert repr(culprit) in str(err)


def test_duplicate_json_key_in_text() -> None:
    text = json.dumps(BASE).replace(
        '"when": {"delayed_delete": false, "protected": false}',
        '"when": {"delayed_delete": false, "delayed_delete": true, "protected": false}',
        1,
    )
    err = reject_text(text)
    index = next(
        i
        for i, t in enumerate(BASE["transitions"])
        if t.get("when") == {"delayed_delete": False, "protected": False}
    )
    assert err.path == f"$.transitions[{index}].when.delayed_delete"
    assert "appears more than once" in str(err)


def test_nondeterministic_document() -> None:
    def add(d: dict[str, Any]) -> None:
        d["transitions"].append({"event": "deactivate", "source": "active", "target": "deleted"})

    err = reject(add)
    assert err.path == f"$.transitions[{len(BASE['transitions'])}]"
    assert "nondeterministic" in str(err)
    assert "'active'" in str(err)


def test_loading_json_never_runs_code(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    doc = copy.deepcopy(BASE)
    doc["name"] = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(doc))
    lc = statusguard.load(path)
    assert lc.name == doc["name"]
    assert not marker.exists()


def test_flag_order_does_not_matter() -> None:
    """Found by the unicode round-trip property: canonical JSON sorts the flags map."""
    from statusguard import Flag, FlagKind, Transition

    def make(order: list[str]) -> Lifecycle[str, str]:
        return Lifecycle(
            "flags",
            states=["a", "b"],
            initial="a",
            flags=[Flag(n, FlagKind.FACT if n == "zeta" else FlagKind.CONFIG) for n in order],
            transitions=[Transition("go", "a", "b", when={"zeta": True, "alpha": False})],
        )

    one, two = make(["zeta", "alpha"]), make(["alpha", "zeta"])
    assert one == two
    assert one.fingerprint == two.fingerprint
    assert Lifecycle.from_json(one.canonical_json()) == one
    assert list(one.to_json()["flags"]) == ["alpha", "zeta"]


@pytest.mark.parametrize(
    "text", ["[" * 200_000 + "]" * 200_000, '{"a":' * 100_000 + "1" + "}" * 100_000]
)
def test_deeply_nested_document_is_an_invalid_lifecycle(text: str, tmp_path: Path) -> None:
    """Nesting beyond the parser's recursion limit is bad input, not a RecursionError."""
    with pytest.raises(InvalidLifecycle, match="nests arrays or objects too deeply"):
        Lifecycle.from_json(text)
    path = tmp_path / "deep.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidLifecycle, match="too deeply"):
        statusguard.load(str(path))


def test_duplicate_key_search_handles_nesting_below_the_recursion_limit() -> None:
    """Nesting the parser accepts must not overflow the duplicate-key search either."""
    depth = 900
    text = '{"name": ' + "[" * depth + "]" * depth + ', "x": {"k": 1, "k": 2}}'
    with pytest.raises(InvalidLifecycle, match="'k' appears more than once") as info:
        Lifecycle.from_json(text)
    assert info.value.path == "$.x.k"
