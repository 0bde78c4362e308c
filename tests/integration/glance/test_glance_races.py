"""Glance's status races on Glance's own repository stack, with and without statusguard.

Two workers drive ``glance.gateway.Gateway().get_repo(context)`` (a real filesystem store
in a temp dir, Glance's tables from its models) with a deterministic interleaving: the
late worker pauses right before its write, the early one runs to the end, then the late
one writes. Without the integration Glance loses the race (the negative control: each
``unguarded`` case fails if Glance stops losing); with :func:`enable` the late write is
refused with :class:`StatusRefused` (Glance's ``Conflict``, HTTP 409), every status step
observed is an edge of the Glance lifecycle, and the end state (status, deleted flag,
locations, stored data) equals one of the two serial orders. SQLite always; PostgreSQL and
MariaDB with STATUSGUARD_TEST_POSTGRES_URL / STATUSGUARD_TEST_MYSQL_URL (database
``glance_helper``).
"""

from __future__ import annotations

import io
import itertools
import os
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    glance = pytest.importorskip(
        "glance.db.sqlalchemy.api", reason="glance is not installed: pip install '.[glance]'"
    )
    from statusguard.integrations import glance as integration
    from tests.integration.glance import glance_stack as gs

import sqlalchemy as sa

from tests.integration._reliab_db import server_url

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::PendingDeprecationWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

#: the server database the reproductions create their tables in (one per concurrent run)
DATABASE = os.environ.get("STATUSGUARD_GLANCE_TEST_DATABASE", "glance_helper")


def _server_database(engine: str) -> str:
    """A database of our own on the test server (created if absent)."""
    base = sa.engine.make_url(server_url(engine))
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if engine == "postgresql":
                found = conn.execute(
                    sa.text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": DATABASE}
                ).first()
                if found is None:
                    conn.execute(sa.text(f"CREATE DATABASE {DATABASE}"))
            else:
                conn.execute(sa.text(f"CREATE DATABASE IF NOT EXISTS {DATABASE}"))
    finally:
        admin.dispose()
    return base.set(database=DATABASE).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[gs.Stack]:
    engine = str(request.param)
    url = f"sqlite:///{tmp_path / 'glance.db'}" if engine == "sqlite" else _server_database(engine)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        db = gs.configure(url, tmp_path / "images")
    integration.disable()
    try:
        yield gs.Stack(db, tmp_path / "images")
    finally:
        integration.disable()
        gs.teardown(db)


def _legal(history: list[str]) -> bool:
    lc = integration._hooks.lifecycle()
    known = {**lc.fact_defaults, "delayed_delete": False}
    steps = [(a, b) for a, b in itertools.pairwise(history) if a != b]
    return all(lc.edge_allowed(a, b, known) for a, b in steps)


def _active_image(st: gs.Stack) -> str:
    image_id = st.new_image()
    st.upload(image_id)
    assert st.row(image_id)["status"] == "active"
    return image_id


def _state(st: gs.Stack, image_id: str) -> tuple[str, bool, int, list[str]]:
    row = st.row(image_id)
    live = [loc for loc in row["locations"] if loc == ("active", False)]
    return row["status"], row["deleted"], len(live), st.files()


def _race(
    st: gs.Stack, image_id: str, late: Callable[[Callable[[], None]], Any], early: Callable[[], Any]
) -> tuple[BaseException | None, list[str]]:
    """The late worker's error and the status after each step (initial, early, late)."""
    history = [st.row(image_id)["status"]]

    def early_then_record() -> None:
        early()
        history.append(st.row(image_id)["status"])

    _, error, _ = gs.interleave(late, early_then_record)
    history.append(st.row(image_id)["status"])
    return error, history


# -- stale PATCH vs deactivate ---------------------------------------------------------


def _patch(st: gs.Stack, image_id: str) -> Callable[[Callable[[], None]], None]:
    def late(pause: Callable[[], None]) -> None:  # images.py update: get, change, save
        repo = st.repo()
        image = repo.get(image_id)
        image.name = "renamed"
        pause()
        repo.save(image)

    return late


def _deactivate(st: gs.Stack, image_id: str) -> Callable[[], None]:
    def early() -> None:  # image_actions.py:47-65
        repo = st.repo()
        image = repo.get(image_id)
        image.deactivate()
        repo.save(image, from_state="active")

    return early


