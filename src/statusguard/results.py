"""Verdicts of proof obligations and their counterexamples (shared by every checker).

JSON shape (part of the ``statusguard check --format json`` contract)::

    {"obligation": "no_dead_ends", "status": "violated", "seconds": 0.004,
     "method": "...", "detail": "...",
     "reached_under": {"queued": [{"delayed_delete": false}, {"delayed_delete": true}], ...},
     "counterexample": {"config": {"delayed_delete": true},
                        "trace": [{"state": "queued", "event": "upload_started", "facts": {}},
                                  ...,
                                  {"state": "saving", "event": null, "facts": {}}]}}

A trace lists the states visited from the initial state; each step names the
event taken from that state (``null`` on the last step) and the fact flags it
used. Race obligations add ``"schedule"``: the interleaving of workers.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from statusguard._text import format_flags as _format_flags

__all__ = [
    "Counterexample",
    "ObligationResult",
    "TraceStep",
    "Verdict",
    "reached_under_json",
]


class Verdict(enum.StrEnum):
    """``unknown`` (timeout, solver gave up, or a vacuous proof) never counts as proved."""

    PROVED = "proved"
    VIOLATED = "violated"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class TraceStep:
    """One state of a counterexample and the event taken from it (``None`` on the last)."""

    state: str
    event: str | None = None
    facts: Mapping[str, bool] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state, "event": self.event, "facts": dict(sorted(self.facts.items()))}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> TraceStep:
        return cls(doc["state"], doc.get("event"), dict(doc.get("facts", {})))


@dataclass(frozen=True)
class Counterexample:
    """A config setting and a path from the initial state that shows a violation."""

    config: Mapping[str, bool]
    trace: tuple[TraceStep, ...]
    schedule: tuple[Mapping[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "config": dict(sorted(self.config.items())),
            "trace": [s.to_json() for s in self.trace],
        }
        if self.schedule:
            doc["schedule"] = [dict(s) for s in self.schedule]
        return doc

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Counterexample:
        return cls(
            dict(doc.get("config", {})),
            tuple(TraceStep.from_json(s) for s in doc.get("trace", [])),
            tuple(dict(s) for s in doc.get("schedule", [])),
        )

    def events(self) -> list[str]:
        """The event sequence, for replaying through ``Lifecycle.next``."""
        return [s.event for s in self.trace if s.event is not None]

    def render(self) -> str:
        """Readable lines: config, then ``state --event [facts]--> state``."""
        lines = [f"config: {_format_flags(self.config) or '(no config flags)'}"]
        for step in self.trace:
            if step.event is None:
                lines.append(f"  {step.state}")
            else:
                facts = _format_flags(step.facts)
                lines.append(f"  {step.state} --{step.event}{f' [{facts}]' if facts else ''}-->")
        return "\n".join(lines)


@dataclass(frozen=True)
class ObligationResult:
    """The verdict of one obligation on one lifecycle."""

    obligation: str
    status: Verdict
    seconds: float
    method: str = ""
    detail: str = ""
    counterexample: Counterexample | None = None
    reached_under: Mapping[str, tuple[Mapping[str, bool], ...]] | None = None
    """``reachable`` only: per state, the config settings under which some run reaches it."""

    @property
    def ok(self) -> bool:
        return self.status is Verdict.PROVED

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "obligation": self.obligation,
            "status": str(self.status),
            "seconds": round(self.seconds, 6),
            "method": self.method,
        }
        if self.detail:
            doc["detail"] = self.detail
        doc["counterexample"] = (
            self.counterexample.to_json() if self.counterexample is not None else None
        )
        if self.reached_under is not None:
            doc["reached_under"] = reached_under_json(self.reached_under)
        return doc


def reached_under_json(
    reached: Mapping[str, tuple[Mapping[str, bool], ...]],
) -> dict[str, list[dict[str, bool]]]:
    """``{state: [{config flag: value}, ...]}`` (states in model order, settings as given)."""
    return {s: [dict(sorted(c.items())) for c in cfgs] for s, cfgs in reached.items()}
