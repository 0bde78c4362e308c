"""The OpenStack Glance image lifecycle.

Follows Glance master at commit ``c76abb08e`` (2026-07-22):

* states and edges: ``glance/domain/__init__.py``, ``Image.valid_state_targets``
  (9 statuses, 23 edges, ``deleted`` the only terminal state; unchanged since 2018);
* events and which code writes them: ``glance/api/v2/image_data.py`` (upload, stage,
  ``_restore``), ``glance/api/v2/image_actions.py`` (deactivate, reactivate),
  ``glance/api/v2/images.py`` (delete, legacy location PATCH),
  ``glance/async_/flows/api_image_import.py`` and ``location_import.py`` (import),
  ``glance/scrubber.py`` (scrub, restore);
* the ``delayed_delete`` choice: ``glance/domain/__init__.py`` ``Image.delete`` picks
  ``pending_delete`` only when ``CONF.delayed_delete`` is set and the image has locations.

Deleting a non-active image that carries locations while ``delayed_delete`` is set would
target ``pending_delete``, an edge Glance's table forbids (HTTP 400); the model therefore
enables ``delete`` from those states only when ``delayed_delete`` is off or the image has
no locations. ``killed`` has no v2 writer today; the legacy ``kill`` event keeps the
table's ``saving -> killed`` edge.

The six race scenarios follow ``glance.md`` §3.2-3.3 (LP #1383973, #1241025, #1236868,
#1371728 and the open hazards in HEAD). Each is checked for the harm it names: an illegal
transition, leaving an absorbing state, or a stale decision (``statusguard race``).
"""

from __future__ import annotations

import enum

from statusguard import Flag, FlagKind, Lifecycle, Transition
from statusguard.lifecycle import (
    SAVE,
    Absorbing,
    Closed,
    Never,
    OnlyThrough,
    RaceScenario,
    Unreachable,
)
from statusguard.results import Verdict


class ImageStatus(enum.StrEnum):
    """Glance's nine image statuses (``glance/db/sqlalchemy/api.py`` ``STATUSES``)."""

    QUEUED = "queued"
    SAVING = "saving"
    UPLOADING = "uploading"
    IMPORTING = "importing"
    ACTIVE = "active"
    DEACTIVATED = "deactivated"
    KILLED = "killed"
    PENDING_DELETE = "pending_delete"
    DELETED = "deleted"


class ImageEvent(enum.StrEnum):
    """What happens to an image, named for the happening rather than the target."""

    UPLOAD_STARTED = "upload_started"
    UPLOAD_SUCCEEDED = "upload_succeeded"
    UPLOAD_FAILED = "upload_failed"
    STAGE_STARTED = "stage_started"
    STAGE_FAILED = "stage_failed"
    IMPORT_STARTED = "import_started"
    IMPORT_SUCCEEDED = "import_succeeded"
    IMPORT_FAILED = "import_failed"
    LOCATION_ADDED = "location_added"
    DEACTIVATE = "deactivate"
    REACTIVATE = "reactivate"
    DELETE = "delete"
    SCRUB = "scrub"
    RESTORE = "restore"
    KILL = "kill"


S = ImageStatus
E = ImageEvent

_DELETABLE = (S.QUEUED, S.SAVING, S.UPLOADING, S.IMPORTING, S.KILLED, S.DEACTIVATED)

_P = Verdict.PROVED
_V = Verdict.VIOLATED
_UPLOAD = (E.UPLOAD_STARTED, E.UPLOAD_SUCCEEDED, E.UPLOAD_FAILED)