@pytest.mark.parametrize("guarded", [False, True], ids=["unguarded", "guarded"])
def test_stale_patch_vs_deactivate(stack: gs.Stack, guarded: bool) -> None:
    image_id = _active_image(stack)
    files = stack.files()
    if guarded:
        integration.enable()
    error, history = _race(stack, image_id, _patch(stack, image_id), _deactivate(stack, image_id))
    # both serial orders end deactivated, with the data and its location
    serial = ("deactivated", False, 1, files)
    if not guarded:  # Glance loses the race: the stale save re-activates the image
        assert error is None
        assert history == ["active", "deactivated", "active"]
        assert _state(stack, image_id) != serial
        return
    assert isinstance(error, integration.StatusRefused)
    assert isinstance(error, glance_exception().Conflict)
    assert "found 'deactivated' stored" in str(error)
    assert history == ["active", "deactivated", "deactivated"]
    assert _legal(history)
    assert _state(stack, image_id) == serial


# -- LP #1371728: a stale whole-image save overwrites the status (here: of a deleted image)


def _delete(st: gs.Stack, image_id: str) -> Callable[[], None]:
    def early() -> None:  # images.py delete: get, image.delete() (data goes), repo.remove
        repo = st.repo()
        image = repo.get(image_id)
        image.delete()
        repo.remove(image)

    return early


@pytest.mark.parametrize("guarded", [False, True], ids=["unguarded", "guarded"])
def test_lp1371728_stale_save_vs_delete(stack: gs.Stack, guarded: bool) -> None:
    image_id = _active_image(stack)
    if guarded:
        integration.enable()
    error, history = _race(stack, image_id, _patch(stack, image_id), _delete(stack, image_id))
    # serial: delete then PATCH (404) or PATCH then delete: deleted, no data, no location
    serial = ("deleted", True, 0, [])
    if not guarded:  # the stale save writes 'active' over the deleted image, and its
        # whole-image values bring back a live location pointing at the deleted data
        assert error is None
        assert history == ["active", "deleted", "active"]
        assert not _legal(history)
        assert _state(stack, image_id) == ("active", True, 1, [])
        return
    assert isinstance(error, integration.StatusRefused)
    assert history == ["active", "deleted", "deleted"]
    assert _legal(history)
    assert _state(stack, image_id) == serial


# -- LP #1383973: delete during upload ------------------------------------------------


def _upload(st: gs.Stack, image_id: str) -> Callable[[Callable[[], None]], None]:
    def late(pause: Callable[[], None]) -> None:  # image_data.py upload
        repo = st.repo()
        image = repo.get(image_id)
        image.status = "saving"
        repo.save(image, from_state="queued")
        image.set_data(io.BytesIO(b"y" * 512), 512)  # the data is in the store now
        pause()
        repo.save(image, from_state="saving")

    return late


@pytest.mark.parametrize("guarded", [False, True], ids=["unguarded", "guarded"])
def test_lp1383973_delete_during_upload(stack: gs.Stack, guarded: bool) -> None:
    """As filed the image came back ``active``; on 33.0.0 the upload's ``from_state``
    refuses that, but the uploaded data stays in the store with no location (a leak)."""
    image_id = stack.new_image()
    if guarded:
        integration.enable()
    error, history = _race(stack, image_id, _upload(stack, image_id), _delete(stack, image_id))
    serial = ("deleted", True, 0, [])  # upload then delete, or delete then a refused upload
    assert isinstance(error, glance_exception().Conflict)
    assert history == ["queued", "deleted", "deleted"]  # before, after delete, at the end
    assert _legal(["queued", "saving", "deleted"])
    if not guarded:  # Glance leaks the data: a file no location points at
        assert _state(stack, image_id) == ("deleted", True, 0, [image_id])
        return
    assert isinstance(error, integration.StatusRefused)
    assert _state(stack, image_id) == serial


# -- delete claims before the data goes ------------------------------------------------


