"""The runtime wrappers :func:`enable` installs on Glance (``glance==33.0.0``).

Where each wrapper sits (``file:line`` in the 33.0.0 wheel):

* ``glance/db/sqlalchemy/api.py:974`` ``_image_update(context, session, image_id, values,
  purge_props, from_state, atomic_props)``, which ``image_update`` (``:167``) calls inside
  its write session. An update carrying a changed ``status`` runs Glance's own update of
  the other columns first (its errors, NotFound/Forbidden/Invalid, keep precedence), then
  statusguard's one conditional ``UPDATE images SET status = :target WHERE id = :k AND
  status = :expected`` in the same session (``guard.bind(session).move``); a refusal raises
  :class:`StatusRefused` and Glance's session rolls the whole update back. ``expected`` is
  ``from_state`` when Glance passes one, else the status the image had when the repository
  loaded it (below), else the status stored now. A save that leaves the status unchanged
  is made conditional on the loaded status (Glance's own ``from_state`` filter, ``:1036``).
* ``glance/db/__init__.py:69-231`` ``ImageRepo.get/list/add`` remember on the domain image
  the status it was loaded (or last written) with; ``ImageRepo.save``/``remove``
  (``:193``, ``:209``; neither passes ``from_state`` for a PATCH or a delete) hand that
  status to the DB API wrapper. With a DB API other than SQLAlchemy (the unit tests'
  ``glance.db.simple``) the repository checks the lifecycle edge only (not atomic).
* ``glance/location.py:481`` ``ImageProxy.delete`` deletes the image's data (or marks it
  for the scrubber) before ``ImageRepo.remove`` writes the status. With locations, the
  transition is claimed first, committed in its own transaction, right before the first
  location is deleted; a refused claim deletes nothing; a failing data deletion puts the
  claimed status back (compensation) and re-raises.
* ``glance/scrubber.py:358`` ``Scrubber._scrub_image`` deletes the data first and writes
  ``deleted`` only if a read still finds ``pending_delete`` (``:381-383``), racing
  ``--restore`` (``image_restore``). The wrapper claims ``pending_delete -> deleted`` first
  (committed); a refused claim (restored meanwhile) scrubs nothing; a location left
  undeleted puts ``pending_delete`` back, as Glance leaves it then. A claim that fails on
  a database error (SQLite busy) scrubs nothing.
* ``glance/db/sqlalchemy/api.py:189`` ``image_restore`` (``glance-scrubber --restore``)
  reads ``pending_delete``, then updates by id alone (``:198-200``). Replaced by one
  conditional statement, ``pending_delete -> active`` with ``deleted = 0``, after Glance's
  own read (its NotFound/Forbidden keep precedence).
* ``glance/api/v2/images.py:866`` ``ImagesController.delete`` deletes the staged data
  (``:896-930``) before ``Image.delete()`` and ``ImageRepo.remove``. Its call of
  ``is_proxyable`` (``:878``), right after the read and the policy check, is where the
  transition is claimed (target: the lifecycle's ``delete`` event from the loaded
  status); refused: HTTP 409, nothing deleted; a failure after it puts the claim back.
* :func:`install_trigger` installs the lifecycle's trigger on Glance's ``images`` table.
"""

from __future__ import annotations

import collections
import contextvars
import functools
import importlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import glance.db as glance_db
import glance.db.sqlalchemy.api as glance_sql_api
import glance.location as glance_location
import glance.scrubber as glance_scrubber
from glance.common import exception as glance_exception
from glance.common import store_utils as glance_store_utils
from glance.db.sqlalchemy import models as glance_models
from oslo_config import cfg
from oslo_db import exception as db_exception
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm.attributes import set_committed_value

from statusguard.errors import (
    StoreError,
    StoreRejected,
    StoreUnavailable,
    TransitionError,
    UnknownKey,
)
from statusguard.guard import Guard
from statusguard.lifecycle import Lifecycle
from statusguard.sql import SQLStore
from statusguard.sql._engine import run

_LOG = logging.getLogger("statusguard.integrations.glance")