# Who races whom, from which stored status; the unguarded violations are negative controls.
RACE_SCENARIOS = [
    RaceScenario(
        "delete_during_upload",
        "the upload reads saving, a delete commits, the upload's late write lands on deleted",
        S.SAVING,
        [[E.UPLOAD_SUCCEEDED], [E.DELETE]],
        {"unguarded": _V, "cas_status": _P, "cas_version": _P, "atomic_event": _P},
        bugs=["LP #1383973", "LP #1236868"],
    ),
    RaceScenario(
        "two_concurrent_uploads",
        "two uploads of one image both start from queued and both believe they own saving",
        S.QUEUED,
        [_UPLOAD, _UPLOAD],
        # cas_status: saving -> queued (upload_failed) then a stale CAS queued -> saving: ABA.
        {"unguarded": _V, "cas_status": _V, "cas_version": _P, "atomic_event": _P},
        bugs=["LP #1241025"],
    ),
    RaceScenario(
        "stale_metadata_save",
        "a metadata save (PATCH) read queued, the upload moved on, the save rewrites old status",
        S.QUEUED,
        [[SAVE], [E.UPLOAD_STARTED, E.UPLOAD_SUCCEEDED]],
        {"unguarded": _V, "cas_status": _P, "cas_version": _P, "atomic_event": _P},
        bugs=["LP #1371728"],
    ),
    RaceScenario(
        "stage_racing_upload",
        "PUT /file and PUT /stage both start from queued; the stage's _restore writes queued",
        S.QUEUED,
        [[E.UPLOAD_STARTED], [E.STAGE_STARTED, E.STAGE_FAILED]],
        # cas_status: queued -> uploading -> queued, then the upload's stale CAS wins: ABA.
        {"unguarded": _V, "cas_status": _V, "cas_version": _P, "atomic_event": _P},
        bugs=["glance.md 3.3"],
    ),
    RaceScenario(
        "scrubber_racing_restore",
        "the scrubber checked pending_delete, a restore commits active, the scrub writes deleted",
        S.PENDING_DELETE,
        [[E.SCRUB], [E.RESTORE]],
        {"unguarded": _V, "cas_status": _P, "cas_version": _P, "atomic_event": _P},
        config={"delayed_delete": True},
        bugs=["glance.md 3.3"],
    ),
    RaceScenario(
        "deactivate_racing_delete",
        "a deactivate and a delete both read active; the late deactivate lands on deleted",
        S.ACTIVE,
        [[E.DEACTIVATE, E.REACTIVATE], [E.DELETE]],
        # cas_status: active -> deactivated -> active, then the stale delete wins: ABA.
        {"unguarded": _V, "cas_status": _V, "cas_version": _P, "atomic_event": _P},
        bugs=["glance.md 3.3"],
    ),
]

GLANCE_IMAGE: Lifecycle[ImageStatus, ImageEvent] = Lifecycle(
    "glance-image",
    states=ImageStatus,
    initial=S.QUEUED,
    terminal=[S.DELETED],
    events=ImageEvent,
    flags=[
        Flag(
            "delayed_delete",
            FlagKind.CONFIG,
            doc="glance_store [DEFAULT] delayed_delete: delete to pending_delete, scrub later",
        ),
        Flag("has_locations", FlagKind.FACT, doc="the image has at least one location"),
    ],
    transitions=[
        # image_data.upload: CAS queued -> saving, then CAS saving -> active.
        Transition(E.UPLOAD_STARTED, S.QUEUED, S.SAVING),
        Transition(E.UPLOAD_SUCCEEDED, S.SAVING, S.ACTIVE),
        Transition(E.UPLOAD_FAILED, S.SAVING, S.QUEUED),  # _restore, for retry (LP #1273087)
        # image_data.stage and _unstage.
        Transition(E.STAGE_STARTED, S.QUEUED, S.UPLOADING),
        Transition(E.STAGE_FAILED, S.UPLOADING, S.QUEUED),
        # Interoperable import: glance-direct from uploading; web-/glance-download from queued.
        Transition(E.IMPORT_STARTED, [S.QUEUED, S.UPLOADING], S.IMPORTING),
        Transition(E.IMPORT_SUCCEEDED, S.IMPORTING, S.ACTIVE),
        Transition(E.IMPORT_FAILED, S.IMPORTING, S.QUEUED),
        # Legacy PATCH /locations (show_multiple_locations) and POST /locations.
        Transition(E.LOCATION_ADDED, S.QUEUED, S.ACTIVE),
        Transition(E.DEACTIVATE, S.ACTIVE, S.DEACTIVATED),
        Transition(E.REACTIVATE, S.DEACTIVATED, S.ACTIVE),
        # Image.delete: pending_delete only with delayed_delete and locations.
        Transition(
            E.DELETE,
            S.ACTIVE,
            S.PENDING_DELETE,
            when={"delayed_delete": True, "has_locations": True},
        ),
        Transition(E.DELETE, (S.ACTIVE, *_DELETABLE), S.DELETED, when={"delayed_delete": False}),
        Transition(E.DELETE, (S.ACTIVE, *_DELETABLE), S.DELETED, when={"has_locations": False}),
        # glance-scrubber: scrub after scrub_time, or --restore.
        Transition(E.SCRUB, S.PENDING_DELETE, S.DELETED),
        Transition(E.RESTORE, S.PENDING_DELETE, S.ACTIVE),
        # v1 safe_kill; no v2 writer.
        Transition(E.KILL, S.SAVING, S.KILLED),
    ],
    invariants=[
        Absorbing("deleted-is-final", S.DELETED),
        Unreachable("no-resurrection", S.DELETED, S.ACTIVE),
        Closed("post-data-closed", [S.ACTIVE, S.DEACTIVATED, S.PENDING_DELETE, S.DELETED]),
        Closed("killed-only-to-deleted", [S.KILLED, S.DELETED]),
        Never("killed-never-active", S.KILLED, S.ACTIVE),
        OnlyThrough("pending-delete-only-from-active", S.PENDING_DELETE, [S.ACTIVE]),
        OnlyThrough("killed-only-from-saving", S.KILLED, [S.SAVING]),
    ],
    race_scenarios=RACE_SCENARIOS,
)