@pytest.mark.parametrize("guarded", [False, True], ids=["unguarded", "guarded"])
def test_deactivate_vs_delete_with_delayed_delete(stack: gs.Stack, guarded: bool) -> None:
    """delayed_delete on: the delete loaded the image active and targets pending_delete;
    a deactivate commits before it. Glance alone marks the data for the scrubber and
    writes pending_delete over deactivated (not an edge); with statusguard the delete's
    claim is refused before any location is touched."""
    from oslo_config import cfg

    image_id = _active_image(stack)
    files = stack.files()
    cfg.CONF.set_override("delayed_delete", True)
    try:
        if guarded:
            integration.enable()
        error, history = _race(
            stack, image_id, _delete_paused(stack, image_id), _deactivate(stack, image_id)
        )
        state = _state(stack, image_id)
        locations = [status for status, _ in stack.row(image_id)["locations"]]
    finally:
        cfg.CONF.clear_override("delayed_delete")
    # serial: deactivate then delete (refused: deactivated -> pending_delete is no edge),
    # or delete then deactivate (refused): deactivated with its data, or pending_delete
    if not guarded:
        assert error is None
        assert history == ["active", "deactivated", "pending_delete"]
        assert not _legal(history)
        assert locations == ["pending_delete"]
        return
    assert isinstance(error, integration.StatusRefused)
    assert "expected status 'active', found 'deactivated'" in str(error)
    assert history == ["active", "deactivated", "deactivated"]
    assert _legal(history)
    assert state == ("deactivated", False, 1, files)
    assert locations == ["active"]  # no data marked or deleted


def _delete_paused(st: gs.Stack, image_id: str) -> Callable[[Callable[[], None]], None]:
    def late(pause: Callable[[], None]) -> None:
        repo = st.repo()
        image = repo.get(image_id)
        pause()
        image.delete()
        repo.remove(image)

    return late


def glance_exception() -> Any:
    from glance.common import exception

    return exception


def test_enable_is_idempotent_and_disable_restores_glance() -> None:
    from glance.db import ImageRepo

    original = glance._image_update
    integration.enable()
    wrapped = glance._image_update
    integration.enable()
    assert glance._image_update is wrapped is not original
    assert integration.enabled()
    integration.disable()
    integration.disable()
    assert glance._image_update is original
    assert "save" not in vars(ImageRepo) or vars(ImageRepo)["save"].__module__ == "glance.db"
    assert not integration.enabled()


# -- the scrubber vs --restore (delayed_delete) -------------------------------------------


def _pending_delete_image(st: gs.Stack) -> tuple[str, Any]:
    """An uploaded image deleted with delayed_delete: pending_delete, its data kept."""
    import glance.scrubber
    import glance_store

    image_id = _active_image(st)
    repo = st.repo()
    image = repo.get(image_id)
    image.delete()
    repo.remove(image)
    assert st.row(image_id)["status"] == "pending_delete"
    return image_id, glance.scrubber.Scrubber(glance_store)


@pytest.mark.parametrize("guarded", [False, True], ids=["unguarded", "guarded"])
def test_scrubber_vs_restore(stack: gs.Stack, guarded: bool) -> None:
    """The scrubber has its jobs (glance/scrubber.py:327) and is about to scrub one image;
    glance-scrubber --restore commits first. Glance alone deletes the restored image's
    data (the image stays active with no data); with statusguard the scrubber's claim
    pending_delete -> deleted is refused before any data goes."""
    from oslo_config import cfg

    cfg.CONF.set_override("delayed_delete", True)
    try:
        image_id, scrubber = _pending_delete_image(stack)
        files = stack.files()
        with stack.engine.connect() as conn:
            jobs = [
                (image_id, str(loc_id), str(uri))
                for loc_id, uri in conn.execute(
                    sa.text("SELECT id, value FROM image_locations WHERE image_id = :i"),
                    {"i": image_id},
                )
            ]
        if guarded:
            integration.enable()

        def late(pause: Callable[[], None]) -> None:
            pause()
            scrubber._scrub_image((image_id, jobs))

        error, history = _race(
            stack, image_id, late, lambda: scrubber.revert_image_status(image_id)
        )
    finally:
        cfg.CONF.clear_override("delayed_delete")
    assert error is None  # the scrubber logs what it skips
    assert history == ["pending_delete", "active", "active"]
    assert _legal(history)
    if not guarded:  # an active image whose data the scrubber deleted
        assert stack.row(image_id)["status"] == "active"
        assert stack.files() == []
        return
    # serial: restore, then a scrubber that finds no job: active with its data
    assert stack.row(image_id)["status"] == "active"
    assert stack.files() == files


