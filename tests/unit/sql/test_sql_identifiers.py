"""SQLStore configuration: identifiers are validated and quoted, never spliced raw."""

from __future__ import annotations

import pytest

pytest.importorskip("sqlalchemy")

from statusguard import SQLStore
from statusguard.errors import InvalidIdentifier


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("table", "images; DROP TABLE images"),
        ("table", "1images"),
        ("table", "im ages"),
        ("table", 'images"'),
        ("table", "x" * 64),
        ("key", "id--"),
        ("status", "status)"),
        ("version", "v`"),
        ("token", ""),
        ("audit", "a.b"),
    ],
)
def test_bad_identifiers_are_rejected(field: str, value: str) -> None:
    kwargs = {"table": "images", field: value}
    table = kwargs.pop("table")
    with pytest.raises(InvalidIdentifier) as info:
        SQLStore("sqlite://", table, **kwargs)
    assert repr(value) in str(info.value)
    assert "letters, digits or underscores" in str(info.value)


def test_columns_must_differ() -> None:
    with pytest.raises(InvalidIdentifier, match="column names must differ"):
        SQLStore("sqlite://", "images", key="status", status="Status")
    with pytest.raises(InvalidIdentifier, match="must differ from the status table"):
        SQLStore("sqlite://", "images", audit="IMAGES")


def test_reserved_words_are_quoted_and_work() -> None:
    store = SQLStore("sqlite://", "order", key="select", status="where", version="group")
    store.create_schema()
    store.create("k", "queued")
    assert store.compare_and_set("k", "queued", "saving", 0).version == 1  # type: ignore[union-attr]
    assert store.get("k").status == "saving"
    store.drop_schema()
