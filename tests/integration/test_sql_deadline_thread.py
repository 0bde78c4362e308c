"""The write deadline's watchdog thread ends with its store (no thread left per disposed store)."""

from __future__ import annotations

import os
import threading
import time
import uuid
from typing import Any

import pytest

from statusguard import Guard, SQLStore

URL_VAR = "STATUSGUARD_TEST_POSTGRES_URL"


def _deadline_threads() -> int:
    return sum(t.name == "statusguard-deadline" for t in threading.enumerate())


def test_dispose_ends_the_deadline_thread(glance: Any) -> None:
    url = os.environ.get(URL_VAR)
    if not url:
        pytest.skip(f"set {URL_VAR} to run the PostgreSQL write-deadline test")
    before = _deadline_threads()
    for _ in range(3):
        store = SQLStore(url, table=f"sg_deadline_{uuid.uuid4().hex[:8]}", write_timeout=5.0)
        store.create_schema()
        try:
            guard = Guard(glance, store, {"delayed_delete": True})
            guard.create("img")
            guard.fire("img", "upload_started")  # arms and disarms a deadline
            assert _deadline_threads() == before + 1
        finally:
            store.drop_schema()
            store.dispose()
    for _ in range(50):  # the thread wakes on stop(); bounded wait for it to exit
        if _deadline_threads() == before:
            break
        time.sleep(0.02)
    assert _deadline_threads() == before