def test_scrubber_claims_then_scrubs(stack: gs.Stack) -> None:
    """No race: the guarded scrubber scrubs as Glance does (pending_delete -> deleted)."""
    from oslo_config import cfg

    cfg.CONF.set_override("delayed_delete", True)
    try:
        image_id, scrubber = _pending_delete_image(stack)
        with stack.engine.connect() as conn:
            jobs = [
                (image_id, str(loc_id), str(uri))
                for loc_id, uri in conn.execute(
                    sa.text("SELECT id, value FROM image_locations WHERE image_id = :i"),
                    {"i": image_id},
                )
            ]
        integration.enable()
        scrubber._scrub_image((image_id, jobs))
    finally:
        cfg.CONF.clear_override("delayed_delete")
    assert stack.row(image_id)["status"] == "deleted"
    assert stack.files() == []


def test_a_failing_data_deletion_puts_the_claim_back(
    stack: gs.Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The delete claimed active -> deleted, then the store failed with an error Glance
    does not swallow: the claim is compensated (active again, data and location kept)."""
    import glance.common.store_utils

    image_id = _active_image(stack)
    files = stack.files()
    integration.enable()

    def broken(*args: Any, **kwargs: Any) -> None:
        assert stack.row(image_id)["status"] == "deleted"  # the claim came first
        raise RuntimeError("store unreachable")

    monkeypatch.setattr(glance.common.store_utils, "delete_image_location_from_backend", broken)
    repo = stack.repo()
    image = repo.get(image_id)
    with pytest.raises(RuntimeError, match="store unreachable"):
        image.delete()
    assert _state(stack, image_id) == ("active", False, 1, files)


ENABLE_FIRST = """
import sys, tempfile, warnings
from pathlib import Path
warnings.simplefilter("ignore")
from statusguard.integrations import glance as integration
integration.enable()  # before Glance's configuration is parsed
from tests.integration.glance import glance_stack as gs
tmp = Path(tempfile.mkdtemp())
st = gs.Stack(gs.configure(f"sqlite:///{tmp}/g.db", tmp / "images"), tmp / "images")
image_id = st.new_image()
st.upload(image_id)
repo = st.repo()
stale = repo.get(image_id)
other = repo.get(image_id)
other.deactivate()
repo.save(other, from_state="active")
try:
    repo.save(stale)
except integration.StatusRefused:
    print("refused", st.row(image_id)["status"])
"""


def test_enable_before_glance_parses_its_configuration() -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[3]
    out = subprocess.run(
        [sys.executable, "-c", ENABLE_FIRST],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.stdout.strip().splitlines()[-1:] == ["refused deactivated"], out.stderr[-2000:]


# -- the upload and kill paths through Glance's own controller (image_data.py) ----------
#
# v2 has no writer of `killed` (shared reference 5.6): a failed upload "kills" by
# ImageDataController._restore, an unconditional save of `queued` (image_data.py:56-71,
# called from upload's except branches, :215-327, and from stage's, :418-477).


class _ClientGoesAway(io.RawIOBase):
    """An upload body that breaks after its first chunk (the client disconnected)."""

    def __init__(self) -> None:
        self.reads = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        if self.reads > 1:
            raise OSError("the client went away")
        return b"z" * 100


def _controller(kind: str) -> Any:
    from glance.api.v2 import image_data

    return getattr(image_data.ImageDataController(), kind)


@pytest.mark.parametrize("guarded", [False, True], ids=["unguarded", "guarded"])
def test_lp1236868_failed_upload_vs_delete(
    stack: gs.Stack, guarded: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """LP #1236868 (a v1 upload failed after a delete and its `killed` overwrote
    `deleted`) on 33.0.0's kill path: the upload's data breaks, a delete commits, then
    upload's _restore writes `queued` over the deleted image (an admin's context sees
    deleted rows, shared reference 5.7). Paused right before _restore's save."""
    image_id = stack.new_image()
    if guarded:
        integration.enable()

    def late(pause: Callable[[], None]) -> None:  # its 2nd status write: the _restore
        with gs.pausing(glance, "image_update", pause, nth=2):
            _controller("upload")(gs.request(), image_id, _ClientGoesAway(), None)

    error, history = _race(stack, image_id, late, _delete(stack, image_id))
    assert isinstance(error, OSError)  # the controller re-raises the upload's own error
    serial = ("deleted", True, 0, [])  # delete then upload (404), or upload fails then delete
    if not guarded:  # a deleted row (deleted=1) whose status says queued again
        assert history == ["queued", "deleted", "queued"]
        assert not _legal(history)
        assert _state(stack, image_id) == ("queued", True, 0, [])
        return
    assert history == ["queued", "deleted", "deleted"]
    assert _legal(["queued", "saving", "deleted"])
    assert _state(stack, image_id) == serial
    # _restore logs what it could not write (image_data.py:67-71): statusguard's refusal
    assert "expected status 'saving', found 'deleted'" in caplog.text


