"""The guard's in-memory shortcuts: the same errors and the same atomicity as the general path."""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import statusguard
from statusguard import Committed, Guard, IllegalTransition, MemoryStore
from statusguard.errors import InvalidFlagValue, MissingFlag, UnknownStatus
from statusguard.guard import Record

NO_DELAY = {"delayed_delete": False}
TOGGLE = ("deactivate", "reactivate")
GLANCE = statusguard.load(str(Path(__file__).resolve().parents[3] / "model" / "glance_image.py"))


@pytest.fixture(params=[False, True], ids=["plain", "audit"])
def guard(request: Any) -> Guard[Any, Any]:
    return Guard(GLANCE, MemoryStore(audit=request.param), NO_DELAY)


def test_rejection_is_the_constructor_error_field_for_field(guard: Guard[Any, Any]) -> None:
    guard.create("img")
    with pytest.raises(IllegalTransition) as info:
        guard.fire("img", "upload_succeeded")
    err = info.value
    built = IllegalTransition(
        "queued", "upload_succeeded", err.allowed, key="img", lifecycle=guard.lifecycle.name
    )
    assert (err.state, err.event, err.target, err.allowed, err.key, err.lifecycle) == (
        built.state,
        built.event,
        built.target,
        built.allowed,
        built.key,
        built.lifecycle,
    )
    assert err.allowed == tuple(guard.lifecycle.allowed_events("queued", NO_DELAY))
    assert str(err) == str(built)
    assert repr(err) == repr(built)
    assert guard.version("img") == 0


def test_illegal_transition_pickles_with_its_fields() -> None:
    for err in (
        IllegalTransition("queued", "upload_succeeded", ("delete",), key="img", lifecycle="x"),
        IllegalTransition("active", None, ("deactivated",), target="queued", key=7),
    ):
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is IllegalTransition
        assert (back.state, back.event, back.target, back.allowed, back.key, back.lifecycle) == (
            err.state,
            err.event,
            err.target,
            err.allowed,
            err.key,
            err.lifecycle,
        )
        assert str(back) == str(err)


@pytest.mark.parametrize("audit", [False, True])
def test_undecided_fact_still_asks_for_the_fact(audit: bool) -> None:
    guard = Guard(GLANCE, MemoryStore(audit=audit), {"delayed_delete": True})
    guard.create("img")
    guard.fire("img", "location_added")
    # active --delete--> pending_delete or deleted: depends on has_locations
    with pytest.raises(MissingFlag, match="has_locations"):
        guard.fire("img", "delete")
    assert guard.status("img") == "active"


@pytest.mark.parametrize("value", [1, 0, 1.0, 0.0])
def test_a_numeric_fact_is_refused_after_a_bool_was_cached(
    guard: Guard[Any, Any], value: object
) -> None:
    # issue 17 item 2: the plan cache keyed by frozenset(facts.items()) found the plan
    # cached for True (or False) when given 1 (or 0), since 1 == True, and accepted it
    delayed = Guard(GLANCE, guard.store, {"delayed_delete": True})
    for key in ("a", "b"):
        delayed.create(key)
        delayed.fire(key, "location_added")
    delayed.fire("a", "delete", facts={"has_locations": bool(value)})  # caches the plan
    with pytest.raises(InvalidFlagValue, match="has_locations"):
        delayed.fire("b", "delete", facts={"has_locations": value})  # type: ignore[dict-item]
    assert delayed.status("b") == "active"
    assert delayed.version("b") == 1


def test_tokens_are_unique_across_threads_and_a_forked_child() -> None:
    guard = Guard(GLANCE, MemoryStore(), NO_DELAY, tokens=True)
    tokens: list[str] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        key = f"img-{index}"
        guard.create(key)
        mine = [guard.store.get(key).token, guard.fire(key, "location_added").token]
        mine += [guard.fire(key, TOGGLE[i & 1]).token for i in range(1999)]
        with lock:
            tokens.extend(t for t in mine if t is not None)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(tokens) == len(set(tokens)) == 4 * 2001
    assert all(isinstance(t, str) and len(t) == 34 for t in tokens)
    if hasattr(os, "fork"):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: same prefix and counter unless drawn again at fork
            os.write(write, " ".join(guard._token() or "" for _ in range(100)).encode())
            os._exit(0)
        os.close(write)
        with os.fdopen(read) as pipe:
            child = pipe.read().split()
        os.waitpid(pid, 0)
        parent = [guard._token() for _ in range(100)]
        assert len(child) == 100
        assert not set(child) & set(parent)
        assert child[0][:22] != parent[0][:22]  # type: ignore[index]  # the prefixes


def test_unknown_stored_status_is_not_rejected_as_illegal(guard: Guard[Any, Any]) -> None:
    guard.create("img")
    store = guard.store
    assert isinstance(store, MemoryStore)
    assert store.swap("img", store.get("img"), Record("melted", 0))  # behind the guard's back
    with pytest.raises(UnknownStatus, match="melted"):
        guard.fire("img", "upload_succeeded")


@pytest.fixture
def tiny_switch_interval() -> Iterator[None]:
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: provoke interleavings
    yield
    sys.setswitchinterval(old)


@pytest.mark.usefixtures("tiny_switch_interval")
def test_racing_fires_lose_no_update(guard: Guard[Any, Any]) -> None:
    guard.create("img")
    guard.fire("img", "location_added")  # queued -> active
    done: list[Committed] = []
    lock = threading.Lock()

    noops: list[Committed] = []

    def worker(seed: int) -> None:
        mine = []
        stays = []
        for i in range(seed, seed + 3000):
            with contextlib.suppress(IllegalTransition):
                c = guard.fire("img", ("deactivate", "reactivate")[i & 1])
                # deactivate on deactivated, reactivate on active: accepted, no change
                (stays if c.noop else mine).append(c)
        with lock:
            done.extend(mine)
            noops.extend(stays)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.sort(key=lambda c: c.version)
    # every acknowledged fire has its own version, and they chain: no lost update
    assert [c.version for c in done] == list(range(2, len(done) + 2))
    assert guard.version("img") == len(done) + 1
    previous = "active"
    for c in done:
        assert c.source == previous, c
        previous = c.target
    assert guard.status("img") == previous
    # a no-op wrote nothing: its source is its target, at a version some commit made
    assert noops
    committed = {c.version: c.target for c in done} | {1: "active"}
    for c in noops:
        assert c.source == c.target == committed[c.version], c
