"""The ORM helper compares the version, closing ABA (issue 17, item 3).

``GuardedStatus(..., version=...)`` used to bump the version but compare only the status: a
session holding ``saving`` at version 1 wrote ``active`` after another session went
``saving -> queued -> saving`` (version 3). Its flush must be a ``TransitionConflict``.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from statusguard import TransitionConflict
from tests.integration.test_orm_guard import engine, orm, stored

__all__ = ["engine", "orm"]  # fixtures shared with test_orm_guard


def test_a_stale_version_is_a_conflict_aba(orm: Any) -> None:
    maker, image, guarded = orm
    with maker.begin() as s:
        guarded.fire(s.get(image, "img"), "upload_started")  # queued -> saving, v1
    slow: Session = maker()
    img = slow.get(image, "img")  # holds saving at version 1
    assert (img.status, img.version) == ("saving", 1)
    with maker.begin() as fast:  # saving -> queued -> saving: the status is back, v3
        row = fast.get(image, "img")
        guarded.fire(row, "upload_failed")
        fast.flush()
        guarded.fire(row, "upload_started")
    assert stored(maker, image) == ("saving", "cirros", 3)
    guarded.fire(img, "upload_succeeded")  # decided on saving at v1
    try:
        with pytest.raises(TransitionConflict) as info:
            slow.commit()
    finally:
        slow.close()
    err = info.value
    assert (err.expected, err.actual) == ("saving", "saving")
    assert (err.expected_version, err.actual_version) == (1, 3)
    assert stored(maker, image) == ("saving", "cirros", 3)


def test_the_version_after_a_flush_is_the_one_written(orm: Any) -> None:
    """After its own compare-and-set the object knows its new version without a reload."""
    maker, image, guarded = orm
    with maker() as s:
        img = s.get(image, "img")
        guarded.fire(img, "upload_started")
        s.flush()
        assert img.version == 1
        img.status = "active"
        s.flush()
        assert img.version == 2
        s.commit()
    assert stored(maker, image) == ("active", "cirros", 2)