@pytest.mark.parametrize("guarded", [False, True], ids=["unguarded", "guarded"])
def test_lp1241025_two_concurrent_uploads(stack: gs.Stack, guarded: bool) -> None:
    """LP #1241025 (two uploads of one image both activated). Its fix, `from_state`
    (51ecc801), holds on 33.0.0: the late upload's `queued -> saving` loses and the
    controller answers 410, deleting nothing of the winner. Not a negative control
    (Glance does not lose this one); with statusguard the refusal is statusguard's own
    statement and the outcome is the same. The lost form of this race is a stage against
    an upload (below)."""
    image_id = stack.new_image()
    if guarded:
        integration.enable()

    def late(pause: Callable[[], None]) -> None:  # paused before its queued -> saving
        with gs.pausing(glance, "image_update", pause, nth=1):
            _controller("upload")(gs.request(), image_id, io.BytesIO(b"s" * 300), 300)

    error, history = _race(stack, image_id, late, lambda: stack.upload(image_id))
    import webob.exc

    assert isinstance(error, webob.exc.HTTPGone)  # image_data.py:185-201
    assert isinstance(error.__context__, glance_exception().Conflict)
    assert isinstance(error.__context__, integration.StatusRefused) is guarded
    assert history == ["queued", "active", "active"]
    assert _legal(history)
    assert _state(stack, image_id) == ("active", False, 1, [image_id])  # the winner's data


@pytest.mark.parametrize("guarded", [False, True], ids=["unguarded", "guarded"])
def test_stage_failure_vs_upload(stack: gs.Stack, guarded: bool) -> None:
    """PUT /stage read `queued`; PUT /file commits the whole upload first. The stage's
    `queued -> uploading` loses (Glance's Conflict), its `except Exception` runs _restore
    (image_data.py:473-477), an unconditional `queued` over the active image: active ->
    queued, the immutability LP #1525915 closed, with the image's live location kept."""
    image_id = stack.new_image()
    if guarded:
        integration.enable()

    def late(pause: Callable[[], None]) -> None:  # paused before its queued -> uploading
        with gs.pausing(glance, "image_update", pause, nth=1):
            _controller("stage")(gs.request(), image_id, io.BytesIO(b"s" * 300), 300)

    error, history = _race(stack, image_id, late, lambda: stack.upload(image_id))
    serial = ("active", False, 1, [image_id])  # upload then a refused stage
    assert isinstance(error, glance_exception().Conflict)
    assert stack.staged() == []
    if not guarded:
        assert history == ["queued", "active", "queued"]
        assert not _legal(history)
        assert _state(stack, image_id) == ("queued", False, 1, [image_id])
        return
    assert isinstance(error, integration.StatusRefused)
    assert history == ["queued", "active", "active"]
    assert _state(stack, image_id) == serial


# -- glance-scrubber --restore paused right before its write, the scrubber first ---------


