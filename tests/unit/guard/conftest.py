"""``make_guard``: a Guard on a MemoryStore, or an AsyncGuard on an AsyncMemoryStore behind
:func:`statusguard.testing.blocking` (its calls block on an event loop thread), so one case
checks both guards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from statusguard import AsyncGuard, Guard, MemoryStore
from statusguard.guard import AsyncMemoryStore
from statusguard.testing import EventLoopThread, blocking

GuardFactory = Callable[..., Any]


@pytest.fixture(params=["sync", "async"])
def make_guard(request: pytest.FixtureRequest) -> Iterator[GuardFactory]:
    """``make_guard(lifecycle, config, *, audit=False, columns=(), **guard_options)``."""
    loop = EventLoopThread()

    def factory(
        lifecycle: Any,
        config: Any = None,
        *,
        audit: bool = False,
        columns: Any = (),
        **options: Any,
    ) -> Any:
        if request.param == "sync":
            return Guard(lifecycle, MemoryStore(audit=audit, columns=columns), config, **options)
        store = AsyncMemoryStore(audit=audit, columns=columns)
        return blocking(AsyncGuard(lifecycle, store, config, **options), loop)

    yield factory
    loop.close()
