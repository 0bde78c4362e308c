"""Named race scenarios: who races whom, from which stored status.

A scenario fixes the stored status the race starts from and, per worker, the
requests that worker may handle (an event name, or ``SAVE`` for a metadata save
that rewrites the whole row from its snapshot, status included: Glance's plain
``ImageRepo.save``). Under the guarded protocols the status is written only through
the guard, so a metadata save writes no status and ``SAVE`` requests drop out.

The six Glance scenarios follow ``glance.md`` §3.2-3.3 (LP #1383973, #1241025,
#1236868, #1371728 and the open hazards in HEAD). Each is checked for the harm it
names: an illegal transition, leaving an absorbing state, or a stale decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from statusguard.results import Verdict

__all__ = ["GLANCE_SCENARIOS", "SAVE", "RaceScenario", "scenarios_for"]

SAVE = "(save)"
"""The request name of a metadata save (no event; rewrites the status it read)."""

_P = Verdict.PROVED
_V = Verdict.VIOLATED


@dataclass(frozen=True)
class RaceScenario:
    """A race between a few workers, each handling requests of its role, from ``start``.

    ``expected`` maps each protocol to the verdict the gate expects; the unguarded
    violation is the negative control (the race must keep being found).
    """

    name: str
    doc: str
    start: str
    roles: tuple[tuple[str, ...], ...]
    expected: Mapping[str, Verdict]
    config: Mapping[str, bool] = field(default_factory=dict)
    bugs: tuple[str, ...] = ()

    def requests(self) -> tuple[str, ...]:
        """Every request any worker of this scenario may handle (in first-seen order)."""
        out: dict[str, None] = {}
        for role in self.roles:
            for r in role:
                out.setdefault(r, None)
        return tuple(out)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "doc": self.doc,
            "start": self.start,
            "roles": [list(r) for r in self.roles],
            "config": dict(self.config),
            "bugs": list(self.bugs),
            "expected": {k: str(v) for k, v in self.expected.items()},
        }


GLANCE_SCENARIOS: tuple[RaceScenario, ...] = (
    RaceScenario(
        "delete_during_upload",
        "the upload reads saving, a delete commits, the upload's late write lands on deleted",
        "saving",
        (("upload_succeeded",), ("delete",)),
        {"unguarded": _V, "cas_status": _P, "cas_version": _P, "atomic_event": _P},
        bugs=("LP #1383973", "LP #1236868"),
    ),
    RaceScenario(
        "two_concurrent_uploads",
        "two uploads of one image both start from queued and both believe they own saving",
        "queued",
        (
            ("upload_started", "upload_succeeded", "upload_failed"),
            ("upload_started", "upload_succeeded", "upload_failed"),
        ),
        # cas_status: saving -> queued (upload_failed) then a stale CAS queued -> saving: ABA.
        {"unguarded": _V, "cas_status": _V, "cas_version": _P, "atomic_event": _P},
        bugs=("LP #1241025",),
    ),
    RaceScenario(
        "stale_metadata_save",
        "a metadata save (PATCH) read queued, the upload moved on, the save rewrites old status",
        "queued",
        ((SAVE,), ("upload_started", "upload_succeeded")),
        {"unguarded": _V, "cas_status": _P, "cas_version": _P, "atomic_event": _P},
        bugs=("LP #1371728",),
    ),
    RaceScenario(
        "stage_racing_upload",
        "PUT /file and PUT /stage both start from queued; the stage's _restore writes queued",
        "queued",
        (("upload_started",), ("stage_started", "stage_failed")),
        # cas_status: queued -> uploading -> queued, then the upload's stale CAS wins: ABA.
        {"unguarded": _V, "cas_status": _V, "cas_version": _P, "atomic_event": _P},
        bugs=("glance.md 3.3",),
    ),
    RaceScenario(
        "scrubber_racing_restore",
        "the scrubber checked pending_delete, a restore commits active, the scrub writes deleted",
        "pending_delete",
        (("scrub",), ("restore",)),
        {"unguarded": _V, "cas_status": _P, "cas_version": _P, "atomic_event": _P},
        config={"delayed_delete": True},
        bugs=("glance.md 3.3",),
    ),
    RaceScenario(
        "deactivate_racing_delete",
        "a deactivate and a delete both read active; the late deactivate lands on deleted",
        "active",
        (("deactivate", "reactivate"), ("delete",)),
        # cas_status: active -> deactivated -> active, then the stale delete wins: ABA.
        {"unguarded": _V, "cas_status": _V, "cas_version": _P, "atomic_event": _P},
        bugs=("glance.md 3.3",),
    ),
)


def scenarios_for(lc: Any) -> tuple[RaceScenario, ...]:
    """The named scenarios defined for lifecycle ``lc`` (by name; Glance's image only)."""
    if getattr(lc, "name", None) != "glance-image":
        return ()
    events = {str(e) for e in lc.events}
    states = {str(s) for s in lc.states}
    return tuple(
        sc
        for sc in GLANCE_SCENARIOS
        if sc.start in states and all(r == SAVE or r in events for r in sc.requests())
    )
