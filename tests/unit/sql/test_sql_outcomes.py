"""``statusguard.sql._outcomes``: the verdicts SQLStore and DjangoStore share, in one copy.

The functions are pure (the callers run the statements), so they are tested here with
fakes; ``test_one_copy_of_each_verdict`` checks no store spells a verdict of its own.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from statusguard.errors import (
    DuplicateKey,
    InvalidArgument,
    InvalidSchema,
    StoreRejected,
    TransitionConflict,
    UnknownKey,
)
from statusguard.guard import Applied, AuditEntry, Record, Rejected
from statusguard.sql import DIALECTS
from statusguard.sql._outcomes import (
    apply_until_decided,
    audit_entry,
    check_versioned,
    collation_query,
    duplicate,
    end_session,
    inexact_key,
    refusal,
    settled,
    untokened,
)
from statusguard.sql.dialects._base import TRIGGER_MESSAGE, ErrorKind
from statusguard.sql.dialects._records import Server, Session

SRC = Path(__file__).resolve().parents[3] / "src" / "statusguard"

MOVES = {"open": "claimed"}


def test_a_write_that_commits_is_applied_at_once() -> None:
    reads: list[int] = []
    done = apply_until_decided(
        lambda: Applied("open", "claimed", 1),
        lambda: reads.append(1) or Record("x", 0),
        MOVES,
        7,
        3,
    )
    assert done == Applied("open", "claimed", 1)
    assert reads == []


def test_a_miss_explained_by_the_read_is_rejected_with_it() -> None:
    done = apply_until_decided(lambda: None, lambda: Record("done", 4), MOVES, 7, 3)
    assert done == Rejected(Record("done", 4))


def test_a_row_that_keeps_moving_is_a_conflict_after_the_retries() -> None:
    writes: list[int] = []

    def write() -> Applied | None:
        writes.append(1)
        return None

    with pytest.raises(TransitionConflict, match="the row kept changing during 3 attempts"):
        apply_until_decided(write, lambda: Record("open", 2), MOVES, 7, 3)
    assert len(writes) == 3


def test_an_expected_version_needs_a_version_column() -> None:
    check_versioned(None, False, "t", missing="m", fix="f")
    check_versioned(3, True, "t", missing="m", fix="f")
    with pytest.raises(InvalidSchema, match=r"t\.\(version\).*expected_version needs m.*: f"):
        check_versioned(3, False, "t", missing="m", fix="f")
    with pytest.raises(InvalidArgument):
        check_versioned(True, True, "t", missing="m", fix="f")


@pytest.mark.parametrize(
    ("kind", "problem", "cause"),
    [
        (ErrorKind.TRIGGER, f"{TRIGGER_MESSAGE} a -> b in lifecycle x", "trigger"),
        (ErrorKind.TRIGGER, "CHECK constraint failed", "constraint"),
        (ErrorKind.CONSTRAINT, "NOT NULL", "constraint"),
        (ErrorKind.DUPLICATE, "unique index on email", "constraint"),
    ],
)
def test_refusals(kind: ErrorKind, problem: str, cause: str) -> None:
    rejected = refusal(kind, problem)
    assert isinstance(rejected, StoreRejected)
    assert rejected.cause == cause


@pytest.mark.parametrize("kind", [ErrorKind.LOST, ErrorKind.RETRY, ErrorKind.OTHER])
def test_other_errors_are_no_refusal(kind: ErrorKind) -> None:
    assert refusal(kind, "x") is None


def test_a_duplicate_names_the_stored_status_or_another_unique_index() -> None:
    assert isinstance(duplicate("k", lambda k: "open"), DuplicateKey)
    assert "its status is 'open'" in str(duplicate("k", lambda k: "open"))

    def absent(key: Any) -> str:
        raise UnknownKey(key)

    other = duplicate("k", absent)
    assert isinstance(other, StoreRejected)
    assert "a unique constraint other than the key's" in str(other)


def test_audit_rows_become_entries_in_utc() -> None:
    row = ("open", "claim", "claimed", 1, "t", "2026-01-02 03:04:05", "ana", "why")
    entry = audit_entry(row)
    assert entry == AuditEntry("open", "claim", "claimed", 1, "t", actor="ana", reason="why")
    assert entry.at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_the_mariadb_collation_verdict_names_column_collation_and_fix() -> None:
    mysql = DIALECTS["mysql"]
    asked = collation_query(mysql, "t", ["id"], ["status"])
    assert asked is not None
    _, params, kept = asked
    assert kept == ()  # MariaDB compares statuses as bytes: only the key is asked about
    assert params == {"t": "t", "c0": "id"}
    problem = inexact_key(mysql, [("id", "utf8mb4_general_ci")], "t", ["id"], mariadb=True)
    assert problem is not None
    assert problem.column == "id"
    assert "utf8mb4_general_ci makes different keys equal" in str(problem)
    assert "COLLATE utf8mb4_nopad_bin" in problem.fix
    assert inexact_key(mysql, [("id", "utf8mb4_nopad_bin")], "t", ["id"]) is None


SERVER = Server("db", 3306, None, 100.0)


def test_settle_verdicts() -> None:
    old = Session(5, SERVER)
    here = Session(6, SERVER)
    found = settled("p", "tok", found=True, gone=False, audited=True, session=old, here=here)
    assert found.committed is True
    absent = settled("p", "tok", found=False, gone=True, audited=True, session=old, here=here)
    assert absent.committed is False
    running = settled("p", "tok", found=False, gone=False, audited=True, session=old, here=here)
    assert running.committed is None
    assert "the old session may still be running" in str(running)
    elsewhere = Session(6, Server("other", 3306, None, 100.0))
    moved = settled("p", "tok", found=False, gone=False, audited=True, session=old, here=elsewhere)
    assert "cannot be ended from here" in str(moved)
    assert untokened("p").committed is None


def test_ending_a_session_kills_it_once_and_waits_until_it_is_gone() -> None:
    mysql = DIALECTS["mysql"]
    asked: list[str] = []
    alive = [1, 1, 0]

    def ask(sql: str) -> Any:
        asked.append(sql)
        return alive.pop(0) if sql.startswith("SELECT") else None

    assert end_session(mysql, Session(5, SERVER), Session(6, SERVER), ask, (RuntimeError,))
    assert [s.split()[0] for s in asked] == ["SELECT", "KILL", "SELECT", "SELECT"]
    other = Session(6, Server("other", 1, None, None))
    assert not end_session(mysql, Session(5, SERVER), other, ask, (RuntimeError,))
    assert end_session(DIALECTS["sqlite"], None, None, ask, (RuntimeError,))


@pytest.mark.parametrize(
    "phrase",
    [
        "the row kept changing during",
        "expected_version needs",
        "violates a unique constraint other than the key's",
        "its token {token} is stored",
        "no token: enable tokens=True",
        "re-reading the token failed too",
        "makes different keys equal",
        "TRIGGER_MESSAGE in problem",
    ],
)
def test_one_copy_of_each_verdict(phrase: str) -> None:
    """Each verdict is spelled in _outcomes.py only (SQLStore and DjangoStore import it)."""
    holders = sorted(
        str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if phrase in p.read_text("utf-8")
    )
    assert holders == ["sql/_outcomes.py"]
