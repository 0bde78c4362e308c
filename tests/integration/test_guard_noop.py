"""An event accepted without a change (a no-op) writes nothing, on every store.

Glance answers 204 to a deactivate of an image already deactivated and to a reactivate of
an active one, and skips the save (``glance/api/v2/image_actions.py:61-65``, 90-94 and
107-111 at c76abb08e; ``Image.deactivate``/``reactivate`` pass there,
``glance/domain/__init__.py:260-262`` and 273-275). The guard reports such a fire as a
:class:`Committed` with ``noop=True``: no status change, no version bump, no token, no
audit row. Engines: memory, SQLite (memory and file), PostgreSQL and MariaDB (set
STATUSGUARD_TEST_POSTGRES_URL / STATUSGUARD_TEST_MYSQL_URL).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from statusguard import Committed, Guard, IllegalTransition
from tests.integration._trigger import DIALECT, install, raw_update

CONFIG = {"delayed_delete": False}


def active_image(guard: Guard[Any, Any], key: str) -> None:
    guard.create(key)
    guard.fire(key, "upload_started")
    guard.fire(key, "upload_succeeded")


def test_noop_fire_writes_nothing(make_guard: Any) -> None:
    guard = make_guard(CONFIG, tokens=True, audit=True)  # a Guard, or an AsyncGuard
    store = guard.store
    active_image(guard, "img")
    moved = guard.fire("img", "deactivate")
    assert (moved.noop, moved.target, moved.version) == (False, "deactivated", 3)
    before = store.get("img")
    history = store.history("img")
    again = guard.fire("img", "deactivate")  # 204 in Glance: accepted, no change
    assert again == Committed("img", "deactivated", "deactivate", "deactivated", 3, None, True)
    assert store.get("img") == before  # status, version and token untouched
    assert store.history("img") == history  # no audit row
    # reactivate on active is the other no-op; an illegal event is still refused
    guard.fire("img", "reactivate")
    assert guard.fire("img", "reactivate").noop
    assert guard.version("img") == 4
    with pytest.raises(IllegalTransition):
        guard.fire("img", "upload_succeeded")


def test_noop_is_not_a_write_the_negative_control(make_store: Any, glance: Any) -> None:
    """Without the no-op the same call is a refusal: the no-op is what turns it into 204."""
    from statusguard import Lifecycle

    parts = glance.to_json()
    parts.pop("noops")
    strict = Lifecycle.from_json(parts)
    guard = Guard(strict, make_store(), CONFIG)
    active_image(guard, "img")
    guard.fire("img", "deactivate")
    with pytest.raises(IllegalTransition):
        guard.fire("img", "deactivate")


@pytest.mark.parametrize("engine", list(DIALECT), indirect=True)
def test_noop_passes_the_trigger_without_writing(make_store: Any, engine: str, glance: Any) -> None:
    store = make_store()
    install(store, DIALECT[engine], "delayed_delete=false")
    guard = Guard(glance, store, CONFIG)
    active_image(guard, "img")
    assert guard.fire("img", "reactivate").noop  # no UPDATE changed the row
    raw_update(store, "img", "active")  # a same-value write is no status change either
    assert (guard.status("img"), guard.version("img")) == ("active", 2)


def test_racing_deactivates_commit_once(make_guard: Any) -> None:
    """Eight deactivates of one active image: one commits, seven are no-ops at its version
    (threads racing a Guard; for an AsyncGuard, tasks of its event loop)."""
    guard = make_guard(CONFIG, audit=True)
    store = guard.store
    active_image(guard, "img")
    barrier = threading.Barrier(8)
    done: list[Committed] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        c = guard.fire("img", "deactivate")
        with lock:
            done.append(c)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    moved = [c for c in done if not c.noop]
    assert len(moved) == 1
    assert {(c.source, c.version) for c in done if c.noop} == {("deactivated", 3)}
    assert guard.version("img") == 3
    assert [e.target for e in store.history("img")] == ["saving", "active", "deactivated"]
