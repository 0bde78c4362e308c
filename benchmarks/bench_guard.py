"""Guard benchmarks: in-memory fire vs peers, SQL fire vs a raw UPDATE and django-fsm-2.

Run from the repository root:  python benchmarks/bench_guard.py [--quick]
PostgreSQL / MariaDB parts read STATUSGUARD_TEST_POSTGRES_URL / STATUSGUARD_TEST_MYSQL_URL
and are skipped (with a note) when unset. Every figure is the median of several runs;
ratios compare medians from the same run. Times are per operation.

The workloads this file times are also ``benchmarks/run.py``'s, which imports them from
here: the Glance toggle, the peers' machines (automaton, transitions,
python-statemachine, django-fsm-2), the SQL stores and the raw Core UPDATE floor.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import statusguard
from statusguard import Guard, IllegalTransition, MemoryStore

ROOT = Path(__file__).resolve().parents[1]
GLANCE = statusguard.load(str(ROOT / "model" / "glance_image.py"))
CONFIG = {"delayed_delete": False}
TOGGLE = ("deactivate", "reactivate")  # active <-> deactivated, legal forever
TABLE = {("active", "deactivate"): "deactivated", ("deactivated", "reactivate"): "active"}
ROWS: list[tuple[str, str, str]] = []
Run = Callable[[int], None]


# -- the workloads (benchmarks/run.py times them too) -----------------------------------


def dict_lookup(k: int) -> None:
    """The unguarded floor: ``k`` legal steps looked up in a plain dict."""
    state = "active"
    for i in range(k):
        state = TABLE[(state, TOGGLE[i & 1])]


def automaton_machine() -> Any:
    """automaton's FiniteMachine in ``active``; ``deleted`` has no way out (refusals)."""
    from automaton import machines

    fm = machines.FiniteMachine()
    for state in ("active", "deactivated", "deleted"):
        fm.add_state(state)
    fm.add_transition("active", "deactivated", "deactivate")
    fm.add_transition("deactivated", "active", "reactivate")
    fm.default_start_state = "active"
    fm.initialize()
    return fm


def transitions_model(locked: bool) -> Any:
    """A model driven by transitions' Machine (or its LockedMachine), in ``active``."""
    from transitions import Machine
    from transitions.extensions import LockedMachine

    class Model:
        pass

    model = Model()
    (LockedMachine if locked else Machine)(
        model=model,
        states=["active", "deactivated"],
        transitions=[
            {"trigger": "deactivate", "source": "active", "dest": "deactivated"},
            {"trigger": "reactivate", "source": "deactivated", "dest": "active"},
        ],
        initial="active",
        auto_transitions=False,
    )
    return model


def statemachine_send() -> Callable[[str], Any]:
    """python-statemachine's ``send`` of a machine in ``active``."""
    from statemachine import State, StateMachine

    class Image(StateMachine):
        active = State(initial=True)
        deactivated = State()
        deactivate = active.to(deactivated)
        reactivate = deactivated.to(active)

    return Image().send


def toggling(fire: Callable[..., Any], key: str | None = None) -> Run:
    """A run of ``k`` legal events: ``fire(event)``, or ``fire(key, event)`` given a key."""
    if key is None:

        def run(k: int) -> None:
            for i in range(k):
                fire(TOGGLE[i & 1])

    else:

        def run(k: int) -> None:
            for i in range(k):
                fire(key, TOGGLE[i & 1])

    return run


def refusing(call: Callable[[], Any], exc: type[BaseException]) -> Run:
    """A run of ``k`` calls that each raise ``exc``, caught."""

    def run(k: int) -> None:
        for _ in range(k):
            try:  # noqa: SIM105 - contextlib.suppress would add its own cost
                call()
            except exc:
                pass

    return run


@contextmanager
def sql_store(url: str, audit: bool) -> Iterator[Any]:
    """A fresh SQLStore (version and token columns, an audit table if asked), dropped after."""
    store = statusguard.SQLStore(
        url,
        "bench_" + uuid.uuid4().hex[:8],
        version="version",
        token="token",
        audit=("bench_a_" + uuid.uuid4().hex[:8]) if audit else None,
    )
    store.create_schema()
    try:
        yield store
    finally:
        store.drop_schema()
        store.dispose()