@pytest.mark.parametrize("guarded", [False, True], ids=["unguarded", "guarded"])
def test_restore_vs_scrubber(stack: gs.Stack, guarded: bool) -> None:
    """image_restore reads pending_delete, then updates by id alone (db/sqlalchemy/api.py:
    189-200); the scrubber scrubs in between. Glance alone brings back an image whose data
    is gone: active, deleted=0, no location, no file. With statusguard the restore is one
    conditional statement (pending_delete -> active and deleted=0), refused here."""
    from oslo_config import cfg

    cfg.CONF.set_override("delayed_delete", True)
    try:
        image_id, scrubber = _pending_delete_image(stack)
        jobs = _scrub_jobs(stack, image_id)
        files = stack.files()
        if guarded:
            integration.enable()

        def late(pause: Callable[[], None]) -> None:  # after its read, before its UPDATE
            with gs.pausing(glance, "_image_get", pause, after=True):
                scrubber.revert_image_status(image_id)

        error, history = _race(
            stack, image_id, late, lambda: scrubber._scrub_image((image_id, jobs))
        )
    finally:
        cfg.CONF.clear_override("delayed_delete")
    # SQLite: the restore's open read transaction locks the scrubber's writes out (SQLite
    # busy): Glance's scrubber has deleted the file when its location update fails, and
    # the statusguard scrubber's claim fails before it deletes anything
    sqlite = stack.engine.dialect.name == "sqlite"
    serial = ("deleted", True, 0, [])  # scrub then a refused restore
    if not guarded:
        assert error is None
        scrubbed = "pending_delete" if sqlite else "deleted"
        assert history == ["pending_delete", scrubbed, "active"]
        assert _state(stack, image_id) == ("active", False, 0, [])  # active, no data
        return
    if sqlite:  # the serial order restore, then a scrubber with nothing to scrub
        assert error is None
        assert history == ["pending_delete", "pending_delete", "active"]
        assert stack.files() == files
        return
    assert isinstance(error, integration.StatusRefused)  # glance-scrubber: "ERROR: ..."
    assert "expected status 'pending_delete', found 'deleted'" in str(error)
    assert history == ["pending_delete", "deleted", "deleted"]
    assert _state(stack, image_id) == serial


def test_guarded_restore_restores(stack: gs.Stack) -> None:
    """No race: the guarded restore does what Glance's does (active, deleted=0)."""
    from oslo_config import cfg

    cfg.CONF.set_override("delayed_delete", True)
    try:
        image_id, scrubber = _pending_delete_image(stack)
        integration.enable()
        scrubber.revert_image_status(image_id)
        with pytest.raises(integration.StatusRefused, match="found 'active'"):
            scrubber.revert_image_status(image_id)  # Glance: Conflict, not pending_delete
    finally:
        cfg.CONF.clear_override("delayed_delete")
    row = stack.row(image_id)
    assert (row["status"], row["deleted"]) == ("active", False)


def _scrub_jobs(st: gs.Stack, image_id: str) -> list[tuple[str, str, str]]:
    with st.engine.connect() as conn:
        return [
            (image_id, str(loc_id), str(uri))
            for loc_id, uri in conn.execute(
                sa.text("SELECT id, value FROM image_locations WHERE image_id = :i"),
                {"i": image_id},
            )
        ]


# -- a delete of a staged image: the staged data goes before the status is written -------


@pytest.mark.parametrize("guarded", [False, True], ids=["unguarded", "guarded"])
def test_delete_of_staged_image_vs_its_import(stack: gs.Stack, guarded: bool) -> None:
    """DELETE (ImagesController.delete) read the staged image `uploading`; its import
    completes first (importing, the staged data into the store, active: the steps of
    async_/flows/api_image_import.py). Glance's delete then removes the staged data,
    sets `deleted` on an image it loaded without locations (images.py:896-934), so the
    store's data is never deleted: a deleted image whose file leaks. With statusguard the
    delete claims `uploading -> deleted` before any data goes; refused: 409."""
    image_id = stack.new_image()
    _controller("stage")(gs.request(), image_id, io.BytesIO(b"s" * 300), 300)
    assert (stack.row(image_id)["status"], stack.staged()) == ("uploading", [image_id])
    if guarded:
        integration.enable()

    def late(pause: Callable[[], None]) -> None:  # after its read, before anything else
        from glance.api.v2 import images

        with gs.pausing(glance, "image_get", pause, after=True):
            images.ImagesController().delete(gs.request(), image_id)

    def import_completes() -> None:
        repo = stack.repo()
        image = repo.get(image_id)
        image.status = "importing"
        repo.save(image, from_state="uploading")
        staged = stack.datadir.parent / "staging" / image_id
        image.set_data(io.BytesIO(staged.read_bytes()), 300)
        repo.save(image, from_state="importing")
        staged.unlink()  # the flow's _DeleteFromFS

    error, history = _race(stack, image_id, late, import_completes)
    if not guarded:
        assert error is None
        assert history == ["uploading", "active", "deleted"]
        assert _state(stack, image_id) == ("deleted", True, 0, [image_id])  # leaked
        return
    import webob.exc

    assert isinstance(error, webob.exc.HTTPConflict)
    assert isinstance(error.__cause__, integration.StatusRefused)
    assert history == ["uploading", "active", "active"]
    assert _legal(["uploading", "importing", "active"])  # the import's steps
    assert _state(stack, image_id) == ("active", False, 1, [image_id])  # nothing deleted


