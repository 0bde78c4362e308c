"""What every ``statusguard`` command shares: exit codes, one-line errors, loading, writing.

Exit codes are a contract: 0 success (all proved), 1 a property was violated
(or a result is unknown or stale), 2 bad input. Bad input prints one line on
stderr naming the problem, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from statusguard.errors import StatusGuardError

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
    from statusguard.lifecycle._loading import load_all

    found: list[Any] = []
    for target in targets:
        try:
            found.extend(load_all(target))
        except StatusGuardError as exc:
            fail(str(exc))
    return found


def emit(text: str, output: Path | None) -> None:
    """``text`` on stdout, or written to ``output`` (a failure to write is bad input)."""
    if output is None:
        click.echo(text)
        return
    try:
        output.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {str(output)!r}: {exc.strerror or exc}")


class OneLineErrors(click.Group):
    """A group whose usage errors are one line on stderr (click prints usage and a hint)."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        if args is not None and any("\x00" in str(a) for a in args):
            # A real argv cannot hold NUL; an in-process caller's can, and paths choke on it.
            click.echo("statusguard: error: an argument contains a NUL byte; remove it", err=True)
            sys.exit(EXIT_BAD_INPUT)
        try:
            rv = super().main(args, prog_name, complete_var, False, **extra)
        except click.ClickException as exc:
            message = " ".join(exc.format_message().split())
            if isinstance(exc, click.UsageError) and exc.ctx is not None:
                message += f" (see '{exc.ctx.command_path} --help')"
            click.echo(f"statusguard: error: {message}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("statusguard: error: aborted", err=True)
            sys.exit(EXIT_VIOLATED)
        sys.exit(rv if isinstance(rv, int) else EXIT_OK)
