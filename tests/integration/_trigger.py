"""What the trigger tests share: ``statusguard sql trigger``'s script, run on a store's
table the way psql / mysql / sqlite3 would, and raw driver writes that bypass the guard.

Used by ``test_sql_trigger.py``, ``test_sql_trigger_insert.py`` and ``test_guard_noop.py``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from statusguard.cli import cli

ROOT = Path(__file__).resolve().parents[2]
MODEL = str(ROOT / "model" / "glance_image.py")
DIALECT = {
    "sqlite-memory": "sqlite",
    "sqlite-file": "sqlite",
    "postgresql": "postgresql",
    "mysql": "mysql",
}


def script_statements(script: str, dialect: str) -> list[str]:
    """Split the CLI's script the way psql / mysql / sqlite3 would."""
    body = "\n".join(line for line in script.splitlines() if not line.startswith("--"))
    if dialect == "mysql":
        out: list[str] = []
        delimiter = ";"
        for chunk in re.split(r"^DELIMITER (\S+)$\n?", body, flags=re.M):
            if chunk in ("//", ";"):
                delimiter = chunk
                continue
            out += [s.strip() for s in chunk.split(delimiter) if s.strip()]
        return out
    if dialect == "postgresql":
        if "$sg$;\n" not in body:  # no function body (the --drop script)
            return [s.strip() for s in body.split(";") if s.strip()]
        function, rest = body.split("$sg$;\n", 1)
        return [function + "$sg$", *(s.strip() for s in rest.split(";") if s.strip())]
    return [body]  # sqlite3's executescript


def trigger_cli(store: Any, dialect: str, *options: str) -> str:
    """The output of ``statusguard sql trigger`` for the Glance model on ``store``'s table."""
    result = CliRunner().invoke(
        cli,
        ["sql", "trigger", MODEL, "--dialect", dialect, "--table", store.table_name,
         "--column", store.status_column, *options],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return str(result.output)


def run_script(store: Any, script: str, dialect: str) -> None:
    """Run a trigger script on a plain driver connection (no SQLAlchemy statement)."""
    raw = store.engine.raw_connection()
    try:
        statements = script_statements(script, dialect)
        if dialect == "sqlite":
            raw.driver_connection.executescript(statements[0])
        else:
            cur = raw.cursor()
            for statement in statements:
                cur.execute(statement)
            cur.close()
            raw.commit()
    finally:
        raw.close()


def install(store: Any, dialect: str, config: str) -> str:
    """Install the CLI's trigger for ``--config config`` on ``store``; the script it ran."""
    script = trigger_cli(store, dialect, "--config", config)
    run_script(store, script, dialect)
    return script


def raw_write(store: Any, sql: str, params: tuple[Any, ...]) -> None:
    """Run ``sql`` (``{mark}`` for each parameter) from a plain driver connection and commit."""
    raw = store.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(sql.format(mark="?" if store.dialect == "sqlite" else "%s"), params)
        cur.close()
        raw.commit()
    except Exception:
        raw.rollback()
        raise
    finally:
        raw.close()


def raw_update(store: Any, key: str, status: str) -> None:
    """An UPDATE from a plain driver connection: no guard, no SQLAlchemy statement."""
    raw_write(
        store,
        f"UPDATE {store.table_name} SET {store.status_column} = {{mark}} "
        f"WHERE {store.key_column} = {{mark}}",
        (status, key),
    )


def raw_insert(store: Any, key: str, status: str | None) -> None:
    """An INSERT of a row at version 0 from a plain driver connection."""
    raw_write(
        store,
        f"INSERT INTO {store.table_name} ({store.key_column}, {store.status_column}, version)"
        " VALUES ({mark}, {mark}, 0)",
        (key, status),
    )