#: on the innermost domain image: the status it was loaded or last written with
_LOADED = "_statusguard_loaded"
#: on the innermost domain image: loaded through Glance's SQLAlchemy DB API
_SQL = "_statusguard_sql"

#: the loaded status ImageRepo.save/remove hands to the DB API wrapper (same thread)
_expected: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "statusguard_glance_expected", default=None
)

#: how often each wrapper decided something (for the Glance unit-test runner's report)
calls: collections.Counter[str] = collections.Counter()

_lock = threading.RLock()
_originals: list[tuple[Any, str, Any]] = []
_guards: dict[tuple[int, bool], Guard[Any, Any]] = {}
_lifecycle: list[Lifecycle[Any, Any]] = []


class StatusRefused(glance_exception.Conflict):  # type: ignore[misc]
    """An image status write statusguard refused; nothing of it was written.

    A :class:`glance.common.exception.Conflict`, so Glance's API answers it as it answers
    its own ``from_state`` conflicts: HTTP 409. ``refusal`` is statusguard's error.
    """

    def __init__(self, image_id: str, message: str, refusal: Exception | None = None) -> None:
        self.image_id = image_id
        self.refusal = refusal
        super().__init__(
            f"image {image_id}: status write refused by statusguard: {message}; "
            "nothing was written; reload the image and retry if the request still applies"
        )


def lifecycle() -> Lifecycle[Any, Any]:
    """The Glance image lifecycle the integration enforces (``model/glance_image.py``)."""
    if not _lifecycle:
        try:
            from statusguard_models.glance_image import GLANCE_IMAGE

            found: Any = GLANCE_IMAGE
        except ImportError:  # an editable install: the models load by path
            from statusguard.lifecycle import load

            found = load(Path(__file__).resolve().parents[4] / "model/glance_image.py")
        _lifecycle.append(found)
    return _lifecycle[0]


def _delayed_delete() -> bool:
    try:
        return bool(cfg.CONF.delayed_delete)
    except (cfg.NoSuchOptError, cfg.ConfigFileValueError):  # not registered yet
        return False


def _guard(engine: Any) -> Guard[Any, Any]:
    """The guard on Glance's ``images`` table of ``engine`` (config read now: it may change)."""
    delayed = _delayed_delete()
    key = (id(engine), delayed)
    guard = _guards.get(key)
    if guard is None:
        with _lock:
            guard = _guards.get(key)
            if guard is None:
                store = SQLStore(engine, glance_models.Image.__table__, key="id", status="status")
                guard = Guard(lifecycle(), store, config={"delayed_delete": delayed})
                _guards[key] = guard
    return guard


def _facts(values: Mapping[str, Any]) -> dict[str, bool]:
    """What the values Glance writes say about the model's facts."""
    facts: dict[str, bool] = {}
    if "protected" in values:
        facts["protected"] = bool(values["protected"])
    if "disk_format" in values and "container_format" in values:
        facts["formats_set"] = bool(values["disk_format"] and values["container_format"])
    return facts


def _innermost(image: Any) -> Any:
    """The domain image under Glance's proxies (each keeps the one below as ``base``)."""
    seen = 0
    while hasattr(image, "base") and seen < 32:
        image = image.base
        seen += 1
    return image


def _remember(image: Any, status: str, sql: bool | None = None) -> None:
    inner = _innermost(image)
    setattr(inner, _LOADED, status)
    if sql is not None:
        setattr(inner, _SQL, sql)


def _is_sql(db_api: Any) -> bool:
    return glance_db.unwrap(db_api) is glance_sql_api


# -- the DB API -----------------------------------------------------------------------


