"""What ``SQLStore`` is handed as its engine: refused with a typed error unless usable.

An ``AsyncEngine`` (or a URL naming an async driver), something that is neither an
Engine nor a URL, a URL SQLAlchemy cannot parse, a driver that is not installed: each is
:class:`InvalidArgument` naming what ``SQLStore`` takes, at construction, never a raw
SQLAlchemy error at the first call (issue 17, item 8). No database is needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

sa = pytest.importorskip("sqlalchemy")
pytest.importorskip("greenlet")

from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column  # noqa: E402

from statusguard.errors import InvalidArgument  # noqa: E402
from statusguard.sql import SQLStore  # noqa: E402


def _refused(engine: Any) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as info:
        SQLStore(engine, "images")
    assert info.value.parameter == "engine"
    return info.value


def test_an_async_engine_is_refused_at_construction() -> None:
    engine = create_async_engine("postgresql+psycopg://u@127.0.0.1:1/x")
    try:
        err = _refused(engine)
    finally:
        engine.sync_engine.dispose()
    assert "AsyncEngine" in str(err)
    assert "create_engine" in str(err)


@pytest.mark.parametrize("url", ["postgresql+psycopg_async://u@127.0.0.1:1/x"])
def test_a_url_naming_an_async_driver(url: str) -> None:
    assert "async" in str(_refused(url))


@pytest.mark.parametrize("value", [None, 5, b"sqlite://", object()], ids=repr)
def test_neither_engine_nor_url(value: Any) -> None:
    _refused(value)


@pytest.mark.parametrize(
    "url", ["not a url", "postgresql+nosuchdriver://u@h/db", "nosuchdb://u@h/db"]
)
def test_a_url_that_cannot_be_used(url: str) -> None:
    _refused(url)


def test_a_url_object_is_a_url() -> None:
    store = SQLStore(sa.engine.make_url("sqlite://"), "images")
    store.create_schema()
    store.create("img", "queued")
    assert store.get("img").status == "queued"
    store.dispose()


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("lock_timeout", "5"),
        ("lock_timeout", -1),
        ("lock_timeout", float("nan")),
        ("idle_timeout", "60"),
        ("idle_timeout", 0),
        ("retries", -1),
        ("retries", 2.5),
        ("retries", True),
        ("backoff", -0.1),
        ("backoff", "0.002"),
        ("race_retries", 0),
        ("key_type", str),
        ("key_type", "VARCHAR(10)"),
    ],
)
def test_store_options_of_the_wrong_kind(option: str, value: Any) -> None:
    with pytest.raises(InvalidArgument) as info:
        SQLStore("sqlite://", "images", **{option: value})
    assert info.value.parameter == option


def test_orm_helper_arguments() -> None:
    import statusguard
    from statusguard.sql import GuardedStatus

    glance = statusguard.load(
        str(Path(__file__).resolve().parents[3] / "model" / "glance_image.py")
    )

    class Base(DeclarativeBase):
        pass

    class Image(Base):
        __tablename__ = "images_defects_args"
        id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
        status: Mapped[str] = mapped_column(sa.String(64))

    config = {"delayed_delete": False}
    for kwargs, parameter in (
        ({"attribute": "state"}, "attribute"),
        ({"version": "revision"}, "version"),
    ):
        with pytest.raises(InvalidArgument) as info:
            GuardedStatus(Image, glance, config, **kwargs)
        assert info.value.parameter == parameter
        assert "status" in str(info.value)  # names the columns there are
    with pytest.raises(InvalidArgument) as info:
        GuardedStatus(dict, glance, config)
    assert info.value.parameter == "cls"
