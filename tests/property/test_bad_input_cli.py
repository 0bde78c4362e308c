"""Bad command lines: every ``statusguard`` command, run in-process with generated arguments.

The commands and their options are discovered from the click app, so commands added later
are covered too. Every run must end in exit 2 with exactly one line on stderr and no
traceback, or succeed (exit 0; exit 1 only where a command's contract says "violated").
"""

from __future__ import annotations

import os
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from statusguard.cli import EXIT_BAD_INPUT, EXIT_OK, EXIT_VIOLATED, cli
from tests.property._bad_input import Tally, budget, run_boundary

#: Commands whose contract gives exit 1 for "a property was violated / results differ".
MAY_EXIT_1 = {"check", "prove", "race", "diff"}

TINY_JSON = """{"format": "statusguard.lifecycle/v1", "name": "tiny", "states": ["a", "b"],
 "initial": "a", "terminal": ["b"], "flags": {"f": "config"},
 "transitions": [{"event": "go", "source": "a", "target": "b", "when": {"f": true}}]}"""
TINY_PY = """from statusguard import Lifecycle, Transition
TINY = Lifecycle(
    "tiny-py", states=["a", "b"], initial="a", transitions=[Transition("go", "a", "b")]
)
"""


def _fixtures(root: Path) -> list[str]:
    files = {
        "tiny.json": TINY_JSON,
        "bad.json": '{"format": "statusguard.lifecycle/v1", "name": "x", "states": []}',
        "garbage.json": "{not json",
        "list.json": "[1, 2]",
        "tiny.py": TINY_PY,
        "broken.py": "raise RuntimeError('model file blew up')\n",
        "nolc.py": "X = 1\n",
        "syntax.py": "def (:\n",
    }
    for name, text in files.items():
        (root / name).write_text(text)
    (root / "latin1.json").write_bytes(b"\xff\xfe{")
    (root / "empty").mkdir()
    return [
        *(str(root / n) for n in files),
        str(root / "latin1.json"),
        str(root / "empty"),
        str(root),
        str(root / "tiny.py") + ":TINY",
        str(root / "tiny.py") + ":NOPE",
        str(root / "missing.json"),
        str(root / "missing.py"),
        "os.path",
        "no_such_module_xyz",
        "git:HEAD:nothing.json",
        "",
        "-",
    ]


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for name, cmd in sorted(group.commands.items()):
        path = (*prefix, name)
        if isinstance(cmd, click.Group):
            out.extend(_commands(cmd, path))
        out.append(path)
    return out


def _command(path: tuple[str, ...]) -> click.Command:
    cmd: click.Command = cli
    for name in path:
        assert isinstance(cmd, click.Group)
        cmd = cmd.commands[name]
    return cmd


noise = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["--", "-", "-h", "--help", "--version", "=", "k=v", "a=maybe", "x;rm -rf /"]),
    st.text(max_size=10).map(lambda t: "--" + t),
)


@st.composite
def argvs(draw: st.DrawFn, targets: list[str]) -> list[str]:
    commands = _commands(cli)
    path: tuple[str, ...] = draw(
        st.one_of(st.sampled_from(commands), st.sampled_from(commands), st.just(()))
    )
    if draw(st.integers(0, 9)) == 0:
        path = (draw(st.text(max_size=6)),)
    argv = list(path)
    cmd = _command(path) if path and path[0] in cli.commands else cli
    options = [p for p in cmd.params if isinstance(p, click.Option)]
    value = st.one_of(st.sampled_from(targets), noise)
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.integers(0, 3))
        if kind == 0 and options:
            opt = draw(st.sampled_from(options))
            argv.append(draw(st.sampled_from(opt.opts + opt.secondary_opts)))
            if not opt.is_flag:
                if isinstance(opt.type, click.Choice):
                    argv.append(draw(st.sampled_from([str(c) for c in opt.type.choices]) | noise))
                else:
                    argv.append(draw(value))
        elif kind in (1, 2):
            argv.append(draw(st.sampled_from(targets)))
        else:
            argv.append(draw(noise))
    return argv


def _case(runner: CliRunner, argv: list[str]) -> str:
    result = runner.invoke(cli, argv, prog_name="statusguard")
    shown = f"argv={argv!r} exit={result.exit_code} stderr={result.stderr!r}"
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{shown}: crashed with {result.exception!r}"
    )
    assert "Traceback" not in result.output + result.stderr, shown
    allowed = {EXIT_OK, EXIT_BAD_INPUT}
    if argv and argv[0] in MAY_EXIT_1:
        allowed.add(EXIT_VIOLATED)
    assert result.exit_code in allowed, shown
    if result.exit_code == EXIT_BAD_INPUT:
        lines = result.stderr.splitlines()
        assert len(lines) == 1, f"{shown}: expected one line on stderr"
        assert lines[0].startswith("statusguard: error: "), shown
        return "exit 2"
    return f"exit {result.exit_code}"


def _boundary(request: pytest.FixtureRequest, tmp_path: Path, n: int) -> None:
    tally = Tally("CLI arguments")
    targets = _fixtures(tmp_path)
    runner = CliRunner()
    work = tmp_path / "cwd"
    work.mkdir()
    cwd = Path.cwd()
    os.chdir(work)  # commands that write (prove --write) write into the temporary folder
    try:

        @given(argv=argvs(targets))
        def test(argv: list[str]) -> None:
            tally.run(lambda: _case(runner, argv))

        run_boundary(request, tally, test, n)
    finally:
        os.chdir(cwd)


def test_bad_cli_arguments(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    _boundary(request, tmp_path, budget(long=False))


@pytest.mark.slow
def test_bad_cli_arguments_long(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    _boundary(request, tmp_path, budget(long=True))


@pytest.mark.parametrize(
    "argv",
    [["show", "--bogus"], ["--bogus"], ["no-such-command"], ["show", "--format", "xml"]],
)
def test_usage_errors_are_one_line(argv: list[str]) -> None:
    result = CliRunner().invoke(cli, argv, prog_name="statusguard")
    assert result.exit_code == EXIT_BAD_INPUT
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("statusguard: error: ")


def test_checker_catches_multiline_errors() -> None:
    """The CLI check is not vacuous: click's stock usage error (three lines) is rejected."""

    @click.command()
    def stock() -> None: ...

    result = CliRunner().invoke(stock, ["--bogus"])
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) > 1
