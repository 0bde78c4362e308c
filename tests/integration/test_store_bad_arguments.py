"""Bad arguments give the same typed answer on every store (issue 17, items 1, 7 and 9).

``expected_version`` must be a version number (an ``int`` from 0 to 2**63 - 1, not a
bool, a str or a list) on MemoryStore, SQLite, PostgreSQL and MariaDB alike: bad input
is :class:`InvalidArgument` before the store is touched, never a conflict on one store,
a commit on another and an outage on a third.
"""

from __future__ import annotations

from typing import Any

import pytest

from statusguard import Guard
from statusguard.errors import InvalidArgument, TransitionConflict

NO_DELAY = {"delayed_delete": False}

#: values that are not a version number, each refused the same way on every store
BAD_VERSIONS: list[Any] = ["0", "0 OR 1=1", [0], False, True, 0.0, 1 << 64, 1 << 63, -1, 2.5]


@pytest.fixture
def guard(make_store: Any, glance: Any) -> Guard[Any, Any]:
    return Guard(glance, make_store(), NO_DELAY)


@pytest.mark.parametrize("bad", BAD_VERSIONS, ids=repr)
def test_expected_version_must_be_a_version_number(guard: Guard[Any, Any], bad: Any) -> None:
    guard.create("img")
    with pytest.raises(InvalidArgument) as info:
        guard.move("img", "saving", "queued", expected_version=bad)
    assert info.value.parameter == "expected_version"
    assert "expected_version" in str(info.value)
    assert guard.status("img") == "queued"
    assert guard.version("img") == 0


@pytest.mark.parametrize("bad", BAD_VERSIONS, ids=repr)
def test_the_store_refuses_it_too(make_store: Any, bad: Any) -> None:
    """Called directly, the store answers as the guard does (no coercion by the database)."""
    store = make_store()
    store.create("img", "queued")
    with pytest.raises(InvalidArgument):
        store.compare_and_set("img", "queued", "saving", bad)
    assert store.get("img").status == "queued"


def test_a_good_version_still_compares(guard: Guard[Any, Any]) -> None:
    guard.create("img")
    with pytest.raises(TransitionConflict):
        guard.move("img", "saving", "queued", expected_version=1)
    done = guard.move("img", "saving", "queued", expected_version=0)
    assert done.version == 1
    with pytest.raises(TransitionConflict):  # the largest version a store holds
        guard.move("img", "queued", "saving", expected_version=(1 << 63) - 1)
