"""Faults on a 3-node Galera cluster: failover behind a load balancer, a partitioned node, a kill.

Needs ``STATUSGUARD_TEST_GALERA_URLS`` and ``.ci/cluster/galera.sh`` (its fault helpers).
Each test prints what was injected, what the caller saw and what every node holds after,
and checks: no illegal step, no acknowledged step lost, no false ``committed=False`` (nor
``True``), every node identical. Every fault is undone before the test ends (a healed or
restarted node is Synced again).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from statusguard import Guard
from statusguard.errors import StoreUnavailable
from tests.integration._galera import (
    brief,
    cluster,
    figures,  # noqa: F401 (autouse: records the figures)
    make_store,
    race,
    raw,
    report,
    states,
    tables,
)
from tests.integration._proxy import LoopbackProxy
from tests.integration._reliab_db import galera_urls

pytestmark = pytest.mark.timeout(300)
CONFIG = {"delayed_delete": True}


@pytest.fixture
def urls() -> list[str]:
    return galera_urls()


def _port(url: str) -> int:
    from sqlalchemy.engine import make_url

    return int(make_url(url).port or 3306)


def _via(url: str, port: int) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


def _session_id(store: Any) -> int:
    with store.engine.connect() as conn:
        store._conn.prepare(conn)
        session = store._conn.session_of(conn)
    assert session is not None
    return int(session.id)


def _victim_with_id(url: str, wanted: int, limit: int = 3000) -> Any:
    """A raw session on ``url``'s node whose CONNECTION_ID() is ``wanted`` (or None)."""
    for _ in range(limit):
        conn = raw(url)
        with conn.cursor() as cur:
            cur.execute("SELECT CONNECTION_ID()")
            got = int(cur.fetchone()[0])
        if got == wanted:
            return conn
        conn.close()
        if got > wanted:
            return None
    return None


def _burn_ids(url: str, until: int, limit: int = 3000) -> None:
    """Open and close sessions on ``url``'s node until its next id is past ``until``."""
    for _ in range(limit):
        conn = raw(url)
        with conn.cursor() as cur:
            cur.execute("SELECT CONNECTION_ID()")
            got = int(cur.fetchone()[0])
        conn.close()
        if got >= until:
            return


def _guard_and_victim(proxy_url: str, node1: str, node2: str, table: str, audit: str) -> Any:
    """A guard through the proxy (on node 1) whose session id is also a live session on node 2.

    Ids are per server: the lost session's id names someone else's session on the node a
    load balancer fails over to. This lines the two up so a KILL sent to the wrong node
    would hit that session.
    """
    for _ in range(4):
        store = make_store(proxy_url, table, audit, lock_timeout=5.0)
        sid = _session_id(store)
        victim = _victim_with_id(node2, sid)
        if victim is not None:
            return store, sid, victim
        store.dispose()
        with raw(node2) as c, c.cursor() as cur:
            cur.execute("SELECT CONNECTION_ID()")
            ahead = int(cur.fetchone()[0])
        _burn_ids(node1, ahead + 2)
    pytest.fail("could not line up a session id on node 2 with the guard's on node 1")


