"""The ``statusguard`` command line.

Exit codes are a contract: 0 success (all proved), 1 a property was violated
(or a result is unknown or stale), 2 bad input. Bad input prints one line on
stderr naming the problem, never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from statusguard._errors import StatusGuardError

EXIT_OK = 0
EXIT_VIOLATED = 1
EXIT_BAD_INPUT = 2


class BadInput(click.ClickException):
    """A usage or model error: one line on stderr, exit 2."""

    exit_code = EXIT_BAD_INPUT

    def show(self, file: Any = None) -> None:
        click.echo(f"statusguard: error: {self.format_message()}", err=True)


def fail(message: str) -> NoReturn:
    """Stop the command with exit 2 and a one-line message."""
    raise BadInput(message)


def load_targets(targets: Sequence[str]) -> list[Any]:
    """Load every lifecycle the targets name, turning load errors into exit 2."""
    from statusguard._loading import load_all

    found: list[Any] = []
    for target in targets:
        try:
            found.extend(load_all(target))
        except StatusGuardError as exc:
            fail(str(exc))
    return found


def parse_config(pairs: Sequence[str]) -> dict[str, bool]:
    """``k=v`` pairs (v one of true/false/1/0/yes/no/on/off) as a flag mapping."""
    out: dict[str, bool] = {}
    truthy = {"true": True, "1": True, "yes": True, "on": True}
    falsy = {"false": False, "0": False, "no": False, "off": False}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            fail(f"--config expects NAME=true|false, got {pair!r}")
        lowered = value.strip().lower()
        if lowered in truthy:
            out[name.strip()] = True
        elif lowered in falsy:
            out[name.strip()] = False
        else:
            fail(f"--config {name}: expected true or false, got {value!r}")
    return out


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="statusguard")
def cli() -> None:
    """statusguard: lifecycles whose status never takes an illegal step."""


@cli.command()
@click.argument("target", default="model/")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def show(target: str, fmt: str) -> None:
    """Print the lifecycle(s) TARGET names: a model file, FILE.py:NAME, module, JSON or folder."""
    lifecycles = load_targets([target])
    if fmt == "json":
        docs = [lc.to_json() for lc in lifecycles]
        click.echo(json.dumps(docs[0] if len(docs) == 1 else docs, indent=2))
        return
    click.echo("\n\n".join(lc.table() for lc in lifecycles))


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``statusguard`` console script.

    Usage errors (unknown option, bad choice) are one line on stderr and exit 2.
    """
    try:
        code = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="statusguard",
            standalone_mode=False,
        )
    except click.exceptions.UsageError as exc:
        click.echo(f"statusguard: error: {exc.format_message()}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("statusguard: aborted", err=True)
        sys.exit(EXIT_BAD_INPUT)
    sys.exit(code if isinstance(code, int) else EXIT_OK)


from statusguard import (
    _cli_check,  # noqa: F401  (registers check, prove, export-smt)
    _cli_sql,  # noqa: F401  (registers sql trigger)
)
