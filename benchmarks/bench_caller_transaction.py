"""The guard inside the caller's transaction: what bind() and values= cost per transition.

Run from the repository root:  python benchmarks/bench_caller_transaction.py [--quick]
PostgreSQL / MariaDB read STATUSGUARD_TEST_POSTGRES_URL / STATUSGUARD_TEST_MYSQL_URL and
are skipped (with a note) when unset. Per engine, interleaved, the median of 5 runs:

* ``raw``: the unguarded SQLAlchemy Core equivalent, one UPDATE of status, size and
  version in the caller's transaction (``with engine.begin()``): the baseline;
* ``own``: ``guard.fire`` in the store's own transaction (autocommit);
* ``own+values``: the same with ``values={"size": ...}``;
* ``bound+values``: ``with engine.begin() as conn: guard.bind(conn).fire(..., values=...)``.

Every commit is a real one (fsync on the servers, the application engine's journal on
SQLite), so absolute times swing between runs: compare the ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

import statusguard

ROOT = Path(__file__).resolve().parents[1]
GLANCE = statusguard.load(str(ROOT / "model" / "glance_image.py"))
EVENTS = ("upload_started", "upload_failed")  # queued <-> saving, legal forever
STATUS = ("saving", "queued")


def timed(fn: Callable[[int], Any], n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return (time.perf_counter() - start) / n * 1e6


def bench(url: str, n: int) -> None:
    app = sa.create_engine(url)
    name = f"bench_ctx_{uuid.uuid4().hex[:8]}"
    store = statusguard.SQLStore(app, name, version="version", columns={"size": sa.BigInteger()})
    store.create_schema()
    try:
        guard = statusguard.Guard(GLANCE, store, {"delayed_delete": False})
        guard.create("k")
        table = store.table

        def raw(i: int) -> None:
            with app.begin() as conn:
                conn.execute(
                    table.update()
                    .where(table.c.id == "k")
                    .values(status=STATUS[i % 2], size=i, version=table.c.version + 1)
                )

        def own(i: int) -> None:
            guard.fire("k", EVENTS[i % 2])

        def own_values(i: int) -> None:
            guard.fire("k", EVENTS[i % 2], values={"size": i})

        def bound_values(i: int) -> None:
            with app.begin() as conn:
                guard.bind(conn).fire("k", EVENTS[i % 2], values={"size": i})

        cases = {"raw": raw, "own": own, "own+values": own_values, "bound+values": bound_values}
        runs: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(5):
            for name, fn in cases.items():  # n is even: every run starts and ends at queued
                runs[name].append(timed(fn, n))
        base = statistics.median(runs["raw"])
        for name, times in runs.items():
            median = statistics.median(times)
            print(f"{app.dialect.name:11} {name:13} {median:9.1f} µs  {median / base:5.2f}x")
    finally:
        store.drop_schema()
        app.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer transitions per run")
    n = 40 if parser.parse_args().quick else 300
    with tempfile.TemporaryDirectory() as tmp:
        bench(f"sqlite:///{tmp}/bench.db", n)
    for var in ("STATUSGUARD_TEST_POSTGRES_URL", "STATUSGUARD_TEST_MYSQL_URL"):
        url = os.environ.get(var)
        if url:
            bench(url, n)
        else:
            print(f"({var} is not set: skipped)")


if __name__ == "__main__":
    main()
