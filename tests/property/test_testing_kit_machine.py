"""The interleaving machine finds what it claims to, reports it readably, and helps adapters.

Issue 17 item 14: ABA under a status-only compare-and-set found at hypothesis's
default budget; a claimed-atomic ``fire`` that reads, then writes, caught by the
machine itself; the schedule in the failure message (also under ``TestCase``);
the loaded object carried from ``read`` to ``write``; ``write`` told the event;
a hook for the user's own invariants; few discarded cases; short schedules.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import hypothesis.core
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.internal.conjecture import providers
from hypothesis.internal.constants_ast import Constants
from hypothesis.stateful import run_state_machine_as_test

import statusguard
from statusguard import Guard, Lifecycle, MemoryStore
from statusguard.errors import IllegalTransition, MissingFlag
from statusguard.testing import (
    Adapter,
    Commit,
    GuardAdapter,
    LifecycleMachine,
    Outcome,
    Snapshot,
    lifecycle_machine,
)

ROOT = Path(__file__).resolve().parents[2]
GLANCE = statusguard.load(str(ROOT / "model" / "glance_image.py"))
CONFIG = {"delayed_delete": False}
STALE = r"commit\(s\) had landed since"
# Hypothesis's defaults (100 examples), generation only, random seeds we fix below.
DEFAULT_BUDGET = settings(
    max_examples=100,
    phases=[Phase.generate],
    database=None,
    deadline=None,
    derandomize=False,
    suppress_health_check=list(HealthCheck),
)
SHRINKING = settings(
    DEFAULT_BUDGET,
    max_examples=300,
    phases=[Phase.generate, Phase.shrink],
    report_multiple_bugs=False,
)


def cas_status(lc: Lifecycle[Any, Any], config: Mapping[str, bool]) -> Adapter:
    return GuardAdapter(Guard(lc, MemoryStore(), config), "cas_status")


def aba_machine(name: str) -> type[LifecycleMachine]:
    return lifecycle_machine(GLANCE, cas_status, config=CONFIG, name=name)


def found(machine: type[LifecycleMachine], budget: settings) -> AssertionError | None:
    try:
        run_state_machine_as_test(machine, settings=budget)
    except AssertionError as exc:
        return exc
    return None


@pytest.fixture
def seeded(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[int], None]]:
    """Fix hypothesis's draws to a seed, whatever else the run has imported.

    Hypothesis mixes constants it finds in the local modules loaded so far (here: the
    editable install's statusguard modules) into its draws, so at a fixed seed the draws
    depended on which tests had run before: the ABA was found at 19 of the 20 seeds
    alone, 18 with every statusguard module loaded, 20 with no local constants (measured
    2026-12-02, hypothesis 6.170). The tests that pin seeds draw without them; the cache
    of permitted constants is emptied on the way in and out, so no other test sees ours.
    """
    empty = Constants()
    monkeypatch.setattr(providers, "_get_local_constants", lambda: empty)
    providers.CONSTANTS_CACHE.cache.clear()

    def seed(value: int) -> None:
        monkeypatch.setattr(hypothesis.core, "global_force_seed", value)

    yield seed
    providers.CONSTANTS_CACHE.cache.clear()


def test_the_seeded_fixture_pins_the_draws(seeded: Callable[[int], None]) -> None:
    """The fixture's own control: at one seed two runs draw the same failing schedule,
    and another seed draws a different one (were the seed not forced, hypothesis would
    draw afresh each run and the first comparison would see it)."""
    schedules = []
    for seed in (4, 4, 3):
        seeded(seed)
        machine = aba_machine(f"Pinned{seed}")
        assert found(machine, DEFAULT_BUDGET) is not None
        schedules.append([str(step) for step in machine.last_schedule])
    assert schedules[0] == schedules[1]
    assert schedules[0] != schedules[2]


# Seeds at which the machine before the fix missed the ABA within 100 examples
# (it missed 7 of seeds 0..19); the slow test below takes all 20.
MISSED_BEFORE = [0, 3, 4]


@pytest.mark.parametrize("seed", MISSED_BEFORE)
def test_aba_under_cas_status_is_found_at_the_default_budget(
    seed: int, seeded: Callable[[int], None]
) -> None:
    seeded(seed)
    exc = found(aba_machine(f"Aba{seed}"), DEFAULT_BUDGET)
    assert exc is not None, f"seed {seed}: no ABA in 100 examples"
    assert "had landed since" in str(exc)


@pytest.mark.slow
def test_aba_detection_rate_over_twenty_seeds(seeded: Callable[[int], None]) -> None:
    hits = 0
    for seed in range(20):
        seeded(seed)
        hits += found(aba_machine(f"Rate{seed}"), DEFAULT_BUDGET) is not None
    # 20 with the draws pinned (the fixture); 18 or 19 before, depending on what the run
    # had loaded. The machine before the fix found 13. The floor leaves room for a
    # hypothesis release that draws differently.
    assert hits >= 18, f"ABA found at {hits} of 20 seeds"


@pytest.mark.parametrize("seed", [4, pytest.param(0, marks=pytest.mark.slow)])
def test_the_reported_aba_schedule_is_short(seed: int, seeded: Callable[[int], None]) -> None:
    """Shrunk, then shortened by replay: no redundant steps around the race."""
    seeded(seed)
    machine = aba_machine(f"Short{seed}")
    exc = found(machine, SHRINKING)
    assert exc is not None
    steps = [s for s in machine.last_schedule if s.action != "create"]
    assert len(steps) <= 7, "\n".join(map(str, steps))
    # The message lists exactly the reported schedule, one step a line.
    assert str(exc).count("\n  ") == len(machine.last_schedule)
    assert "schedule (" in str(exc)


def test_the_failure_message_carries_the_schedule_under_testcase(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    machine = aba_machine("UnderTestCase")
    case = machine.TestCase
    assert Phase.explain not in case.settings.phases
    monkeypatch.setattr(case, "settings", settings(case.settings, **_no_db()))
    with pytest.raises(AssertionError, match=STALE) as info:
        case("runTest").runTest()
    text = str(info.value)
    assert "schedule (UnderTestCase" in text
    assert "  setup create k0: queued" in text
    assert " read k0 " in text
    assert " write k0 " in text


def _no_db() -> dict[str, Any]:
    return {"database": None, "derandomize": True, "max_examples": 300, "stateful_step_count": 25}


# -- a claimed-atomic fire that reads, then writes --------------------------------


class ReadThenWrite:
    """``supports_fire = True``, but ``fire`` reads the row, decides, then writes it."""

    supports_fire = True

    def __init__(self, lc: Lifecycle[Any, Any], config: Mapping[str, bool]) -> None:
        self.lc, self.config = lc, dict(config)
        self.rows: dict[str, str] = {}
        self.lock = threading.Lock()
        self.locked = False

    def create(self, key: str) -> Snapshot:
        self.rows[key] = str(self.lc.initial)
        return Snapshot(self.rows[key])

    def read(self, key: str) -> Snapshot:
        return Snapshot(self.rows[key])

    def write(self, key: str, seen: Snapshot, target: str) -> Outcome:
        with self.lock:
            if self.rows[key] != seen.status:
                return Outcome(False, reason="conflict")
            self.rows[key] = target
        return Outcome(True, seen.status, target)

    def fire(self, key: str, event: str, facts: Mapping[str, bool]) -> Outcome:
        if self.locked:
            with self.lock:
                return self._fire(key, event, facts)
        return self._fire(key, event, facts)

    def _fire(self, key: str, event: str, facts: Mapping[str, bool]) -> Outcome:
        status = self.rows[key]
        flags = {**self.config, **facts}
        try:
            target = str(self.lc.next(status, event, flags))
        except (IllegalTransition, MissingFlag):
            return Outcome(False, reason="illegal")
        if target == status and self.lc.is_noop(status, event, flags):
            return Outcome(False, status, status, reason="noop")  # accepted, nothing written
        self.rows[key] = target
        return Outcome(True, status, target)


class Locked(ReadThenWrite):
    """The same fire under the adapter's lock: atomic, so the machine must pass it."""

    def __init__(self, lc: Lifecycle[Any, Any], config: Mapping[str, bool]) -> None:
        super().__init__(lc, config)
        self.locked = True


@pytest.mark.parametrize("mode", ["thread", "inline"])
def test_a_read_then_write_fire_claiming_atomicity_is_caught(mode: str) -> None:
    machine = lifecycle_machine(
        GLANCE,
        ReadThenWrite,
        config=CONFIG,
        fresh="status",  # its write compares statuses only; the fire is what is under test
        split_fire=mode,  # type: ignore[arg-type]
        name=f"Split_{mode}",
    )
    exc = found(machine, settings(DEFAULT_BUDGET, derandomize=True))
    assert exc is not None, "the non-atomic fire went unnoticed"
    assert "paused before line" in str(exc)
    paused = [s for s in machine.last_schedule if s.action == "pause"]
    assert paused
    assert paused[0].detail.startswith("before line")


def test_a_locked_fire_passes_the_split_check() -> None:
    machine = lifecycle_machine(GLANCE, Locked, config=CONFIG, fresh="status", name="SplitLocked")
    # Every split that pauses inside the lock waits split_wait for the other fire.
    run_state_machine_as_test(machine, settings=settings(DEFAULT_BUDGET, max_examples=20))


def test_split_fire_off_trusts_the_claim() -> None:
    machine = lifecycle_machine(
        GLANCE, ReadThenWrite, config=CONFIG, fresh="status", split_fire="off"
    )
    run_state_machine_as_test(machine, settings=settings(DEFAULT_BUDGET, max_examples=30))


# -- what adapters get ------------------------------------------------------------


class Session:
    """Stands for an ORM session holding the loaded object."""

    def __init__(self, status: str) -> None:
        self.status = status
        self.open = True


class OrmLike:
    """read() loads an object into a session; write() must get that very session."""

    supports_fire = False

    def __init__(self, lc: Lifecycle[Any, Any], config: Mapping[str, bool]) -> None:
        self.inner = GuardAdapter(Guard(lc, MemoryStore(), config))
        self.lc, self.config = lc, dict(config)
        self.sessions: list[Session] = []
        self.writes: list[tuple[str, str, str]] = []

    def create(self, key: str) -> Snapshot:
        return self.inner.create(key)

    def read(self, key: str) -> Snapshot:
        snap = self.inner.read(key)
        session = Session(snap.status)
        self.sessions.append(session)
        return Snapshot(snap.status, snap.version, handle=session)

    def write(
        self, key: str, seen: Snapshot, target: str, *, event: str, facts: Mapping[str, bool]
    ) -> Outcome:
        session = seen.handle
        assert isinstance(session, Session), "write got no session"
        assert session.open, "write got a closed session"
        assert session.status == seen.status
        assert str(self.lc.next(seen.status, event, {**self.config, **facts})) == target
        session.open = False
        self.writes.append((seen.status, event, target))
        return self.inner.write(key, Snapshot(seen.status, seen.version), target)

    def fire(self, key: str, event: str, facts: Mapping[str, bool]) -> Outcome:
        raise NotImplementedError

    def close(self) -> None:
        for session in self.sessions:
            session.open = False


def test_write_gets_the_read_handle_and_the_event() -> None:
    made: list[OrmLike] = []

    def make(lc: Lifecycle[Any, Any], config: Mapping[str, bool]) -> Adapter:
        made.append(OrmLike(lc, config))
        return made[-1]

    machine = lifecycle_machine(GLANCE, make, config=CONFIG)
    run_state_machine_as_test(machine, settings=settings(DEFAULT_BUDGET, max_examples=30))
    assert any(a.writes for a in made)
    assert all(not s.open for a in made for s in a.sessions)  # close() ran for every run


class Audited:
    """The guard, plus an audit log the service keeps beside the status column."""

    supports_fire = True

    def __init__(self, lc: Lifecycle[Any, Any], config: Mapping[str, bool], *, lose: bool) -> None:
        self.inner = GuardAdapter(Guard(lc, MemoryStore(), config))
        self.audit: dict[str, list[str]] = {}
        self.lose = lose

    def create(self, key: str) -> Snapshot:
        self.audit[key] = []
        return self.inner.create(key)

    def read(self, key: str) -> Snapshot:
        return self.inner.read(key)

    def _log(self, key: str, outcome: Outcome) -> Outcome:
        if outcome.committed and not (self.lose and outcome.target == "deleted"):
            self.audit[key].append(str(outcome.target))
        return outcome

    def write(self, key: str, seen: Snapshot, target: str) -> Outcome:
        return self._log(key, self.inner.write(key, seen, target))

    def fire(self, key: str, event: str, facts: Mapping[str, bool]) -> Outcome:
        return self._log(key, self.inner.fire(key, event, facts))


def audit_matches(machine: LifecycleMachine, key: str, commits: Sequence[Commit]) -> None:
    adapter = machine.adapter
    assert isinstance(adapter, Audited)
    logged = adapter.audit[machine.real_key(key)]
    assert logged == [c.target for c in commits], f"audit {logged} for commits"


@pytest.mark.parametrize("lose", [False, True])
def test_check_key_is_the_hook_for_side_effects(lose: bool) -> None:
    machine = lifecycle_machine(
        GLANCE,
        lambda lc, config: Audited(lc, config, lose=lose),
        config=CONFIG,
        check=audit_matches,
        split_fire="off",  # fire-then-log is not atomic: a split fire would (rightly) fail it
        name=f"Audit_{lose}",
    )
    exc = found(machine, settings(DEFAULT_BUDGET, derandomize=True))
    if not lose:
        assert exc is None, str(exc)
        return
    assert exc is not None, "the lost audit row went unnoticed"
    assert "check_key: audit" in str(exc)
    assert "schedule (" in str(exc)


def test_few_generated_cases_are_discarded() -> None:
    """Every run counts: before the fix about 46% of runs were thrown away as invalid
    (an empty key bundle, a swarm-disabled key rule, oversized runs)."""
    runs = [0]

    class Counted(lifecycle_machine(GLANCE, cas_status, config=CONFIG, fresh="status")):  # type: ignore[misc]
        def __init__(self) -> None:
            runs[0] += 1
            super().__init__()

    budget = settings(DEFAULT_BUDGET, derandomize=True, max_examples=40, stateful_step_count=20)
    run_state_machine_as_test(Counted, settings=budget)
    assert runs[0] <= 48, f"{runs[0]} runs for 40 valid examples"  # before: about 74
