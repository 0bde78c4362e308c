"""Several status changes on one ORM object before a flush (issue 17, item 4).

Several fires on one object before a flush (``queued -> saving -> active ->
deactivated``) used to be refused, because only the first-to-last edge was checked. Each
step is checked and written as its own compare-and-set in the flush's transaction, so a
trigger sees legal steps and the version counts every transition.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from statusguard import IllegalTransition
from tests.integration.test_orm_guard import engine, orm, stored

__all__ = ["engine", "orm"]  # fixtures shared with test_orm_guard


def test_several_fires_before_one_flush_are_checked_step_by_step(orm: Any) -> None:
    maker, image, guarded = orm
    with maker.begin() as s:
        img = s.get(image, "img")
        assert guarded.fire(img, "upload_started") == "saving"
        assert guarded.fire(img, "upload_succeeded") == "active"
        assert guarded.fire(img, "deactivate") == "deactivated"
    assert stored(maker, image) == ("deactivated", "cirros", 3)


def test_assignments_before_one_flush_are_checked_step_by_step(orm: Any) -> None:
    maker, image, _ = orm
    with maker.begin() as s:
        img = s.get(image, "img")
        img.status = "saving"
        img.status = "active"
        img.status = "deactivated"
    assert stored(maker, image) == ("deactivated", "cirros", 3)


def test_an_illegal_step_inside_the_path_is_refused(orm: Any) -> None:
    """queued -> active is an edge, but the path went through killed: refused at that step."""
    maker, image, _ = orm
    with maker() as s:
        img = s.get(image, "img")
        img.status = "saving"
        img.status = "killed"
        img.status = "active"  # killed -> active is not an edge (queued -> active is)
        with pytest.raises(IllegalTransition, match="'killed' -> 'active'"):
            s.commit()
    assert stored(maker, image) == ("queued", "cirros", 0)


def test_a_rolled_back_path_is_forgotten(orm: Any) -> None:
    maker, image, _ = orm
    with maker() as s:
        img = s.get(image, "img")
        img.status = "saving"
        s.rollback()
        img.status = "uploading"  # from the reloaded queued, not from saving
        s.commit()
    assert stored(maker, image) == ("uploading", "cirros", 1)


def test_the_database_trigger_sees_legal_steps(orm: Any, glance: Any) -> None:
    """One UPDATE queued -> deactivated would be refused by the trigger; the steps are not."""
    from statusguard.sql import trigger_ddl

    maker, image, _ = orm
    bind = maker.kw["bind"]
    name = {"sqlite": "sqlite", "postgresql": "postgresql"}.get(bind.dialect.name, "mysql")
    raw = bind.raw_connection()  # DDL straight to the driver (no paramstyle on '%')
    try:
        cur = raw.cursor()
        for statement in trigger_ddl(
            glance, name, image.__tablename__, "status", {"delayed_delete": False}
        ):
            cur.execute(statement)
        raw.commit()
    finally:
        raw.close()
    # the trigger is live: one UPDATE queued -> deactivated is refused
    with maker() as s, pytest.raises(sa.exc.DBAPIError, match="illegal status transition"):
        s.execute(sa.update(image).where(image.id == "img").values(status="deactivated"))
    with maker.begin() as s:
        img = s.get(image, "img")
        img.status = "saving"
        img.status = "active"
        img.status = "deactivated"
    assert stored(maker, image) == ("deactivated", "cirros", 3)


def test_a_new_object_starts_in_the_initial_state(orm: Any) -> None:
    """A sibling of item 13 at the ORM layer (GuardedModel refuses it the same way)."""
    maker, image, _ = orm
    with maker() as s:
        s.add(image(id="born-deleted", name="x", status="deleted"))
        with pytest.raises(IllegalTransition, match=r"'\(new row\)' -> 'deleted'") as info:
            s.flush()
        assert info.value.allowed == ("queued",)
    with maker() as s:
        assert s.get(image, "born-deleted") is None
    with maker.begin() as s:
        s.add(image(id="born-queued", name="x", status="queued"))