@contextmanager
def raw_updates(store: Any) -> Iterator[tuple[Run, Run | None]]:
    """The floor of a SQL step on ``store``'s table: a prebuilt conditional Core UPDATE.

    Creates the row ``raw`` and yields two runs toggling it: one taking a pooled
    connection per statement, and (SQLite only, else None) one on a connection held
    throughout, like with like for SQLite, whose store keeps its connections.
    """
    import sqlalchemy as sa

    t = store.table
    raw = (
        sa.update(t)
        .where(t.c.id == sa.bindparam("k"), t.c.status == sa.bindparam("exp"))
        .values(status=sa.bindparam("new"), version=t.c.version + 1)
    )
    engine = store.engine
    store.create("raw", "active")
    states = ("active", "deactivated")

    def pooled(k: int) -> None:
        for i in range(k):
            with engine.connect() as conn:
                conn.execute(raw, {"k": "raw", "exp": states[i & 1], "new": states[~i & 1]})
                conn.commit()

    if engine.dialect.name != "sqlite":
        yield pooled, None
        return
    held = engine.connect()

    def on_held(k: int) -> None:
        for i in range(k):
            held.execute(raw, {"k": "raw", "exp": states[i & 1], "new": states[~i & 1]})
            held.commit()

    try:
        yield pooled, on_held
    finally:
        held.close()


def django_fsm_runs(path: Path) -> tuple[Run, Run]:
    """django-fsm-2's ConcurrentTransitionMixin on a SQLite file at ``path`` (WAL mode).

    Configures Django (once a process), creates the model's table and one object, and
    returns two runs toggling it in ``atomic()``: the object kept in memory, and the load
    a request handler does (``get()``, transition, ``save()``).
    """
    import django
    from django.conf import settings

    settings.configure(
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)}},
        INSTALLED_APPS=["django.contrib.contenttypes"],
        USE_TZ=True,
    )
    django.setup()
    from django.db import connection, models, transaction
    from django.db.backends.signals import connection_created
    from django_fsm import ConcurrentTransitionMixin, FSMField, transition

    def wal(sender: Any, connection: Any, **kwargs: Any) -> None:
        with connection.cursor() as cur:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")

    connection_created.connect(wal)

    class FsmImage(ConcurrentTransitionMixin, models.Model):
        state = FSMField(default="active")

        class Meta:
            app_label = "bench"

        @transition(field=state, source="active", target="deactivated")
        def deactivate(self) -> None:
            pass

        @transition(field=state, source="deactivated", target="active")
        def reactivate(self) -> None:
            pass

    with connection.schema_editor() as editor:
        editor.create_model(FsmImage)
    obj = FsmImage.objects.create()

    def in_memory(k: int) -> None:
        for i in range(k):
            with transaction.atomic():
                getattr(obj, TOGGLE[i & 1])()
                obj.save()

    def loaded(k: int) -> None:
        for i in range(k):
            with transaction.atomic():
                row = FsmImage.objects.get(pk=obj.pk)
                getattr(row, TOGGLE[i & 1])()
                row.save()

    return in_memory, loaded


