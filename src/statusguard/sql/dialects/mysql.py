# ruff: noqa: S608  (identifiers are validated and quoted; values are bound parameters)
"""MariaDB and MySQL (PyMySQL, aiomysql): statements, session setup, errno classes and trigger DDL.

There is no ``UPDATE ... RETURNING``, so a write encodes its outcome in the insert id:
``SET version = LAST_INSERT_ID((version + 1) * M + FIELD(status, sources...)) DIV M,
status = ELT(FIELD(status, ...), targets...)``. The OK packet carries
``LAST_INSERT_ID(expr)`` as the insert id, so the source index and the new version
come back with the UPDATE. On MariaDB a trigger on the table blanks that insert id; the
write then reads ``SELECT LAST_INSERT_ID()`` (:func:`_insert_id`).

One round trip, audit row and miss included: on a connection that allows
multi-statement batches (``CLIENT_MULTI_STATEMENTS``; a store's own engine sets it;
PyMySQL or aiomysql), a write is one batch. Without an audit table: the UPDATE, then ``SELECT
LAST_INSERT_ID(), status, version, token`` of the row (the outcome even behind a
trigger, and the stored status for the error on a miss). With one: ``START
TRANSACTION``, ``SET @statusguard_code = LAST_INSERT_ID(0)``, the UPDATE, ``SET
@statusguard_code = LAST_INSERT_ID()``, the audit ``INSERT ... SELECT ... WHERE
@statusguard_code > 0`` (source, target and version decoded from the code
server-side), the row's SELECT, ``COMMIT``. The server stops a batch at its first
failing statement, which may leave the transaction open (a lock wait timeout or a
failing INSERT undo only their own statement): the store then sends ``ROLLBACK``, on
that failure path only. A client that is gone does not stop it: the server runs the
batch to its end, so a lost connection leaves both rows or neither, as a lost COMMIT
does (the settle step finds out which). Never on a Galera node (nor a server the store
could not identify): a write set replicated from another node can abort the batch's
transaction between two statements without an error, and the rest of the batch then
commits on its own (:meth:`MySQL.batch_ready`). Without batches (there, a given engine
without the flag, a caller's transaction) a write with audit is START TRANSACTION,
UPDATE, INSERT, COMMIT, and a miss is followed by a SELECT.

Comparisons use ``BINARY`` so a case- or pad-insensitive collation cannot match an
unknown status.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from statusguard.sql.dialects._base import Dialect, ErrorKind
from statusguard.sql.dialects._records import (
    ABSENT,
    Connecting,
    Layout,
    Moved,
    Outcome,
    Seen,
    Session,
    Statement,
    Trigger,
)

__all__ = ["MySQL"]

#: binary NO PAD collations: keys equal only when they are the same string
_MARIADB_EXACT = "utf8mb4_nopad_bin"
_MYSQL_EXACT = "utf8mb4_0900_bin"
_INDEX = 1 << 12  # the insert id is (version * _INDEX + source index): at most 4095 sources
# client capability flags of the MySQL protocol (CLIENT_FOUND_ROWS, CLIENT_MULTI_STATEMENTS:
# https://dev.mysql.com/doc/dev/mysql-server/latest/group__group__cs__capabilities__flags.html)
_FOUND_ROWS = 1 << 1
_MULTI_STATEMENTS = 1 << 16
#: where a connection notes whether it takes batches (both flags set, PyMySQL or aiomysql)
_BATCHES = "statusguard_batches"
#: the drivers whose connections take batches (aiomysql "reuses most parts of PyMySQL",
#: its README says: the same client_flag attribute and multi-result protocol)
_BATCH_DRIVERS = ("pymysql", "aiomysql")
#: what the audit batch keeps between its statements (session variables)
_CODE = "@statusguard_code"

# errno -> kind (PyMySQL raises most of them as OperationalError). The errno decides,
# never the SQLSTATE PyMySQL also attaches: 1047 (a Galera node outside the Primary
# component) carries 08S01, which by SQL's own classes reads "connection failure".
_ERRORS = {
    **dict.fromkeys((1213, 1020), ErrorKind.RETRY),
    **dict.fromkeys((1205, 3024, 1969), ErrorKind.TIMEOUT),
    # the statement's fate is unknown: the connection broke while it may have been running
    # (1180: a Galera COMMIT failed after the statement ran locally)
    **dict.fromkeys((2006, 2013, 2055, 1053, 1927, 4031, 2014, 1180), ErrorKind.LOST),
    # refused before anything ran: a Galera node not ready (1047), too many connections
    # (1040, 1203, 1226), access denied or host refused (1044, 1045, 1129, 1130, 1698),
    # no server to connect to (2002, 2003, 2005), a read-only server (1290, 1792, 1836)
    **dict.fromkeys(
        (1047, 1040, 1203, 1226, 1044, 1045, 1129, 1130, 1698, 2002, 2003, 2005, 1290, 1792, 1836),
        ErrorKind.REFUSED,
    ),
    **dict.fromkeys((1644, 3819, 4025), ErrorKind.TRIGGER),
    1062: ErrorKind.DUPLICATE,
}
# constraints refusing the row for good: NULL in a NOT NULL column, no default, foreign keys,
# a value too long (strict mode)
_ERRORS.update(dict.fromkeys((1048, 1364, 1216, 1217, 1451, 1452, 1406), ErrorKind.CONSTRAINT))
# the MySQL-family drivers whose errors carry the errno as their first argument
_DRIVERS = ("pymysql", "MySQLdb", "mariadb", "asyncmy")  # aiomysql raises pymysql's


def _insert_id(out: Outcome) -> int:
    """The ``LAST_INSERT_ID(expr)`` a write that matched one row set.

    MariaDB's OK packet reports insert id 0 for such an UPDATE when the table has a
    trigger (``statusguard sql trigger`` installs one), though the session's
    ``LAST_INSERT_ID()`` holds the value. Each write here sets it to at least 1 for a
    row it matched: ``(version + 1) * M + index`` and ``index`` (the WHERE clause
    matches only a source, so ``FIELD`` is at least 1), ``version + 1`` for a
    compare-and-set (versions start at 0 and only grow). So 0 means the packet lost
    it: ask the same session, before it runs anything else. That costs one more round
    trip, only then; and the answer is the value the UPDATE just set, so asking is
    never wrong even when the id truly were 0.
    """
    code = int(out.lastrowid or 0)
    if code == 0 and out.ask is not None:
        code = int(out.ask("SELECT LAST_INSERT_ID()") or 0)
    return code


class MySQL(Dialect):
    """MariaDB / MySQL: the outcome in ``LAST_INSERT_ID``, ``BINARY`` comparisons."""

    name = "mysql"
    serves = ("mysql", "mariadb")
    quote_char = "`"
    now = "UTC_TIMESTAMP(6)"  # DATETIME keeps no zone: store UTC, whatever the session's
    at_kind = "utc"
    audit_begin = "START TRANSACTION"
    status_collation = "utf8mb4_bin"
    status_compared_as_bytes = True  # BINARY in every comparison
    session_query = "SELECT CONNECTION_ID()"
    lock_timeout_sql = "SET SESSION innodb_lock_wait_timeout = {s}"
    idle_timeout_sql = "SET SESSION idle_transaction_timeout = {s}"
    session_alive_sql = "SELECT count(*) FROM information_schema.processlist WHERE id = {session}"
    session_kill_sql = "KILL CONNECTION {session}"
    locking_read = " FOR UPDATE"  # the lock an UPDATE takes: no upgrade to deadlock on
    # wsrep_sync_wait bit 1: reads (SELECT, SHOW, BEGIN) wait until the node has applied
    # every write set the cluster committed before them; bit 2: UPDATE and DELETE too
    causal_read_sql = "SET SESSION wsrep_sync_wait = 3"

    def server_sql(self, *, mariadb: bool = False) -> str | None:
        # Galera names a node process by wsrep_gcomm_uuid (new at every start; @@hostname
        # and @@server_id are often equal on every node); without it, the start time.
        # @@wsrep_on does not exist on a server built without wsrep: read it by name.
        schema = "information_schema" if mariadb else "performance_schema"
        status, variables = f"{schema}.GLOBAL_STATUS", f"{schema}.GLOBAL_VARIABLES"
        return (
            "SELECT CONNECTION_ID(), @@hostname, @@port, "
            f"(SELECT VARIABLE_VALUE FROM {status} WHERE VARIABLE_NAME = 'WSREP_GCOMM_UUID'), "
            "UNIX_TIMESTAMP() - "
            f"(SELECT VARIABLE_VALUE FROM {status} WHERE VARIABLE_NAME = 'UPTIME'), "
            f"(SELECT VARIABLE_VALUE FROM {variables} WHERE VARIABLE_NAME = 'WSREP_ON')"
        )

    def _escape(self, value: str) -> str:
        return value.replace("\\", "\\\\")

    def key_collation(self, *, mariadb: bool = False) -> str | None:
        # utf8mb4_bin alone still ignores trailing spaces (PAD SPACE): NO PAD binary ones
        return _MARIADB_EXACT if mariadb else _MYSQL_EXACT

    def key_collations(self, columns: int) -> str | None:
        return (
            "SELECT COLUMN_NAME, COLLATION_NAME FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :t "
            f"AND COLUMN_NAME IN ({self._binds('c', columns)})"
        )

    def inexact_keys(self, rows: Sequence[Any], columns: Sequence[str]) -> list[tuple[str, str]]:
        # exact: no collation (binary strings, numbers) or a binary NO PAD one; a name test,
        # because any other (even accent- and case-sensitive UCA) folds some distinct keys
        return [
            (str(column), str(collation))
            for column, collation in rows
            if collation is not None
            and collation != "binary"
            and not str(collation).endswith(("_nopad_bin", "_0900_bin"))
        ]

    def exact_keys_fix(self, table: str, column: str, *, mariadb: bool = False) -> str:
        collation = self.key_collation(mariadb=mariadb)
        return (
            f"ALTER TABLE {self.quote(table)} MODIFY {self.quote(column)} <its type> "
            f"COLLATE {collation} (a binary NO PAD collation; utf8mb4_bin still pads)"
        )

    def _compare(self, expr: str) -> str:
        return f"BINARY {expr}"

    def _bump(self, version: str) -> str:
        return f"{version} = LAST_INSERT_ID({version} + 1)"

    def apply(
        self,
        lay: Layout,
        sources: tuple[str, ...],
        targets: tuple[str, ...],
        columns: tuple[str, ...] = (),
    ) -> Statement:
        t, k, s, v, tk = lay.table, lay.key, lay.status, lay.version, lay.token
        srcs = self._binds("s", len(sources))
        field = f"FIELD(BINARY {s}, {srcs})"
        tgts = self._binds("t", len(targets))
        if v:
            sets = [
                f"{v} = LAST_INSERT_ID(({v} + 1) * {_INDEX} + {field}) DIV {_INDEX}",
                f"{s} = ELT({field}, {tgts})",
            ]
        else:
            sets = [f"{s} = ELT(LAST_INSERT_ID({field}), {tgts})"]
        if tk:
            sets.append(f"{tk} = :tok")
        sets += self._value_sets(columns)  # bound values: they read no column, any order works
        text = f"UPDATE {t} SET {', '.join(sets)} WHERE {k} = :k AND BINARY {s} IN ({srcs})"
        index = f"{_CODE} MOD {_INDEX}"
        batch = self._batch(
            lay,
            text,
            f"ELT({index}, {srcs})",
            ":ev",
            f"ELT({index}, {tgts})",
            f"{_CODE} DIV {_INDEX}" if v else "0",
        )
        return Statement(text, sources, targets, batch=batch)

    def _batch(self, lay: Layout, update: str, src: str, ev: str, tgt: str, ver: str) -> str:
        """``update`` as one batch (see the module doc); the audit row's source, event,
        target and version are the SQL expressions ``src``, ``ev``, ``tgt``, ``ver``.

        ``update`` sets ``LAST_INSERT_ID`` on the row it matches, to at least 1
        (:func:`_insert_id`), and the batch resets it to 0 first: so the audit row is
        written exactly when the UPDATE matched. Not ``ROW_COUNT()``: once the client is
        gone, MariaDB runs the rest of the batch with ``ROW_COUNT()`` -1 after a statement
        whose reply it could not send, which would commit the UPDATE without its row.
        """
        read = (
            f"SELECT {{code}}, {lay.status}, {lay.version or '0'}, {lay.token or 'NULL'} "
            f"FROM {lay.table} WHERE {lay.key} = :k"
        )
        if lay.audit is None:
            return f"{update}; {read.format(code='LAST_INSERT_ID()')}"
        return (
            f"START TRANSACTION; SET {_CODE} = LAST_INSERT_ID(0); {update}; "
            f"SET {_CODE} = LAST_INSERT_ID(); "
            f"INSERT INTO {lay.audit} ({lay.audit_columns}) SELECT :k, {src}, {ev}, {tgt}, "
            f"{ver}, :tok, {self.now}, :actor, :why FROM DUAL WHERE {_CODE} > 0; "
            f"{read.format(code=_CODE)}; COMMIT"
        )

    def batch_ready(self, info: Mapping[str, Any], session: Session | None) -> bool:
        # Not on a Galera node, nor on a server not identified (it may be one): a conflicting
        # write set replicated from another node aborts the batch's transaction between two
        # of its statements without an error, and the rest of the batch then runs and
        # commits statement by statement (measured here: the client saw every statement
        # succeed, the UPDATE was gone, the INSERT committed alone; the same class of bug as
        # https://github.com/mariadb-corporation/mysql-wsrep/issues/191 for procedures)
        return (
            bool(info.get(_BATCHES))
            and session is not None
            and session.server.host is not None
            and not session.server.galera
        )

    def batch_results(self, lay: Layout) -> int:
        # (see _batch) the UPDATE and the SELECT; with audit START TRANSACTION, SET,
        # UPDATE, SET, INSERT, SELECT, COMMIT
        return 2 if lay.audit is None else 7

    def install(self, dbapi_connection: Any, info: dict[str, Any]) -> None:
        # PyMySQL and aiomysql keep the flags they connected with; FOUND_ROWS too, or the
        # UPDATE's row count would count changed rows, not matched ones (SQLAlchemy always
        # sets it). On an async engine the DBAPI connection is SQLAlchemy's adapter: its
        # driver_connection is aiomysql's own (which always adds MULTI_STATEMENTS,
        # aiomysql/connection.py, Connection.__init__).
        driver = getattr(dbapi_connection, "driver_connection", dbapi_connection)
        flags = getattr(driver, "client_flag", 0)
        known = type(driver).__module__.startswith(_BATCH_DRIVERS)
        need = _MULTI_STATEMENTS | _FOUND_ROWS
        info[_BATCHES] = known and isinstance(flags, int) and flags & need == need

    def connecting(self, database: str | None, url: str) -> Connecting:
        if url.startswith(tuple(f"{name}+{d}:" for name in self.serves for d in _BATCH_DRIVERS)):
            return Connecting(client_flags=_MULTI_STATEMENTS)
        return Connecting()

    def unbatch(self, lay: Layout, outcomes: Sequence[Outcome]) -> tuple[Outcome, Seen]:
        update = outcomes[2 if lay.audit is not None else 0]
        row = outcomes[-2 if lay.audit is not None else -1].first()
        if update.rowcount != 1:
            return update, ABSENT if row is None else tuple(row[1:])
        code = update.lastrowid if row is None else row[0]  # (a DELETE in between: no row)
        return Outcome([], update.rowcount, code, update.ask), None

    def applied(
        self, lay: Layout, stmt: Statement, out: Outcome, info: Mapping[str, Any]
    ) -> Moved | None:
        if out.rowcount != 1:
            return None
        code = _insert_id(out)
        version, index = divmod(code, _INDEX) if lay.version else (0, code)
        return (stmt.sources[index - 1], stmt.targets[index - 1], version)

    def cas(self, lay: Layout, versioned: bool, columns: tuple[str, ...] = ()) -> str:
        return self._cas_update(lay, versioned, columns)

    def cas_batch(self, lay: Layout, versioned: bool, columns: tuple[str, ...] = ()) -> str | None:
        update = self._cas_update(lay, versioned, columns)
        if not lay.version:  # nothing sets LAST_INSERT_ID: the status does, to 1
            update = update.replace(
                f"{lay.status} = :tgt", f"{lay.status} = ELT(LAST_INSERT_ID(1), :tgt)", 1
            )
        return self._batch(lay, update, ":exp", "NULL", ":tgt", _CODE if lay.version else "0")

    def cas_version(self, lay: Layout, out: Outcome) -> int | None:
        if out.rowcount != 1:
            return None
        return _insert_id(out) if lay.version else 0

    def session_setup(
        self, lock_timeout: float | None, idle_timeout: float | None, *, mariadb: bool = False
    ) -> list[str]:
        # idle_transaction_timeout exists on MariaDB only
        return super().session_setup(lock_timeout, idle_timeout if mariadb else None)

    def error_kind(self, orig: Any) -> ErrorKind | None:
        args = getattr(orig, "args", ())
        if args and isinstance(args[0], int) and type(orig).__module__.startswith(_DRIVERS):
            return _ERRORS.get(args[0], ErrorKind.OTHER)
        return None

    def trigger(self, spec: Trigger) -> list[str]:
        c = spec.column
        pairs = self._pairs(spec.edges, wrap="BINARY ")
        test = f"(BINARY OLD.{c}, BINARY NEW.{c}) IN ({pairs})" if spec.edges else "FALSE"
        born = self._statuses(spec.creatable, wrap="BINARY ")
        return [
            *self.drop_trigger(spec),
            f"CREATE TRIGGER {spec.insert_name} BEFORE INSERT ON {spec.table} FOR EACH ROW\n"
            "BEGIN\n"
            f"  IF NEW.{c} IS NULL OR NOT (BINARY NEW.{c} IN ({born})) THEN\n"
            "    SET @statusguard_msg = CONCAT('statusguard: illegal status transition ',\n"
            f"      '(new row) -> ', IFNULL(NEW.{c}, 'NULL'),"
            f" ' in lifecycle ', {self.literal(spec.lifecycle)});\n"
            "    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = @statusguard_msg, MYSQL_ERRNO = 1644;\n"
            "  END IF;\n"
            "END",
            f"CREATE TRIGGER {spec.name} BEFORE UPDATE ON {spec.table} FOR EACH ROW\n"
            "BEGIN\n"
            f"  IF NOT (BINARY NEW.{c} <=> BINARY OLD.{c}) AND NOT ({test}) THEN\n"
            "    SET @statusguard_msg = CONCAT('statusguard: illegal status transition ',\n"
            f"      IFNULL(OLD.{c}, 'NULL'), ' -> ', IFNULL(NEW.{c}, 'NULL'),"
            f" ' in lifecycle ', {self.literal(spec.lifecycle)});\n"
            "    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = @statusguard_msg, MYSQL_ERRNO = 1644;\n"
            "  END IF;\n"
            "END",
        ]

    def script(self, statements: Sequence[str]) -> str:
        # the mysql client ends a statement at ';' unless told another delimiter: a trigger
        # body (BEGIN ... END) holds several
        out = []
        for statement in statements:
            if statement.startswith("CREATE TRIGGER"):
                out.append(f"DELIMITER //\n{statement}//\nDELIMITER ;\n")
            else:
                out.append(f"{statement};\n")
        return "".join(out)
