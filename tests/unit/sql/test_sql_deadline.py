"""The write deadline's watchdog: it cancels a write past its deadline, never a disarmed one."""

from __future__ import annotations

import threading
import time

import pytest

pytest.importorskip("sqlalchemy")

from statusguard.sql._engine import _Watchdog


def test_a_write_past_its_deadline_is_cancelled() -> None:
    dog = _Watchdog()
    cancelled = threading.Event()
    entry = dog.arm(0.05, cancelled.set)
    assert cancelled.wait(5)
    dog.disarm(entry)
    assert entry.fired


def test_a_disarmed_write_is_never_cancelled() -> None:
    dog = _Watchdog()
    calls: list[int] = []
    entries = [dog.arm(0.05, lambda i=i: calls.append(i)) for i in range(20)]
    for entry in entries:
        dog.disarm(entry)
    late = dog.arm(0.1, lambda: calls.append(99))
    time.sleep(0.4)
    assert calls == [99]  # only the one left armed
    assert late.fired
    assert not any(e.fired for e in entries)
    dog.disarm(late)
    assert dog._heap == []  # the heap holds only writes still running
