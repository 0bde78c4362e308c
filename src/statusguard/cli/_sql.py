"""``statusguard sql trigger``: print database-side enforcement DDL for a lifecycle."""

from __future__ import annotations

import click

from statusguard.cli._app import fail, load_targets, parse_config
from statusguard.errors import StatusGuardError
from statusguard.sql.dialects import DIALECTS


@click.group()
def sql() -> None:
    """SQL database helpers."""


@sql.command()
@click.argument("target")
@click.option("--dialect", type=click.Choice(list(DIALECTS)), required=True, help="engine")
@click.option("--table", required=True, help="the table holding the status column")
@click.option("--column", required=True, help="the status column")
@click.option("--config", "config", multiple=True, metavar="NAME=BOOL", help="config flag value")
def trigger(target: str, dialect: str, table: str, column: str, config: tuple[str, ...]) -> None:
    """Print DDL for a trigger rejecting every UPDATE that makes an illegal status change.

    TARGET names one lifecycle (a model file, FILE.py:NAME, module or JSON document).
    The mysql output uses DELIMITER lines for the mysql client.
    """
    from statusguard.sql._trigger import trigger_script

    lifecycles = load_targets([target])
    if len(lifecycles) != 1:
        names = ", ".join(repr(lc.name) for lc in lifecycles) or "none"
        fail(
            f"{target!r} names {len(lifecycles)} lifecycles ({names}); name one, e.g. FILE.py:NAME"
        )
    flags = parse_config(config)
    try:
        click.echo(trigger_script(lifecycles[0], dialect, table, column, flags), nl=False)
    except (StatusGuardError, ValueError) as exc:
        fail(str(exc))
