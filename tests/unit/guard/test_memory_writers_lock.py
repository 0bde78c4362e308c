"""MemoryStore's writers lock (``writers_lock``): one holder at a time, waiters wait.

The lock is a queue of one token; these tests hold it the way the store and the guard's
inline path do (``get()`` ... ``put_nowait(None)``) and show that a queue of two tokens,
the negative control, lets writers overlap.
"""

from __future__ import annotations

import threading
import time
from queue import SimpleQueue

import pytest

from statusguard import MemoryStore
from statusguard.errors import DuplicateKey
from statusguard.guard._memory import writers_lock


def _overlaps(lock: SimpleQueue[None], threads: int = 4, rounds: int = 300) -> int:
    """How often a writer found another inside the critical section (each yields there)."""
    inside = 0
    overlaps = 0
    counter = threading.Lock()  # guards the two counts only, never the section

    def writer() -> None:
        nonlocal inside, overlaps
        for _ in range(rounds):
            lock.get()
            try:
                with counter:
                    inside += 1
                    if inside > 1:
                        overlaps += 1
                time.sleep(0)  # let another thread run while this one holds the lock
                with counter:
                    inside -= 1
            finally:
                lock.put_nowait(None)

    workers = [threading.Thread(target=writer, daemon=True) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert not any(w.is_alive() for w in workers), "a writer never got the lock"
    return overlaps


def test_one_writer_at_a_time() -> None:
    assert _overlaps(writers_lock()) == 0


def test_the_negative_control_two_tokens_let_writers_overlap() -> None:
    broken: SimpleQueue[None] = SimpleQueue()
    broken.put(None)
    broken.put(None)
    assert _overlaps(broken) > 0


def test_a_writer_waits_while_the_lock_is_held_and_goes_on_once_given_back() -> None:
    store = MemoryStore()
    store.create("k", "queued")
    lock = store._lock
    lock.get()  # hold it, as a writer in its critical section would
    done = threading.Event()

    def apply() -> None:
        store.apply("k", {"queued": "saving"}, event="upload_started")
        done.set()

    writer = threading.Thread(target=apply, daemon=True)
    writer.start()
    assert not done.wait(0.2), "apply wrote while another writer held the lock"
    assert store.get("k").status == "queued"
    lock.put_nowait(None)
    assert done.wait(10)
    writer.join(timeout=10)
    assert store.get("k") == ("saving", 1, None)


def test_a_failed_write_gives_the_lock_back() -> None:
    store = MemoryStore()
    store.create("k", "queued")
    with pytest.raises(DuplicateKey):
        store.create("k", "queued")  # raised inside the lock
    writer = threading.Thread(target=store.apply, args=("k", {"queued": "saving"}), daemon=True)
    writer.start()
    writer.join(timeout=10)  # it would wait for good had the failed write kept the token
    assert not writer.is_alive()
    assert store.get("k").status == "saving"
