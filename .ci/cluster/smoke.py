"""Smoke check of the CI cluster servers: a row written on one server is read on another.

Galera: written on node 1, read on node 3 with ``SET SESSION wsrep_sync_wait=3`` (causal read);
every node must say ``wsrep_on=1``, Synced, cluster size 3. PostgreSQL: written on the primary,
read on the hot standby once its replay position has passed the commit's WAL position; the
standby must be in recovery and refuse a write with SQLSTATE 25006.

Reads the URLs from ``STATUSGUARD_TEST_GALERA_URLS`` (three, comma-separated) and
``STATUSGUARD_TEST_PG_PRIMARY_URL`` / ``STATUSGUARD_TEST_PG_STANDBY_URL``; a group whose
variables are unset is skipped unless ``--require`` names it. Exit 0 when every check passed.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

GALERA_ENV = "STATUSGUARD_TEST_GALERA_URLS"
PG_PRIMARY_ENV = "STATUSGUARD_TEST_PG_PRIMARY_URL"
PG_STANDBY_ENV = "STATUSGUARD_TEST_PG_STANDBY_URL"
REPLAY_WAIT_S = 10.0


class SmokeFailure(Exception):
    """A check failed: the message says what was seen and what was expected."""


def _table() -> sa.Table:
    """A table of its own (other agents share the servers), dropped at the end."""
    return sa.Table(
        f"sg_smoke_{os.getpid()}_{secrets.token_hex(3)}",
        sa.MetaData(),
        sa.Column("k", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("v", sa.String(32)),
    )


def check_galera(urls: list[str]) -> str:
    if len(urls) != 3:
        raise SmokeFailure(f"{GALERA_ENV} holds {len(urls)} URLs, expected 3 (one per node)")
    engines = [sa.create_engine(u, pool_pre_ping=True) for u in urls]
    table, token = _table(), secrets.token_hex(8)
    try:
        seen: set[tuple[int, str | None]] = set()
        for i, engine in enumerate(engines, 1):
            with engine.connect() as c:
                on, port = c.execute(sa.text("SELECT @@GLOBAL.wsrep_on, @@port")).one()
                rows = c.execute(
                    sa.text(
                        "SHOW STATUS WHERE Variable_name IN ('wsrep_cluster_size',"
                        " 'wsrep_local_state_comment', 'wsrep_cluster_state_uuid')"
                    )
                ).all()
                status = {str(name): str(value) for name, value in rows}
                uuid = status.get("wsrep_cluster_state_uuid")
            if on != 1 or status.get("wsrep_local_state_comment") != "Synced":
                raise SmokeFailure(
                    f"node {i} ({urls[i - 1]}): wsrep_on={on}, state="
                    f"{status.get('wsrep_local_state_comment')}; expected 1, Synced"
                )
            if status.get("wsrep_cluster_size") != "3":
                raise SmokeFailure(
                    f"node {i}: cluster size {status.get('wsrep_cluster_size')}, "
                    "expected 3; check 'galera.sh status'"
                )
            seen.add((port, uuid))
        if len({p for p, _ in seen}) != 3 or len({u for _, u in seen}) != 1:
            raise SmokeFailure(f"expected 3 ports of one cluster, saw {sorted(seen)}")
        with engines[0].begin() as c:
            table.create(c)
            c.execute(table.insert().values(k=1, v=token))
        t0 = time.perf_counter()
        with engines[2].connect() as c:
            c.execute(sa.text("SET SESSION wsrep_sync_wait = 3"))
            got = c.execute(sa.select(table.c.v).where(table.c.k == 1)).scalar()
        read_ms = (time.perf_counter() - t0) * 1000
        if got != token:
            raise SmokeFailure(
                f"node 3 read {got!r} with wsrep_sync_wait=3, expected {token!r} written on node 1"
            )
        return f"galera ok: written on node 1, read on node 3 (causal) in {read_ms:.1f} ms"
    finally:
        with engines[0].begin() as c:
            table.drop(c, checkfirst=True)
        for e in engines:
            e.dispose()


def check_pg(primary_url: str, standby_url: str) -> str:
    primary, standby = sa.create_engine(primary_url), sa.create_engine(standby_url)
    table, token = _table(), secrets.token_hex(8)
    try:
        with primary.connect() as c:
            if c.execute(sa.text("SELECT pg_is_in_recovery()")).scalar() is not False:
                raise SmokeFailure(f"{primary_url} is in recovery, expected a primary")
        with standby.connect() as c:
            if c.execute(sa.text("SELECT pg_is_in_recovery()")).scalar() is not True:
                raise SmokeFailure(f"{standby_url} is not in recovery, expected a hot standby")
        with primary.begin() as c:
            table.create(c)
            c.execute(table.insert().values(k=1, v=token))
        with primary.connect() as c:
            lsn = c.execute(sa.text("SELECT pg_current_wal_lsn()")).scalar()
        t0 = time.perf_counter()
        with standby.connect() as c:
            deadline = t0 + REPLAY_WAIT_S
            while not c.execute(
                sa.text("SELECT pg_last_wal_replay_lsn() >= CAST(:l AS pg_lsn)"), {"l": lsn}
            ).scalar():
                if time.perf_counter() > deadline:
                    raise SmokeFailure(f"standby did not replay {lsn} within {REPLAY_WAIT_S} s")
                time.sleep(0.01)
            got = c.execute(sa.select(table.c.v).where(table.c.k == 1)).scalar()
            c.rollback()
            try:
                c.execute(table.insert().values(k=2, v="x"))
            except DBAPIError as exc:
                sqlstate = getattr(exc.orig, "sqlstate", None)
            else:
                sqlstate = None
            c.rollback()
        lag_ms = (time.perf_counter() - t0) * 1000
        if got != token:
            raise SmokeFailure(f"standby read {got!r}, expected {token!r} written on the primary")
        if sqlstate != "25006":
            raise SmokeFailure(f"a write on the standby gave SQLSTATE {sqlstate}, expected 25006")
        return (
            f"pg ok: written on the primary, read on the standby after {lag_ms:.1f} ms "
            "of replay wait; standby write refused with 25006"
        )
    finally:
        with primary.begin() as c:
            table.drop(c, checkfirst=True)
        primary.dispose()
        standby.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--require", action="append", choices=["galera", "pg"], default=[])
    args = parser.parse_args()
    failed = False
    galera, primary, standby = (
        os.environ.get(v) for v in (GALERA_ENV, PG_PRIMARY_ENV, PG_STANDBY_ENV)
    )
    checks: dict[str, Callable[[], str] | None] = {
        "galera": (lambda: check_galera(galera.split(","))) if galera else None,
        "pg": (lambda: check_pg(primary, standby)) if primary and standby else None,
    }
    for name, check in checks.items():
        if check is None:
            print(f"smoke: {name} skipped (variables unset)")
            failed |= name in args.require
            continue
        try:
            print(f"smoke: {check()}")
        except (SmokeFailure, DBAPIError) as exc:
            print(f"smoke: {name} FAILED: {exc}", file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
