"""The CLI is consistent: shared options spelled, parsed, validated and explained alike.

Every command and option is found by walking the click app, so a command added later is
held to the same rules.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from statusguard.cli import cli
from statusguard.cli._options import MAX_SECONDS, Seconds, parse_config
from statusguard.consult._formats import FORMATS, formats_for
from statusguard.consult._reports import (
    CheckReport,
    DiffReport,
    ExplainReport,
    RaceReport,
    ShowReport,
)

ROOT = Path(__file__).resolve().parents[3]
IMAGE = str(ROOT / "model" / "glance_image.py")
TASK = str(ROOT / "model" / "glance_task.py")
TWO_FLAGS = {
    "format": "statusguard.lifecycle/v1",
    "name": "two-flags",
    "states": ["a", "b", "c"],
    "initial": "a",
    "terminal": ["c"],
    "flags": {"x": "config", "y": "config"},
    "transitions": [
        {"event": "go", "source": "a", "target": "b", "when": {"x": True}},
        {"event": "go", "source": "a", "target": "c", "when": {"x": False}},
        {"event": "end", "source": "b", "target": "c", "when": {"y": False}},
    ],
}
REPORTS = {
    "show": ShowReport,
    "check": CheckReport,
    "diff": DiffReport,
    "race": RaceReport,
    "explain": ExplainReport,
}


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), prog_name="statusguard")


def commands(group: click.Group = cli, path: str = "statusguard") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = [(path, group)]
    for name, cmd in sorted(group.commands.items()):
        if isinstance(cmd, click.Group):
            out.extend(commands(cmd, f"{path} {name}"))
        else:
            out.append((f"{path} {name}", cmd))
    return out


def options_without_help(group: click.Group) -> list[str]:
    return [
        f"{path} {'/'.join(p.opts)}"
        for path, cmd in commands(group)
        for p in cmd.params
        if isinstance(p, click.Option) and not (p.help or "").strip()
    ]


def with_option(name: str) -> list[str]:
    """The commands (below the group) that take the option ``name``."""
    return [
        path.removeprefix("statusguard ")
        for path, cmd in commands()
        if path != "statusguard" and any(name in p.opts for p in cmd.params)
    ]


def test_every_command_and_option_has_help() -> None:
    assert options_without_help(cli) == []
    assert [path for path, cmd in commands() if not (cmd.help or "").strip()] == []


def test_the_help_walk_can_fail() -> None:
    @click.group()
    def group() -> None:
        """A group."""

    @group.command()
    @click.option("--quiet", is_flag=True)
    def sub(quiet: bool) -> None:
        """A command."""

    assert options_without_help(group) == ["statusguard sub --quiet"]


# -- --config --------------------------------------------------------------------------


def test_config_is_one_option_everywhere() -> None:
    found = [
        (path, p)
        for path, cmd in commands()
        for p in cmd.params
        if isinstance(p, click.Option) and "--config" in p.opts
    ]
    assert {path.removeprefix("statusguard ") for path, _ in found} == {
        "show",
        "explain",
        "race",
        "sql trigger",
    }
    for _, p in found:
        assert (p.name, p.multiple, p.metavar) == ("config", True, "NAME=BOOL")
        assert p.callback is not None
        assert p.callback.__qualname__ == found[0][1].callback.__qualname__  # type: ignore[union-attr]


def test_parse_config_takes_repeats_and_comma_lists() -> None:
    assert parse_config(["x=true,y=off", " z = 0 "]) == {"x": True, "y": False, "z": False}
    assert parse_config([]) == {}


@pytest.mark.parametrize("bad", ["x", "=true", "x=maybe", "x=true,", "x=true,,y=false"])
def test_config_refuses_bad_items_on_every_command(bad: str, tmp_path: Path) -> None:
    model = tmp_path / "two.json"
    model.write_text(json.dumps(TWO_FLAGS))
    lines = set()
    for argv in (
        ["show", str(model)],
        ["explain", str(model), "a"],
        ["race", str(model), "--obligation", "none", "--scenario", "none"],
        ["sql", "trigger", str(model), "--dialect", "sqlite", "--table", "t", "--column", "s"],
    ):
        res = run(*argv, "--config", bad)
        assert res.exit_code == 2, (argv, res.output)
        assert len(res.stderr.splitlines()) == 1
        lines.add(res.stderr)
    assert len(lines) == 1  # the same message from every command


def test_comma_list_means_the_same_as_repeats(tmp_path: Path) -> None:
    model = tmp_path / "two.json"
    model.write_text(json.dumps(TWO_FLAGS))
    for argv in (
        ["show", str(model), "--format", "json"],
        ["explain", str(model), "b", "end"],
        ["sql", "trigger", str(model), "--dialect", "sqlite", "--table", "t", "--column", "s"],
    ):
        listed = run(*argv, "--config", "x=true,y=false")
        repeated = run(*argv, "--config", "x=true", "--config", "y=false")
        unfixed = run(*argv)
        assert listed.exit_code == repeated.exit_code == 0, listed.output
        assert listed.output == repeated.output
        assert listed.output != unfixed.output  # the flags took effect
    quiet = ["--obligation", "none", "--scenario", "none"]
    assert run("race", str(model), *quiet, "--config", "x=true,y=false").exit_code == 0
    race = run("race", str(model), *quiet, "--config", "x=true,nope=true")
    assert race.exit_code == 2
    assert "--config nope" in race.stderr


# -- --timeout -------------------------------------------------------------------------


def test_timeout_is_one_validator_everywhere() -> None:
    assert set(with_option("--timeout")) == {"check", "prove", "diff", "race"}
    for path, cmd in commands():
        for p in cmd.params:
            if "--timeout" in p.opts:
                assert isinstance(p.type, Seconds), path


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "0", "1e9", "soon", ""])
def test_bad_timeouts_are_exit_2_with_one_message(value: str) -> None:
    messages = set()
    for command in with_option("--timeout"):
        argv = [command, TASK, *([TASK] if command == "diff" else []), "--timeout", value]
        res = run(*argv)
        assert res.exit_code == 2, (argv, res.output)
        assert len(res.stderr.splitlines()) == 1
        messages.add(re.sub(r" \(see 'statusguard \w+ --help'\)$", "", res.stderr.strip()))
    assert len(messages) == 1, messages
    assert "--timeout" in messages.pop()


def test_timeout_accepts_what_it_should() -> None:
    seconds = Seconds()
    assert seconds.convert("0.001", None, None) == 0.001
    assert seconds.convert(str(MAX_SECONDS), None, None) == MAX_SECONDS
    assert seconds.convert(30, None, None) == 30.0
    with pytest.raises(click.BadParameter):
        seconds.convert(str(MAX_SECONDS * 2), None, None)


# -- --format and -o -------------------------------------------------------------------


@pytest.mark.parametrize("command", sorted(REPORTS))
def test_format_choices_come_from_the_registry(command: str) -> None:
    cmd = cli.commands[command]
    (fmt,) = [p for p in cmd.params if "--format" in p.opts]
    assert isinstance(fmt.type, click.Choice)
    assert list(fmt.type.choices) == [f.name for f in formats_for(REPORTS[command])]
    assert set(with_option("--format")) == set(REPORTS)


def test_registry_is_consistent() -> None:
    names = [f.name for f in FORMATS]
    assert len(names) == len(set(names))
    for f in FORMATS:
        assert f.renderers, f.name
        assert f.summary, f.name
    for report in REPORTS.values():
        fmts = formats_for(report)
        assert "json" in [f.name for f in fmts]
        suffixes = [s for f in fmts for s in (*f.suffixes, *f.pictures)]
        assert len(suffixes) == len(set(suffixes)), report  # a suffix names one format


def test_output_is_offered_wherever_a_report_is_written() -> None:
    assert set(with_option("--output")) == {*REPORTS, "export-smt"}
    for path, cmd in commands():
        for p in cmd.params:
            if "--output" in p.opts:
                assert "-o" in p.opts, path


@pytest.mark.parametrize(("suffix", "fmt"), [("json", "json"), ("txt", "text")])
def test_output_writes_what_stdout_shows(tmp_path: Path, suffix: str, fmt: str) -> None:
    target = tmp_path / f"answer.{suffix}"
    wrote = run("explain", IMAGE, "active", "delete", "-o", str(target))
    shown = run("explain", IMAGE, "active", "delete", "--format", fmt)
    assert (wrote.exit_code, wrote.output) == (0, "")
    assert target.read_text() == shown.output


def test_output_problems_are_exit_2_before_any_work(tmp_path: Path) -> None:
    for argv in (
        ["check", TASK, "-o", str(tmp_path / "report.svg")],
        ["race", TASK, "-o", str(tmp_path / "report.md")],
        ["diff", TASK, TASK, "-o", str(tmp_path / "x.json"), "--format", "text"],
        ["explain", IMAGE, "active", "-o", str(tmp_path / "missing" / "x.json")],
    ):
        res = run(*argv)
        assert res.exit_code == 2, (argv, res.output)
        assert len(res.stderr.splitlines()) == 1, res.stderr
    assert list(tmp_path.iterdir()) == []
