# ruff: noqa: S608  (identifiers are validated and quoted; values are bound parameters)
"""PostgreSQL (psycopg): statements, session setup, SQLSTATE classes and trigger DDL.

An event's write is one statement: ``WITH o AS (SELECT status, version, token ...),
u AS (UPDATE t AS n ... FROM o WHERE n.status = o.s AND n.status IN (sources...)
RETURNING o.s, n.status, n.version) SELECT u.*, o.* FROM o LEFT JOIN u ON TRUE``. ``o``
is the statement's snapshot of the row; if a concurrent writer changed it, PostgreSQL
re-checks ``n.status = o.s`` on the newest version (READ COMMITTED) and matches nothing.
So a miss also says what the row held: no row (an unknown key), or the snapshot's
status. That status answers an illegal event without a second read, unless it is one
of the event's sources: then the UPDATE lost a race to a writer that changed the row
after the snapshot (never an illegal event), and the store goes again (its race loop).
With an audit table the ``INSERT`` rides in a CTE of the same statement: 1 round trip,
no explicit transaction. A compare-and-set is a plain ``UPDATE ... RETURNING`` (with
its audit CTE); a miss is followed by a read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from statusguard.sql.dialects._base import Dialect, ErrorKind
from statusguard.sql.dialects._records import (
    ABSENT,
    Layout,
    Moved,
    Outcome,
    Seen,
    Statement,
    Trigger,
)

__all__ = ["PostgreSQL"]

# SQLSTATE -> kind; classes 08 (connection exception) and 57P (operator intervention)
# mean the connection is gone
_ERRORS = {
    "40001": ErrorKind.RETRY,
    "40P01": ErrorKind.RETRY,
    "55P03": ErrorKind.TIMEOUT,
    "57014": ErrorKind.CANCELED,  # query_canceled: pg_cancel_backend or statement_timeout
    "25P03": ErrorKind.TIMEOUT,
    "23514": ErrorKind.TRIGGER,
    "23505": ErrorKind.DUPLICATE,
    # not_null, foreign_key, exclusion violations; a value too long for its column
    **dict.fromkeys(("23502", "23503", "23P01", "22001"), ErrorKind.CONSTRAINT),
    "25006": ErrorKind.REFUSED,  # read_only_sql_transaction: a write sent to a standby
    "57P03": ErrorKind.REFUSED,  # cannot_connect_now: the server is starting or recovering
}
_LOST_CLASSES = ("08", "57P")
#: where the connection keeps the notices of its current statement
_NOTICES = "statusguard_notices"
#: the WARNING a cancel sends when it ends a COMMIT's wait for a synchronous standby (the
#: statement then succeeds: committed here, not yet on the standby)
_SYNC_CANCELLED = "canceling wait for synchronous replication"


class PostgreSQL(Dialect):
    """PostgreSQL: ``UPDATE ... FROM`` a snapshot of the row, ``RETURNING``, audit in a CTE."""

    name = "postgresql"
    serves = ("postgresql",)
    text_holds_nul = False
    session_query = "SELECT pg_backend_pid()"
    cancels = True
    # backend PIDs are the server host's OS PIDs: they name a session on this postmaster only
    server_query = (
        "SELECT pg_backend_pid(), host(inet_server_addr()), inet_server_port(), "
        "CAST(pg_postmaster_start_time() AS TEXT), NULL, NULL"
    )
    lock_timeout_sql = "SET lock_timeout = {ms}"
    idle_timeout_sql = "SET idle_in_transaction_session_timeout = {ms}"
    session_alive_sql = "SELECT count(*) FROM pg_stat_activity WHERE pid = {session}"
    session_kill_sql = "SELECT pg_terminate_backend({session})"
    locking_read = " FOR NO KEY UPDATE"  # the lock an UPDATE takes: no upgrade to deadlock on
    error_aborts_transaction = True

    def apply(
        self,
        lay: Layout,
        sources: tuple[str, ...],
        targets: tuple[str, ...],
        columns: tuple[str, ...] = (),
    ) -> Statement:
        t, k, s, v = lay.table, lay.key, lay.status, lay.version
        srcs = self._binds("s", len(sources))
        sets = self._case_sets(lay, len(sources), f"n.{s}", row="n.", columns=columns)
        ver = f"n.{v}" if v else "0"
        read = (
            f"o AS (SELECT {s} AS s, {v or '0'} AS v, {lay.token or 'CAST(NULL AS TEXT)'} AS tok "
            f"FROM {t} WHERE {k} = :k)"
        )
        update = (
            f"u AS (UPDATE {t} AS n SET {', '.join(sets)} FROM o "
            f"WHERE n.{k} = :k AND n.{s} = o.s AND n.{s} IN ({srcs}) "
            f"RETURNING n.{k} AS k, o.s AS src, n.{s} AS tgt, {ver} AS ver)"
        )
        audit = ""
        if lay.audit is not None:
            audit = (
                f", w AS (INSERT INTO {lay.audit} ({lay.audit_columns}) SELECT k, src, "
                "CAST(:ev AS VARCHAR), tgt, ver, CAST(:tok AS VARCHAR), CURRENT_TIMESTAMP, "
                "CAST(:actor AS VARCHAR), CAST(:why AS TEXT) FROM u)"
            )
        text = (
            f"WITH {read}, {update}{audit} "
            "SELECT u.src, u.tgt, u.ver, o.s, o.v, o.tok FROM o LEFT JOIN u ON TRUE"
        )
        return Statement(text, sources, targets)

    def applied(
        self, lay: Layout, stmt: Statement, out: Outcome, info: Mapping[str, Any]
    ) -> Moved | None:
        row = out.first()  # (source, target, version) of the UPDATE, then the snapshot row
        return None if row is None or row[0] is None else (str(row[0]), str(row[1]), int(row[2]))

    def seen(self, lay: Layout, out: Outcome) -> Seen:
        row = out.first()  # an event's write (a compare-and-set reads nothing: not asked)
        return ABSENT if row is None else tuple(row[3:])

    def cas(self, lay: Layout, versioned: bool, columns: tuple[str, ...] = ()) -> str:
        update = self._cas_update(lay, versioned, columns)
        ver = lay.version or "0"
        if lay.audit is None:
            return update + f" RETURNING {ver}"
        return (
            f"WITH u AS ({update} RETURNING {lay.key} AS k, {ver} AS ver), "
            f"w AS (INSERT INTO {lay.audit} ({lay.audit_columns}) SELECT k, CAST(:exp AS VARCHAR), "
            "CAST(NULL AS VARCHAR), CAST(:tgt AS VARCHAR), ver, CAST(:tok AS VARCHAR), "
            "CURRENT_TIMESTAMP, CAST(:actor AS VARCHAR), CAST(:why AS TEXT) FROM u) "
            "SELECT ver FROM u"
        )

    def key_collations(self, columns: int) -> str | None:
        return (
            "SELECT a.attname, c.collname, c.collisdeterministic FROM pg_attribute a "
            "JOIN pg_collation c ON c.oid = a.attcollation WHERE a.attrelid = to_regclass(:t) "
            f"AND a.attname IN ({self._binds('c', columns)}) AND NOT a.attisdropped"
        )

    def inexact_keys(self, rows: Sequence[Any], columns: Sequence[str]) -> list[tuple[str, str]]:
        return [(str(col), f"{name} (not deterministic)") for col, name, exact in rows if not exact]

    def exact_keys_fix(self, table: str, column: str, *, mariadb: bool = False) -> str:
        return (
            f"ALTER TABLE {self.quote(table)} ALTER COLUMN {self.quote(column)} TYPE <its type> "
            'COLLATE "C" (any deterministic collation compares exactly)'
        )

    def install(self, dbapi_connection: Any, info: dict[str, Any]) -> None:
        notices: list[str] = []
        info[_NOTICES] = notices
        add = getattr(dbapi_connection, "add_notice_handler", None)
        if add is not None:
            add(lambda diag: notices.append(str(getattr(diag, "message_primary", "") or "")))

    def cancel(self, dbapi_connection: Any) -> bool:
        cancel = getattr(dbapi_connection, "cancel_safe", None) or getattr(
            dbapi_connection, "cancel", None
        )
        if cancel is None:
            return False
        cancel()
        return True

    def commit_wait_cancelled(self, info: Mapping[str, Any]) -> bool:
        return any(_SYNC_CANCELLED in n for n in info.get(_NOTICES, ()))

    def forget_notices(self, info: dict[str, Any]) -> None:
        notices = info.get(_NOTICES)
        if notices:
            notices.clear()

    def error_kind(self, orig: Any) -> ErrorKind | None:
        args = getattr(orig, "args", None) or ()
        if args and isinstance(args[0], int):
            return None  # a MySQL-family error (errno first): its SQLSTATE is not psycopg's
        sqlstate = getattr(orig, "sqlstate", None)
        if isinstance(sqlstate, str):
            kind = _ERRORS.get(sqlstate)
            if kind is None and sqlstate.startswith(_LOST_CLASSES):
                return ErrorKind.LOST
            return kind  # an unknown SQLSTATE: left to the generic checks
        kind_of = type(orig)
        if sqlstate is None and kind_of.__module__.startswith("psycopg"):  # connecting failed:
            lost = kind_of.__name__ in {"OperationalError", "InterfaceError"}  # no SQLSTATE
            return ErrorKind.LOST if lost else None
        return None

    def _function(self, spec: Trigger) -> str:
        return self.quote(spec.plain_name + "_check")

    def trigger(self, spec: Trigger) -> list[str]:
        c, lit = spec.column, self.literal
        fn = self._function(spec)
        pairs = self._pairs(spec.edges)
        test = f"(OLD.{c}::text, NEW.{c}::text) IN ({pairs})" if spec.edges else "FALSE"
        born = self._statuses(spec.creatable)
        return [
            f"CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $sg$\n"
            "BEGIN\n"
            "  IF TG_OP = 'INSERT' THEN\n"
            f"    IF NEW.{c} IS NULL OR NEW.{c}::text NOT IN ({born}) THEN\n"
            "      RAISE EXCEPTION 'statusguard: illegal status transition (new row) -> % in "
            "lifecycle %; rows are created as %',\n"
            f"        NEW.{c}, {lit(spec.lifecycle)}, {lit(', '.join(spec.creatable))} "
            "USING ERRCODE = 'check_violation';\n"
            "    END IF;\n"
            "    RETURN NEW;\n"
            "  END IF;\n"
            f"  IF NOT ({test}) THEN\n"
            "    RAISE EXCEPTION 'statusguard: illegal status transition % -> % in lifecycle %',\n"
            f"      OLD.{c}, NEW.{c}, {lit(spec.lifecycle)} USING ERRCODE = 'check_violation';\n"
            "  END IF;\n"
            "  RETURN NEW;\n"
            "END\n"
            "$sg$",
            *self._drop_triggers(spec),
            f"CREATE TRIGGER {spec.name} BEFORE UPDATE OF {c} ON {spec.table} FOR EACH ROW\n"
            f"  WHEN (NEW.{c} IS DISTINCT FROM OLD.{c}) EXECUTE FUNCTION {fn}()",
            f"CREATE TRIGGER {spec.insert_name} BEFORE INSERT ON {spec.table} FOR EACH ROW\n"
            f"  EXECUTE FUNCTION {fn}()",
        ]

    def _drop_triggers(self, spec: Trigger) -> list[str]:
        return [
            f"DROP TRIGGER IF EXISTS {name} ON {spec.table}"
            for name in (spec.name, spec.insert_name)
        ]

    def drop_trigger(self, spec: Trigger) -> list[str]:
        return [*self._drop_triggers(spec), f"DROP FUNCTION IF EXISTS {self._function(spec)}()"]
