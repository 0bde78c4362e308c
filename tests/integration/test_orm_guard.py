"""The ORM helper: flush issues the CAS; other-column saves never write a stale status."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from statusguard import IllegalTransition, TransitionConflict
from statusguard.errors import UnknownState, UnknownStatus
from statusguard.sql import GuardedStatus


@pytest.fixture(params=["sqlite-file", "postgresql", "mysql"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def orm(db_url: str, unique_name: Any, glance: Any) -> Iterator[Any]:
    engine = sa.create_engine(db_url)

    class Base(DeclarativeBase):
        pass

    class Image(Base):
        __tablename__ = unique_name("sg_orm")
        id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
        name: Mapped[str] = mapped_column(sa.String(64), default="")
        status: Mapped[str] = mapped_column(sa.String(64))
        version: Mapped[int] = mapped_column(default=0)

    Base.metadata.create_all(engine)
    maker = sessionmaker(engine)
    guarded = GuardedStatus(Image, glance, {"delayed_delete": False}, version="version",
                            sessions=maker)  # fmt: skip
    with maker.begin() as s:
        s.add(Image(id="img", name="cirros", status="queued"))
    yield maker, Image, guarded
    guarded.remove()
    Base.metadata.drop_all(engine)
    engine.dispose()


def stored(maker: Any, image: Any) -> tuple[str, str, int]:
    with maker() as s:
        row = s.get(image, "img")
        return row.status, row.name, row.version


def test_flush_writes_a_legal_status_with_cas(orm: Any) -> None:
    maker, image, guarded = orm
    with maker.begin() as s:
        img = s.get(image, "img")
        assert guarded.fire(img, "upload_started") == "saving"
    assert stored(maker, image) == ("saving", "cirros", 1)
    with maker.begin() as s:
        s.get(image, "img").status = "active"
    assert stored(maker, image) == ("active", "cirros", 2)


def test_illegal_status_is_refused_at_flush(orm: Any) -> None:
    maker, image, _ = orm
    with maker() as s:
        s.get(image, "img").status = "deactivated"
        with pytest.raises(IllegalTransition, match="'queued' -> 'deactivated' is not allowed"):
            s.commit()
        s.rollback()
        s.get(image, "img").status = "sleeping"
        with pytest.raises(UnknownState):
            s.flush()
    assert stored(maker, image) == ("queued", "cirros", 0)


def test_concurrent_change_is_a_transition_conflict(orm: Any) -> None:
    maker, image, guarded = orm
    slow: Session = maker()
    img = slow.get(image, "img")  # loads 'queued'
    with maker.begin() as fast:
        guarded.fire(fast.get(image, "img"), "upload_started")  # queued -> saving wins
    guarded.fire(img, "stage_started")  # decided on the stale 'queued'
    try:
        with pytest.raises(TransitionConflict) as info:
            slow.commit()
    finally:
        slow.close()
    assert (info.value.expected, info.value.actual) == ("queued", "saving")
    assert stored(maker, image) == ("saving", "cirros", 1)


def test_other_column_saves_never_write_a_stale_status(orm: Any) -> None:
    """Glance LP #1371728: a whole-row save must not resurrect a deleted image."""
    maker, image, guarded = orm
    with maker.begin() as s:
        s.get(image, "img").status = "active"  # queued -> active (location_added)
    editor: Session = maker()
    img = editor.get(image, "img")  # loads 'active'
    with maker.begin() as s:
        guarded.fire(s.get(image, "img"), "delete", {"has_locations": True})
    img.name = "renamed"
    img.status = img.status  # a whole-row save copies every attribute back
    try:
        editor.commit()
    finally:
        editor.close()
    assert stored(maker, image) == ("deleted", "renamed", 2)
    # merge() of a detached stale copy: deleted -> active is refused
    stale = image(id="img", name="x", status="active", version=1)
    with maker() as s:
        s.merge(stale)
        with pytest.raises(IllegalTransition, match="'deleted' -> 'active'"):
            s.commit()
    assert stored(maker, image)[0] == "deleted"


def test_unknown_stored_status_is_not_overwritten(orm: Any) -> None:
    maker, image, _ = orm
    with maker.begin() as s:
        s.execute(sa.update(image).values(status="bogus"))  # bulk: bypasses the hook
    with maker() as s:
        s.get(image, "img").status = "saving"
        with pytest.raises(UnknownStatus, match="'bogus'"):
            s.commit()
    assert stored(maker, image)[0] == "bogus"
