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
"""

from __future__ import annotations

import enum

from statusguard import Flag, FlagKind, Lifecycle, Transition
from statusguard.lifecycle import Absorbing, Closed, Never, OnlyThrough, Unreachable


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
)
