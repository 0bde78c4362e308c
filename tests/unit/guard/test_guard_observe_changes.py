"""The guard's cheap "nobody listens" check still sees a listener added after it last looked.

``Guard.fire`` reads the logger's own cache of ``isEnabledFor`` answers and the tracer
provider global instead of asking the logging module and OpenTelemetry on every call
(``guard._observe.quiet``). These tests change the logging levels, ``logging.disable`` and
the tracer provider *between* fires, after the guard has seen "nobody": the next fire must
be observed. Each has a negative control: with a check that never learns of the change (a
stale copy of the answer), the same steps see nothing, so the tests can fail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import statusguard
from statusguard import Guard, MemoryStore
from statusguard.guard import _guard, _observe

ROOT = Path(__file__).resolve().parents[3]
NO_DELAY = {"delayed_delete": False}
GLANCE = statusguard.load(str(ROOT / "model" / "glance_image.py"))
LOGGER = logging.getLogger("statusguard")


class Records(logging.Handler):
    """Keeps the statusguard records it is handed (the logger's own handler, no caplog)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(record.outcome)  # type: ignore[attr-defined]


@pytest.fixture
def records() -> Iterator[Records]:
    handler = Records()
    level, root_level = LOGGER.level, logging.getLogger().level
    LOGGER.addHandler(handler)
    LOGGER.setLevel(logging.WARNING)
    try:
        yield handler
    finally:
        LOGGER.removeHandler(handler)
        LOGGER.setLevel(level)
        logging.getLogger().setLevel(root_level)
        logging.disable(logging.NOTSET)


def toggled() -> Guard[Any, Any]:
    """A guard on an active image, after some fires that saw nobody listening."""
    guard = Guard(GLANCE, MemoryStore(), NO_DELAY)
    guard.create("img")
    guard.fire("img", "location_added")
    for event in ("deactivate", "reactivate") * 3:
        guard.fire("img", event)
    return guard


def stale_logger_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """The negative control: the answer "not enabled" copied once, never emptied."""
    assert _observe.enabled(logging.INFO) is False
    monkeypatch.setattr(_guard, "_levels_get", {logging.INFO: False}.get)


def test_the_check_says_quiet_only_when_nobody_listens(records: Records) -> None:
    toggled()
    assert _observe.quiet()  # what the benchmarks rely on: the cheap path is taken
    LOGGER.setLevel(logging.INFO)
    assert not _observe.quiet()


@pytest.mark.parametrize("stale", [False, True], ids=["live", "stale-control"])
@pytest.mark.parametrize(
    "listen",
    [
        pytest.param(lambda: LOGGER.setLevel(logging.DEBUG), id="setLevel"),
        pytest.param(
            lambda: (LOGGER.setLevel(logging.NOTSET), logging.getLogger().setLevel(logging.DEBUG)),
            id="root-level",
        ),
    ],
)
def test_a_level_change_takes_effect_on_the_next_fire(
    records: Records,
    monkeypatch: pytest.MonkeyPatch,
    listen: Callable[[], object],
    stale: bool,
) -> None:
    guard = toggled()
    assert records.seen == []
    if stale:
        stale_logger_check(monkeypatch)
    listen()
    guard.fire("img", "deactivate")
    assert records.seen == ([] if stale else ["committed"])


def test_logging_disable_and_reenable_take_effect(records: Records) -> None:
    LOGGER.setLevel(logging.DEBUG)
    guard = toggled()
    assert records.seen == ["committed"] * 7
    logging.disable(logging.CRITICAL)
    guard.fire("img", "deactivate")
    assert records.seen == ["committed"] * 7
    logging.disable(logging.NOTSET)
    guard.fire("img", "reactivate")
    assert records.seen == ["committed"] * 8


def test_a_disabled_logger_stays_silent(records: Records) -> None:
    # Logger.disabled (what dictConfig sets) is read by isEnabledFor, not cached
    LOGGER.setLevel(logging.DEBUG)
    guard = toggled()
    LOGGER.disabled = True
    try:
        guard.fire("img", "deactivate")
    finally:
        LOGGER.disabled = False
    assert records.seen == ["committed"] * 7


@pytest.mark.parametrize("stale", [False, True], ids=["live", "stale-control"])
def test_a_tracer_provider_set_later_takes_effect_on_the_next_fire(
    records: Records, monkeypatch: pytest.MonkeyPatch, stale: bool
) -> None:
    trace = pytest.importorskip("opentelemetry.trace", reason="needs statusguard[otel]")
    sdk_trace = pytest.importorskip("opentelemetry.sdk.trace", reason="needs opentelemetry-sdk")
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    monkeypatch.setattr(trace, "_TRACER_PROVIDER", None)
    guard = toggled()
    if stale:  # the control: the "no provider" answer copied once
        monkeypatch.setattr(_guard, "otel", type("Copied", (), {"_TRACER_PROVIDER": None}))
    exporter = InMemorySpanExporter()
    provider = sdk_trace.TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    # set_tracer_provider can run once per process: set what it sets, restored after
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", provider)
    guard.fire("img", "deactivate")
    names = [s.name for s in exporter.get_finished_spans()]
    assert names == ([] if stale else ["statusguard.fire"])
    assert records.seen == []  # the logger is still at WARNING: a span, no record
