"""Races: many threads (and, for SQL, processes) fire conflicting events on the same keys.

Afterwards, for every key, the audit history must be a legal path of the lifecycle
(each source is the previous target, each step an enabled event, versions 1..n)
and must hold exactly the acknowledged transitions.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from statusguard import Committed, Guard, IllegalTransition, MemoryStore, TransitionConflict
from statusguard.errors import MissingFlag
from statusguard.guard import Applied, AuditEntry, Record, Rejected, Store

ROOT = Path(__file__).resolve().parents[2]
CONFIG = {"delayed_delete": True}
KEYS = [f"img-{i}" for i in range(3)]
# deactivate/reactivate and the upload/stage/import loops keep keys alive; delete ends them
EVENTS = [
    "upload_started", "upload_failed", "upload_succeeded", "stage_started", "stage_failed",
    "web_download_import", "import_failed", "import_succeeded", "location_added", "deactivate",
    "reactivate", "restore", "kill",
] * 4 + ["delete", "scrub"]  # fmt: skip
MOVES = ["saving", "queued", "active", "deactivated", "importing"]


#: what a racing step may be refused with (nothing committed)
REFUSED = (IllegalTransition, TransitionConflict, MissingFlag)


def choose(rng: random.Random) -> tuple[str, tuple[Any, ...]]:
    """One random step: ``("move", (key, target))`` or ``("fire", (key, event, facts))``."""
    key = rng.choice(KEYS)
    if rng.random() < 0.2:
        return "move", (key, rng.choice(MOVES))
    facts = {"has_locations": rng.random() < 0.5}
    return "fire", (key, rng.choice(EVENTS), facts)


def one_step(guard: Guard[Any, Any], rng: random.Random) -> Committed | None:
    name, args = choose(rng)
    try:
        done: Committed = getattr(guard, name)(*args)
    except REFUSED:
        return None
    return None if done.noop else done  # accepted without a change: nothing committed


def check_histories(glance: Any, store: Any, acked: list[Committed]) -> int:
    steps = 0
    for key in KEYS:
        history = store.history(key)
        state = str(glance.initial)
        for n, entry in enumerate(history, start=1):
            assert entry.source == state, f"{key} step {n}: chain broken {history}"
            assert entry.version == n
            if entry.event is None:
                assert glance.edge_allowed(entry.source, entry.target, CONFIG)
            else:
                assert any(
                    t.event == entry.event
                    and entry.source in t.sources
                    and t.target == entry.target
                    and all(CONFIG.get(f, v) == v for f, v in t.when)
                    for t in glance.transitions
                ), f"{key}: illegal step {entry}"
            state = entry.target
        assert store.get(key).status == state
        assert store.get(key).version == len(history)
        mine = {c.token for c in acked if c.key == key}
        assert {e.token for e in history} == mine, "acknowledged != committed"
        steps += len(history)
    assert steps == len(acked)
    return steps


def test_threads_keep_every_history_legal(make_store: Any, glance: Any) -> None:
    store = make_store(audit=True)
    guard = Guard(glance, store, CONFIG, tokens=True)
    for key in KEYS:
        guard.create(key)
    acked: list[Committed] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        barrier.wait()
        for _ in range(60):
            done = one_step(guard, rng)
            if done is not None:
                with lock:
                    acked.append(done)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert check_histories(glance, store, acked) > 10


WORKER = textwrap.dedent(
    """
    import json, random, sys
    sys.path.insert(0, sys.argv[1])
    import statusguard
    from test_guard_race import one_step, CONFIG
    url, table, audit, seed, rounds = sys.argv[2:7]
    store = statusguard.SQLStore(url, table, key="image_id", version="version",
                                 token="last_token", audit=audit)
    guard = statusguard.Guard(statusguard.load(sys.argv[7]), store, CONFIG, tokens=True)
    rng = random.Random(int(seed))
    acked = []
    for _ in range(int(rounds)):
        done = one_step(guard, rng)
        if done is not None:
            acked.append([done.key, done.source, done.event, done.target, done.version, done.token])
    print(json.dumps(acked))
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["sqlite-file", "postgresql", "mysql"], indirect=True)
def test_processes_keep_every_history_legal(make_store: Any, glance: Any, engine: str) -> None:
    store = make_store(audit=True)
    guard = Guard(glance, store, CONFIG, tokens=True)
    for key in KEYS:
        guard.create(key)
    url = store.engine.url.render_as_string(hide_password=False)
    acked = run_workers(WORKER, url, store.table_name, store.audit_table, 150, seeds=4)
    assert check_histories(glance, store, acked) > 10


def run_workers(
    worker: str, url: str, table: str, audit: str | None, rounds: int, *, seeds: int
) -> list[Committed]:
    """Run ``worker`` (a script like :data:`WORKER`) in ``seeds`` processes at once, each
    ``rounds`` steps on ``table``; every acknowledged commit they print."""
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                worker,
                str(Path(__file__).parent),
                url,
                table,
                str(audit),
                str(seed),
                str(rounds),
                str(ROOT / "model" / "glance_image.py"),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for seed in range(seeds)
    ]
    acked: list[Committed] = []
    for proc in procs:
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0
        acked += [Committed(*row) for row in json.loads(out)]
    return acked


class NaiveStore(Store):
    """Read, decide, write without a compare: what the guard exists to prevent.

    A third-party store built on the public protocol only: records and history live
    in a MemoryStore, but :meth:`apply` decides from a stale read and then writes
    blindly over whatever is stored by then.
    """

    def __init__(self) -> None:
        self.inner = MemoryStore(audit=True)

    def create(self, key: Any, status: str, token: str | None = None) -> Record:
        return self.inner.create(key, status, token)

    def get(self, key: Any) -> Record:
        return self.inner.get(key)

    def compare_and_set(
        self,
        key: Any,
        expected: str,
        target: str,
        expected_version: int | None = None,
        token: str | None = None,
    ) -> Applied | Rejected:
        return self.inner.compare_and_set(key, expected, target, expected_version, token)

    def history(self, key: Any) -> list[AuditEntry]:
        return self.inner.history(key)

    def apply(self, key: Any, moves: Any, token: Any = None, event: Any = None) -> Any:
        import time

        current = self.inner.get(key)  # the read ...
        time.sleep(0.0005)  # ... the window ...
        target = moves.get(current.status)
        if target is None:
            return Rejected(current)
        while True:  # ... and a blind write over whatever is there now
            latest = self.inner.get(key)
            version = latest.version + 1
            if self.inner.swap(key, latest, Record(target, version, token), event):
                return Applied(current.status, target, version)


def test_the_race_check_catches_a_naive_store(glance: Any) -> None:
    store = NaiveStore()
    guard = Guard(glance, store, CONFIG, tokens=True)
    for key in KEYS:
        guard.create(key)
    acked: list[Committed] = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(200):
            done = one_step(guard, rng)
            if done is not None:
                acked.append(done)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with pytest.raises(AssertionError, match=r"chain broken|illegal step"):
        check_histories(glance, store, acked)
