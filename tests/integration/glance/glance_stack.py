"""Glance's real repository stack on a database and a filesystem store in a temp dir.

Shared by the race reproductions and the benchmark: :func:`configure` points Glance's
configuration (oslo.config ``CONF``, parsed with no files) at a database URL and a
``file`` store directory and creates Glance's tables from its models
(``glance/db/sqlalchemy/models.py:297`` ``register_models``); :class:`Stack` drives
``glance.gateway.Gateway().get_repo(context)`` as the API controllers do.
"""

from __future__ import annotations

import io
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

_configured: list[bool] = []


def configure(url: str, datadir: Path, *, delayed_delete: bool = False) -> Any:
    """Point Glance at ``url`` and a file store in ``datadir``; return Glance's engine."""
    import glance.common.config  # (registers [DEFAULT] node_staging_uri)
    import glance.db.sqlalchemy.api as db_api
    import glance.scrubber  # noqa: F401  (registers [DEFAULT] delayed_delete)
    import glance_store
    from glance.db.sqlalchemy import models
    from oslo_config import cfg
    from oslo_db import options as db_options

    conf = cfg.CONF
    if not _configured:
        conf([], project="glance", default_config_files=[], default_config_dirs=[])
        glance_store.register_opts(conf)
        db_options.set_defaults(conf)
        _configured.append(True)
    datadir.mkdir(parents=True, exist_ok=True)
    conf.set_override("connection", url, group="database")
    conf.set_override("stores", ["file"], group="glance_store")
    conf.set_override("default_store", "file", group="glance_store")
    conf.set_override("filesystem_store_datadir", str(datadir), group="glance_store")
    conf.set_override("delayed_delete", delayed_delete)
    staging = datadir.parent / "staging"  # PUT /stage's node_staging_uri (a file:// URI)
    staging.mkdir(parents=True, exist_ok=True)
    conf.set_override("node_staging_uri", f"file://{staging}")
    glance_store.create_stores(conf)
    glance_store.verify_default_store()
    db_api.clear_db_env()
    engine = db_api.get_engine()
    models.unregister_models(engine)
    models.register_models(engine)
    return engine


def teardown(engine: Any) -> None:
    import glance.db.sqlalchemy.api as db_api
    from glance.db.sqlalchemy import models

    models.unregister_models(engine)
    engine.dispose()
    db_api.clear_db_env()


@dataclass
class Stack:
    """One worker's view: a request context and the gateway's repository."""

    engine: Any
    datadir: Path

    def repo(self) -> Any:
        import glance.context
        import glance.gateway

        ctx = glance.context.RequestContext(is_admin=True, project_id="p1", user_id="u1")
        return glance.gateway.Gateway().get_repo(ctx)

    def factory(self) -> Any:
        import glance.context
        import glance.gateway

        ctx = glance.context.RequestContext(is_admin=True, project_id="p1", user_id="u1")
        return glance.gateway.Gateway().get_image_factory(ctx)

    def new_image(self) -> str:
        image = self.factory().new_image(
            image_id=str(uuid.uuid4()), name="img", disk_format="raw", container_format="bare"
        )
        self.repo().add(image)
        return str(image.image_id)

    def upload(self, image_id: str, data: bytes = b"x" * 1024) -> None:
        """image_data.upload's steps (glance/api/v2/image_data.py): saving, data, active."""
        repo = self.repo()
        image = repo.get(image_id)
        image.status = "saving"
        repo.save(image, from_state="queued")
        image.set_data(io.BytesIO(data), len(data))
        repo.save(image, from_state="saving")

    def row(self, image_id: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.text("SELECT status, deleted, name FROM images WHERE id = :i"), {"i": image_id}
            ).one()
            locs = conn.execute(
                sa.text("SELECT status, deleted FROM image_locations WHERE image_id = :i"),
                {"i": image_id},
            ).all()
        return {
            "status": row[0],
            "deleted": bool(row[1]),
            "name": row[2],
            "locations": sorted((str(s), bool(d)) for s, d in locs),
        }

    def files(self) -> list[str]:
        return sorted(p.name for p in self.datadir.iterdir() if p.is_file())

    def staged(self) -> list[str]:
        """The files in the staging area (``node_staging_uri``)."""
        return sorted(p.name for p in (self.datadir.parent / "staging").iterdir())


def interleave(
    late: Callable[[Callable[[], None]], Any], early: Callable[[], Any], timeout: float = 30.0
) -> tuple[Any, BaseException | None, Any]:
    """Run ``late`` in a thread until it calls ``pause()`` (right before its write), run
    ``early`` to completion in this thread, then let ``late`` finish.

    Returns (early's result, late's exception or None, late's result).
    """
    paused, resume = threading.Event(), threading.Event()
    out: dict[str, Any] = {}

    def pause() -> None:
        paused.set()
        if not resume.wait(timeout):
            raise TimeoutError("the late worker was not resumed")

    def run() -> None:
        try:
            out["result"] = late(pause)
        except BaseException as exc:  # reported to the caller
            out["error"] = exc

    worker = threading.Thread(target=run, name="late-worker", daemon=True)
    worker.start()
    if not paused.wait(timeout):
        worker.join(timeout)
        raise AssertionError(f"the late worker never reached its pause: {out.get('error')!r}")
    early_result = early()
    resume.set()
    worker.join(timeout)
    assert not worker.is_alive(), "the late worker did not finish"
    return early_result, out.get("error"), out.get("result")


def request() -> Any:
    """A WSGI request as Glance's API hands its controllers one (admin context)."""
    import glance.context
    import webob

    req = webob.Request.blank("/")
    req.context = glance.context.RequestContext(
        is_admin=True, project_id="p1", user_id="u1", roles=["admin", "member", "reader"]
    )
    return req


@contextmanager
def pausing(
    owner: Any, name: str, pause: Callable[[], None], *, nth: int = 1, after: bool = False
) -> Iterator[None]:
    """In the calling thread only, call ``pause()`` right before (or, ``after``, right after)
    the ``nth`` call of ``owner.name``; every other thread passes straight through."""
    original = getattr(owner, name)
    me = threading.get_ident()
    seen = [0]

    def paused(*args: Any, **kwargs: Any) -> Any:
        if threading.get_ident() != me:
            return original(*args, **kwargs)
        seen[0] += 1
        if seen[0] == nth and not after:
            pause()
        result = original(*args, **kwargs)
        if seen[0] == nth and after:
            pause()
        return result

    setattr(owner, name, paused)
    try:
        yield
    finally:
        setattr(owner, name, original)