def test_failover_with_a_lost_commit_reply(urls: list[str], glance: Any) -> None:
    """Issue 14, defect 2. The COMMIT reaches node 1, its reply is lost, the load balancer
    fails over to node 2, which lags (FLUSH TABLES WITH READ LOCK pauses its applier for
    3 s), and node 2 has a live session with the lost session's id.

    Before the fix the settle step looked that id up on node 2, KILLed the unrelated
    session and, reading node 2's stale audit table, told the caller ``committed=False``
    for a transition every node holds. Now: node 2's session lives, and the causal settle
    read waits for node 2 to catch up and answers ``committed=True``.
    """
    table, audit = tables()
    setup = make_store(urls[0], table, audit)
    setup.create_schema()
    lagging = None
    try:
        with LoopbackProxy("127.0.0.1", _port(urls[0])) as proxy:
            store, sid, victim = _guard_and_victim(
                _via(urls[0], proxy.port), urls[0], urls[1], table, audit
            )
            try:
                guard: Guard[Any, Any] = Guard(glance, store, CONFIG, tokens=True)
                guard.create("img")
                lagging = raw(urls[1])
                with lagging.cursor() as cur:
                    cur.execute("FLUSH TABLES WITH READ LOCK")
                unlock = threading.Timer(3.0, lambda: lagging.cursor().execute("UNLOCK TABLES"))
                unlock.start()
                proxy.cut_after(b"COMMIT", fail_over=("127.0.0.1", _port(urls[1])))
                started = time.monotonic()
                with pytest.raises(StoreUnavailable) as seen:
                    guard.fire("img", "upload_started")
                took = time.monotonic() - started
                unlock.join()
                assert proxy.wait_cut(1)
                with victim.cursor() as cur:  # the unrelated session on node 2 still works
                    cur.execute("SELECT 1")
                    victim_alive = cur.fetchone() == (1,)
            finally:
                store.dispose()
                victim.close()
        held = states(urls, table, audit, ["img"])
        print(
            f"[galera fault: failover, lost COMMIT reply] injected: COMMIT forwarded to node 1 "
            f"(session id {sid}), reply cut, proxy failed over to node 2 (applier paused 3 s by "
            f"FTWRL; a live session {sid} there) | caller saw after {took:.2f} s: "
            f"committed={seen.value.committed}: {seen.value} | node 2's session {sid} alive: "
            f"{victim_alive} | "
            + " | ".join(f"node {i + 1}: {brief(s)}" for i, s in enumerate(held))
        )
        assert all(s == held[0] for s in held), "the nodes differ"
        assert held[0]["rows"]["img"][:2] == ("saving", 1)  # committed on every node
        assert seen.value.committed is not False, "a false 'nothing was committed'"
        assert seen.value.committed is True  # the causal settle read proves it
        assert victim_alive, "the settle step killed an unrelated session on node 2"
    finally:
        if lagging is not None:
            lagging.close()
        setup.drop_schema()
        setup.dispose()


def test_failover_before_the_commit(urls: list[str], glance: Any) -> None:
    """The load balancer fails over mid-transition before the COMMIT is sent: node 1 rolls
    the transaction back. The settle connection reaches node 2, where the lost session
    cannot be ended or looked up, so the honest answer is ``None``; a re-read and a retry
    through node 2 then commit the step once."""
    table, audit = tables()
    setup = make_store(urls[0], table, audit)
    setup.create_schema()
    try:
        with LoopbackProxy("127.0.0.1", _port(urls[0])) as proxy:
            store = make_store(_via(urls[0], proxy.port), table, audit)
            try:
                guard: Guard[Any, Any] = Guard(glance, store, CONFIG, tokens=True)
                guard.create("img")
                proxy.cut_before(b"COMMIT", fail_over=("127.0.0.1", _port(urls[1])))
                with pytest.raises(StoreUnavailable) as seen:
                    guard.fire("img", "upload_started")
                after = str(guard.status("img"))  # through node 2 now
                retried = guard.fire("img", "upload_started") if after == "queued" else None
            finally:
                store.dispose()
        held = states(urls, table, audit, ["img"])
        print(
            "[galera fault: failover before COMMIT] injected: the COMMIT dropped, connection cut, "
            f"proxy failed over to node 2 | caller saw: committed={seen.value.committed}: "
            f"{seen.value}; re-read on node 2: {after!r}; retry: {retried} | "
            + " | ".join(f"node {i + 1}: {brief(s)}" for i, s in enumerate(held))
        )
        assert seen.value.committed is None  # node 1's session cannot be asked from node 2
        assert after == "queued"
        assert retried is not None
        assert all(s == held[0] for s in held)
        assert held[0]["rows"]["img"][:2] == ("saving", 1)
        assert len(held[0]["history"]["img"]) == 1  # once, by the retry
    finally:
        setup.drop_schema()
        setup.dispose()


