"""After-commit hooks on the guard (MemoryStore): once per committed transition, filtered,
never for a refused or no-op one; a raising hook leaves the transition committed and is
reported as HookFailed after every hook ran; the same for AsyncGuard (``make_guard``), whose
hooks may also be coroutine functions. SQL stores: tests/integration/test_hooks_sql.py.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest

import statusguard
from statusguard import Guard, IllegalTransition, MemoryStore
from statusguard.errors import HookFailed, UnknownEvent, UnknownState
from statusguard.guard import Committed, HookedGuard, after_commit, in_transaction

ROOT = Path(__file__).resolve().parents[3]
NO_DELAY = {"delayed_delete": False}


@pytest.fixture(scope="module")
def glance() -> Any:
    return statusguard.load(str(ROOT / "model" / "glance_image.py"))


def test_a_guard_without_hooks_stays_a_plain_guard(glance: Any) -> None:
    assert type(Guard(glance, MemoryStore(), NO_DELAY)) is Guard
    assert type(Guard(glance, MemoryStore(), NO_DELAY, hooks=[])) is Guard
    hooked = Guard(glance, MemoryStore(), NO_DELAY, hooks=[after_commit(print)])
    assert isinstance(hooked, HookedGuard)


def test_after_commit_runs_once_per_committed_transition(glance: Any, make_guard: Any) -> None:
    seen: list[Committed] = []
    guard = make_guard(glance, NO_DELAY, hooks=[after_commit(seen.append)])
    guard.create("img")
    assert seen == []  # create is not a transition
    done = guard.fire("img", "upload_started")
    assert seen == [done]
    moved = guard.move("img", "active", "saving")
    assert seen == [done, moved]
    assert moved.event is None


def test_never_for_a_refused_or_noop_transition(glance: Any, make_guard: Any) -> None:
    seen: list[Committed] = []
    guard = make_guard(glance, NO_DELAY, hooks=[after_commit(seen.append)])
    guard.create("img")
    with pytest.raises(IllegalTransition):
        guard.fire("img", "upload_succeeded")  # not enabled in queued
    with pytest.raises(statusguard.TransitionConflict):
        guard.move("img", "active", "saving")  # the stored status is queued
    guard.fire("img", "upload_started")
    guard.fire("img", "upload_succeeded")
    noop = guard.fire("img", "reactivate")  # a NoOp of the lifecycle in active
    assert noop.noop
    assert [c.event for c in seen] == ["upload_started", "upload_succeeded"]


def test_filters_by_event_source_and_target(glance: Any, make_guard: Any) -> None:
    calls: dict[str, list[str | None]] = {"event": [], "source": [], "target": [], "all": []}
    hooks = [
        after_commit(lambda c: calls["event"].append(c.event), event="upload_started"),
        after_commit(lambda c: calls["source"].append(c.event), source=["saving", "active"]),
        after_commit(lambda c: calls["target"].append(c.event), target="deactivated"),
        after_commit(
            lambda c: calls["all"].append(c.event),
            event={"deactivate", "reactivate"},
            source="active",
            target="deactivated",
        ),
    ]
    guard = make_guard(glance, NO_DELAY, hooks=hooks)
    guard.create("img")
    for event in ("upload_started", "upload_succeeded", "deactivate", "reactivate"):
        guard.fire("img", event)
    assert calls == {
        "event": ["upload_started"],
        "source": ["upload_succeeded", "deactivate"],
        "target": ["deactivate"],
        "all": ["deactivate"],
    }


def test_an_event_filter_never_matches_a_move(glance: Any, make_guard: Any) -> None:
    seen: list[Committed] = []
    guard = make_guard(glance, NO_DELAY, hooks=[after_commit(seen.append, event="kill")])
    guard.create("img")
    guard.fire("img", "upload_started")
    guard.move("img", "killed", "saving")
    assert seen == []


def test_a_raising_hook_leaves_the_transition_committed_and_is_reported(
    glance: Any, make_guard: Any
) -> None:
    ran: list[str] = []

    def boom(c: Committed) -> None:
        ran.append("boom")
        raise OSError("mail server down")

    hooks = [after_commit(boom), after_commit(lambda c: ran.append("second"))]
    guard = make_guard(glance, NO_DELAY, hooks=hooks)
    guard.create("img")
    with pytest.raises(HookFailed) as caught:
        guard.fire("img", "upload_started")
    assert ran == ["boom", "second"]  # the second hook still ran
    error = caught.value
    assert error.rolled_back is False
    assert isinstance(error, RuntimeError)
    assert isinstance(error.committed, Committed)
    assert error.committed.target == "saving"
    assert [type(e) for e in error.errors] == [OSError]
    assert "stays committed" in str(error)
    assert guard.status("img") == "saving"
    assert guard.version("img") == 1
    copy = pickle.loads(pickle.dumps(error))
    assert str(copy) == str(error)
    assert copy.rolled_back is False


def test_hooks_are_checked_when_declared(glance: Any) -> None:
    with pytest.raises(UnknownEvent, match="upload_started"):
        Guard(glance, MemoryStore(), NO_DELAY, hooks=[after_commit(print, event="upload_start")])
    with pytest.raises(UnknownState, match="active"):
        Guard(glance, MemoryStore(), NO_DELAY, hooks=[after_commit(print, target="actve")])
    with pytest.raises(TypeError, match="after_commit"):
        Guard(glance, MemoryStore(), NO_DELAY, hooks=[print])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="callable"):
        after_commit("print")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="transaction"):  # MemoryStore has no transaction()
        Guard(glance, MemoryStore(), NO_DELAY, hooks=[in_transaction(print)])


def test_a_subclass_without_hook_support_refuses_hooks(glance: Any) -> None:
    class Mine(Guard[Any, Any]):
        __slots__ = ()

    with pytest.raises(TypeError, match="HookedGuard"):
        Mine(glance, MemoryStore(), NO_DELAY, hooks=[after_commit(print)])


def test_hook_records_are_frozen(glance: Any) -> None:
    hook = after_commit(print, event="kill")
    with pytest.raises(AttributeError):
        hook.event = None  # type: ignore[misc]
    assert hook.event == frozenset({"kill"})


def test_async_guard_awaits_coroutine_hooks_and_refuses_what_guard_refuses(glance: Any) -> None:
    import asyncio

    from statusguard import AsyncGuard
    from statusguard.guard import AsyncMemoryStore

    seen: list[str] = []

    async def notify(done: Committed) -> None:
        await asyncio.sleep(0)
        seen.append(done.target)

    async def boom(done: Committed) -> None:
        raise OSError("queue down")

    async def run() -> None:
        guard = AsyncGuard(glance, AsyncMemoryStore(), NO_DELAY, hooks=[after_commit(notify)])
        await guard.create("img")
        await guard.fire("img", "upload_started")
        assert seen == ["saving"]  # awaited before fire() returned
        failing = AsyncGuard(glance, AsyncMemoryStore(), NO_DELAY, hooks=[after_commit(boom)])
        await failing.create("img")
        with pytest.raises(HookFailed) as caught:
            await failing.fire("img", "upload_started")
        assert caught.value.rolled_back is False
        assert await failing.status("img") == "saving"  # committed all the same

    asyncio.run(run())

    with pytest.raises(UnknownEvent, match="upload_started"):
        AsyncGuard(
            glance, AsyncMemoryStore(), NO_DELAY, hooks=[after_commit(print, event="upload_start")]
        )
    with pytest.raises(TypeError, match="after_commit"):
        AsyncGuard(glance, AsyncMemoryStore(), NO_DELAY, hooks=[print])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="transaction"):  # no transaction() in memory
        AsyncGuard(glance, AsyncMemoryStore(), NO_DELAY, hooks=[in_transaction(print)])
