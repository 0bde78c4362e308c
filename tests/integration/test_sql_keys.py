"""Keys a SQL key column cannot hold are bad input (``InvalidKey``), never an outage; and a
bool or a number that is not an int is a key on no store."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
import sqlalchemy as sa

from statusguard import Guard, MemoryStore, StatusGuardError
from statusguard.errors import InvalidKey, StoreUnavailable

NO_DELAY = {"delayed_delete": False}


def _calls(guard: Guard[Any, Any], key: Any) -> list[Any]:
    return [
        lambda: guard.create(key),
        lambda: guard.status(key),
        lambda: guard.version(key),
        lambda: guard.fire(key, "location_added"),
        lambda: guard.move(key, "active", "queued"),
        lambda: guard.store.history(key),
    ]


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("x" * 256, "256 characters long"),
        (7, "its type is int, not str"),
        (b"img", "its type is bytes, not str"),
        ("a\ud800b", "not valid Unicode text"),
    ],
)
def test_unholdable_keys_are_invalid_on_every_engine(
    make_store: Any, glance: Any, engine: str, key: Any, problem: str
) -> None:
    store = make_store(audit=True)
    guard = Guard(glance, store, NO_DELAY)
    if engine == "memory":  # any hashable key is fine in memory
        guard.create(key)
        assert guard.fire(key, "location_added").target == "active"
        return
    for call in _calls(guard, key):
        with pytest.raises(InvalidKey) as info:
            call()
        err = info.value
        assert isinstance(err, ValueError)
        assert not isinstance(err, StoreUnavailable)
        assert err.key == key
        assert problem in str(err)
        assert "the key column holds text of at most 255 characters" in str(err)
        assert "\n" not in str(err)
        assert len(str(err)) < 400  # a long key is shortened in the message
    guard.create("x" * 255)  # the longest key that fits still works
    assert guard.fire("x" * 255, "location_added").target == "active"


def test_nul_is_refused_on_postgresql_only(make_store: Any, glance: Any, engine: str) -> None:
    guard = Guard(glance, make_store(), NO_DELAY)
    key = "a\x00b"
    if engine != "postgresql":
        guard.create(key)  # SQLite, MariaDB and memory store NUL in text
        assert guard.status(key) == "queued"
        return
    with pytest.raises(InvalidKey, match=r"contains a NUL character.*without NUL characters"):
        guard.create(key)


@pytest.mark.parametrize(
    ("key_type", "good", "bad", "problem"),
    [
        (sa.Integer(), 2**31 - 1, 2**31, "out of the 32-bit range"),
        (sa.BigInteger(), -(2**63), 2**63, "out of the 64-bit range"),
        (sa.Integer(), 5, True, "its type is bool, not int"),
        (sa.Integer(), 5, "5", "its type is str, not int"),
    ],
)
def test_integer_key_columns(
    make_store: Any, glance: Any, engine: str, key_type: Any, good: int, bad: Any, problem: str
) -> None:
    if engine == "memory":
        pytest.skip("MemoryStore has no key column")
    guard = Guard(glance, make_store(key_type=key_type), NO_DELAY)
    guard.create(good)
    assert guard.status(good) == "queued"
    with pytest.raises(InvalidKey, match=problem):
        guard.create(bad)
    with pytest.raises(InvalidKey, match=problem):
        guard.fire(bad, "location_added")


def test_memory_store_accepts_any_hashable() -> None:
    guard = Guard(_glance(), MemoryStore(), NO_DELAY)
    for key in ("x" * 10_000, 7, ("a", 1), b"\x00", frozenset({1})):
        guard.create(key)
        assert guard.status(key) == "queued"
    with pytest.raises(TypeError):
        guard.create(["unhashable"])  # type: ignore[arg-type]
    assert issubclass(InvalidKey, StatusGuardError)


#: Python calls these equal to the int keys 1 and 0 (with equal hashes: one dict entry);
#: NaN equals nothing, itself included; 1.5 is a number that is not an int
NOT_KEYS: list[Any] = [True, False, 1.0, 0.0, Decimal(1), Fraction(1), float("nan"), 1.5]


def _every_call(guard: Guard[Any, Any], key: Any) -> list[tuple[str, Any]]:
    store = guard.store
    calls = [
        ("create", lambda: guard.create(key)),
        ("status", lambda: guard.status(key)),
        ("version", lambda: guard.version(key)),
        ("fire", lambda: guard.fire(key, "location_added")),
        ("fire actor=", lambda: guard.fire(key, "location_added", actor="ann")),
        ("move", lambda: guard.move(key, "active", "queued")),
        ("move", lambda: guard.move(key, "active")),
        ("store.get", lambda: store.get(key)),
        ("store.apply", lambda: store.apply(key, {"queued": "active"})),
        ("store.compare_and_set", lambda: store.compare_and_set(key, "queued", "active")),
    ]
    return [*calls, ("store.history", lambda: store.history(key))]


@pytest.mark.parametrize("column", ["text", "integer"])
@pytest.mark.parametrize("audit", [False, True], ids=["no-audit", "audit"])
def test_no_store_takes_a_bool_or_a_float_for_a_key(
    make_store: Any, glance: Any, engine: str, column: str, audit: bool
) -> None:
    """The same input gets the same answer from every store: ``InvalidKey`` for True,
    1.0, Decimal(1), ... on MemoryStore (whose dict would give them key 1's record: its
    fast paths included, with and without an audit) as on a SQL text or integer key
    column, and nothing written to the keys they equal."""
    integer = column == "integer"
    options = {"key_type": sa.Integer()} if integer and engine != "memory" else {}
    store = make_store(audit=audit, **options)
    guard = Guard(glance, store, NO_DELAY)
    one, zero = (1, 0) if integer else ("1", "0")
    guard.create(one)
    guard.create(zero)
    answers, expected = [], []
    for bad in NOT_KEYS:
        for name, call in _every_call(guard, bad):
            try:
                call()
                answers.append((name, repr(bad), "accepted"))
            except (StatusGuardError, ValueError) as exc:
                answers.append((name, repr(bad), type(exc).__name__))
            expected.append((name, repr(bad), "InvalidKey"))
    assert answers == expected
    for key in (one, zero):  # nothing reached the records True and 1.0 equal
        assert (guard.status(key), guard.version(key)) == ("queued", 0)
        if audit:
            assert store.history(key) == []
    assert guard.fire(one, "location_added").target == "active"  # the int key still works


def _glance() -> Any:
    from pathlib import Path

    import statusguard

    return statusguard.load(str(Path(__file__).resolve().parents[2] / "model" / "glance_image.py"))
