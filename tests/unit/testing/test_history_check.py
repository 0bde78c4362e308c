"""The linearizability check catches every kind of bad history it claims to."""

from __future__ import annotations

from pathlib import Path

import statusguard
from statusguard.testing import Ack, Snapshot, check_history

ROOT = Path(__file__).resolve().parents[3]
GLANCE = statusguard.load(str(ROOT / "model" / "glance_image.py"))
CONFIG = {"delayed_delete": False}


def ack(version: int, source: str, event: str, target: str, start: int, end: int) -> Ack:
    return Ack("k", 0, event, (), source, target, version, start, end)


GOOD = [
    ack(1, "queued", "upload_started", "saving", 0, 10),
    ack(2, "saving", "upload_succeeded", "active", 5, 20),
    ack(3, "active", "delete", "deleted", 30, 40),
]


def test_a_legal_linear_history_passes() -> None:
    result = check_history(GLANCE, CONFIG, GOOD, {"k": Snapshot("deleted", 3)})
    assert result.ok
    assert (result.keys, result.commits) == (1, 3)
    assert result.problems == ()


def test_an_untouched_key_passes_and_a_moved_one_without_acks_does_not() -> None:
    assert check_history(GLANCE, CONFIG, [], {"k": Snapshot("queued", 0)}).ok
    result = check_history(GLANCE, CONFIG, [], {"k": Snapshot("saving", 1)})
    assert (result.lost, result.invented) == (1, 1)


def test_illegal_step_is_counted() -> None:
    bad = [*GOOD[:2], ack(3, "active", "upload_started", "saving", 30, 40)]
    result = check_history(GLANCE, CONFIG, bad, {"k": Snapshot("saving", 3)})
    assert (result.illegal, result.lost, result.invented) == (1, 0, 0)
    assert "illegal active -> saving" in result.problems[0]


def test_two_acks_for_one_version_is_a_lost_ack() -> None:
    twice = [*GOOD, ack(3, "active", "deactivate", "deactivated", 31, 41)]
    result = check_history(GLANCE, CONFIG, twice, {"k": Snapshot("deleted", 3)})
    assert result.lost == 1
    assert not result.ok


def test_final_state_that_disagrees_is_lost() -> None:
    result = check_history(GLANCE, CONFIG, GOOD, {"k": Snapshot("active", 3)})
    assert result.lost == 1


def test_broken_chain_is_lost() -> None:
    broken = [GOOD[0], ack(2, "queued", "upload_started", "saving", 11, 20)]
    result = check_history(GLANCE, CONFIG, broken, {"k": Snapshot("saving", 2)})
    assert result.lost == 1


def test_unacknowledged_commits_are_invented() -> None:
    result = check_history(GLANCE, CONFIG, GOOD[:2], {"k": Snapshot("active", 5)})
    assert result.invented == 3
    gap = [GOOD[0], GOOD[2]]
    result = check_history(GLANCE, CONFIG, gap, {"k": Snapshot("deleted", 3)})
    assert result.invented == 1


def test_version_order_against_real_time_is_reordered() -> None:
    # v3 finished (t=4) before v2 started (t=5): no serial order explains that.
    late = [GOOD[0], GOOD[1], ack(3, "active", "delete", "deleted", 1, 4)]
    result = check_history(GLANCE, CONFIG, late, {"k": Snapshot("deleted", 3)})
    assert result.reordered == 1
    assert not result.ok