@pytest.mark.parametrize("guarded", [False, True], ids=["unguarded", "guarded"])
def test_delete_of_a_staged_image(stack: gs.Stack, guarded: bool) -> None:
    """No race: the controller's delete of a staged image removes the staged data and
    ends deleted, with and without statusguard (the claim changes no serial outcome)."""
    image_id = stack.new_image()
    _controller("stage")(gs.request(), image_id, io.BytesIO(b"s" * 300), 300)
    if guarded:
        integration.enable()
    from glance.api.v2 import images

    images.ImagesController().delete(gs.request(), image_id)
    assert _state(stack, image_id) == ("deleted", True, 0, [])
    assert stack.staged() == []


# -- the trigger on Glance's images table ----------------------------------------------


@pytest.mark.parametrize("installed", [False, True], ids=["no-trigger", "trigger"])
def test_the_trigger_refuses_an_illegal_raw_update(stack: gs.Stack, installed: bool) -> None:
    """enable(install_trigger=True) puts statusguard's trigger on Glance's images table:
    a raw UPDATE that brings a deleted image back is refused by the database itself,
    whoever issues it; a legal one passes. Without it the raw UPDATE lands (the control)."""
    image_id = _active_image(stack)
    _delete(stack, image_id)()
    integration.enable(install_trigger=installed)
    integration.enable(install_trigger=installed)  # idempotent
    raw = sa.text("UPDATE images SET status = 'active' WHERE id = :i")
    try:
        if not installed:
            with stack.engine.begin() as conn:
                conn.execute(raw, {"i": image_id})
            assert stack.row(image_id)["status"] == "active"
            return
        from oslo_db import exception as db_exception  # oslo.db wraps Glance's engine errors

        refused = (sa.exc.DBAPIError, db_exception.DBError)
        with pytest.raises(refused, match="statusguard"), stack.engine.begin() as conn:
            conn.execute(raw, {"i": image_id})
        assert stack.row(image_id)["status"] == "deleted"
        other = _active_image(stack)  # the guarded stack still works behind the trigger
        _deactivate(stack, other)()
        assert stack.row(other)["status"] == "deactivated"
    finally:
        integration.remove_trigger(stack.engine)
        integration.remove_trigger(stack.engine)  # idempotent
    with stack.engine.begin() as conn:  # removed: the raw write lands again
        conn.execute(raw, {"i": image_id})
    assert stack.row(image_id)["status"] == "active"


