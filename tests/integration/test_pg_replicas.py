"""PostgreSQL with a hot standby: decisions read on the replica, writes on the primary, and a
stalled synchronous standby (issue 14).

Needs ``STATUSGUARD_TEST_PG_PRIMARY_URL`` and ``STATUSGUARD_TEST_PG_STANDBY_URL``
(``.ci/cluster/pg-standby.sh env``) and the script itself for ``sync`` and ``stall``. Each
test prints what it injected, what the callers saw and what the servers hold.
"""

from __future__ import annotations

import contextlib
import random
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from statusguard import Guard, IllegalTransition, SQLStore, TransitionConflict
from statusguard.errors import StoreUnavailable
from tests.integration._galera import figures  # noqa: F401 (autouse: records the figures)
from tests.integration._history import FLAGS, check, node_state
from tests.integration._reliab_db import pg_pair_urls, unique_table
from tests.integration._soak_worker import CONFIG, FACTS

pytestmark = pytest.mark.timeout(300)
SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "cluster" / "pg-standby.sh"
KEYS = ["hot-1", "hot-2"]
#: queued <-> saving: every second step brings a status back, what ABA needs
CYCLE = ("upload_started", "upload_failed")


def pair(*args: str) -> str:
    done = subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=180, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"pg-standby.sh {' '.join(args)} failed: {done.stdout}{done.stderr}")
    return (done.stdout + done.stderr).strip()


@pytest.fixture
def urls() -> tuple[str, str]:
    return pg_pair_urls()


def _store(primary: str, table: str, audit: str, **options: Any) -> SQLStore:
    return SQLStore(primary, table, version="version", token="token", audit=audit, **options)


