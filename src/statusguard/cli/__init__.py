"""The ``statusguard`` command line (click): every command is registered here, once.

Exit codes are a contract: 0 success (all proved), 1 a property was violated (or a
result is unknown or stale), 2 bad input. Bad input prints one line on stderr naming
the problem, never a traceback. Each command lives in its own module and knows
nothing of the group; this module assembles them. The options several commands share
(targets, ``--config``, ``--timeout``, ``--format``, ``-o/--output``) are defined once, in
``_options``.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from statusguard.cli import _check, _consult, _race, _sql
from statusguard.cli._app import EXIT_BAD_INPUT as EXIT_BAD_INPUT
from statusguard.cli._app import EXIT_OK as EXIT_OK
from statusguard.cli._app import EXIT_VIOLATED as EXIT_VIOLATED
from statusguard.cli._app import OneLineErrors as _OneLineErrors

__all__ = ["EXIT_BAD_INPUT", "EXIT_OK", "EXIT_VIOLATED", "cli", "main"]


@click.group(cls=_OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="statusguard")
def cli() -> None:
    """statusguard: lifecycles whose status never takes an illegal step."""


for _command in (
    _check.check,
    _check.prove,
    _check.export_smt,
    _race.race,
    _consult.show,
    _consult.diff,
    _consult.explain,
    _consult.docs,
    _sql.sql,
):
    cli.add_command(_command)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``statusguard`` console script.

    The same path as ``cli.main`` (and so as click's test runner): usage errors are one
    line on stderr and exit 2, an abort (Ctrl-C) exits 1.
    """
    cli.main(args=list(argv) if argv is not None else None, prog_name="statusguard")
