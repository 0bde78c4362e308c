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

DATABASE = "glance_helper"


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
