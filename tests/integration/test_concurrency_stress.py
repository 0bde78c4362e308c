"""Real concurrency: threads and processes race at hot keys; the history must linearize.

Each test prints its counts (run with ``-s`` to see them). The default sizes run
in seconds; ``--run-slow`` adds the large ones.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import statusguard
from statusguard import Guard, MemoryStore
from statusguard.testing import GuardAdapter, StressReport, UnguardedAdapter, run_stress

ROOT = Path(__file__).resolve().parents[2]
GLANCE = statusguard.load(str(ROOT / "model" / "glance_image.py"))
CONFIG = {"delayed_delete": True}
# Keep hot keys alive: deleting ends a key's race, so make it rare.
WEIGHTS = {"delete": 0.05, "scrub": 0.3, "kill": 0.2}
PAUSE = 0.0002  # think time between a read and its write: real services have one


def report(name: str, result: StressReport) -> None:
    print(f"\n[stress] {name}: {result}")
    for problem in result.check.problems[:5]:
        print(f"[stress]   {problem}")
    for sample in result.error_samples[:5]:
        print(f"[stress]   error: {sample}")


def assert_clean(result: StressReport) -> None:
    assert result.errors == 0, result.error_samples
    assert result.check.illegal == 0, result.check.problems
    assert result.check.lost == 0, result.check.problems
    assert result.check.invented == 0, result.check.problems
    assert result.check.reordered == 0, result.check.problems
    assert result.commits == result.check.commits > 0
    assert result.conflicts + result.refused > 0, "no contention: the stress proved nothing"


def memory_stress(workers: int, rounds: int, ops: int, *, audit: bool = False) -> StressReport:
    # audit=True: no inline swap, the guard goes through the store's peek and swap
    adapter = GuardAdapter(Guard(GLANCE, MemoryStore(audit=audit), CONFIG))
    return run_stress(
        lambda: adapter,
        GLANCE,
        CONFIG,
        mode="thread",
        workers=workers,
        rounds=rounds,
        hot_keys=3,
        ops=ops,
        weights=WEIGHTS,
        pause=PAUSE,
    )


def test_threads_on_memory_store() -> None:
    result = memory_stress(workers=16, rounds=150, ops=25)
    report("memory/threads", result)
    assert_clean(result)


def test_threads_on_memory_store_through_peek_and_swap() -> None:
    result = memory_stress(workers=16, rounds=150, ops=25, audit=True)
    report("memory/threads, peek and swap", result)
    assert_clean(result)


@pytest.mark.slow
def test_threads_on_memory_store_large() -> None:
    result = memory_stress(workers=32, rounds=300, ops=40)
    report("memory/threads large", result)
    assert_clean(result)


def test_unguarded_threads_are_caught() -> None:
    """The negative control: the same stress over read-then-write finds illegal steps."""
    adapter = UnguardedAdapter(GLANCE, MemoryStore())
    result = run_stress(
        lambda: adapter,
        GLANCE,
        CONFIG,
        mode="thread",
        workers=8,
        rounds=10,
        hot_keys=3,
        ops=25,
        weights=WEIGHTS,
        pause=PAUSE,
    )
    report("memory/threads unguarded", result)
    assert result.check.illegal > 0
    assert not result.ok
