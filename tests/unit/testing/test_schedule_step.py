"""A schedule step reads as what happened: a refused step is not drawn as a move."""

from __future__ import annotations

from statusguard.testing import ScheduleStep


def test_a_refused_write_reads_as_refused() -> None:
    step = ScheduleStep(
        1, "write", "k0", "upload_started", "saving", "saving", "saving", False, "conflict"
    )
    text = str(step)
    assert "->" not in text  # "saving -> saving (refused)" read like an illegal step
    assert text == "w1 write k0 upload_started: refused saving (conflict); k0 stays saving"


def test_a_refused_fire_names_its_reason_and_a_commit_its_move() -> None:
    refused = ScheduleStep(0, "fire", "k0", "delete", "deleted", "deleted", None, False, "illegal")
    assert str(refused) == "w0 fire k0 delete: refused (illegal); k0 stays deleted"
    done = ScheduleStep(0, "fire", "k0", "delete", "active", "deleted", "deleted", True)
    assert str(done) == "w0 fire k0 delete: active -> deleted (committed)"


def test_a_split_fire_says_where_it_paused() -> None:
    step = ScheduleStep(0, "pause", "k0", "delete", "active", detail="before line 9 of repo.py")
    assert str(step) == "w0 fire k0 delete: sees active, paused before line 9 of repo.py"
