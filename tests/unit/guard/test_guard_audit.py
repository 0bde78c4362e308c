"""MemoryStore's audit history: ``at``, ``actor``, ``reason``, and the time window."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import statusguard
from statusguard import Guard, MemoryStore
from statusguard.guard import AuditEntry, Record

ROOT = Path(__file__).resolve().parents[3]
NO_DELAY = {"delayed_delete": False}


@pytest.fixture
def glance() -> Any:
    return statusguard.load(str(ROOT / "model" / "glance_image.py"))


def test_memory_history_keeps_time_actor_and_reason(glance: Any) -> None:
    guard = Guard(glance, MemoryStore(audit=True), NO_DELAY)
    before = datetime.now(UTC)
    guard.create("img")
    guard.fire("img", "upload_started")  # the swap fast path
    guard.fire("img", "upload_failed", actor="alice")  # through apply
    guard.move("img", "saving", reason="retry")  # compare_and_set
    after = datetime.now(UTC)
    history = guard.store.history("img")
    assert [(e.actor, e.reason) for e in history] == [
        (None, None),
        ("alice", None),
        (None, "retry"),
    ]
    times = [e.at for e in history]
    assert all(t is not None and before <= t <= after for t in times)
    assert times == sorted(times)  # type: ignore[type-var]
    assert guard.store.history("img", since=after + timedelta(microseconds=1)) == []
    assert guard.store.history("img", until=before) == []
    assert guard.store.history("img", since=before, until=after + timedelta(seconds=1)) == history


def test_at_is_not_part_of_equality() -> None:
    now = datetime.now(UTC)
    assert AuditEntry("a", "e", "b", 1, None, now) == AuditEntry("a", "e", "b", 1)
    assert AuditEntry("a", "e", "b", 1, actor="x") != AuditEntry("a", "e", "b", 1)


class OldStore(MemoryStore):
    """A third-party store written before actor/reason: apply takes only values=."""

    __slots__ = ()

    def apply(  # type: ignore[override]
        self,
        key: Hashable,
        moves: Mapping[str, str],
        token: str | None = None,
        event: str | None = None,
        *,
        values: Mapping[str, Any] | None = None,
    ) -> Any:
        return super().apply(key, moves, token, event, values=values)

    peek = swap = None  # type: ignore[assignment]


def test_a_store_without_the_keyword_is_told_so(glance: Any) -> None:
    guard = Guard(glance, OldStore(audit=True), NO_DELAY)
    guard.create("img")
    with pytest.raises(TypeError, match=r"OldStore.apply\(\) takes no actor=.*record who"):
        guard.fire("img", "upload_started", actor="alice")
    assert guard.store.get("img") == Record("queued", 0)
    guard.fire("img", "upload_started")  # without it, the store works as before
    assert guard.version("img") == 1
