"""The ``statusguard`` command line (click): every command is registered here, once.

Exit codes are a contract: 0 success (all proved), 1 a property was violated (or a
result is unknown or stale), 2 bad input. Bad input prints one line on stderr naming
the problem, never a traceback. Each command lives in its own module and knows
nothing of the group; this module assembles them. The options several commands share
(targets, ``--config``, ``--timeout``, ``--format``, ``-o/--output``) are defined once, in
``_options``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping, Sequence

import click

from statusguard.cli._app import EXIT_BAD_INPUT as EXIT_BAD_INPUT
from statusguard.cli._app import EXIT_OK as EXIT_OK
from statusguard.cli._app import EXIT_VIOLATED as EXIT_VIOLATED
from statusguard.cli._app import OneLineErrors as _OneLineErrors

__all__ = ["EXIT_BAD_INPUT", "EXIT_OK", "EXIT_VIOLATED", "cli", "main"]


class _Commands(MutableMapping[str, click.Command]):
    """The group's commands, each imported from its module when first looked up.

    ``statusguard check`` then loads neither the SQL layer nor the consult commands; a
    listing (``--help``, iteration) loads them all. The names and their order are fixed
    here, as before.
    """

    def __init__(self, homes: dict[str, tuple[str, str]]) -> None:
        self._homes = homes
        self._loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            module, attribute = self._homes[name]  # KeyError: no such command
            command = getattr(importlib.import_module(f"statusguard.cli.{module}"), attribute)
            self._loaded[name] = command
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self._homes.pop(name, None)
        self._loaded.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def __contains__(self, name: object) -> bool:
        return name in self._homes or name in self._loaded

    def _names(self) -> list[str]:
        return list(dict.fromkeys([*self._homes, *self._loaded]))


@click.group(cls=_OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="statusguard")
def cli() -> None:
    """statusguard: lifecycles whose status never takes an illegal step."""


cli.commands = _Commands(
    {
        "check": ("_check", "check"),
        "prove": ("_check", "prove"),
        "export-smt": ("_check", "export_smt"),
        "race": ("_race", "race"),
        "show": ("_consult", "show"),
        "diff": ("_consult", "diff"),
        "explain": ("_consult", "explain"),
        "docs": ("_consult", "docs"),
        "sql": ("_sql", "sql"),
    }
)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``statusguard`` console script.

    The same path as ``cli.main`` (and so as click's test runner): usage errors are one
    line on stderr and exit 2, an abort (Ctrl-C) exits 1.
    """
    cli.main(args=list(argv) if argv is not None else None, prog_name="statusguard")