def test_with_the_trigger_a_failed_deletion_keeps_its_claim(
    stack: gs.Stack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The put-back deleted -> active is no lifecycle edge, so the trigger refuses it: the
    image stays deleted (its data kept, a leak to clean up), the put-back's refusal is
    logged, and the store's error reaches the caller (docs/glance.md, Not covered)."""
    import glance.common.store_utils

    image_id = _active_image(stack)
    files = stack.files()
    integration.enable(install_trigger=True)
    try:

        def broken(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("store unreachable")

        monkeypatch.setattr(glance.common.store_utils, "delete_image_location_from_backend", broken)
        image = stack.repo().get(image_id)
        with pytest.raises(RuntimeError, match="store unreachable"):
            image.delete()
    finally:
        integration.remove_trigger(stack.engine)
    assert _state(stack, image_id) == ("deleted", False, 1, files)
    assert "refused by the database trigger" in caplog.text


@pytest.mark.parametrize("claim", [False, True], ids=["save-guard-only", "claim-first"])
def test_a_refused_delete_destroys_no_staged_data(stack: gs.Stack, claim: bool) -> None:
    """Why the delete claims before its staged data goes: the delete read `uploading`, the
    image's glance-direct import starts first (`uploading -> importing`, reading the
    staged file). A guard on the status write alone refuses the delete's late write, but
    only after Glance's delete has removed the staged data the import needs (the control,
    the claim switched off); claimed first, the refused delete deletes nothing."""
    from glance.api.v2 import images

    image_id = stack.new_image()
    _controller("stage")(gs.request(), image_id, io.BytesIO(b"s" * 300), 300)
    integration.enable()
    wrapper = images.ImagesController.__dict__["is_proxyable"]
    glance_own = next(
        orig for owner, name, orig in integration._hooks._originals if name == "is_proxyable"
    )

    def late(pause: Callable[[], None]) -> None:
        with gs.pausing(glance, "image_get", pause, after=True):
            images.ImagesController().delete(gs.request(), image_id)

    def import_starts() -> None:  # api_image_import.py:1043, through ImportActionWrapper
        repo = stack.repo()
        image = repo.get(image_id)
        image.status = "importing"
        repo.save(image, from_state="uploading")

    if not claim:
        images.ImagesController.is_proxyable = glance_own
    try:
        error, history = _race(stack, image_id, late, import_starts)
    finally:
        images.ImagesController.is_proxyable = wrapper
    import webob.exc

    assert isinstance(error, webob.exc.HTTPConflict)  # refused either way
    assert history == ["uploading", "importing", "importing"]
    if not claim:  # refused, yet the import's staged data is gone
        assert stack.staged() == []
        return
    assert stack.staged() == [image_id]
    assert _state(stack, image_id) == ("importing", False, 0, [])


@pytest.mark.parametrize("delayed", [False, True], ids=["delete", "delayed-delete"])
def test_the_controllers_delete_of_an_active_image_is_unchanged(
    stack: gs.Stack, delayed: bool
) -> None:
    """No race: ImagesController.delete of an active image ends as Glance's own (the
    claim at is_proxyable, then the location deletion's claim skipped as taken)."""
    from glance.api.v2 import images
    from oslo_config import cfg

    cfg.CONF.set_override("delayed_delete", delayed)
    try:
        ends = []
        for guarded in (False, True):
            image_id = _active_image(stack)
            if guarded:
                integration.enable()
            images.ImagesController().delete(gs.request(), image_id)
            row = stack.row(image_id)
            kept = image_id in stack.files()
            ends.append((row["status"], row["deleted"], row["locations"], kept))
    finally:
        cfg.CONF.clear_override("delayed_delete")
    assert ends[0] == ends[1]
    status = "pending_delete" if delayed else "deleted"
    assert ends[1][:2] == (status, True)
    assert ends[1][3] is delayed  # the scrubber deletes the data later
    assert integration._hooks.calls["staged delete claim"] > 0


@pytest.mark.parametrize("guarded", [False, True], ids=["unguarded", "guarded"])
def test_a_protected_staged_image_keeps_its_staged_data(stack: gs.Stack, guarded: bool) -> None:
    """No race: DELETE of a protected staged image. Glance answers 403 (Image.delete(),
    glance/domain/__init__.py:250-251) only after it has removed the staged data
    (images.py:896-932): a refused delete that destroys data. With statusguard the
    lifecycle refuses the claim (fact `protected`) and the same 403 comes first."""
    import webob.exc
    from glance.api.v2 import images

    image_id = stack.new_image()
    repo = stack.repo()
    image = repo.get(image_id)
    image.protected = True
    repo.save(image)
    _controller("stage")(gs.request(), image_id, io.BytesIO(b"s" * 300), 300)
    if guarded:
        integration.enable()
    with pytest.raises(webob.exc.HTTPForbidden, match="protected"):
        images.ImagesController().delete(gs.request(), image_id)
    assert stack.row(image_id)["status"] == "uploading"
    assert stack.staged() == ([image_id] if guarded else [])


NO_DATABASE = """
import warnings
warnings.simplefilter("ignore")
from statusguard.errors import StoreUnavailable
from statusguard.integrations import glance as integration
try:
    integration.enable(install_trigger=True)  # no [database] connection yet
except StoreUnavailable as exc:
    print("refused", integration.enabled(), "install_trigger() after" in str(exc))
"""


def test_install_trigger_before_glance_has_a_database_says_when_to_call_it() -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[3]
    out = subprocess.run(
        [sys.executable, "-c", NO_DATABASE],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.stdout.strip().splitlines()[-1:] == ["refused False True"], out.stderr[-2000:]
