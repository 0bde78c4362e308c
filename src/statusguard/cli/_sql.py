"""``statusguard sql trigger``: print database-side enforcement DDL for a lifecycle."""

from __future__ import annotations

import click

from statusguard.cli._app import exit_for_defects, fail, load_one
from statusguard.cli._options import Choice, config_option
from statusguard.errors import StatusGuardError
from statusguard.sql import DIALECTS


@click.group()
def sql() -> None:
    """SQL database helpers."""


@sql.command()
@click.argument("target")
@click.option(
    "--dialect",
    type=Choice(list(DIALECTS)),
    required=True,
    help="The database engine the DDL is for.",
)
@click.option("--table", required=True, help="the table holding the status column")
@click.option("--column", required=True, help="the status column")
@config_option(
    "Fix a config flag (the trigger allows what that setting allows); repeatable, or "
    "comma-separated: a=true,b=false."
)
@click.option(
    "--create-status",
    "create_statuses",
    multiple=True,
    metavar="STATE",
    help="A status rows may be inserted with besides the initial state; repeatable.",
)
@click.option(
    "--drop",
    is_flag=True,
    help="Print the DDL that removes the triggers (and PostgreSQL's function) instead.",
)
def trigger(
    target: str,
    dialect: str,
    table: str,
    column: str,
    config: dict[str, bool],
    create_statuses: tuple[str, ...],
    drop: bool,
) -> None:
    """Print DDL for triggers rejecting every UPDATE that makes an illegal status change
    and every INSERT with a status a resource is not created in.

    TARGET names one lifecycle (a model file, FILE.py:NAME, module or JSON document).
    Rows may be inserted in the initial state (and each --create-status). --drop prints
    the DDL that uninstalls them. The mysql output uses DELIMITER lines for the mysql
    client.
    """
    from statusguard.sql._trigger import trigger_script

    lc = load_one(target)
    try:
        script = trigger_script(
            lc, dialect, table, column, config, create_statuses=create_statuses, drop=drop
        )
        click.echo(script, nl=False)
    except StatusGuardError as exc:
        fail(exc)
    except ValueError as exc:
        fail(str(exc))
    exit_for_defects([lc])
