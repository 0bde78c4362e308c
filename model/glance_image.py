"""The OpenStack Glance image lifecycle.

Follows Glance master at commit ``c76abb08e`` (2026-07-22); ``file:line`` below is at that
commit. The Glance 33.0.0 wheel has the same lines in ``glance/domain/__init__.py``,
``glance/api/v2/image_actions.py``, ``glance/scrubber.py`` and ``glance/db/__init__.py``;
its ``glance/api/v2/images.py`` lines 313-480 cited here are 4 later there (317-484) and
``glance/async_/flows/api_image_import.py:1045`` is 1043:

* states and edges: ``glance/domain/__init__.py:99-114``, ``Image.valid_state_targets``
  (9 statuses, 23 edges, ``deleted`` the only terminal state; unchanged since 2018);
* the status setter (``glance/domain/__init__.py:149-176``) refuses queued/uploading ->
  saving, importing or active unless ``disk_format`` and ``container_format`` are both set
  (lines 159-170, ``ValueError``: HTTP 400); the import API refuses the same
  (``glance/api/v2/images.py:348-353``, HTTP 409): fact ``formats_set``;
* ``Image.delete`` (``glance/domain/__init__.py:249-255``) raises ``ProtectedImageDelete``
  (a ``Forbidden``, ``glance/common/exception.py:116``) before it touches the status:
  fact ``protected``; then targets ``pending_delete`` only when ``CONF.delayed_delete`` is
  set and the image has locations, else ``deleted``. From ``pending_delete`` that is
  ``deleted`` (an edge of the table) or ``pending_delete`` again (not one: refused). The
  API cannot reach it (``ImageRepo.get`` hides ``deleted=1`` rows), but the domain layer
  allows it, and a ``pending_delete`` image loaded there shows no locations
  (``glance/db/__init__.py:103`` keeps only ``active`` location rows);
* ``delayed_delete`` is a ``[DEFAULT]`` option declared in ``glance/scrubber.py:74`` and
  registered at ``glance/scrubber.py:171`` (``CONF.register_opts(scrubber_opts)``); the
  domain reads it through ``CONF.import_opt('delayed_delete', 'glance_store')``
  (``glance/domain/__init__.py:38-45``), which only imports a module that ends up
  registering it: it is not a glance_store option;
* import methods (``glance/api/v2/images.py`` ``import_image``, 313-356): glance-direct needs
  a staged ``uploading`` image (343-347); web-download and glance-download need ``queued``
  (338-342); copy-image needs ``active`` and leaves the status alone (331-337); each is
  its own event here. The flow writes ``importing`` (``glance/async_/flows/
  api_image_import.py:1045``);
* an import is refused (409) while another task holds the image's import lock,
  ``os_glance_import_task`` (``glance/api/v2/images.py:385-389`` via
  ``_enforce_import_lock``, 167-216, and the atomic grab at 472-480): fact ``import_locked``;
* no-ops: deactivate of a ``deactivated`` image and reactivate of an ``active`` one are
  accepted without a change (``glance/domain/__init__.py:260-262`` and 273-275; the API
  skips the save, ``glance/api/v2/image_actions.py:61-65`` and 90-94, and answers 204,
  107-111); so is a copy-image import of an ``active`` image;
* other events and their writers: ``glance/api/v2/image_data.py`` (upload, stage,
  ``_restore``), ``glance/api/v2/images.py`` (legacy location PATCH),
  ``glance/scrubber.py`` (scrub, restore).

Deleting a non-active image that carries locations while ``delayed_delete`` is set would
target ``pending_delete``, an edge Glance's table forbids (HTTP 400); the model therefore
enables ``delete`` from those states only when ``delayed_delete`` is off or the image has
no locations. ``killed`` has no v2 writer today; the legacy ``kill`` event keeps the
table's ``saving -> killed`` edge.

Fact defaults (what the runtime assumes when a caller does not say; the proofs range over
every value): ``protected`` False and ``import_locked`` False, Glance's own defaults
(``ImageFactory.new_image``, ``glance/domain/__init__.py:72``; no lock property until an
import takes it); ``formats_set`` True, the case of every image that has data.

The six race scenarios follow ``glance.md`` §3.2-3.3 (LP #1383973, #1241025, #1236868,
#1371728 and the open hazards in HEAD). Each is checked for the harm it names: an illegal
transition, leaving an absorbing state, or a stale decision (``statusguard race``).
"""

from __future__ import annotations

import enum

