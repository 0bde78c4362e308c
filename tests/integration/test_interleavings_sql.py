"""The interleaving machine and the process stress against the guard on SQL stores.

SQLite always runs; PostgreSQL and MariaDB run when ``STATUSGUARD_TEST_POSTGRES_URL``
/ ``STATUSGUARD_TEST_MYSQL_URL`` are set. Each test uses its own table and drops it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import Phase, settings
from hypothesis.stateful import run_state_machine_as_test

import statusguard
from statusguard import Guard, SQLStore
from statusguard.testing import (
    Adapter,
    GuardAdapter,
    RandomLifecycleMachine,
    Request,
    StressReport,
    UnguardedAdapter,
    lifecycle_machine,
    run_stress,
)
from tests.integration._reliab_db import server_url

ROOT = Path(__file__).resolve().parents[2]
GLANCE = statusguard.load(str(ROOT / "model" / "glance_image.py"))
ENGINES = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.postgres),
    pytest.param("mysql", marks=pytest.mark.mysql),
]
# Database runs are slower per step: fewer examples than the profile's default by
# default, many more with --run-slow.
DB_SETTINGS = settings(max_examples=25, stateful_step_count=25, deadline=None)
DB_SETTINGS_LONG = settings(max_examples=150, stateful_step_count=40, deadline=None)
STRESS_CONFIG = {"delayed_delete": True}
WEIGHTS = {"delete": 0.05, "scrub": 0.3, "kill": 0.2}


def url_for(engine: str, tmp_path: Path) -> str:
    if engine == "sqlite":
        return f"sqlite:///{tmp_path / 'interleavings.db'}"
    return server_url(engine)


class Tables:
    """Makes SQLStores on one fresh table; drops it at the end."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.table = f"sg_il_{uuid.uuid4().hex[:10]}"
        self.made: list[Any] = []

    def store(self) -> Any:
        store = SQLStore(self.url, self.table, version="version")
        self.made.append(store)
        return store


@pytest.fixture(params=ENGINES)
def tables(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Tables]:
    t = Tables(url_for(str(request.param), tmp_path))
    first = t.store()
    first.create_schema()
    yield t
    try:
        first.drop_schema()
    finally:
        for store in t.made:
            store.dispose()


@pytest.mark.parametrize("config", list(GLANCE.config_settings()), ids=str)
def test_guard_on_sql_keeps_glance_legal(tables: Tables, config: dict[str, bool]) -> None:
    store = tables.store()  # one store for all runs; each run uses its own keys
    machine = lifecycle_machine(
        GLANCE, lambda lc, cfg: GuardAdapter(Guard(lc, store, cfg)), config=config
    )
    run_state_machine_as_test(machine, settings=DB_SETTINGS)


@pytest.mark.slow
def test_guard_on_sql_keeps_glance_legal_long(tables: Tables) -> None:
    store = tables.store()
    for config in GLANCE.config_settings():
        machine = lifecycle_machine(
            GLANCE, lambda lc, cfg: GuardAdapter(Guard(lc, store, cfg)), config=config
        )
        run_state_machine_as_test(machine, settings=DB_SETTINGS_LONG)


def test_guard_on_sql_keeps_random_lifecycles_legal(tables: Tables) -> None:
    store = tables.store()

    class Random(RandomLifecycleMachine):
        def make_adapter(self) -> Adapter:
            return GuardAdapter(Guard(self.lifecycle, store, self.config))

    run_state_machine_as_test(Random, settings=DB_SETTINGS)


def test_unguarded_sql_race_is_found(tmp_path: Path) -> None:
    """The negative control over SQLite (the database adds nothing to the race)."""
    tables = Tables(url_for("sqlite", tmp_path))
    store = tables.store()
    store.create_schema()
    machine = lifecycle_machine(
        GLANCE,
        lambda lc, cfg: UnguardedAdapter(lc, store),
        config={"delayed_delete": False},
        requests=[Request("delete"), Request("upload_started")],
        max_keys=1,
        name="SqlUnguardedDeleteUpload",
    )
    with pytest.raises(AssertionError, match=r"illegal step|had landed since"):
        run_state_machine_as_test(
            machine,
            settings=settings(
                DB_SETTINGS,
                max_examples=100,
                phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
                report_multiple_bugs=False,
                derandomize=True,
                database=None,
            ),
        )
    # One of the two minimal races: each worker's write lands inside the other's window.
    steps = [
        (f"w{s.worker}", s.action, s.event, s.before, s.after)
        for s in machine.last_schedule
        if s.action != "create"
    ]
    try:
        assert steps in (
            [  # the resurrection: delete lands between the upload's read and write
                ("w0", "read", "delete", "queued", "queued"),
                ("w1", "read", "upload_started", "queued", "queued"),
                ("w0", "write", "delete", "queued", "deleted"),
                ("w1", "write", "upload_started", "deleted", "saving"),
            ],
            [  # the stale delete: upload lands between the delete's read and write
                ("w0", "read", "delete", "queued", "queued"),
                ("w1", "read", "upload_started", "queued", "queued"),
                ("w1", "write", "upload_started", "queued", "saving"),
                ("w0", "write", "delete", "saving", "deleted"),
            ],
        )
    finally:
        store.drop_schema()
        store.dispose()


# -- real processes -------------------------------------------------------------------


def process_stress(tables: Tables, workers: int, rounds: int, ops: int) -> StressReport:
    def make() -> Adapter:  # runs in each process, after the fork: its own engine
        return GuardAdapter(Guard(GLANCE, tables.store(), STRESS_CONFIG), owns_store=True)

    return run_stress(
        make,
        GLANCE,
        STRESS_CONFIG,
        mode="process",
        workers=workers,
        rounds=rounds,
        hot_keys=3,
        ops=ops,
        weights=WEIGHTS,
    )


def check_stress(name: str, result: StressReport) -> None:
    print(f"\n[stress] {name}: {result}")
    for line in (*result.check.problems[:5], *result.error_samples[:5]):
        print(f"[stress]   {line}")
    assert result.errors == 0, result.error_samples
    assert (result.check.illegal, result.check.lost) == (0, 0), result.check.problems
    assert (result.check.invented, result.check.reordered) == (0, 0), result.check.problems
    assert result.commits == result.check.commits > 0
    assert result.conflicts + result.refused > 0, "no contention: the stress proved nothing"


def test_processes_on_sql(tables: Tables, request: pytest.FixtureRequest) -> None:
    result = process_stress(tables, workers=6, rounds=15, ops=15)
    check_stress(f"{request.node.callspec.id}/processes", result)


@pytest.mark.slow
def test_processes_on_sql_large(tables: Tables, request: pytest.FixtureRequest) -> None:
    result = process_stress(tables, workers=12, rounds=60, ops=25)
    check_stress(f"{request.node.callspec.id}/processes large", result)


def test_unguarded_processes_on_sql_are_caught(
    tables: Tables, request: pytest.FixtureRequest
) -> None:
    """The negative control with real processes: read-then-write takes illegal steps."""

    def make() -> Adapter:
        return UnguardedAdapter(GLANCE, tables.store(), owns_store=True)

    result = run_stress(
        make,
        GLANCE,
        STRESS_CONFIG,
        mode="process",
        workers=4,
        rounds=5,
        hot_keys=2,
        ops=15,
        weights=WEIGHTS,
        pause=0.002,
    )
    print(f"\n[stress] {request.node.callspec.id}/processes unguarded: {result}")
    assert result.errors == 0, result.error_samples
    assert result.check.illegal > 0
    assert not result.ok