def _wrap_image_update(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def _image_update(
        context: Any,
        session: Any,
        image_id: Any,
        values: dict[str, Any],
        purge_props: bool = False,
        from_state: str | None = None,
        atomic_props: Any = None,
    ) -> Any:
        new = values.get("status") if image_id else None
        if new is None or new not in lifecycle().states:
            # a create, an update without status, or a status Glance's own check refuses
            return original(
                context, session, image_id, values, purge_props, from_state, atomic_props
            )
        expected = from_state or _expected.get()
        calls["sql status write"] += 1
        guard = _guard(session.get_bind()).bind(session)
        if expected == new:  # the status stays: the row must still hold it
            try:
                return original(context, session, image_id, values, purge_props, new, atomic_props)
            except glance_exception.Conflict as exc:
                found = _stored(guard, image_id)
                if found is None or found == new:
                    raise
                raise StatusRefused(
                    image_id,
                    f"a save leaving status {new!r} found {found!r} stored (another request "
                    "changed it since this one read the image)",
                ) from exc
        rest = {k: v for k, v in values.items() if k != "status"}
        ref = original(context, session, image_id, rest, purge_props, None, atomic_props)
        if expected is None:
            expected = _stored(guard, image_id)
            if expected == new:
                return ref
        try:
            guard.move(image_id, new, expected, facts=_facts(values))
        except TransitionError as exc:
            calls["sql status write refused"] += 1
            raise StatusRefused(image_id, str(exc), exc) from exc
        set_committed_value(ref, "status", new)
        return ref

    return _image_update


def _stored(guard: Guard[Any, Any], image_id: Any) -> str | None:
    try:
        return guard.store.get(image_id).status
    except UnknownKey:
        return None


# -- the repository -------------------------------------------------------------------


@contextmanager
def _handing(status: str | None) -> Iterator[None]:
    token = _expected.set(status)
    try:
        yield
    finally:
        _expected.reset(token)


def _check_edge(image: Any, loaded: str | None, facts: Mapping[str, bool]) -> None:
    """Without the SQL DB API: the lifecycle's edge only (no atomicity to offer)."""
    new = image.status
    if loaded is None or new == loaded:
        return
    lc = lifecycle()
    if loaded not in lc.states or new not in lc.states:
        return
    calls["edge check"] += 1
    known = {**lc.fact_defaults, "delayed_delete": _delayed_delete(), **facts}
    if not lc.edge_allowed(loaded, new, known):
        calls["edge check refused"] += 1
        raise StatusRefused(
            image.image_id,
            f"{loaded!r} -> {new!r} is not an edge of the Glance image lifecycle; allowed "
            f"from {loaded!r}: {', '.join(map(str, lc.targets(loaded, known))) or 'none'}",
        )


def _wrap_repo(cls: Any) -> list[tuple[Any, str, Any]]:
    get, list_, add, save, remove = cls.get, cls.list, cls.add, cls.save, cls.remove

    @functools.wraps(get)
    def repo_get(self: Any, image_id: Any) -> Any:
        image = get(self, image_id)
        _remember(image, image.status, _is_sql(self.db_api))
        return image

    @functools.wraps(list_)
    def repo_list(self: Any, *args: Any, **kwargs: Any) -> Any:
        images = list_(self, *args, **kwargs)
        sql = _is_sql(self.db_api)
        for image in images:
            _remember(image, image.status, sql)
        return images

    @functools.wraps(add)
    def repo_add(self: Any, image: Any) -> Any:
        result = add(self, image)
        _remember(image, image.status, _is_sql(self.db_api))
        return result

    @functools.wraps(save)
    def repo_save(self: Any, image: Any, from_state: str | None = None) -> Any:
        loaded = getattr(_innermost(image), _LOADED, None)
        if not _is_sql(self.db_api):
            _check_edge(image, from_state or loaded, {"protected": bool(image.protected)})
        try:
            with _handing(None if from_state else loaded):
                result = save(self, image, from_state=from_state)
        except StatusRefused:
            if from_state == "saving" and image.status == "active":
                _drop_unrecorded_data(self.context, image)
            raise
        _remember(image, image.status)
        return result

    @functools.wraps(remove)
    def repo_remove(self: Any, image: Any) -> Any:
        loaded = getattr(_innermost(image), _LOADED, None)
        if not _is_sql(self.db_api):
            _check_edge(image, loaded, {})
        with _handing(loaded):
            result = remove(self, image)
        _remember(image, image.status)
        return result

    return [
        (cls, "get", repo_get),
        (cls, "list", repo_list),
        (cls, "add", repo_add),
        (cls, "save", repo_save),
        (cls, "remove", repo_remove),
    ]


def _drop_unrecorded_data(context: Any, image: Any) -> None:
    """An upload whose ``saving -> active`` was refused (the image was deleted, or
    killed, meanwhile) deletes the data it wrote and never recorded (LP #1383973): the
    locations without a database ``id``. Its claim, ``queued -> saving``, was taken over."""
    for location in list(image.locations):
        if "id" not in location:
            glance_store_utils.safe_delete_from_backend(context, image.image_id, location)


# -- claims: committed before the irreversible step, put back if it fails ---------------


def _claim(image_id: Any, target: str, expected: str | None, facts: Mapping[str, bool]) -> str:
    """Move ``image_id`` to ``target`` from ``expected`` (else the stored status) in a
    transaction of its own, committed before the caller destroys anything; returns the
    status claimed from. :class:`StatusRefused` if the lifecycle or the stored status
    refuses (nothing written)."""
    with glance_sql_api.session_for_write() as session:
        guard = _guard(session.get_bind()).bind(session)
        source = expected or _stored(guard, image_id)
        try:
            guard.move(image_id, target, source, facts=dict(facts))
        except TransitionError as exc:
            calls["claim refused"] += 1
            raise StatusRefused(image_id, str(exc), exc) from exc
    return str(source)


def _put_back(image_id: Any, claimed: str, previous: str) -> None:
    """Undo a claim whose irreversible step failed (a compare-and-set, not a lifecycle
    edge). With the trigger installed (:func:`install_trigger`) the database refuses such
    a step back (``deleted`` is final): the claim stays, logged, and the caller's error
    goes on."""
    try:
        with glance_sql_api.session_for_write() as session:
            store = _guard(session.get_bind()).store
            assert isinstance(store, SQLStore)
            store.bind(session).compare_and_set(image_id, claimed, previous)
    except (StoreRejected, db_exception.DBError) as exc:  # oslo.db wraps Glance's engine's
        calls["put back refused by the trigger"] += 1
        _LOG.error(
            "statusguard: image %s stays %r: putting back %r after a failed step was "
            "refused by the database trigger (%s)",
            image_id,
            claimed,
            previous,
            exc,
        )


# -- delete: claim before the data goes ------------------------------------------------


class _ClaimFirst:
    """Glance's ``store_utils`` for one delete: the first location deletion claims first."""

    def __init__(self, base: Any, claim: Callable[[], None]) -> None:
        self._base = base
        self._claim: Callable[[], None] | None = claim

    def delete_image_location_from_backend(self, *args: Any, **kwargs: Any) -> Any:
        if self._claim is not None:
            claim, self._claim = self._claim, None
            claim()
        return self._base.delete_image_location_from_backend(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._base, name)


def _wrap_location_delete(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def delete(self: Any) -> Any:
        inner = _innermost(self.image)
        if not getattr(inner, _SQL, False):
            return original(self)
        loaded: str | None = getattr(inner, _LOADED, None)
        claimed: list[str] = []

        def claim() -> None:
            target = inner.status  # Image.delete() has set it
            if loaded == target:  # claimed already (the staged-data claim of a delete)
                return
            calls["delete claim"] += 1
            facts = {"has_locations": True, "protected": bool(inner.protected)}
            claimed.append(_claim(inner.image_id, target, loaded, facts))
            setattr(inner, _LOADED, target)

        base = self.store_utils
        self.store_utils = _ClaimFirst(base, claim)
        try:
            return original(self)
        except BaseException:
            if claimed:  # compensate: the data deletion failed after the claim
                _put_back(inner.image_id, inner.status, claimed[0])
                setattr(inner, _LOADED, claimed[0])
            raise
        finally:
            self.store_utils = base

    return delete


# -- glance-scrubber --restore: one conditional statement --------------------------------


def _wrap_image_restore(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def image_restore(context: Any, image_id: Any) -> None:
        calls["restore"] += 1
        with glance_sql_api.session_for_write() as session:
            # Glance's own read: its ImageNotFound / Forbidden keep precedence
            glance_sql_api._image_get(context, session, image_id)
            guard = _guard(session.get_bind()).bind(session)
            try:  # the status and the deleted flag in one statement, only from pending_delete
                guard.move(image_id, "active", "pending_delete", values={"deleted": False})
            except TransitionError as exc:  # scrubbed (or restored) meanwhile
                calls["restore refused"] += 1
                raise StatusRefused(image_id, str(exc), exc) from exc

    return image_restore


# -- delete: claim before the staged data goes -----------------------------------------

#: the image a v2 delete request of this thread is deleting, and its claim (if taken)
_deleting: contextvars.ContextVar[tuple[Any, list[tuple[Any, str, str]]] | None] = (
    contextvars.ContextVar("statusguard_glance_deleting", default=None)
)


def _wrap_controller_delete(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def delete(self: Any, req: Any, image_id: Any) -> Any:
        claimed: list[tuple[Any, str, str]] = []
        token = _deleting.set((image_id, claimed))
        try:
            return original(self, req, image_id)
        except BaseException as exc:
            for key, target, previous in claimed:  # the delete failed after its claim
                _put_back(key, target, previous)
            if isinstance(exc, StatusRefused):  # Glance's delete maps no Conflict: 409 here
                webob_exc = importlib.import_module("webob.exc")  # Glance's web framework
                raise webob_exc.HTTPConflict(explanation=str(exc)) from exc
            raise
        finally:
            _deleting.reset(token)

    return delete


def _wrap_is_proxyable(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def is_proxyable(self: Any, image: Any) -> Any:
        host = original(self, image)
        deleting = _deleting.get()
        inner = _innermost(image)
        if host or deleting is None or deleting[0] != inner.image_id or deleting[1]:
            return host  # proxied to the staging worker, or not a local delete
        if not getattr(inner, _SQL, False):
            return host
        # ImagesController.delete calls this right before it deletes the staged data
        # (glance/api/v2/images.py:878-930), then Image.delete() and ImageRepo.remove
        loaded = getattr(inner, _LOADED, None) or str(inner.status)
        facts = {"has_locations": bool(inner.locations), "protected": bool(inner.protected)}
        try:
            flags = {**facts, "delayed_delete": _delayed_delete()}
            target = str(lifecycle().next(loaded, "delete", flags))
        except TransitionError:
            if facts["protected"]:  # Glance's answer, before any data goes
                raise glance_exception.ProtectedImageDelete(image_id=inner.image_id) from None
            return host  # Glance's Image.delete() refuses it as Glance does
        calls["staged delete claim"] += 1
        source = _claim(inner.image_id, target, loaded, facts)
        deleting[1].append((inner.image_id, target, source))
        setattr(inner, _LOADED, target)
        return host

    return is_proxyable


# -- the scrubber: claim pending_delete -> deleted before the data goes ------------------


def _wrap_scrub(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def _scrub_image(self: Any, delete_jobs: Any) -> Any:
        if len(delete_jobs) == 0:
            return original(self, delete_jobs)
        image_id = delete_jobs[0]
        calls["scrub claim"] += 1
        try:  # committed before the data goes
            _claim(image_id, "deleted", "pending_delete", {})
        except db_exception.CantStartEngineError:
            # no [database] connection: nothing to claim on (Glance's scrubber unit tests
            # mock the DB API functions); the scrubber runs as Glance's
            calls["scrub without a database"] += 1
            return original(self, delete_jobs)
        except StatusRefused as exc:  # restored (or scrubbed) meanwhile: keep its data
            calls["scrub claim refused"] += 1
            _LOG.warning("statusguard: not scrubbing image %s: %s", image_id, exc)
            return None
        except (StoreError, db_exception.DBError, sa_exc.DBAPIError) as exc:
            # e.g. SQLite busy while a restore holds the database: scrub nothing now,
            # as Glance leaves an image it cannot scrub pending_delete for the next run
            calls["scrub claim failed"] += 1
            _LOG.warning("statusguard: could not claim image %s for scrubbing: %s", image_id, exc)
            return None
        result = original(self, delete_jobs)
        with glance_sql_api.session_for_read() as session:
            left = (
                session.query(glance_models.ImageLocation)
                .filter_by(image_id=image_id)
                .filter(glance_models.ImageLocation.status != "deleted")
                .count()
            )
        if left:  # Glance leaves such an image pending_delete: put the claim back
            _put_back(image_id, "deleted", "pending_delete")
        return result

    return _scrub_image


# -- the trigger on Glance's images table ---------------------------------------------


def _engine(engine: Any) -> Any:
    if engine is not None:
        return engine
    try:
        return glance_sql_api.get_engine()
    except db_exception.CantStartEngineError as exc:
        raise StoreUnavailable(
            "Glance has no [database] connection configured yet, so there is no images "
            "table to install the trigger on; call install_trigger() after Glance parses "
            "its configuration, or pass engine=",
            committed=False,
        ) from exc


def _trigger_statements(engine: Any, *, drop: bool) -> list[str]:
    from statusguard.sql import trigger_ddl

    dialect = {"mariadb": "mysql"}.get(engine.dialect.name, engine.dialect.name)
    return trigger_ddl(
        lifecycle(),
        dialect,
        glance_models.Image.__table__.name,
        "status",
        {"delayed_delete": _delayed_delete()},
        drop=drop,
    )


def install_trigger(engine: Any = None) -> None:
    """Install statusguard's trigger on Glance's ``images`` table (idempotent: it replaces
    one installed before). The database then refuses any ``UPDATE`` that changes the
    status along no edge of the lifecycle under the ``delayed_delete`` set now, and any
    ``INSERT`` of an image that is not ``queued``, whoever writes. ``engine`` defaults to
    Glance's own (``[database] connection``)."""
    engine = _engine(engine)
    with engine.begin() as conn:
        for statement in _trigger_statements(engine, drop=False):
            run(conn, statement)  # on the driver's cursor: no parameter parsing


_install_trigger = install_trigger  # enable()'s keyword has the function's name


def remove_trigger(engine: Any = None) -> None:
    """Drop the trigger :func:`install_trigger` installs (idempotent)."""
    engine = _engine(engine)
    with engine.begin() as conn:
        for statement in _trigger_statements(engine, drop=True):
            run(conn, statement)  # on the driver's cursor: no parameter parsing


# -- enable / disable -----------------------------------------------------------------


def enable(*, install_trigger: bool = False) -> None:
    """Route every image status change of this process's Glance through statusguard.

    Idempotent; may be called before or after Glance parses its configuration (the
    ``[DEFAULT] delayed_delete`` option is read at each write). Undo with :func:`disable`.
    ``install_trigger=True`` also installs the database trigger (:func:`install_trigger`;
    it needs Glance's ``[database] connection`` configured, and stays when disabled).
    """
    with _lock:
        if install_trigger:
            _install_trigger()
        if _originals:
            return
        import glance.api.v2.images as glance_images

        patches: list[tuple[Any, str, Any]] = [
            (
                glance_sql_api,
                "_image_update",
                _wrap_image_update(glance_sql_api._image_update),
            ),
            *_wrap_repo(glance_db.ImageRepo),
            (
                glance_location.ImageProxy,
                "delete",
                _wrap_location_delete(glance_location.ImageProxy.delete),
            ),
            (
                glance_scrubber.Scrubber,
                "_scrub_image",
                _wrap_scrub(glance_scrubber.Scrubber._scrub_image),
            ),
            (
                glance_sql_api,
                "image_restore",
                _wrap_image_restore(glance_sql_api.image_restore),
            ),
            (
                glance_images.ImagesController,
                "delete",
                _wrap_controller_delete(glance_images.ImagesController.delete),
            ),
            (
                glance_images.ImagesController,
                "is_proxyable",
                _wrap_is_proxyable(glance_images.ImagesController.is_proxyable),
            ),
        ]
        for owner, name, wrapper in patches:
            _originals.append((owner, name, owner.__dict__[name]))
            setattr(owner, name, wrapper)


def disable() -> None:
    """Put Glance's own functions back (idempotent)."""
    with _lock:
        while _originals:
            owner, name, original = _originals.pop()
            setattr(owner, name, original)
        _guards.clear()


def enabled() -> bool:
    """Whether :func:`enable` is in effect."""
    return bool(_originals)
