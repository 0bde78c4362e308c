"""OpenTelemetry: one span per ``fire``/``move`` once the program sets a tracer provider."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import statusguard
from statusguard import Guard, IllegalTransition
from statusguard.errors import UnknownKey

trace = pytest.importorskip("opentelemetry.trace", reason="needs statusguard[otel]")
sdk_trace = pytest.importorskip("opentelemetry.sdk.trace", reason="needs opentelemetry-sdk")
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)

ROOT = Path(__file__).resolve().parents[3]
NO_DELAY = {"delayed_delete": False}


@pytest.fixture
def guard(make_guard: Any) -> Guard[Any, Any]:
    """A Guard, or an AsyncGuard with blocking calls: each case checks both."""
    glance = statusguard.load(str(ROOT / "model" / "glance_image.py"))
    guard: Guard[Any, Any] = make_guard(glance, NO_DELAY)
    return guard


@pytest.fixture
def exporter(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider = sdk_trace.TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    # the global provider can be set once per process: stand in for it, restored after
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", provider)
    return exporter


def test_one_span_per_transition_with_its_fields(
    guard: Guard[Any, Any], exporter: InMemorySpanExporter
) -> None:
    guard.create("img")
    guard.fire("img", "upload_started")
    with pytest.raises(IllegalTransition):
        guard.fire("img", "upload_started")
    guard.move("img", "queued")
    with pytest.raises(UnknownKey):
        guard.fire("nope", "upload_started")
    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == [
        "statusguard.fire",
        "statusguard.fire",
        "statusguard.move",
        "statusguard.fire",
    ]
    attrs = [dict(s.attributes or {}) for s in spans]
    name = guard.lifecycle.name
    assert {k: v for k, v in attrs[0].items() if k != "statusguard.duration"} == {
        "statusguard.lifecycle": name,
        "statusguard.key": "img",
        "statusguard.event": "upload_started",
        "statusguard.source": "queued",
        "statusguard.target": "saving",
        "statusguard.version": 1,
        "statusguard.outcome": "committed",
    }
    assert attrs[0]["statusguard.duration"] >= 0
    assert attrs[1]["statusguard.outcome"] == "refused"
    assert attrs[1]["statusguard.source"] == "saving"
    assert spans[1].status.is_ok  # a refusal is an answer, not a failure
    assert (attrs[2]["statusguard.outcome"], attrs[2]["statusguard.version"]) == ("committed", 2)
    assert "statusguard.event" not in attrs[2]  # a move has no event
    assert attrs[3]["statusguard.outcome"] == "error"
    assert attrs[3]["statusguard.error"] == "UnknownKey"
    assert not spans[3].status.is_ok
    assert [e.name for e in spans[3].events] == ["exception"]


def test_no_span_without_a_tracer_provider(
    guard: Guard[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from statusguard.guard import _observe

    monkeypatch.setattr(trace, "_TRACER_PROVIDER", None)
    calls: list[float] = []
    monkeypatch.setattr(_observe, "perf_counter", lambda: calls.append(0.0) or 0.0)
    guard.create("img")
    guard.fire("img", "upload_started")
    assert calls == []  # the guard did not even read the clock
