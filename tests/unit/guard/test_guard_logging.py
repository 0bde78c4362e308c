"""The ``statusguard`` logger: one record per outcome of ``fire``/``move``, with its fields."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

import statusguard
from statusguard import Guard, IllegalTransition, TransitionConflict
from statusguard.errors import UnknownKey

ROOT = Path(__file__).resolve().parents[3]
NO_DELAY = {"delayed_delete": False}
FIELDS = ("lifecycle", "key", "event", "source", "target", "version", "outcome")


@pytest.fixture
def guard(make_guard: Any) -> Guard[Any, Any]:
    """A Guard, or an AsyncGuard with blocking calls: each case checks both."""
    glance = statusguard.load(str(ROOT / "model" / "glance_image.py"))
    guard: Guard[Any, Any] = make_guard(glance, NO_DELAY)
    return guard


def _seen(caplog: pytest.LogCaptureFixture) -> list[tuple[Any, ...]]:
    records = [r for r in caplog.records if r.name == "statusguard"]
    for r in records:
        assert isinstance(r.duration, float)  # type: ignore[attr-defined]
        assert r.duration >= 0  # type: ignore[attr-defined]
    return [(r.levelname, *(getattr(r, f) for f in FIELDS)) for r in records]


def test_one_record_per_outcome_with_its_fields(
    guard: Guard[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="statusguard")
    name = guard.lifecycle.name
    guard.create("img")
    guard.fire("img", "upload_started")
    with pytest.raises(IllegalTransition):
        guard.fire("img", "upload_started")
    guard.move("img", "queued")
    with pytest.raises(TransitionConflict):
        guard.move("img", "saving", "queued", expected_version=0)
    with pytest.raises(UnknownKey):
        guard.fire("nope", "upload_started")
    assert _seen(caplog) == [
        ("DEBUG", name, "img", "upload_started", "queued", "saving", 1, "committed"),
        ("INFO", name, "img", "upload_started", "saving", None, None, "refused"),
        ("DEBUG", name, "img", None, "saving", "queued", 2, "committed"),
        ("INFO", name, "img", None, "queued", "saving", 2, "refused"),
        ("INFO", name, "nope", "upload_started", None, None, None, "error"),
    ]
    refused = [r for r in caplog.records if r.name == "statusguard"][1]
    assert refused.getMessage().startswith(f"{name} 'img': upload_started saving -> None refused")
    assert refused.error == "IllegalTransition"  # type: ignore[attr-defined]


def test_at_info_commits_are_not_logged_refusals_are(
    guard: Guard[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="statusguard")
    guard.create("img")
    guard.fire("img", "upload_started")
    with pytest.raises(IllegalTransition):
        guard.fire("img", "upload_started")
    assert [row[-1] for row in _seen(caplog)] == ["refused"]


def test_nothing_is_logged_or_measured_when_disabled(
    guard: Guard[Any, Any], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.WARNING, logger="statusguard")
    from statusguard.guard import _observe

    calls: list[float] = []
    monkeypatch.setattr(_observe, "perf_counter", lambda: calls.append(0.0) or 0.0)
    guard.create("img")
    guard.fire("img", "upload_started")
    with pytest.raises(IllegalTransition):
        guard.fire("img", "upload_started")
    assert _seen(caplog) == []
    assert calls == []  # not even the clock was read


def test_a_hooked_guard_logs_once_and_runs_its_hook_once(
    caplog: pytest.LogCaptureFixture, make_guard: Any
) -> None:
    from statusguard.guard import after_commit

    caplog.set_level(logging.DEBUG, logger="statusguard")
    glance = statusguard.load(str(ROOT / "model" / "glance_image.py"))
    ran: list[str] = []
    hook = after_commit(lambda done: ran.append(done.target))
    guard = make_guard(glance, NO_DELAY, hooks=[hook])
    guard.create("img")
    guard.fire("img", "upload_started")
    guard.move("img", "queued")
    assert ran == ["saving", "queued"]  # the observed call is the plain step, not the hooks
    assert [row[-1] for row in _seen(caplog)] == ["committed", "committed"]