@pytest.mark.parametrize("mode", ["fire", "move_versioned", "move_expected"])
def test_decisions_read_on_the_standby(urls: tuple[str, str], glance: Any, mode: str) -> None:
    """6 threads decide on a status read on the async standby (``read_engine``), and write
    on the primary. ``fire`` and ``move(expected, expected_version)`` never commit a step
    decided on a stale read; ``move(expected)`` alone does (ABA: the status went away and
    came back, the version did not)."""
    primary, standby = urls
    table, audit = unique_table("sg_galera_pg"), unique_table("sg_galera_pga")
    store = _store(primary, table, audit, read_engine=standby)
    store.create_schema()
    counts: Counter[str] = Counter()
    acks: list[list[Any]] = []
    lock = threading.Lock()
    try:
        guard: Guard[Any, Any] = Guard(glance, store, CONFIG, tokens=True)
        for key in KEYS:
            guard.create(key)

        def worker(seed: int) -> None:
            rng = random.Random(seed)
            for _ in range(500):
                key = rng.choice(KEYS)
                rec = store.get(key)  # on the standby
                events = [e for e in glance.allowed_events(rec.status, FLAGS) if e in CYCLE]
                event = rng.choice(events)
                target = str(glance.next(rec.status, event, FLAGS))
                try:
                    if mode == "fire":
                        done = guard.fire(key, event, FACTS)
                    elif mode == "move_versioned":
                        done = guard.move(
                            key, target, rec.status, expected_version=rec.version, facts=FACTS
                        )
                    else:
                        done = guard.move(key, target, rec.status, facts=FACTS)
                except IllegalTransition:
                    with lock:
                        counts["refused_illegal"] += 1
                    continue
                except TransitionConflict:
                    with lock:
                        counts["refused_conflict"] += 1
                    continue
                if done.noop:  # accepted without a change (the soak worker's rule): stale
                    with lock:
                        counts["stale"] += 1
                    continue
                with lock:
                    counts["commits"] += 1
                    if done.version != rec.version + 1:  # decided on an older version
                        moved = (
                            "applied_to_a_newer_version"
                            if mode == "fire"
                            else "stale_decision_committed"
                        )
                        counts[moved] += 1
                    acks.append([key, done.source, done.target, done.version, done.token])

        started = time.monotonic()
        threads = [threading.Thread(target=worker, args=(s,)) for s in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(240)
        wall = time.monotonic() - started
        verdict = check(glance, node_state(primary, table, audit, KEYS), acks)
    finally:
        store.drop_schema()
        store.dispose()
    print(
        f"[pg standby reads, {mode}] 6 threads x 500 attempts, reads on the standby, writes on "
        f"the primary: {dict(counts)} in {wall:.1f} s | primary: {verdict.summary()}"
    )
    assert verdict.clean(), verdict.summary()
    assert counts["commits"] > 0
    if mode == "move_expected":
        assert counts["stale_decision_committed"] > 0, "no ABA: the standby was never stale"
    elif mode == "move_versioned":
        assert counts["stale_decision_committed"] == 0
    # fire: the event is applied to the primary's status in one UPDATE, so a stale read
    # can only make it refuse or commit a legal step from where the row really was


def test_a_write_sent_to_the_standby_is_refused(urls: tuple[str, str], glance: Any) -> None:
    """A store pointed at the standby: SQLSTATE 25006, nothing ran, ``committed=False``."""
    primary, standby = urls
    table, audit = unique_table("sg_galera_pg"), unique_table("sg_galera_pga")
    setup = _store(primary, table, audit)
    setup.create_schema()
    try:
        Guard(glance, setup, CONFIG, tokens=True).create("img")
        on_standby = _store(standby, table, audit)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the standby has the table and the row
            try:
                on_standby.get("img")
                break
            except Exception:
                time.sleep(0.1)
        with pytest.raises(StoreUnavailable) as seen:
            Guard(glance, on_standby, CONFIG, tokens=True).fire("img", "upload_started")
        on_standby.dispose()
        print(f"[pg standby write] caller saw: committed={seen.value.committed}: {seen.value}")
        assert seen.value.committed is False
        assert "25006" in str(seen.value)
    finally:
        setup.drop_schema()
        setup.dispose()


def test_a_stalled_synchronous_standby_ends_at_the_deadline(
    urls: tuple[str, str], glance: Any
) -> None:
    """With ``synchronous_commit = remote_apply`` and the standby's WAL receiver stopped, the
    COMMIT waits without limit (lock and statement timeouts do not bound it). The store's
    ``write_timeout`` cancels the wait: ``StoreUnavailable(committed=None)`` after 2 s (before,
    ``fire`` blocked until the standby came back). The primary has the step at once, the
    standby once it resumes, and the attempt's token then settles it as committed."""
    primary, standby = urls
    table, audit = unique_table("sg_galera_pg"), unique_table("sg_galera_pga")
    setup = _store(primary, table, audit)
    setup.create_schema()
    stalled = False
    try:
        synced = pair("sync", "on")
        store = _store(primary, table, audit, write_timeout=2.0)
        tokens: list[str | None] = []

        guard: Guard[Any, Any] = Guard(glance, store, CONFIG, tokens=True)
        guard.create("img")
        real_apply = store.apply

        def apply(key: Any, moves: Any, token: Any = None, event: Any = None) -> Any:
            tokens.append(token)
            return real_apply(key, moves, token, event)

        store.apply = apply  # type: ignore[method-assign]
        injected = pair("stall")
        stalled = True
        outcome: list[BaseException | object] = []

        def fire() -> None:
            try:
                outcome.append(guard.fire("img", "upload_started"))
            except BaseException as exc:  # reported below
                outcome.append(exc)

        started = time.monotonic()
        t = threading.Thread(target=fire, daemon=True)
        t.start()
        t.join(15)
        took = time.monotonic() - started
        on_primary = node_state(primary, table, audit, ["img"])
        standby_before = node_state(standby, table, audit, ["img"])
        resumed = pair("resume")
        stalled = False
        t.join(30)
        token = tokens[-1] if tokens else None
        settled = False
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not settled:
            held = node_state(standby, table, audit, ["img"])
            settled = any(h[4] == token for h in held["history"]["img"])
            time.sleep(0.1)
        store.dispose()
        seen = outcome[0] if outcome else "still waiting"
        print(
            f"[pg sync standby stalled] injected: {synced}; {injected} | caller saw after "
            f"{took:.2f} s: {type(seen).__name__}: {seen} | primary: "
            f"{on_primary['rows']} | standby before resume: {standby_before['rows']} | "
            f"{resumed}; token {token} on the standby after resume: {settled}"
        )
        assert isinstance(seen, StoreUnavailable), f"fire did not end at the deadline: {seen}"
        assert seen.committed is None
        assert took < 10
        assert on_primary["rows"]["img"][:2] == ("saving", 1)  # committed on the primary
        assert standby_before["rows"]["img"][:2] == ("queued", 0)  # not on the standby
        assert settled, "the token never reached the standby"
    finally:
        if stalled:
            pair("resume")
        pair("sync", "off")
        setup.drop_schema()
        setup.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("sync", [False, True], ids=["async-lagging", "sync-remote_apply"])
def test_failover_to_the_standby(urls: tuple[str, str], glance: Any, sync: bool) -> None:
    """What a failover keeps of the acknowledged transitions: the primary crashes
    (immediate stop) right after 12 acknowledged fires and the standby is promoted.

    Asynchronous, with the primary's WAL sender stopped (SIGSTOP) before the fires (a
    standby lagging behind): acknowledged transitions are lost, and what survives is a
    legal prefix. Synchronous (``remote_apply``): none is lost. The pair is rebuilt after.
    """
    import os
    import signal

    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    primary, standby = urls
    table, audit = unique_table("sg_galera_pg"), unique_table("sg_galera_pga")
    setup = _store(primary, table, audit)
    setup.create_schema()
    acks: list[list[Any]] = []
    steps: list[str] = []
    sender: int | None = None
    try:
        if sync:
            steps.append(pair("sync", "on"))
        guard: Guard[Any, Any] = Guard(glance, setup, CONFIG, tokens=True)
        guard.create("img")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the standby has the table and the row
            try:
                if node_state(standby, table, audit, ["img"])["rows"].get("img"):
                    break
            except Exception:
                pass
            time.sleep(0.1)
        if not sync:
            probe = create_engine(primary, poolclass=NullPool)
            with probe.connect() as c:
                sender = int(c.execute(text("SELECT pid FROM pg_stat_replication")).scalar_one())
            probe.dispose()
            os.kill(sender, signal.SIGSTOP)
            steps.append(f"SIGSTOP to the primary's WAL sender (PID {sender})")
        for _ in range(6):
            for event in CYCLE:
                done = guard.fire("img", event)
                acks.append(["img", done.source, done.target, done.version, done.token])
        setup.dispose()
        steps.append(pair("crash-primary"))
        steps.append(pair("promote"))
        held = node_state(standby, table, audit, ["img"])
        verdict = check(glance, held, [a for a in acks if a[3] <= len(held["history"]["img"])])
        kept = {h[4] for h in held["history"]["img"]}
        lost = [a for a in acks if a[4] not in kept]
        print(
            f"[pg failover, {'sync' if sync else 'async, standby lagging'}] injected: "
            f"{'; '.join(steps)} | acknowledged before the crash: {len(acks)} | the promoted "
            f"standby holds {held['rows']['img'][:2]} with {len(kept)} audit rows: "
            f"{len(lost)} of {len(acks)} acknowledged transitions lost | {verdict.summary()}"
        )
        assert verdict.clean(), verdict.summary()  # what survives is a legal prefix
        if sync:
            assert lost == []
        else:
            assert lost, "the lagging async standby lost nothing: the fault did not happen"
    finally:
        if sender is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(sender, signal.SIGCONT)
        pair("stop")
        pair("start")
