"""The Django integration's pure parts: statement rendering and the ValidationError mapping.

No database and no configured settings: ``render`` and ``as_validation_error`` need neither.
"""

from __future__ import annotations

import re

import pytest

from statusguard.errors import (
    IllegalTransition,
    MissingFlag,
    TransitionConflict,
    UnknownKey,
    UnknownStatus,
)
from statusguard.integrations.django import as_validation_error
from statusguard.integrations.django._store import render
from statusguard.sql.dialects import DIALECTS
from statusguard.sql.dialects._records import Layout

LAYOUT = Layout("t", "id", "status", "version")


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_every_dialect_statement_renders_to_django_s_paramstyle(dialect: str) -> None:
    d = DIALECTS[dialect]
    lay = LAYOUT.quoted(d.quote)
    texts = [
        d.select(lay),
        d.apply(lay, ("a", "b"), ("c", "c")).text,
        d.cas(lay, True),
        d.cas(lay, False),
    ]
    for text in texts:
        sql = render(text)
        assert sql.text.count("%s") == len(sql.names) == len(re.findall(r"(?<!:):\w", text))
        assert not re.search(r"(?<!:):[A-Za-z_]", sql.text)  # no bind left behind
        assert set(sql.names) <= {"k", "s0", "s1", "t0", "t1", "exp", "tgt", "ver", "tok", "ev"}


def test_render_keeps_casts_and_escapes_percent() -> None:
    sql = render("SELECT x::text, '100%' FROM t WHERE a = :a AND b = CAST(:b AS VARCHAR)")
    assert sql.text == "SELECT x::text, '100%%' FROM t WHERE a = %s AND b = CAST(%s AS VARCHAR)"
    assert sql.names == ("a", "b")
    assert sql.params({"a": 1, "b": 2}) == [1, 2]


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (IllegalTransition("open", "finish", ("claim",)), "illegal_transition"),
        (MissingFlag(["warranty"], state="done", event="reopen"), "missing_fact"),
        (TransitionConflict(1, "open", "claimed"), "transition_conflict"),
        (UnknownStatus("bogus", ["open"]), "unknown_status"),
        (UnknownKey(1), "statusguard"),
    ],
)
def test_each_refusal_has_its_validation_error_code(error: Exception, code: str) -> None:
    from statusguard.errors import StatusGuardError

    assert isinstance(error, StatusGuardError)
    invalid = as_validation_error(error)
    assert invalid.code == code
    assert invalid.messages == [str(error)]  # the message shows as statusguard wrote it
    on_field = as_validation_error(error, "status")
    assert list(on_field.error_dict) == ["status"]


def test_a_percent_in_a_message_survives_the_params_formatting() -> None:
    invalid = as_validation_error(IllegalTransition("100%", "go", ()))
    assert "'100%'" in invalid.messages[0]
    assert invalid.params is not None
    assert invalid.params["allowed"] == "none"
