"""Measure what the guard needs to know about the CI cluster servers (figures for README.md).

Not part of CI: run it by hand against running servers (``galera.sh start``,
``pg-standby.sh start`` and their ``env`` exported). It injects faults through the two scripts
(partition, kill, restart, stall, sync on/off) and always undoes them. Sections:

- ``galera``: how a client detects a Galera node and which server it is on; the errors (errno,
  SQLSTATE) of a partitioned, killed, full or refusing node and of a certification conflict;
  what ``wsrep_sync_wait=3`` costs and what it prevents.
- ``pg``: how a client detects a standby and which server it is on; the standby's refusal; how
  stale an async standby reads; how a stalled synchronous standby blocks a COMMIT and what
  bounds that wait.
"""

# The probe's SQL names tables it generated itself (sg_probe_<hex>); S608 does not apply.
# ruff: noqa: S608

from __future__ import annotations

import argparse
import os
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
import pymysql  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

HERE = Path(__file__).resolve().parent
GALERA = HERE / "galera.sh"
PG = HERE / "pg-standby.sh"
N = 500  # bounded repetitions of each measured read or write


def out(msg: str) -> None:
    print(msg, flush=True)


def script(path: Path, *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - the scripts next to this file
        [str(path), *args], capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{path.name} {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def outcome(fn: Callable[[], Any]) -> str:
    """Run fn; describe its result or its error as errno/SQLSTATE, with the time it took."""
    t0 = time.perf_counter()
    try:
        value = fn()
    except pymysql.MySQLError as exc:
        errno = exc.args[0] if exc.args else None
        text = str(exc.args[1]) if len(exc.args) > 1 else ""
        sqlstate = getattr(exc, "sqlstate", None)
        return f"{type(exc).__name__} errno {errno} SQLSTATE {sqlstate} {text!r} ({_ms(t0)})"
    except psycopg.Error as exc:
        return f"{type(exc).__name__} SQLSTATE {exc.sqlstate} {str(exc).strip()!r} ({_ms(t0)})"
    return f"ok {value!r} ({_ms(t0)})"


def _ms(t0: float) -> str:
    return f"{(time.perf_counter() - t0) * 1000:.1f} ms"


def q(conn: Any, sql: str, args: Any = None) -> Any:
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall() if cur.description else cur.rowcount


def pct(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[int(len(values) * 0.95) - 1]
    return f"median {statistics.median(values):.2f} ms, p95 {p95:.2f} ms"


# --- Galera ---------------------------------------------------------------------------------


def my(url: str, **kw: Any) -> pymysql.connections.Connection[Any]:
    u = make_url(url)
    return pymysql.connect(
        host=u.host,
        port=u.port or 3306,
        user=u.username,
        password=u.password or "",
        database=u.database,
        autocommit=True,
        connect_timeout=5,
        **kw,
    )


def galera(urls: list[str]) -> None:
    table = f"sg_probe_{secrets.token_hex(3)}"
    with closing(my(urls[0])) as c1:
        q(c1, f"CREATE TABLE {table} (k INT PRIMARY KEY, v INT)")
        q(c1, f"INSERT INTO {table} VALUES (1, 0), (2, 0), (3, 0)")
    try:
        galera_identity(urls)
        galera_causal(urls, table)
        galera_conflict(urls, table)
        galera_refusals(urls)
        galera_abandoned(urls, table)
        galera_partition(urls, table)
        galera_kill(urls, table)
    finally:
        with closing(my(urls[0])) as c1:
            q(c1, f"DROP TABLE IF EXISTS {table}")


def galera_identity(urls: list[str]) -> None:
    out("## Galera: detection and server identity")
    system = os.environ.get(
        "STATUSGUARD_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test"
    )
    for name, url in [
        ("node 1", urls[0]),
        ("node 2", urls[1]),
        ("node 3", urls[2]),
        ("system", system),
    ]:
        with closing(my(url)) as c:
            row = q(
                c,
                "SELECT @@GLOBAL.wsrep_on, @@wsrep_provider, @@hostname, @@port, @@server_id,"
                " @@wsrep_node_name, @@wsrep_node_incoming_address, CONNECTION_ID()",
            )[0]
            st = dict(
                q(
                    c,
                    "SHOW STATUS WHERE Variable_name IN ('wsrep_ready', 'wsrep_cluster_size',"
                    " 'wsrep_cluster_status', 'wsrep_cluster_state_uuid', 'wsrep_gcomm_uuid',"
                    " 'wsrep_local_index', 'wsrep_local_state_comment')",
                )
            )
            n_wsrep = len(q(c, "SHOW STATUS LIKE 'wsrep_%'"))
            out(
                f"{name}: wsrep_on={row[0]} provider={row[1]} hostname={row[2]} port={row[3]} "
                f"server_id={row[4]} node_name={row[5]} incoming={row[6]} connection_id={row[7]}"
            )
            out(f"  status ({n_wsrep} wsrep_% rows): {st}")
        with closing(my(url)) as c:
            out(f"  SELECT @@server_uuid: {outcome(partial(q, c, 'SELECT @@server_uuid'))}")
    lists = []
    for url in urls:
        with closing(my(url)) as c:
            lists.append(
                {
                    r[0]: r[1:]
                    for r in q(c, "SELECT ID, USER, COMMAND FROM information_schema.PROCESSLIST")
                }
            )
    common = sorted(set(lists[0]) & set(lists[1]) & set(lists[2]))
    out(
        f"PROCESSLIST ids present on all three nodes at once: {common}; "
        f"first ones as (user, command) per node: {[[d[i] for d in lists] for i in common[:3]]}"
    )


def galera_causal(urls: list[str], table: str) -> None:
    out("## Galera: wsrep_sync_wait=3 (cost of a read, staleness without it)")
    with closing(my(urls[0])) as w, closing(my(urls[2])) as r:
        t0 = time.perf_counter()
        for _ in range(N):
            q(r, "SET SESSION wsrep_sync_wait = 3")
        per_set = (time.perf_counter() - t0) / N * 1000
        out(f"SET SESSION wsrep_sync_wait = 3 round trip: {per_set:.2f} ms")

        def reads(mode: int) -> list[float]:
            q(r, f"SET SESSION wsrep_sync_wait = {mode}")
            times = []
            for _ in range(N):
                t = time.perf_counter()
                q(r, f"SELECT v FROM {table} WHERE k = 1")
                times.append((time.perf_counter() - t) * 1000)
            return times

        for label in ("idle cluster", "writer on node 1"):
            stop = threading.Event()
            writer = threading.Thread(target=_write_loop, args=(urls[0], table, stop), daemon=True)
            if label != "idle cluster":
                writer.start()
            try:
                for mode in (0, 3, 0, 3):  # interleaved against drift on a busy machine
                    out(
                        f"{label}: point read on node 3, wsrep_sync_wait={mode}: {pct(reads(mode))}"
                    )
            finally:
                stop.set()
                if writer.is_alive():
                    writer.join(10)
        for mode in (0, 3):
            q(r, f"SET SESSION wsrep_sync_wait = {mode}")
            stale = 0
            for i in range(1, N + 1):
                q(w, f"UPDATE {table} SET v = %s WHERE k = 1", (i,))
                stale += q(r, f"SELECT v FROM {table} WHERE k = 1")[0][0] != i
            out(
                f"acknowledged UPDATE on node 1, then read on node 3, wsrep_sync_wait={mode}: "
                f"{stale} of {N} stale"
            )


def _write_loop(url: str, table: str, stop: threading.Event) -> None:
    with closing(my(url)) as c:
        for i in range(100_000):
            if stop.is_set():
                return
            q(c, f"UPDATE {table} SET v = %s WHERE k = 2", (i,))


def galera_conflict(urls: list[str], table: str) -> None:
    out("## Galera: certification conflict between two nodes")
    with closing(my(urls[0])) as a, closing(my(urls[1])) as b:
        q(a, "BEGIN")
        q(b, "BEGIN")
        out(f"node 1 UPDATE: {outcome(lambda: q(a, f'UPDATE {table} SET v = -1 WHERE k = 1'))}")
        out(f"node 2 UPDATE: {outcome(lambda: q(b, f'UPDATE {table} SET v = -2 WHERE k = 1'))}")
        out(f"node 1 COMMIT: {outcome(a.commit)}")
        out(f"node 2 COMMIT: {outcome(b.commit)}")


def galera_refusals(urls: list[str]) -> None:
    out("## Galera: refusals before anything ran")
    u = make_url(urls[2])
    wrong = str(u.set(password="wrong"))  # noqa: S106 - deliberately wrong
    out("wrong password: " + outcome(lambda: my(wrong).close()))
    user = f"sg_probe_{secrets.token_hex(2)}"
    with closing(my(urls[2])) as admin:
        q(admin, f"CREATE USER '{user}'@'127.0.0.1'")
        q(admin, f"GRANT SELECT ON test.* TO '{user}'@'127.0.0.1'")
        before = q(admin, "SELECT @@GLOBAL.max_connections")[0][0]
        held: list[Any] = []
        try:
            q(admin, "SET GLOBAL max_connections = 3")
            err = ""
            for _ in range(10):
                err = outcome(lambda: held.append(my(str(u.set(username=user)))))
                if not err.startswith("ok"):
                    break
            out(f"max_connections=3, connection {len(held) + 1} of a non-admin user: {err}")
        finally:
            q(admin, f"SET GLOBAL max_connections = {before}")
            for c in held:
                c.close()
            q(admin, f"DROP USER '{user}'@'127.0.0.1'")


def galera_abandoned(urls: list[str], table: str) -> None:
    out("## Galera: a statement whose client gave up (read timeout) still commits later")
    with closing(my(urls[2])) as holder, closing(my(urls[2])) as admin:
        q(holder, "BEGIN")
        q(holder, f"UPDATE {table} SET v = 40 WHERE k = 3")
        w = my(urls[2], read_timeout=3)
        wid = w.thread_id()
        res = outcome(lambda: q(w, f"UPDATE {table} SET v = 41 WHERE k = 3"))
        out(f"UPDATE behind a row lock, read_timeout=3: {res}")
        w.close()
        ps = "SELECT COMMAND, STATE FROM information_schema.PROCESSLIST WHERE ID = %s"
        out(f"  its server thread {wid} on node 3 after the client closed: {q(admin, ps, (wid,))}")
        q(holder, "ROLLBACK")
        time.sleep(0.5)
        with closing(my(urls[0])) as c1:
            q(c1, "SET SESSION wsrep_sync_wait = 3")
            v = q(c1, f"SELECT v FROM {table} WHERE k = 3")[0][0]
        out(f"  lock released: node 1 reads v = {v} (41 = the abandoned UPDATE committed)")
        out(f"  thread {wid} now: {q(admin, ps, (wid,))}")


def _status(conn: Any, name: str) -> str:
    return str(dict(q(conn, "SHOW STATUS LIKE %s", (name,))).get(name, ""))


def galera_partition(urls: list[str], table: str) -> None:
    out("## Galera: node 3 partitioned (gmcast.isolate=1)")
    before = my(urls[2], read_timeout=60)
    open_trx = my(urls[2], read_timeout=60)
    q(open_trx, "BEGIN")
    q(open_trx, f"UPDATE {table} SET v = 30 WHERE k = 1")
    during3, during1 = my(urls[2], read_timeout=60), my(urls[0], read_timeout=60)
    t0 = time.perf_counter()
    script(GALERA, "sql", "3", "SET GLOBAL wsrep_provider_options='gmcast.isolate=1'")
    res: dict[str, str] = {}
    writers = [
        threading.Thread(
            target=lambda: res.__setitem__(
                "3", outcome(lambda: q(during3, f"UPDATE {table} SET v = 31 WHERE k = 2"))
            ),
            daemon=True,
        ),
        threading.Thread(
            target=lambda: res.__setitem__(
                "1", outcome(lambda: q(during1, f"UPDATE {table} SET v = 11 WHERE k = 1"))
            ),
            daemon=True,
        ),
    ]
    for t in writers:
        t.start()
    try:
        deadline = time.monotonic() + 60
        while _status(before, "wsrep_cluster_status") == "Primary" and time.monotonic() < deadline:
            time.sleep(0.05)
        out(f"node 3 non-Primary {time.perf_counter() - t0:.1f} s after the isolate")
        for t in writers:
            t.join(70)
        out(f"autocommit UPDATE (another row) on node 3 sent right after the isolate: {res['3']}")
        out(f"autocommit UPDATE on node 1 sent right after the isolate: {res['1']}")
        with closing(my(urls[0])) as c1:
            out(f"node 1 cluster size {_status(c1, 'wsrep_cluster_size')}")
        out(f"new connection to node 3: {outcome(lambda: my(urls[2]).close())}")
        for sql in (
            f"SELECT v FROM {table} WHERE k = 1",
            "SELECT 1",
            "SELECT @@GLOBAL.wsrep_on, @@port",
            "SHOW STATUS LIKE 'wsrep_cluster_status'",
            f"UPDATE {table} SET v = 32 WHERE k = 1",
            "SET SESSION wsrep_sync_wait = 3",
            f"SELECT v FROM {table} WHERE k = 1",
        ):
            out(f"  {sql}: {outcome(partial(q, before, sql))}")
        out(f"  COMMIT of a transaction opened before the partition: {outcome(open_trx.commit)}")
    finally:
        out(script(GALERA, "heal", "3"))
        for c in (before, open_trx, during1, during3):
            c.close()
    with closing(my(urls[0])) as c1, closing(my(urls[2])) as c3:
        q(c3, "SET SESSION wsrep_sync_wait = 3")
        rows = f"SELECT k, v FROM {table} ORDER BY k"
        out(f"after heal: node 1 {q(c1, rows)}, node 3 {q(c3, rows)}")


def galera_kill(urls: list[str], table: str) -> None:
    out("## Galera: node 2 killed (SIGKILL) and restarted")
    victim = my(urls[1], read_timeout=30)
    with closing(my(urls[0], read_timeout=60)) as c1:
        out(script(GALERA, "kill", "2"))
        t0 = time.perf_counter()
        out(
            "autocommit UPDATE on node 1 right after the kill: "
            + outcome(lambda: q(c1, f"UPDATE {table} SET v = 20 WHERE k = 1"))
        )
        deadline = time.monotonic() + 60
        size = ""
        while time.monotonic() < deadline:
            size = dict(q(c1, "SHOW STATUS LIKE 'wsrep_cluster_size'")).get(
                "wsrep_cluster_size", ""
            )
            if size == "2":
                break
            time.sleep(0.1)
        out(f"node 1 cluster size {size} {time.perf_counter() - t0:.1f} s after the kill")
        out(f"query on a connection to the killed node: {outcome(lambda: q(victim, 'SELECT 1'))}")
        out(f"new connection to the killed node: {outcome(lambda: my(urls[1]).close())}")
        for i in range(100):
            q(c1, f"UPDATE {table} SET v = %s WHERE k = 1", (100 + i,))
        victim.close()
        out(script(GALERA, "restart", "2"))
    with closing(my(urls[1])) as c2:
        q(c2, "SET SESSION wsrep_sync_wait = 3")
        out(f"node 2 after restart: {q(c2, f'SELECT v FROM {table} WHERE k = 1')} (expected 199)")


# --- PostgreSQL -----------------------------------------------------------------------------


def pg_conn(url: str, **kw: Any) -> psycopg.Connection[Any]:
    u = make_url(url)
    return psycopg.connect(
        host=u.host,
        port=u.port,
        user=u.username,
        dbname=u.database,
        autocommit=True,
        connect_timeout=5,
        **kw,
    )


def pg(primary: str, standby: str) -> None:
    table = f"sg_probe_{secrets.token_hex(3)}"
    with pg_conn(primary) as p:
        q(p, f"CREATE TABLE {table} (k INT PRIMARY KEY, v INT)")
        q(p, f"INSERT INTO {table} VALUES (1, 0)")
    try:
        pg_identity(primary, standby, table)
        pg_staleness(primary, standby, table)
        pg_stalled_sync(primary, standby, table)
    finally:
        with pg_conn(primary) as p:
            q(p, f"DROP TABLE IF EXISTS {table}")


def pg_identity(primary: str, standby: str, table: str) -> None:
    out("## PostgreSQL: detection and server identity")
    for name, url in (("primary", primary), ("standby", standby)):
        with pg_conn(url) as c:
            row = q(
                c,
                "SELECT pg_is_in_recovery(), inet_server_addr(), inet_server_port(),"
                " pg_backend_pid(), (SELECT system_identifier FROM pg_control_system()),"
                " pg_postmaster_start_time(), current_setting('transaction_read_only'),"
                " (SELECT timeline_id FROM pg_control_checkpoint())",
            )[0]
            out(
                f"{name}: in_recovery={row[0]} addr={row[1]} port={row[2]} backend_pid={row[3]} "
                f"system_identifier={row[4]} started={row[5]} transaction_read_only={row[6]} "
                f"timeline={row[7]}"
            )
    with pg_conn(standby) as s:
        out(f"standby UPDATE: {outcome(lambda: q(s, f'UPDATE {table} SET v = 1 WHERE k = 1'))}")
        out(
            "standby SELECT ... FOR UPDATE: "
            + outcome(lambda: q(s, f"SELECT v FROM {table} WHERE k = 1 FOR UPDATE"))
        )
        out(f"standby txid_current(): {outcome(lambda: q(s, 'SELECT txid_current()'))}")


def pg_staleness(primary: str, standby: str, table: str) -> None:
    out("## PostgreSQL: reads on the standby right after an acknowledged commit")
    for mode in ("off", "on"):
        script(PG, "sync", mode)
        with pg_conn(primary) as p, pg_conn(standby) as s:
            stale, commits = 0, []
            for i in range(1, N + 1):
                t = time.perf_counter()
                q(p, f"UPDATE {table} SET v = %s WHERE k = 1", (i,))
                commits.append((time.perf_counter() - t) * 1000)
                stale += q(s, f"SELECT v FROM {table} WHERE k = 1")[0][0] != i
            label = "sync (remote_apply)" if mode == "on" else "async"
            out(f"{label}: {stale} of {N} stale; autocommit UPDATE on the primary {pct(commits)}")
    script(PG, "sync", "off")


@contextmanager
def stalled() -> Iterator[None]:
    script(PG, "sync", "on")
    out(script(PG, "stall"))
    try:
        yield
    finally:
        out(script(PG, "resume"))
        script(PG, "sync", "off")


class Waiter:
    """One statement run in a thread on its own connection, so the probe can watch it wait."""

    def __init__(self, url: str, setup: tuple[str, ...], sql: str, **kw: Any) -> None:
        self.conn = pg_conn(url, **kw)
        self.notices: list[str] = []
        self.conn.add_notice_handler(
            lambda d: self.notices.append(f"{d.severity}: {d.message_primary}")
        )
        for stmt in setup:
            q(self.conn, stmt)
        self.pid = self.conn.info.backend_pid
        self.result: list[str] = []
        self.t0 = time.perf_counter()
        self.thread = threading.Thread(
            target=lambda: self.result.append(outcome(lambda: q(self.conn, sql))), daemon=True
        )
        self.thread.start()

    def waiting_after(self, seconds: float) -> bool:
        self.thread.join(seconds)
        return self.thread.is_alive()

    def cancel(self) -> str:
        t = time.perf_counter()
        self.conn.cancel_safe(timeout=5)
        self.thread.join(10)
        return f"{self.result} ({(time.perf_counter() - t) * 1000:.0f} ms after cancel_safe)"

    def close(self) -> None:
        if self.thread.is_alive():
            self.conn.cancel_safe(timeout=5)
            self.thread.join(10)
        self.conn.close()


def pg_stalled_sync(primary: str, standby: str, table: str) -> None:
    out("## PostgreSQL: a stalled synchronous standby and a COMMIT")
    read = f"SELECT v FROM {table} WHERE k = 1"
    with stalled(), pg_conn(primary) as obs:
        w = Waiter(primary, (), f"UPDATE {table} SET v = 1000 WHERE k = 1")
        try:
            out(f"autocommit UPDATE, no timeout: waiting after 3 s: {w.waiting_after(3)}")
            act = "SELECT state, wait_event_type, wait_event, backend_xid FROM pg_stat_activity"
            row = q(obs, f"{act} WHERE pid = %s", (w.pid,))[0]
            out(f"  its backend in pg_stat_activity: {row[:3]}")
            out(f"  another session reads v = {q(obs, read)[0][0]}")
            xs = "SELECT pg_xact_status(%s::text::xid8)"
            out(f"  pg_xact_status(its xid {row[3]}): {q(obs, xs, (str(row[3]),))[0][0]}")
            q(obs, "SET lock_timeout = '500ms'")
            upd = f"UPDATE {table} SET v = -1 WHERE k = 1"
            out(f"  another session's UPDATE, lock_timeout 500ms: {outcome(lambda: q(obs, upd))}")
            q(obs, "RESET lock_timeout")
            out(f"  conn.cancel_safe(): {w.cancel()}; notices {w.notices}")
            out(f"  then another session reads v = {q(obs, read)[0][0]}")
        finally:
            w.close()

        cases: list[tuple[str, tuple[str, ...], str, dict[str, Any]]] = [
            ("statement_timeout 1s", ("SET statement_timeout = '1s'",), "", {}),
            ("lock_timeout 1s", ("SET lock_timeout = '1s'",), "", {}),
            (
                "idle_in_transaction_session_timeout 1s",
                ("SET idle_in_transaction_session_timeout = '1s'",),
                "",
                {},
            ),
            (
                "explicit BEGIN; UPDATE; then COMMIT with statement_timeout 1s",
                (
                    "SET statement_timeout = '1s'",
                    "BEGIN",
                    f"UPDATE {table} SET v = v + 1 WHERE k = 1",
                ),
                "COMMIT",
                {},
            ),
            (
                "tcp_user_timeout 1000 ms + keepalives 1 s",
                (),
                "",
                {
                    "tcp_user_timeout": 1000,
                    "keepalives": 1,
                    "keepalives_idle": 1,
                    "keepalives_interval": 1,
                    "keepalives_count": 1,
                },
            ),
        ]
        for label, setup, sql, kw in cases:
            w = Waiter(primary, setup, sql or f"UPDATE {table} SET v = v + 1 WHERE k = 1", **kw)
            try:
                waiting = w.waiting_after(4)
                out(
                    f"{label}: waiting after 4 s: {waiting}; then {w.cancel()}; notices {w.notices}"
                )
            finally:
                w.close()

        w = Waiter(primary, (), f"UPDATE {table} SET v = 3000 WHERE k = 1")
        try:
            w.waiting_after(1)
            q(obs, "SELECT pg_terminate_backend(%s)", (w.pid,))
            w.thread.join(10)
            out(
                f"pg_terminate_backend of the waiting backend: client got {w.result}; "
                f"notices {w.notices}; another session reads v = {q(obs, read)[0][0]}"
            )
        finally:
            w.close()

        before = q(obs, read)[0][0]
        child = subprocess.Popen(  # noqa: S603 - this interpreter, a fixed script
            [
                sys.executable,
                "-c",
                (
                    "import psycopg, sys; c = psycopg.connect(sys.argv[1], autocommit=True);"
                    f" c.execute('UPDATE {table} SET v = 5000 WHERE k = 1')"
                ),
                primary.replace("postgresql+psycopg", "postgresql"),
            ]
        )
        time.sleep(2)
        child.kill()
        child.wait(10)
        time.sleep(1)
        sync_rep = "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'"
        out(
            f"client process killed during the wait: backends in SyncRep wait "
            f"{q(obs, sync_rep)[0][0]}; another session reads v = {q(obs, read)[0][0]} "
            f"(was {before})"
        )
    with pg_conn(primary) as p, pg_conn(standby) as s:
        time.sleep(1)
        out(f"after resume: primary v = {q(p, read)[0][0]}, standby v = {q(s, read)[0][0]}")


def main() -> int:
    # A SIGTERM (e.g. from timeout) must still run the finally blocks that undo the faults.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("section", nargs="*", help="galera and/or pg (default: both)")
    args = parser.parse_args()
    sections = args.section or ["galera", "pg"]
    if not set(sections) <= {"galera", "pg"}:
        parser.error(f"sections are galera and pg, got {sections}")
    if "galera" in sections:
        galera(os.environ["STATUSGUARD_TEST_GALERA_URLS"].split(","))
    if "pg" in sections:
        pg(
            os.environ["STATUSGUARD_TEST_PG_PRIMARY_URL"],
            os.environ["STATUSGUARD_TEST_PG_STANDBY_URL"],
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
