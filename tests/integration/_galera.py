"""Helpers of the Galera tests: stores on a node, raw node sessions, races over the nodes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration._galera_race import glance
from tests.integration._history import check, node_state
from tests.integration._reliab_db import unique_table

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".ci" / "cluster" / "galera.sh"
WORKER = Path(__file__).with_name("_galera_race.py")
KEYS = ["hot-1", "hot-2", "hot-3"]


def cluster(*args: str, timeout: float = 240) -> str:
    """Run ``.ci/cluster/galera.sh ARGS`` (a fault helper) and return what it printed."""
    done = subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"galera.sh {' '.join(args)} failed: {done.stdout}{done.stderr}")
    return (done.stdout + done.stderr).strip()


def raw(url: str) -> Any:
    """A raw PyMySQL connection to one node (autocommit), outside any store."""
    import pymysql
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return pymysql.connect(
        host=u.host,
        port=u.port or 3306,
        user=u.username,
        password=u.password or "",
        database=u.database,
        autocommit=True,
        connect_timeout=5,
        read_timeout=60,
    )


def tables(prefix: str = "sg_galera") -> tuple[str, str]:
    return unique_table(prefix), unique_table(prefix + "_a")


def make_store(url: str, table: str, audit: str, **options: Any) -> Any:
    from statusguard import SQLStore

    return SQLStore(url, table, version="version", token="token", audit=audit, **options)


def states(urls: list[str], table: str, audit: str, keys: list[str]) -> list[dict[str, Any]]:
    return [node_state(u, table, audit, keys) for u in urls]


def brief(state: dict[str, Any]) -> str:
    """One node's rows and the length of each key's history, for the printed report."""
    rows = {k: v[:2] for k, v in sorted(state["rows"].items())}
    return f"rows={rows} audit={ {k: len(h) for k, h in sorted(state['history'].items())} }"


def race(
    tmp: Path,
    urls: list[str],
    *,
    mode: str,
    workers: int,
    attempts: int,
    causal_reads: bool = True,
    during: Any = None,
    after: Any = None,
    label: str = "race",
) -> dict[str, Any]:
    """``workers`` processes, worker i on node ``i % len(urls)``, ``attempts`` each.

    ``during(procs)`` runs once the workers have started (a fault), ``after()`` once they
    have ended, before the nodes are read (undoing the fault). Returns the totals,
    the verdict on every node's history and whether all nodes hold the same.
    """
    lc = glance()
    table, audit = tables()
    setup = make_store(urls[0], table, audit)
    setup.create_schema()
    try:
        from statusguard import Guard

        guard: Any = Guard(lc, setup, {"delayed_delete": True}, tokens=True)
        for key in KEYS:
            guard.create(key)
        procs = []
        for i in range(workers):
            cfg = {
                "url": urls[i % len(urls)],
                "table": table,
                "audit": audit,
                "seed": i,
                "attempts": attempts,
                "keys": KEYS,
                "mode": mode,
                "causal_reads": causal_reads,
                "out": str(tmp / f"{label}-{i}.json"),
            }
            procs.append(
                subprocess.Popen(
                    [sys.executable, str(WORKER), json.dumps(cfg)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        for p in procs:
            assert p.stdout is not None
            assert p.stdout.readline().strip() == "ready"
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        injected = during(procs) if during is not None else None
        for p in procs:
            p.wait(600)
            assert p.stdin is not None
            assert p.stdout is not None
            p.stdin.close()
            p.stdout.close()
            assert p.returncode == 0, f"a race worker failed with exit {p.returncode}"
        results = [json.loads((tmp / f"{label}-{i}.json").read_text()) for i in range(workers)]
        undone = after() if after is not None else None
        held = states(urls, table, audit, KEYS)
    finally:
        setup.drop_schema()
        setup.dispose()
    totals: dict[str, int] = {}
    for r in results:
        for k, n in r["counts"].items():
            totals[k] = totals.get(k, 0) + n
    acks = [a for r in results for a in r["acks"]]
    unavailable = [u for r in results for u in r["unavailable"]]
    wall = max(r["elapsed"] for r in results)
    verdicts = [check(lc, s, acks, unavailable) for s in held]
    return {
        "totals": totals,
        "wall": wall,
        "acks": acks,
        "unavailable": unavailable,
        "states": held,
        "verdicts": verdicts,
        "identical": all(s == held[0] for s in held),
        "injected": injected,
        "undone": undone,
        "lc": lc,
    }


def report(label: str, out: dict[str, Any], workers: int) -> str:
    t = out["totals"]
    main = ("attempts", "commits", "stale", "conflicts")
    other = {k: n for k, n in t.items() if k not in main}
    line = (
        f"[galera {label}] workers={workers} over {len(out['states'])} nodes: "
        f"attempts={t.get('attempts', 0)} commits={t.get('commits', 0)} "
        f"stale={t.get('stale', 0)} conflicts={t.get('conflicts', 0)} "
        f"other={other} "
        f"wall={out['wall']:.1f}s commits/s={t.get('commits', 0) / max(out['wall'], 1e-9):.0f} "
        f"| node 1: {out['verdicts'][0].summary()} | nodes identical: {out['identical']}"
    )
    print(line)
    return line


def wait_until(predicate: Any, timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


@pytest.fixture(autouse=True)
def figures(request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]) -> Any:
    """Keep every ``[galera ...]``/``[pg ...]`` line a test prints as a reliability record
    (CI shows them in the terminal summary) and print it again."""
    yield
    out = capsys.readouterr().out
    with capsys.disabled():
        for line in out.splitlines():
            print(line)
            if line.startswith(("[galera", "[pg")):
                request.node.user_properties.append(("reliability", line))
