"""Races of the AsyncGuard: many tasks on one event loop, and several processes each with
its own loop, fire conflicting events on the same keys (the checks of test_guard_race).

Every history must be a legal path holding exactly the acknowledged transitions; the
negative control, an async store that reads, awaits and writes blindly, fails that check.
"""

from __future__ import annotations

import asyncio
import random
import textwrap
from typing import Any

import pytest

from statusguard import AsyncGuard, Committed
from statusguard.guard import Applied, AsyncMemoryStore, AuditEntry, Record, Rejected
from statusguard.testing import EventLoopThread, blocking
from tests.integration.conftest import async_url
from tests.integration.test_guard_race import (
    CONFIG,
    KEYS,
    REFUSED,
    check_histories,
    choose,
    run_workers,
)


async def one_step_async(guard: AsyncGuard[Any, Any], rng: random.Random) -> Committed | None:
    """:func:`test_guard_race.one_step`, awaited."""
    name, args = choose(rng)
    try:
        done: Committed = await getattr(guard, name)(*args)
    except REFUSED:
        return None
    return None if done.noop else done


async def race(guard: AsyncGuard[Any, Any], tasks: int, rounds: int) -> list[Committed]:
    """``tasks`` tasks of ``rounds`` random steps each, all started at once on this loop."""
    for key in KEYS:
        await guard.create(key)
    acked: list[Committed] = []
    start = asyncio.Event()

    async def worker(seed: int) -> None:
        rng = random.Random(seed)
        await start.wait()
        for _ in range(rounds):
            done = await one_step_async(guard, rng)
            if done is not None:
                acked.append(done)

    running = [asyncio.create_task(worker(seed)) for seed in range(tasks)]
    start.set()
    await asyncio.gather(*running)
    return acked


def test_tasks_keep_every_history_legal(
    make_async_store: Any, glance: Any, event_loop_thread: EventLoopThread
) -> None:
    store = make_async_store(audit=True)
    guard = AsyncGuard(glance, store, CONFIG, tokens=True)
    acked = event_loop_thread.run(race(guard, tasks=16, rounds=25))
    assert check_histories(glance, blocking(store, event_loop_thread), acked) > 10


class NaiveAsyncStore(AsyncMemoryStore):
    """Reads, awaits (another task runs), then writes blindly: the negative control."""

    async def apply(self, key: Any, moves: Any, token: Any = None, event: Any = None) -> Any:
        current = self.sync.get(key)  # the read ...
        await asyncio.sleep(0)  # ... the window: every other ready task runs here ...
        target = moves.get(current.status)
        if target is None:
            return Rejected(current)
        while True:  # ... and a blind write over whatever is there now
            latest = self.sync.get(key)
            version = latest.version + 1
            if self.sync.swap(key, latest, Record(target, version, token), event):
                return Applied(current.status, target, version)

    async def history(self, key: Any, **window: Any) -> list[AuditEntry]:
        return self.sync.history(key)


def test_the_task_race_catches_a_naive_store(glance: Any) -> None:
    store = NaiveAsyncStore(audit=True)
    guard = AsyncGuard(glance, store, CONFIG, tokens=True)
    acked = asyncio.run(race(guard, tasks=8, rounds=100))
    with pytest.raises(AssertionError, match=r"chain broken|illegal step"):
        check_histories(glance, store.sync, acked)


WORKER = textwrap.dedent(
    """
    import asyncio, json, random, sys
    sys.path.insert(0, sys.argv[1])
    import statusguard
    from statusguard.sql import AsyncSQLStore
    from test_guard_race_async import one_step_async
    from test_guard_race import CONFIG
    url, table, audit, seed, rounds = sys.argv[2:7]

    async def main():
        store = AsyncSQLStore(url, table, key="image_id", version="version",
                              token="last_token", audit=audit)
        guard = statusguard.AsyncGuard(statusguard.load(sys.argv[7]), store, CONFIG, tokens=True)
        acked = []

        async def worker(n):
            rng = random.Random(int(seed) * 100 + n)
            for _ in range(int(rounds)):
                done = await one_step_async(guard, rng)
                if done is not None:
                    acked.append([done.key, done.source, done.event, done.target,
                                  done.version, done.token])

        await asyncio.gather(*(worker(n) for n in range(4)))
        await store.dispose()
        print(json.dumps(acked))

    asyncio.run(main())
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["sqlite-file", "postgresql", "mysql"], indirect=True)
def test_processes_of_tasks_keep_every_history_legal(
    make_async_store: Any, glance: Any, engine: str, event_loop_thread: EventLoopThread
) -> None:
    """3 processes, each with 4 tasks on its own loop, on one database."""
    store = make_async_store(audit=True)
    guard = AsyncGuard(glance, store, CONFIG, tokens=True)

    async def create() -> None:
        for key in KEYS:
            await guard.create(key)

    event_loop_thread.run(create())
    url = async_url(store.engine.url.render_as_string(hide_password=False))
    acked = run_workers(WORKER, url, store.table_name, store.audit_table, 40, seeds=3)
    assert check_histories(glance, blocking(store, event_loop_thread), acked) > 10


@pytest.mark.parametrize("engine", ["sqlite-file", "postgresql", "mysql"], indirect=True)
def test_run_stress_processes_drive_an_async_guard(
    make_async_store: Any, glance: Any, engine: str
) -> None:
    """statusguard.testing's process mode: each forked worker makes its own GuardAdapter over
    an AsyncGuard and AsyncSQLStore (its own event loop thread); the history check holds."""
    from statusguard.sql import AsyncSQLStore
    from statusguard.testing import GuardAdapter, run_stress

    shared = make_async_store()  # the table (dropped after the test)
    url = async_url(shared.engine.url.render_as_string(hide_password=False))
    options = {"key": "image_id", "version": "version", "token": "last_token"}

    def make() -> GuardAdapter:
        store = AsyncSQLStore(url, shared.table_name, **options)
        return GuardAdapter(AsyncGuard(glance, store, CONFIG), owns_store=True)

    report = run_stress(
        make, glance, CONFIG, mode="process", workers=3, rounds=4, hot_keys=2, ops=8
    )
    assert report.errors == 0, report.error_samples
    assert report.commits > 0
    assert report.ok, report.check.problems