def median_time(run: Callable[[int], None], n: int, repeats: int) -> float:
    """Median seconds per operation over ``repeats`` runs of ``n`` operations."""
    run(max(1, n // 10))  # warm up
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(n)
        samples.append((time.perf_counter() - start) / n)
    return statistics.median(samples)


def interleaved(runs: list[Callable[[int], None]], n: int, repeats: int) -> list[float]:
    """Median seconds per operation of each run, sampling them round-robin."""
    for run in runs:
        run(max(2, n // 10))  # warm up
    samples: list[list[float]] = [[] for _ in runs]
    for _ in range(repeats):
        for i, run in enumerate(runs):
            start = time.perf_counter()
            run(n)
            samples[i].append((time.perf_counter() - start) / n)
    return [statistics.median(s) for s in samples]


def report(section: str, name: str, seconds: float, base: float | None, unit: str) -> None:
    scale = 1e9 if unit == "ns" else 1e6
    ratio = f"{seconds / base:6.2f}x" if base else "   base"
    line = f"{name:<52} {seconds * scale:10.1f} {unit}  {ratio}"
    ROWS.append((section, name, line))
    print(line, flush=True)


# -- in memory --------------------------------------------------------------------------


def bench_memory(n: int, repeats: int) -> None:
    print("\n## In memory (per operation; ratio vs dict lookup)")
    base = median_time(dict_lookup, n, repeats)
    report("memory", "dict lookup (unguarded)", base, None, "ns")
    automaton_run = toggling(automaton_machine().process_event)
    report(
        "memory",
        "automaton FiniteMachine.process_event",
        median_time(automaton_run, n, repeats),
        base,
        "ns",
    )
    locked_run = toggling(transitions_model(True).trigger)
    report(
        "memory",
        "transitions LockedMachine.trigger",
        median_time(locked_run, max(1000, n // 25), repeats),
        base,
        "ns",
    )
    psm_run = toggling(statemachine_send())
    report(
        "memory",
        "python-statemachine send",
        median_time(psm_run, max(1000, n // 25), repeats),
        base,
        "ns",
    )
    guard = Guard(GLANCE, MemoryStore(), CONFIG)
    guard.create("img")
    guard.fire("img", "location_added")
    report(
        "memory",
        "statusguard Guard.fire (MemoryStore, race-safe)",
        median_time(toggling(guard.fire, "img"), n, repeats),
        base,
        "ns",
    )
    illegal_run = refusing(partial(guard.fire, "img", "upload_succeeded"), IllegalTransition)
    report(
        "memory",
        "statusguard illegal event rejected (raise+catch)",
        median_time(illegal_run, n, repeats),
        base,
        "ns",
    )


# -- SQL --------------------------------------------------------------------------------


def bench_sql(label: str, url: str, n: int, repeats: int) -> None:
    print(f"\n## {label} (per operation; ratio vs raw prebuilt Core UPDATE on the same engine)")
    with (
        sql_store(url, audit=False) as store,
        sql_store(url, audit=True) as audited,
        raw_updates(store) as (raw_run, raw_held_run),
    ):
        for s in (store, audited):
            s.create("img", "active")
        guard = Guard(GLANCE, store, CONFIG, tokens=True)
        aguard = Guard(GLANCE, audited, CONFIG, tokens=True)
        illegal_run = refusing(partial(guard.fire, "img", "upload_succeeded"), IllegalTransition)
        # keep the rows in step: an even number of operations per run; runs interleaved so
        # that every variant sees the same load on this shared machine
        n2 = n - n % 2
        runs = [raw_run, toggling(guard.fire, "img"), toggling(aguard.fire, "img"), illegal_run]
        base, fire, audit, illegal, *rest = interleaved(
            runs + ([raw_held_run] if raw_held_run is not None else []), n2, repeats
        )
        report(label, "raw Core UPDATE ... WHERE status=:exp (+commit)", base, None, "us")
        if rest:
            report(label, "raw Core UPDATE, one connection held (+commit)", rest[0], base, "us")
            vs_held = "  statusguard fire vs the held-connection UPDATE"
            print(f"{vs_held:<52} {fire / rest[0]:6.2f}x")
        report(label, "statusguard fire (version+token, 1 statement)", fire, base, "us")
        report(label, "statusguard fire + audit row (same transaction)", audit, base, "us")
        report(label, "statusguard illegal event (UPDATE miss + read)", illegal, base, "us")
        throughput(label, guard)


def throughput(label: str, guard: Guard[Any, Any], seconds: float = 1.5) -> None:
    for workers in (1, 8):
        counts = [0, 0]
        lock = threading.Lock()
        stop = time.perf_counter() + seconds

        def worker(
            seed: int, stop: float = stop, lock: threading.Lock = lock, counts: list[int] = counts
        ) -> None:
            ok = bad = 0
            i = seed
            while time.perf_counter() < stop:
                try:
                    guard.fire("img", TOGGLE[i & 1])
                    ok += 1
                except IllegalTransition:
                    bad += 1
                i += 1
            with lock:
                counts[0] += ok
                counts[1] += bad

        threads = [threading.Thread(target=worker, args=(w,)) for w in range(workers)]
        start = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        elapsed = time.perf_counter() - start
        line = (
            f"{'throughput, ' + str(workers) + ' worker(s), one hot key':<52} "
            f"{counts[0] / elapsed:8.0f} commits/s, {counts[1] / elapsed:8.0f} rejected/s"
        )
        ROWS.append((label, f"throughput {workers}", line))
        print(line, flush=True)


def bench_django(n: int, repeats: int) -> None:
    print("\n## SQLite: django-fsm-2 ConcurrentTransitionMixin vs statusguard (ratio vs the guard)")
    path = Path(tempfile.mkdtemp()) / "django.db"
    fsm_run, fsm_load_run = django_fsm_runs(path)
    n2 = n - n % 2
    with sql_store(f"sqlite:///{path.parent / 'guard.db'}", audit=False) as store:
        store.create("img", "active")
        guard = Guard(GLANCE, store, CONFIG, tokens=True)
        runs = [toggling(guard.fire, "img"), fsm_run, fsm_load_run]
        mine, fsm, fsm_load = interleaved(runs, n2, repeats)
    report("django", "statusguard fire (SQLite file, WAL)", mine, None, "us")
    report("django", "django-fsm-2 transition + save() in atomic()", fsm, mine, "us")
    report("django", "django-fsm-2 get() + transition + save() in atomic()", fsm_load, mine, "us")
    print(
        f"statusguard is {fsm / mine:.1f}x faster than django-fsm-2 with the object in memory, "
        f"{fsm_load / mine:.1f}x with the load a request does"
    )


class TurnCounter:
    """A loopback TCP proxy counting round trips: client sends that follow a server reply."""

    def __init__(self, host: str, port: int) -> None:
        import socket

        self.target = (host, port)
        self.turns = 0
        self._last = "server"
        self._lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket

        while True:
            client, _ = self.listener.accept()
            server = socket.create_connection(self.target)
            for a, b, side in ((client, server, "client"), (server, client, "server")):
                threading.Thread(target=self._pipe, args=(a, b, side), daemon=True).start()

    def _pipe(self, src: Any, dst: Any, side: str) -> None:
        try:
            while data := src.recv(65536):
                with self._lock:
                    if side == "client" and self._last == "server":
                        self.turns += 1
                    self._last = side
                dst.sendall(data)
        except OSError:
            pass
        finally:
            dst.close()


def install_trigger(store: Any) -> None:
    """``statusguard sql trigger``'s DDL on the store's table (MariaDB: blanks the insert id)."""
    from statusguard.sql import trigger_ddl

    # on the driver's cursor, without parameters: psycopg would read the '%' of the
    # PL/pgSQL format() calls as placeholders
    with store.engine.connect() as conn:
        cursor = conn.connection.dbapi_connection.cursor()
        for statement in trigger_ddl(GLANCE, store.dialect, store.table_name, "status", CONFIG):
            cursor.execute(statement)
        cursor.close()
        conn.commit()


def round_trips(label: str, url: str, audit: bool, trigger: bool = False) -> None:
    import sqlalchemy as sa

    parsed = sa.engine.make_url(url)
    proxy = TurnCounter(parsed.host or "127.0.0.1", parsed.port or 5432)
    via = parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    with sql_store(via, audit=audit) as store:
        store.create("img", "active")  # before the trigger, which creates rows as queued only
        if trigger:
            install_trigger(store)
            label += " (trigger)"
        guard = Guard(GLANCE, store, CONFIG, tokens=True)
        toggling(guard.fire, "img")(10)  # warm the pool and the per-connection setup
        n = 100
        before = proxy.turns
        toggling(guard.fire, "img")(n)
        fires = (proxy.turns - before) / n
        before = proxy.turns
        refusing(partial(guard.fire, "img", "upload_succeeded"), IllegalTransition)(n)
        illegal = (proxy.turns - before) / n
    kind = "fire + audit" if audit else "fire"
    line = f"{label + ' ' + kind:<40} {fires:4.1f} round trips (illegal event: {illegal:.1f})"
    ROWS.append(("round trips", label, line))
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer operations and repeats")
    args = parser.parse_args()
    mem_n, sql_n, repeats = (20_000, 400, 3) if args.quick else (100_000, 1_000, 7)
    print(f"python {sys.version.split()[0]}, statusguard {statusguard.__version__}")
    bench_memory(mem_n, repeats)
    tmp = Path(tempfile.mkdtemp())
    bench_sql(
        "SQLite file (WAL, synchronous=NORMAL)", f"sqlite:///{tmp / 'bench.db'}", sql_n, repeats
    )
    for label, env in (
        ("PostgreSQL", "STATUSGUARD_TEST_POSTGRES_URL"),
        ("MariaDB", "STATUSGUARD_TEST_MYSQL_URL"),
    ):
        url = os.environ.get(env)
        if url:
            bench_sql(label, url, sql_n, repeats)
        else:
            print(f"\n## {label}: skipped ({env} not set)")
    print(
        "\n## Round trips per fire (counted by a loopback proxy; SQLite is in-process: 1 statement)"
    )
    for label, env in (
        ("PostgreSQL", "STATUSGUARD_TEST_POSTGRES_URL"),
        ("MariaDB", "STATUSGUARD_TEST_MYSQL_URL"),
    ):
        url = os.environ.get(env)
        if url:
            round_trips(label, url, audit=False)
            round_trips(label, url, audit=True)
            round_trips(label, url, audit=False, trigger=True)
    bench_django(sql_n, repeats)


if __name__ == "__main__":
    main()
