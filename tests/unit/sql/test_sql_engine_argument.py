"""What ``SQLStore`` is handed as its engine: refused with a typed error unless usable.

An ``AsyncEngine`` (or a URL naming an async driver), something that is neither an
Engine nor a URL, a URL SQLAlchemy cannot parse, a driver that is not installed: each is
:class:`InvalidArgument` naming what ``SQLStore`` takes, at construction, never a raw
SQLAlchemy error at the first call (issue 17, item 8). No database is needed.
"""

from __future__ import annotations

from typing import Any

import pytest

sa = pytest.importorskip("sqlalchemy")
pytest.importorskip("greenlet")

from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

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
