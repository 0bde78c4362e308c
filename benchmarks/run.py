"""Every benchmark in one run, as one table of medians and ratios against peers and floors.

Run from the repository root::

    pip install -e '.[bench]'          # the peers: automaton, transitions, ...
    python benchmarks/run.py           # about two minutes; --quick for a smoke run
    python benchmarks/run.py --markdown > table.md

Each section samples its cases round-robin (``--repeats`` rounds, each case timed over
the same number of operations) so that every case sees the same load, and reports the
median time per operation and its ratio to the section's reference cases, measured in
the same run. Peers that are not installed, and the SQL engines whose URL variables
(``STATUSGUARD_TEST_POSTGRES_URL``, ``STATUSGUARD_TEST_MYSQL_URL``) are unset, are skipped
with a note. The gate rows come from ``benchmarks/bench_gate.py`` when it exists. The
async sections (AsyncGuard on AsyncSQLStore against a raw async prebuilt Core UPDATE on the
same engine) run with ``sql`` or alone with ``--only async``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _installed import ENV, prime  # noqa: E402
from bench_guard import (  # noqa: E402 - the workloads bench_guard.py times too
    CONFIG,
    GLANCE,
    TABLE,
    TOGGLE,
    Run,
    TurnCounter,
    automaton_machine,
    dict_lookup,
    django_fsm_runs,
    raw_updates,
    refusing,
    sql_store,
    statemachine_send,
    toggling,
    transitions_model,
)

import statusguard  # noqa: E402
from statusguard import Guard, IllegalTransition, MemoryStore  # noqa: E402

wall = time.perf_counter


@dataclass
class Section:
    title: str
    refs: tuple[str, ...]  # the cases every row is compared with
    unit: str = "ns"
    rows: list[tuple[str, float]] = field(default_factory=list)
    versus: dict[str, str] = field(default_factory=dict)  # per-row references, if any
    notes: list[str] = field(default_factory=list)


SECTIONS: list[Section] = []


def have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def sample(
    cases: Mapping[str, Run],
    n: int,
    repeats: int,
    fewer: frozenset[str] = frozenset(),
    clock: Callable[[], float] = time.process_time,
) -> dict[str, float]:
    """Median seconds per operation of each case, sampled round-robin.

    Cases in ``fewer`` (peers 10-100x slower per call) run n/25 operations per round.
    In-process work is timed in CPU seconds (``time.process_time``), which a machine
    shared with other jobs disturbs far less than the wall clock; work that waits on a
    server is timed by the wall clock.
    """
    counts = {name: max(500, n // 25) if name in fewer else n for name in cases}
    for name, run in cases.items():
        run(max(2, counts[name] // 10))  # warm up
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, run in cases.items():
            start = clock()
            run(counts[name])
            times[name].append((clock() - start) / counts[name])
    return {name: statistics.median(ts) for name, ts in times.items()}


def section(title: str, refs: tuple[str, ...], unit: str = "ns") -> Section:
    sec = Section(title, refs, unit)
    SECTIONS.append(sec)
    print(f"... {title}", file=sys.stderr, flush=True)
    return sec


# -- peers in memory ---------------------------------------------------------------------


def guard_in(state: str, **kw: Any) -> Guard[Any, Any]:
    guard = Guard(GLANCE, MemoryStore(audit=kw.pop("audit", False)), CONFIG, **kw)
    guard.create("img")
    guard.fire("img", "location_added")  # queued -> active
    if state != "active":
        guard.fire("img", "deactivate")
    return guard


def bench_memory(n: int, repeats: int) -> None:
    sec = section(
        "In memory: one legal transition (Guard.fire on MemoryStore)", ("automaton", "locked dict")
    )
    rows: dict[str, str] = {"img": "active"}
    lock = threading.Lock()

    def locked_dict(k: int) -> None:
        # the floor of a race-safe step: under a lock, compare the status and set it
        for i in range(k):
            event = TOGGLE[i & 1]
            with lock:
                current = rows["img"]
                target = TABLE.get((current, event))
                if target is not None:
                    rows["img"] = target

    cases: dict[str, Run] = {"dict lookup (unguarded)": dict_lookup, "locked dict": locked_dict}
    if have("automaton"):
        cases["automaton"] = toggling(automaton_machine().process_event)
    else:
        sec.notes.append("automaton not installed: pip install -e '.[bench]'")
    if have("transitions"):
        cases["transitions Machine"] = toggling(transitions_model(False).trigger)
        cases["transitions LockedMachine"] = toggling(transitions_model(True).trigger)
    else:
        sec.notes.append("transitions not installed")
    if have("statemachine"):
        cases["python-statemachine send"] = toggling(statemachine_send())
    else:
        sec.notes.append("python-statemachine not installed")
    cases["statusguard Guard.fire"] = toggling(guard_in("active").fire, "img")
    cases["statusguard Guard.fire, tokens=True"] = toggling(
        guard_in("active", tokens=True).fire, "img"
    )
    cases["statusguard Guard.fire, audit=True"] = toggling(
        guard_in("active", audit=True).fire, "img"
    )
    slow = frozenset(
        ("transitions Machine", "transitions LockedMachine", "python-statemachine send")
    )
    result = sample(cases, n, repeats, fewer=slow)
    sec.rows = [(name, result[name]) for name in cases]


def bench_refusal(n: int, repeats: int) -> None:
    sec = section("In memory: refusing an illegal event (raise + catch)", ("automaton",))
    cases: dict[str, Run] = {}
    if have("automaton"):
        from automaton.exceptions import NotFound

        fm = automaton_machine()
        fm.initialize("deleted")
        cases["automaton"] = refusing(lambda: fm.process_event("reactivate"), NotFound)
    guard = guard_in("active")
    cases["statusguard Guard.fire"] = refusing(
        lambda: guard.fire("img", "upload_succeeded"), IllegalTransition
    )
    cases["statusguard Lifecycle.next"] = refusing(
        lambda: GLANCE.next("deleted", "restore"), IllegalTransition
    )
    result = sample(cases, max(1000, n // 4), repeats)
    sec.rows = [(name, result[name]) for name in cases]


def bench_next(n: int, repeats: int) -> None:
    sec = section("Lifecycle.next: the answer for a (state, event)", ("dict lookup",))
    table = {(str(s), str(e)): str(t) for s, e, t in GLANCE}
    flags = {"delayed_delete": True, "has_locations": True}
    S, E = type(GLANCE.initial), type(GLANCE.events[0])
    s_enum, e_enum = S("active"), E("deactivate")
    nxt = GLANCE.next

    s, e = "active", "deactivate"

    def dict_lookup(k: int) -> None:
        for _ in range(k):
            table[(s, e)]

    def plain(k: int) -> None:
        for _ in range(k):
            nxt("active", "deactivate")

    def enum(k: int) -> None:
        for _ in range(k):
            nxt(s_enum, e_enum)

    def with_flags(k: int) -> None:
        for _ in range(k):
            nxt("active", "delete", flags)

    every = {**flags, "protected": False}

    def with_every_flag(k: int) -> None:
        for _ in range(k):
            nxt("active", "delete", every)

    cases = {
        "dict lookup": dict_lookup,
        "next(s, e)  str, unconditional": plain,
        "next(S, E)  enum, unconditional": enum,
        "next(s, 'delete', flags)  2 of its 3 deciding flags (protected defaults)": with_flags,
        "next(s, 'delete', flags)  its 3 deciding flags": with_every_flag,
    }
    result = sample(cases, n, repeats)
    sec.rows = [(name, result[name]) for name in cases]


def bench_tokens(n: int, repeats: int) -> None:
    from statusguard.guard._guard import new_token

    sec = section(
        "Per-attempt tokens (unique across processes and hosts)", ("os.urandom(16).hex()",)
    )

    def urandom(k: int) -> None:
        for _ in range(k):
            os.urandom(16).hex()

    def uuid4(k: int) -> None:
        for _ in range(k):
            uuid.uuid4().hex  # noqa: B018

    def ours(k: int) -> None:
        for _ in range(k):
            new_token()

    cases = {"os.urandom(16).hex()": urandom, "uuid.uuid4().hex": uuid4, "statusguard": ours}
    result = sample(cases, n, repeats)
    sec.rows = [(name, result[name]) for name in cases]
    sec.notes.append(
        "statusguard: a per-process 80-bit random prefix, drawn again in a forked child, "
        "then a counter"
    )


def bench_import(runs: int) -> None:
    title = f"Import: CPU time of a fresh interpreter (median of {runs})"
    sec = section(title, ("bare interpreter",), "ms")
    first_use = (
        "import statusguard; statusguard.Guard; statusguard.MemoryStore; statusguard.Lifecycle"
    )
    cases = {"bare interpreter": "pass", "import statusguard": "import statusguard"}
    cases["import statusguard; first Guard, MemoryStore, Lifecycle"] = first_use
    if have("automaton"):
        cases["import automaton.machines"] = "import automaton.machines"
    if have("transitions"):
        cases["import transitions"] = "import transitions"
    times: dict[str, list[float]] = {name: [] for name in cases}
    for code in cases.values():  # each timed run from bytecode, as installed code runs
        prime([sys.executable, "-c", code])
    for _ in range(runs):
        for name, code in cases.items():
            # CPU seconds of the child (user + system): steadier than its wall time
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run([sys.executable, "-c", code], check=True, env=ENV)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            times[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    bare = statistics.median(times["bare interpreter"])
    sec.rows = [(name, statistics.median(ts)) for name, ts in times.items()]
    sec.notes.extend(
        f"{name}: {(statistics.median(ts) - bare) * 1e3:.1f} ms over the bare interpreter"
        for name, ts in times.items()
        if name != "bare interpreter"
    )


# -- SQL --------------------------------------------------------------------------------


def bench_sql(label: str, url: str, n: int, repeats: int) -> None:
    import sqlalchemy as sa

    sec = section(f"SQL, {label}: one fire (commit included)", ("raw Core UPDATE",), "us")
    with (
        sql_store(url, audit=False) as store,
        sql_store(url, audit=True) as audited,
        sql_store(url, audit=False) as listened,
        raw_updates(store) as (raw_run, raw_held),
    ):
        for s in (store, audited, listened):
            s.create("img", "active")

        def nothing(*args: Any) -> None:
            pass

        for event in ("before_cursor_execute", "after_cursor_execute"):
            sa.event.listen(listened.engine, event, nothing)
        guard = Guard(GLANCE, store, CONFIG, tokens=True)
        aguard = Guard(GLANCE, audited, CONFIG, tokens=True)
        lguard = Guard(GLANCE, listened, CONFIG, tokens=True)
        cases: dict[str, Run] = {
            "raw Core UPDATE": raw_run,
            "statusguard fire (version + token)": toggling(guard.fire, "img"),
            "statusguard fire + audit row": toggling(aguard.fire, "img"),
            "statusguard illegal event": refusing(
                lambda: guard.fire("img", "upload_succeeded"), IllegalTransition
            ),
            "statusguard fire, cursor-event listeners (no-op)": toggling(lguard.fire, "img"),
        }
        if raw_held is not None:
            cases["raw Core UPDATE, one connection held"] = raw_held
        # an even number of operations per run keeps the toggling rows in step
        result = sample(cases, n - n % 2, repeats, clock=wall)
    sec.rows = [(name, result[name]) for name in cases]
    engine = store.engine.dialect.name
    sec.notes.append(f"engine {engine}: a pooled connection per call unless held")


def bench_async(label: str, url: str, n: int, repeats: int) -> None:
    """AsyncGuard.fire on AsyncSQLStore against a raw async prebuilt Core UPDATE, one engine."""
    import asyncio

    import sqlalchemy as sa

    from statusguard.sql import AsyncSQLStore

    sec = section(
        f"SQL async, {label}: one AsyncGuard fire (commit included)",
        ("raw async Core UPDATE",),
        "us",
    )
    loop = asyncio.new_event_loop()
    suffix = uuid.uuid4().hex[:8]

    def store_for(audit: bool) -> AsyncSQLStore:
        name = f"async_bench_{'a' if audit else 'p'}_{suffix}"
        return AsyncSQLStore(
            url, name, version="version", token="token", audit=f"{name}_h" if audit else None
        )

    async def setup() -> tuple[AsyncSQLStore, AsyncSQLStore]:
        made = store_for(False), store_for(True)
        for s in made:
            await s.create_schema()
            await s.create("img", "active")
        await made[0].create("raw", "active")
        return made

    store, audited = loop.run_until_complete(setup())
    t = store.table
    raw = (  # built once: the fairest floor an async service could write by hand
        sa.update(t)
        .where(t.c.id == sa.bindparam("k"), t.c.status == sa.bindparam("exp"))
        .values(status=sa.bindparam("new"), version=t.c.version + 1)
    )
    engine = store.engine
    states = ("active", "deactivated")

    def batch(step: Callable[[int], Any]) -> Run:
        async def many(k: int) -> None:
            for i in range(k):
                await step(i)

        return lambda k: loop.run_until_complete(many(k))

    async def raw_step(i: int) -> None:
        async with engine.connect() as conn:
            await conn.execute(raw, {"k": "raw", "exp": states[i & 1], "new": states[~i & 1]})
            await conn.commit()

    guard = statusguard.AsyncGuard(GLANCE, store, CONFIG, tokens=True)
    aguard = statusguard.AsyncGuard(GLANCE, audited, CONFIG, tokens=True)

    async def illegal(i: int) -> None:
        try:
            await guard.fire("img", "upload_succeeded")
        except IllegalTransition:
            return
        raise AssertionError("upload_succeeded was accepted in active")

    cases: dict[str, Run] = {
        "raw async Core UPDATE": batch(raw_step),
        "AsyncGuard fire (version + token)": batch(lambda i: guard.fire("img", TOGGLE[i & 1])),
        "AsyncGuard fire + audit row": batch(lambda i: aguard.fire("img", TOGGLE[i & 1])),
        "AsyncGuard illegal event": batch(illegal),
    }
    try:
        result = sample(cases, n - n % 2, repeats, clock=wall)
    finally:

        async def teardown() -> None:
            for s in (store, audited):
                await s.drop_schema()
                await s.dispose()

        loop.run_until_complete(teardown())
        loop.close()
    sec.rows = [(name, result[name]) for name in cases]
    sec.notes.append(
        f"driver {engine.dialect.driver}: a pooled connection per call; the raw UPDATE is a "
        "prebuilt Core statement on the store's own AsyncEngine"
    )


def async_trips(proxy: Any, url: str, audit: bool) -> tuple[float, float]:
    """Round trips per AsyncGuard fire and refusal on an AsyncSQLStore through ``proxy``."""
    import asyncio

    from statusguard.sql import AsyncSQLStore

    async def count() -> tuple[float, float]:
        name = "async_trips_" + uuid.uuid4().hex[:8]
        store = AsyncSQLStore(
            url, name, version="version", token="token", audit=f"{name}_h" if audit else None
        )
        await store.create_schema()
        try:
            await store.create("img", "active")
            guard = statusguard.AsyncGuard(GLANCE, store, CONFIG, tokens=True)
            for i in range(10):  # warm the pool and the session setup
                await guard.fire("img", TOGGLE[i & 1])
            before = proxy.turns
            for i in range(100):
                await guard.fire("img", TOGGLE[i & 1])
            fired = (proxy.turns - before) / 100
            before = proxy.turns
            for _ in range(100):
                with suppress(IllegalTransition):
                    await guard.fire("img", "upload_succeeded")
            return fired, (proxy.turns - before) / 100
        finally:
            await store.drop_schema()
            await store.dispose()

    return asyncio.run(count())


def round_trips(engines: list[tuple[str, str]]) -> None:
    """Client turns per call through a loopback proxy (bench_guard.TurnCounter)."""
    import sqlalchemy as sa

    sec = section("SQL round trips per call (counted by a loopback proxy)", (), "trips")
    for label, url in engines:
        parsed = sa.engine.make_url(url)
        proxy = TurnCounter(parsed.host or "127.0.0.1", parsed.port or 5432)
        via = parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        targets: list[tuple[str, Any]] = [(label, via)]
        if parsed.get_backend_name() == "mysql":  # a given Engine, without multi-statements
            given = sa.create_engine(via, isolation_level="AUTOCOMMIT", pool_reset_on_return=None)
            targets.append((f"{label} (given Engine, no batches)", given))
        for name, target in targets:
            for audit in (False, True):
                with sql_store(target, audit=audit) as store:
                    store.create("img", "active")
                    guard = Guard(GLANCE, store, CONFIG, tokens=True)
                    toggling(guard.fire, "img")(10)  # warm the pool and the session setup
                    counts = []
                    for run in (
                        toggling(guard.fire, "img"),
                        refusing(partial(guard.fire, "img", "upload_succeeded"), IllegalTransition),
                    ):
                        before = proxy.turns
                        run(100)
                        counts.append((proxy.turns - before) / 100)
                kind = " + audit" if audit else ""
                sec.rows.append((f"{name}: fire{kind}", counts[0]))
                sec.rows.append((f"{name}: illegal event{kind}", counts[1]))
        for audit in (False, True):  # the async store on the same proxy: the same trips?
            fire_trips, illegal_trips = async_trips(proxy, async_driver(via), audit)
            kind = " + audit" if audit else ""
            sec.rows.append((f"{label}: AsyncGuard fire{kind}", fire_trips))
            sec.rows.append((f"{label}: AsyncGuard illegal event{kind}", illegal_trips))
    if not engines:
        sec.notes.append("no server URL set: nothing to count")


def bench_django(n: int, repeats: int) -> None:
    sec = section("SQLite file: django-fsm-2 vs statusguard", ("statusguard fire",), "us")
    path = Path(tempfile.mkdtemp()) / "django.db"
    fsm_run, fsm_load_run = django_fsm_runs(path)
    with sql_store(f"sqlite:///{path.parent / 'guard.db'}", audit=False) as store:
        store.create("img", "active")
        guard = Guard(GLANCE, store, CONFIG, tokens=True)
        cases = {
            "statusguard fire": toggling(guard.fire, "img"),
            "django-fsm-2 transition + save()": fsm_run,
            "django-fsm-2 get() + transition + save()": fsm_load_run,
        }
        result = sample(cases, n - n % 2, repeats, clock=wall)
    sec.rows = [(name, result[name]) for name in cases]
    sec.notes.append("both on a SQLite file in WAL mode, synchronous=NORMAL")


def bench_gate(quick: bool) -> None:
    path = ROOT / "benchmarks" / "bench_gate.py"
    sec = section("The gate: statusguard check vs plain BFS, race proofs by size", ())
    if not path.exists():
        sec.notes.append("benchmarks/bench_gate.py is absent: no gate rows in this run")
        return
    spec = importlib.util.spec_from_file_location("bench_gate", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = getattr(module, "rows", None)
    if callable(rows):  # rows(quick) -> [(name, seconds, reference name or None), ...]
        sec.unit = "ms"
        got = list(rows(quick=quick))
        sec.rows = [(str(r[0]), float(r[1])) for r in got]
        sec.versus = {str(r[0]): str(r[2]) for r in got if len(r) > 2 and r[2]}
        sec.notes.append("from benchmarks/bench_gate.py (its docstring says what each row is)")
        return
    args = [sys.executable, str(path), *(["--quick"] if quick else [])]
    out = subprocess.run(args, check=False, capture_output=True, text=True, cwd=ROOT)
    sec.notes.append(f"bench_gate.py has no rows(); its own output (exit {out.returncode}):")
    sec.notes.extend(line for line in out.stdout.splitlines() if line.strip())


# -- the table ---------------------------------------------------------------------------


def async_driver(url: str) -> str:
    """The async driver's URL for a sync one: aiosqlite, psycopg (async mode), aiomysql."""
    import sqlalchemy as sa

    parsed = sa.engine.make_url(url)
    name = parsed.get_backend_name()
    driver = {"sqlite": "aiosqlite", "postgresql": "psycopg", "mysql": "aiomysql"}[name]
    return parsed.set(drivername=f"{name}+{driver}").render_as_string(hide_password=False)


