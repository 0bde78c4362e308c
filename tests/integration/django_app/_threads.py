"""Threads for the Django race tests, each on a Django connection of its own."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connections

__all__ = ["TIMEOUT", "WORKERS", "run_threads"]

WORKERS = 6
TIMEOUT = 60.0


def run_threads(targets: list[Callable[[], None]]) -> None:
    """Run each target in a thread with its own connection; bounded; re-raise the first error."""
    errors: list[BaseException] = []

    def wrap(fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except BaseException as exc:
                errors.append(exc)
            finally:
                connections.close_all()

        return run

    threads = [threading.Thread(target=wrap(fn)) for fn in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    if errors:
        raise errors[0]
