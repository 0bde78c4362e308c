"""Messages name the right thing (issue 17 item 10).

A missing fact names the parameter the caller used (``facts=`` for the guard, ``flags=``
for ``Lifecycle.next``); the CLI answers in its own syntax (``--config NAME=false``); a
flag of the other kind is called what it is; every kind of unknown name gets a
did-you-mean from the known ones.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import statusguard as sg
from statusguard.cli import cli
from statusguard.errors import MissingFlag, UnknownFlag, UnknownName
from statusguard.lifecycle import Never

GLANCE = "model/glance_image.py"
LC = sg.Lifecycle(
    "image",
    states=["queued", "saving", "active", "deleted", "pending_delete"],
    initial="queued",
    terminal=["deleted"],
    flags=[sg.Flag("delayed_delete"), sg.Flag("has_locations", sg.FlagKind.FACT)],
    transitions=[
        sg.Transition("upload", "queued", "saving"),
        sg.Transition("finish", "saving", "active"),
        sg.Transition("delete", "active", "deleted", when={"delayed_delete": False}),
        sg.Transition(
            "delete",
            "active",
            "pending_delete",
            when={"delayed_delete": True, "has_locations": True},
        ),
        sg.Transition(
            "delete",
            "active",
            "deleted",
            when={"delayed_delete": True, "has_locations": False},
        ),
        sg.Transition("scrub", "pending_delete", "deleted"),
    ],
    invariants=[Never("no_resurrection", source="deleted", target="active")],
)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def active_guard() -> sg.Guard[str, str]:
    guard = sg.Guard(LC, sg.MemoryStore(), config={"delayed_delete": True})
    guard.create("img")
    guard.fire("img", "upload")
    guard.fire("img", "finish")
    return guard


def test_a_missing_fact_names_the_facts_parameter_of_the_guard() -> None:
    with pytest.raises(MissingFlag) as info:
        active_guard().fire("img", "delete")
    assert "pass them in facts={...}" in str(info.value)
    assert "flags={" not in str(info.value)


def test_lifecycle_next_names_its_own_flags_parameter() -> None:
    with pytest.raises(MissingFlag, match=r"pass them in flags=\{\.\.\.\}"):
        LC.next("active", "delete", {"delayed_delete": True})


def test_a_config_flag_passed_as_a_fact_is_called_a_config_flag() -> None:
    with pytest.raises(UnknownFlag) as info:
        active_guard().fire("img", "delete", {"delayed_delete": False, "has_locations": True})
    message = str(info.value)
    assert message.startswith("flag 'delayed_delete' is a config flag of lifecycle 'image'")
    assert "fixed when the Guard is built" in message
    assert "unknown flag" not in message
    assert info.value.declared_as == "config"


def test_a_fact_passed_as_config_is_called_a_fact_flag() -> None:
    with pytest.raises(UnknownFlag, match="'has_locations' is a fact flag"):
        sg.Guard(LC, sg.MemoryStore(), config={"delayed_delete": True, "has_locations": True})


def test_sql_trigger_without_config_answers_in_cli_syntax() -> None:
    code, _, err = run("sql", "trigger", GLANCE, "--dialect", "sqlite", "--table", "t", "--column", "c")  # fmt: skip  # noqa: E501
    assert code == 2
    assert "--config delayed_delete=false" in err
    assert "config={" not in err


def test_sql_trigger_with_a_fact_as_config_says_it_is_a_fact() -> None:
    code, _, err = run(
        "sql", "trigger", GLANCE, "--dialect", "sqlite", "--table", "t", "--column", "c",
        "--config", "delayed_delete=false,has_locations=true",
    )  # fmt: skip
    assert code == 2
    assert "'has_locations' is a fact flag" in err
    assert "unknown flag" not in err


SUGGEST = re.compile(r"did you mean '([^']+)'\?")


@pytest.mark.parametrize(
    ("make", "suggested"),
    [
        (lambda: LC.state("actve"), "active"),
        (lambda: LC.event("delte"), "delete"),
        (lambda: LC.check_flags({"delayed_delet": True}), "delayed_delete"),
        (lambda: sg.race.protocol_named("cas_versoin"), "cas_version"),
        (lambda: active_guard().fire("img", "scrubb"), "scrub"),
        (lambda: active_guard().fire("img", "delete", {"has_location": True}), "has_locations"),
    ],
    ids=["state", "event", "flag", "protocol", "guard event", "guard fact"],
)
def test_unknown_names_get_a_did_you_mean(make: object, suggested: str) -> None:
    with pytest.raises(UnknownName) as info:
        make()  # type: ignore[operator]
    assert info.value.suggestion == suggested
    assert SUGGEST.search(str(info.value)).group(1) == suggested  # type: ignore[union-attr]


def test_a_name_close_to_nothing_gets_no_suggestion() -> None:
    with pytest.raises(UnknownName) as info:
        LC.state("zzzz")
    assert info.value.suggestion is None
    assert "did you mean" not in str(info.value)


@pytest.mark.parametrize(
    ("args", "suggested"),
    [
        (["explain", GLANCE, "savng"], "saving"),
        (["explain", GLANCE, "saving", "delte"], "delete"),
        (["race", GLANCE, "--protocol", "cas_versio"], "cas_version"),
        (["race", GLANCE, "--scenario", "delete_durng_upload"], "delete_during_upload"),
        (["race", GLANCE, "--config", "delayed_delet=true"], "delayed_delete"),
        (["race", GLANCE, "--obligation", "progres"], "progress"),
        (["show", GLANCE, "--format", "jsn"], "json"),
        (["show", GLANCE, "--config", "delayed_delet=true"], "delayed_delete"),
        (["show", f"{GLANCE}:GLANCE_IMAG"], "GLANCE_IMAGE"),
        (["show", "model/glance_imag.py"], "model/glance_image.py"),
        (
            ["sql", "trigger", GLANCE, "--dialect", "postgres", "--table", "t", "--column", "c"],
            "postgresql",
        ),
    ],
    ids=lambda a: " ".join(a[:1] + a[2:4]) if isinstance(a, list) else a,
)
def test_the_cli_suggests_the_known_name(args: list[str], suggested: str) -> None:
    code, _, err = run(*args)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1
    found = SUGGEST.search(err)
    assert found is not None, err
    assert found.group(1) == suggested


DOOR = """\
import statusguard as sg
DOOR = sg.Lifecycle(
    "door",
    states=["open", "closed"],
    initial="open",
    flags=["fast"],
    events=["close", "open"],
    transitions=[
        sg.Transition("close", "open", "closed"),
        sg.Transition("open", "closed", "open", when={"fast": True}),
    ],
)
"""
CLOSE = 'Transition("close", "open", "closed")'


@pytest.mark.parametrize(
    ("old", "new", "suggested"),
    [
        ('initial="open"', 'initial="opn"', "open"),
        (CLOSE, 'Transition("close", "opne", "closed")', "open"),
        (CLOSE, 'Transition("close", "open", "closd")', "closed"),
        ('when={"fast": True}', 'when={"fsat": True}', "fast"),
        ('events=["close", "open"]', 'events=["close", "opn"]', "opn"),
    ],
    ids=["initial", "source", "target", "flag", "event"],
)
def test_model_validation_suggests_the_declared_name(
    tmp_path: Path, old: str, new: str, suggested: str
) -> None:
    path = tmp_path / "door.py"
    assert old in DOOR
    path.write_text(DOOR.replace(old, new))
    code, _, err = run("show", str(path))
    assert code == 2
    found = SUGGEST.search(err)
    assert found is not None, err
    assert found.group(1) == suggested
