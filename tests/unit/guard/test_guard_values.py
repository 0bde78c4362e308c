"""values= on the guard and MemoryStore: checked before any write, written with the status.

The same checks (``statusguard.guard._values.check_values``) answer for every store; the
SQL stores run the same cases in tests/integration/test_caller_transaction.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import statusguard
from statusguard import Guard, IllegalTransition, MemoryStore
from statusguard.errors import ReservedColumn, UnknownColumn
from statusguard.guard._values import check_values

ROOT = Path(__file__).resolve().parents[3]
NO_DELAY = {"delayed_delete": False}


@pytest.fixture
def guard() -> Guard[Any, Any]:
    glance = statusguard.load(str(ROOT / "model" / "glance_image.py"))
    return Guard(glance, MemoryStore(audit=True, columns=["size", "checksum"]), NO_DELAY)


def test_values_are_kept_with_the_transition(guard: Guard[Any, Any]) -> None:
    store: Any = guard.store
    guard.create("img")
    assert store.values("img") == {"size": None, "checksum": None}
    guard.fire("img", "upload_started", values={"size": 3})
    guard.move("img", "active", "saving", values={"checksum": "ab"})
    assert store.values("img") == {"size": 3, "checksum": "ab"}
    assert [(h.source, h.target) for h in store.history("img")] == [
        ("queued", "saving"),
        ("saving", "active"),
    ]


def test_a_refused_transition_writes_no_value(guard: Guard[Any, Any]) -> None:
    store: Any = guard.store
    guard.create("img")
    with pytest.raises(IllegalTransition):
        guard.fire("img", "upload_succeeded", values={"size": 9})
    with pytest.raises(statusguard.TransitionConflict):
        guard.move("img", "active", "saving", values={"size": 9})
    assert store.values("img") == {"size": None, "checksum": None}
    assert guard.version("img") == 0


def test_bad_names_are_typed_errors_with_a_suggestion(guard: Guard[Any, Any]) -> None:
    guard.create("img")
    with pytest.raises(UnknownColumn) as info:
        guard.fire("img", "upload_started", values={"chekcsum": "x"})
    assert info.value.suggestion == "checksum"
    assert str(info.value) == (
        "unknown column 'chekcsum'; the columns values= can write: 'size', 'checksum'; "
        "nothing was written; did you mean 'checksum'?"
    )
    assert isinstance(info.value, LookupError)
    with pytest.raises(ReservedColumn, match="'Status' is the status column") as reserved:
        guard.fire("img", "upload_started", values={"Status": "active"})
    assert isinstance(reserved.value, ValueError)
    assert guard.status("img") == "queued"


def test_a_memory_store_cannot_declare_a_reserved_column() -> None:
    with pytest.raises(ReservedColumn, match="'version' is the version column"):
        MemoryStore(columns=["size", "version"])


def test_check_values_is_the_one_rule() -> None:
    assert check_values({"a": 1}, ["a"], {"status": "status"}) == {"a": 1}
    assert check_values({}, [], {}) == {}
    with pytest.raises(TypeError, match="takes a mapping"):
        check_values([("a", 1)], ["a"], {})
    with pytest.raises(UnknownColumn, match="unknown column '1'"):
        check_values({1: "x"}, ["a"], {})
    with pytest.raises(ReservedColumn, match="'ID' is the key column"):
        check_values({"ID": 2}, ["name"], {"id": "key"})


def test_values_skip_the_lock_free_fast_path(guard: Guard[Any, Any]) -> None:
    """A fire with values goes through apply (under the store's lock), so the values and
    the record are written together; without values the swap path still serves."""
    calls: list[str] = []
    inner: Any = guard.store

    class Counting:
        """Forwards to the MemoryStore, counting which write the guard used."""

        versioned = True
        peek = inner.peek

        def swap(self, *args: Any) -> bool:
            calls.append("swap")
            return bool(inner.swap(*args))

        def apply(self, *args: Any, **kwargs: Any) -> Any:
            calls.append("apply")
            return inner.apply(*args, **kwargs)

        def __getattr__(self, name: str) -> Any:
            return getattr(inner, name)

    counted = Guard(guard.lifecycle, Counting(), NO_DELAY)
    counted.create("img")
    counted.fire("img", "upload_started")
    counted.fire("img", "upload_failed", values={"size": 1})
    assert calls == ["swap", "apply"]
    assert inner.values("img")["size"] == 1


def test_bind_needs_a_store_that_can_join_a_transaction(guard: Guard[Any, Any]) -> None:
    with pytest.raises(TypeError, match="MemoryStore cannot join a caller's transaction"):
        guard.bind(object())


def test_a_store_without_values_says_so(guard: Guard[Any, Any]) -> None:
    """A third-party store whose writes take no values= (the keyword is optional)."""
    inner: Any = guard.store

    class Plain:
        versioned = True

        def apply(self, key: Any, moves: Any, token: Any = None, event: Any = None) -> Any:
            return inner.apply(key, moves, token, event)

        def compare_and_set(self, *args: Any) -> Any:
            return inner.compare_and_set(*args)

        def __getattr__(self, name: str) -> Any:
            return getattr(inner, name)

    plain = Guard(guard.lifecycle, Plain(), NO_DELAY)
    plain.create("img")
    plain.fire("img", "upload_started")  # without values: works as before
    with pytest.raises(TypeError, match=r"Plain.apply\(\) takes no values="):
        plain.fire("img", "upload_failed", values={"size": 1})
    with pytest.raises(TypeError, match=r"Plain.compare_and_set\(\) takes no values="):
        plain.move("img", "active", "saving", values={"size": 1})
    assert (plain.status("img"), inner.values("img")["size"]) == ("saving", None)