def test_a_partitioned_node_refuses_and_rejoins(urls: list[str], glance: Any) -> None:
    """Issue 14, defect 3 on the cluster. Node 3 is isolated (non-Primary): it answers
    errno 1047 (SQLSTATE 08S01) before running anything, which the guard reports as
    ``committed=False`` (before the fix: a lost connection, ``committed=None``). Node 1
    keeps committing; after the heal node 3 holds the same and takes writes again."""
    table, audit = tables()
    one = make_store(urls[0], table, audit)
    three = make_store(urls[2], table, audit)
    one.create_schema()
    healed = False
    try:
        g1: Guard[Any, Any] = Guard(glance, one, CONFIG, tokens=True)
        g3: Guard[Any, Any] = Guard(glance, three, CONFIG, tokens=True)
        g1.create("img")
        g3.status("img")  # node 3's pooled session exists before the partition
        injected = cluster("partition", "3")
        seen: list[StoreUnavailable] = []
        try:
            for call in (lambda: g3.fire("img", "upload_started"), lambda: g3.status("img")):
                with pytest.raises(StoreUnavailable) as refused:
                    call()
                seen.append(refused.value)
            on_one = g1.fire("img", "upload_started")  # the Primary component goes on
        finally:
            healed_msg = cluster("heal", "3")
            healed = True
        after = g3.fire("img", "upload_succeeded")  # node 3 takes writes again
        held = states(urls, table, audit, ["img"])
        saw = [f"committed={e.committed}: {e}" for e in seen]
        print(
            f"[galera fault: partition] injected: {injected}; {healed_msg} | caller on node 3 saw: "
            f"{saw}; node 1 committed {on_one.source}->{on_one.target}; node 3 after the heal: "
            f"{after.source}->{after.target} | "
            + " | ".join(f"node {i + 1}: {brief(s)}" for i, s in enumerate(held))
        )
        assert [e.committed for e in seen] == [False, False]
        assert all("1047" in str(e) for e in seen)
        assert all(s == held[0] for s in held)
        assert held[0]["rows"]["img"][:2] == ("active", 2)
    finally:
        if not healed:
            cluster("heal", "3")
        three.dispose()
        one.drop_schema()
        one.dispose()


def test_a_node_killed_during_a_race(tmp_path: Path, urls: list[str]) -> None:
    """6 processes race over the three nodes; node 3 is SIGKILLed 1 s in and restarted after.

    The workers on node 3 see lost connections (``committed=None``: the settle connection
    cannot reach node 3) and refused connections (``committed=False``); the others see the
    cluster stall while it evicts node 3, then go on. After node 3 rejoins (IST), every node
    holds the same legal histories with every acknowledged step.
    """
    workers = 6
    injected: list[str] = []

    def kill(procs: Any) -> str:
        time.sleep(1.0)
        injected.append(cluster("kill", "3"))
        return injected[-1]

    restarted: list[str] = []

    def restart() -> str:
        restarted.append(cluster("restart", "3", timeout=240))
        return restarted[-1]

    try:
        out = race(
            tmp_path,
            urls,
            mode="fire",
            workers=workers,
            attempts=300,
            during=kill,
            after=restart,
            label="kill",
        )
    finally:
        if injected and not restarted:
            restart()
    report("node killed", out, workers)
    print(
        f"[galera fault: node killed] injected: {injected}; {restarted} | caller saw: "
        f"{ {k: n for k, n in out['totals'].items() if k.startswith('unavailable')} }, e.g. "
        f"{[u[3][:160] for u in out['unavailable'][:2]]} | "
        + " | ".join(f"node {i + 1}: {v.summary()}" for i, v in enumerate(out["verdicts"]))
    )
    for v in out["verdicts"]:
        assert v.clean(), v.summary()
    assert out["identical"], "the nodes differ after node 3 rejoined"
    assert out["totals"]["commits"] > 0
    assert sum(n for k, n in out["totals"].items() if k.startswith("unavailable")) > 0