from statusguard import Flag, FlagKind, Lifecycle, NoOp, Transition
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
    GLANCE_DIRECT_IMPORT = "glance_direct_import"
    WEB_DOWNLOAD_IMPORT = "web_download_import"
    GLANCE_DOWNLOAD_IMPORT = "glance_download_import"
    COPY_IMAGE_IMPORT = "copy_image_import"
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
_FORMATS = {"formats_set": True}
_IMPORTABLE = {"formats_set": True, "import_locked": False}

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
            doc="[DEFAULT] delayed_delete (glance/scrubber.py:74): delete to pending_delete",
        ),
        Flag("has_locations", FlagKind.FACT, doc="the image has at least one location"),
        Flag(
            "formats_set",
            FlagKind.FACT,
            doc="disk_format and container_format are both set",
            default=True,
        ),
        Flag("protected", FlagKind.FACT, doc="the image is protected from delete", default=False),
        Flag(
            "import_locked",
            FlagKind.FACT,
            doc="another task holds the import lock (os_glance_import_task)",
            default=False,
        ),
    ],
    transitions=[
        # image_data.upload: CAS queued -> saving, then CAS saving -> active. The setter
        # needs both formats for queued -> saving (glance/domain/__init__.py:159-170).
        Transition(E.UPLOAD_STARTED, S.QUEUED, S.SAVING, when=_FORMATS),
        Transition(E.UPLOAD_SUCCEEDED, S.SAVING, S.ACTIVE),
        Transition(E.UPLOAD_FAILED, S.SAVING, S.QUEUED),  # _restore, for retry (LP #1273087)
        # image_data.stage and _unstage.
        Transition(E.STAGE_STARTED, S.QUEUED, S.UPLOADING),
        Transition(E.STAGE_FAILED, S.UPLOADING, S.QUEUED),
        # Interoperable import (glance/api/v2/images.py:338-353): glance-direct from a staged
        # uploading image; web-download and glance-download from queued; formats set and
        # no other task holding the import lock (385-389).
        Transition(E.GLANCE_DIRECT_IMPORT, S.UPLOADING, S.IMPORTING, when=_IMPORTABLE),
        Transition(E.WEB_DOWNLOAD_IMPORT, S.QUEUED, S.IMPORTING, when=_IMPORTABLE),
        Transition(E.GLANCE_DOWNLOAD_IMPORT, S.QUEUED, S.IMPORTING, when=_IMPORTABLE),
        Transition(E.IMPORT_SUCCEEDED, S.IMPORTING, S.ACTIVE),
        Transition(E.IMPORT_FAILED, S.IMPORTING, S.QUEUED),
        # Legacy PATCH /locations (show_multiple_locations) and POST /locations.
        Transition(E.LOCATION_ADDED, S.QUEUED, S.ACTIVE, when=_FORMATS),
        Transition(E.DEACTIVATE, S.ACTIVE, S.DEACTIVATED),
        Transition(E.REACTIVATE, S.DEACTIVATED, S.ACTIVE),
        # Image.delete (glance/domain/__init__.py:249-255): a protected image is refused
        # first; pending_delete only with delayed_delete and locations. From pending_delete
        # (domain layer only) it is deleted, or refused (pending_delete again).
        Transition(
            E.DELETE,
            S.ACTIVE,
            S.PENDING_DELETE,
            when={"delayed_delete": True, "has_locations": True, "protected": False},
        ),
        Transition(
            E.DELETE,
            (S.ACTIVE, *_DELETABLE, S.PENDING_DELETE),
            S.DELETED,
            when={"delayed_delete": False, "protected": False},
        ),
        Transition(
            E.DELETE,
            (S.ACTIVE, *_DELETABLE, S.PENDING_DELETE),
            S.DELETED,
            when={"has_locations": False, "protected": False},
        ),
        # glance-scrubber: scrub after scrub_time, or --restore.
        Transition(E.SCRUB, S.PENDING_DELETE, S.DELETED),
        Transition(E.RESTORE, S.PENDING_DELETE, S.ACTIVE),
        # v1 safe_kill; no v2 writer.
        Transition(E.KILL, S.SAVING, S.KILLED),
    ],
    noops=[
        # Accepted without a change: Image.deactivate/reactivate pass (glance/domain/
        # __init__.py:260-262, 273-275), the API skips the save and answers 204
        # (glance/api/v2/image_actions.py:61-65, 90-94, 107-111).
        NoOp(E.DEACTIVATE, S.DEACTIVATED),
        NoOp(E.REACTIVATE, S.ACTIVE),
        # copy-image needs active (glance/api/v2/images.py:331-337) and the import lock
        # (385-389); the status stays active.
        NoOp(E.COPY_IMAGE_IMPORT, S.ACTIVE, when={"import_locked": False}),
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