def render(markdown: bool) -> str:
    scale = {"ns": 1e9, "us": 1e6, "ms": 1e3, "trips": 1.0}
    lines: list[str] = []
    for sec in SECTIONS:
        if not sec.rows:
            lines += [f"\n### {sec.title}\n" if markdown else f"\n## {sec.title}"]
            lines += [f"- {note}" if markdown else f"  note: {note}" for note in sec.notes]
            continue
        times = dict(sec.rows)
        refs = [r for r in sec.refs if r in times]
        head = ["case", sec.unit if sec.unit == "trips" else f"median {sec.unit}"]
        head += [f"vs {r}" for r in refs]
        body = [
            [
                name,
                f"{t * scale[sec.unit]:,.1f}",
                *(f"{t / times[r]:.2f}x" for r in refs),
            ]
            for name, t in sec.rows
        ]
        if sec.versus:  # each row against its own reference
            head += ["ratio", "vs"]
            for row, (name, t) in zip(body, sec.rows, strict=True):
                ref = sec.versus.get(name, "")
                if times.get(ref):
                    row.extend([f"{t / times[ref]:.2f}x", ref])
                else:
                    row.extend(["", ""])
        if markdown:
            lines += [f"\n### {sec.title}\n", "| " + " | ".join(head) + " |"]
            lines.append("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")
            lines += ["| " + " | ".join(row) + " |" for row in body]
            lines += [""] * bool(sec.notes) + [f"- {note}" for note in sec.notes]
        else:
            widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
            lines += ["", f"## {sec.title}"]
            for row in [head, *body]:
                cells = [row[0].ljust(widths[0])]
                cells += [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
                lines.append("  ".join(cells))
            lines += [f"  note: {note}" for note in sec.notes]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer operations and rounds")
    parser.add_argument("--repeats", type=int, help="rounds per section (default 9; 3 quick)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument(
        "--only", help="comma-separated sections: memory,next,tokens,import,sql,async,gate"
    )
    args = parser.parse_args()
    repeats = args.repeats or (3 if args.quick else 9)
    mem_n, sql_n, imports = (20_000, 200, 5) if args.quick else (100_000, 1_000, 15)

    only = set(args.only.split(",")) if args.only else None

    def wanted(name: str) -> bool:
        return only is None or name in only

    if wanted("memory"):
        bench_memory(mem_n, repeats)
        bench_refusal(mem_n, repeats)
    if wanted("next"):
        bench_next(mem_n, repeats)
    if wanted("tokens"):
        bench_tokens(mem_n, repeats)
    if wanted("import"):
        bench_import(imports)
    if wanted("async") and not wanted("sql"):  # --only async: the async sections alone
        tmp = Path(tempfile.mkdtemp())
        engines = [
            ("sqlite:// (memory)", "sqlite://"),
            ("SQLite file", f"sqlite:///{tmp / 'a.db'}"),
        ]
        for label, env in (
            ("PostgreSQL", "STATUSGUARD_TEST_POSTGRES_URL"),
            ("MariaDB", "STATUSGUARD_TEST_MYSQL_URL"),
        ):
            if os.environ.get(env):
                engines.append((label, os.environ[env]))
        for label, url in engines:
            bench_async(label, async_driver(url), sql_n, repeats)
    if wanted("sql"):
        tmp = Path(tempfile.mkdtemp())
        engines = [
            ("sqlite:// (memory)", "sqlite://"),
            ("SQLite file", f"sqlite:///{tmp / 'b.db'}"),
        ]
        for label, env in (
            ("PostgreSQL", "STATUSGUARD_TEST_POSTGRES_URL"),
            ("MariaDB", "STATUSGUARD_TEST_MYSQL_URL"),
        ):
            url = os.environ.get(env)
            if url:
                engines.append((label, url))
            else:
                section(f"SQL, {label}", ()).notes.append(f"skipped: {env} is not set")
        for label, url in engines:
            bench_sql(label, url, sql_n, repeats)
        round_trips([(label, url) for label, url in engines if not url.startswith("sqlite")])
        if wanted("async"):
            for label, url in engines:
                bench_async(label, async_driver(url), sql_n, repeats)
        if have("django") and have("django_fsm"):
            bench_django(sql_n, repeats)
        else:
            section("django-fsm-2", ()).notes.append("skipped: django-fsm-2 is not installed")
    if wanted("gate"):
        bench_gate(args.quick)
    from statusguard.lifecycle._answer import COMPILED

    build = "compiled (mypyc)" if COMPILED else "pure Python"
    header = (
        f"python {sys.version.split()[0]} on {sys.platform}, statusguard "
        f"{statusguard.__version__} ({build}), {os.cpu_count()} CPUs; medians of {repeats} rounds"
    )
    print(header)
    print(render(args.markdown))


if __name__ == "__main__":
    main()
