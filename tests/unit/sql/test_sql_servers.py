"""Which server a connection is on: session ids mean something only on their own server."""

from __future__ import annotations

import pytest

pytest.importorskip("sqlalchemy")

from statusguard.sql.dialects import DIALECTS
from statusguard.sql.dialects._records import Server


def test_galera_nodes_on_one_host_differ_by_port_and_gcomm_uuid() -> None:
    # measured: @@hostname 'vm' and @@server_id 1 on all three nodes (.ci/cluster/README.md)
    n1 = Server("vm", 3307, "uuid-1", 1000.0, galera=True)
    assert n1.same(Server("vm", 3307, "uuid-1", 1001.0, galera=True))
    assert not n1.same(Server("vm", 3308, "uuid-2", 1000.0, galera=True))
    assert not n1.same(Server("vm", 3307, "uuid-9", 1000.0, galera=True))  # restarted


def test_start_time_known_to_the_second() -> None:
    one = Server("db", 3306, None, 1000.0)
    assert one.same(Server("db", 3306, None, 1001.0))  # UNIX_TIMESTAMP() - Uptime jitters
    assert not one.same(Server("db", 3306, None, 1030.0))  # restarted: ids start again
    assert not one.same(Server("db", 3306, None, None))  # nothing proves it is the same


def test_rows_become_sessions() -> None:
    mysql, pg = DIALECTS["mysql"], DIALECTS["postgresql"]
    s = mysql.server((12, "vm", 3307, "6a8c", "1764600000", "ON"))
    assert (s.id, s.server.port, s.server.instance, s.server.galera) == (12, 3307, "6a8c", True)
    plain = mysql.server((5, "vm", 3306, None, 1764600000, "OFF"))
    assert plain.server.galera is False
    assert plain.server.instance is None
    assert mysql.server_sql(mariadb=True) is not None
    assert "information_schema" in (mysql.server_sql(mariadb=True) or "")
    p = pg.server((4242, "127.0.0.1", 5433, "2026-12-01 15:00:48+00", None, None))
    assert (p.id, p.server.host, p.server.galera) == (4242, "127.0.0.1", False)
    assert DIALECTS["sqlite"].server_sql() is None


def test_a_session_on_another_server_is_never_asked_about_or_killed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """end_session compares servers before it sends the PROCESSLIST query or KILL."""
    from types import SimpleNamespace

    import statusguard.sql._engine as engine_module
    from statusguard.sql._engine import Connector
    from statusguard.sql.dialects._records import Outcome, Session

    sent: list[str] = []

    def run(conn: object, text: str, params: object = None) -> Outcome:
        sent.append(text)
        return Outcome([(0,)], 1, None)  # the session is not in the PROCESSLIST

    monkeypatch.setattr(engine_module, "run", run)
    here = Session(7, Server("vm", 3308, "uuid-2", galera=True))
    conn = SimpleNamespace(connection=SimpleNamespace(info={"statusguard_session": here}))
    connector = Connector.__new__(Connector)
    connector.dialect = DIALECTS["mysql"]
    connector.catch = (RuntimeError,)  # what a refused KILL raises
    lost = Session(7, Server("vm", 3307, "uuid-1", galera=True))  # same id, node 1
    assert connector.end_session(conn, lost) is False  # type: ignore[arg-type]
    assert sent == []
    assert connector.end_session(conn, here) is True  # same server: it asks, and it is gone
    assert sent == ["SELECT count(*) FROM information_schema.processlist WHERE id = 7"]
