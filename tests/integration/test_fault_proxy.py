"""The loopback proxy injects the faults the guard's tests rely on (raw connections, no guard).

These reproduce db-guard.md §5 on the machine's servers: a COMMIT forwarded and then cut
is committed although the client sees an error, and a cut before COMMIT leaves nothing.
They show the fault harness is real before the guard is put through it.
"""

from __future__ import annotations

import pytest

from tests.integration._proxy import LoopbackProxy
from tests.integration._reliab_db import ENGINES, plain_url, raw_engine, server_url, unique_table

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(params=sorted(ENGINES))
def engine_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _setup(url: str, table: str) -> object:
    from sqlalchemy import text

    eng = raw_engine(plain_url(url))
    with eng.begin() as c:
        c.execute(
            text(
                f"CREATE TABLE {table} "
                "(k VARCHAR(40) PRIMARY KEY, status VARCHAR(40), tok VARCHAR(40))"
            )
        )
        c.execute(text(f"INSERT INTO {table} VALUES ('a', 'queued', NULL)"))
    return eng


@pytest.mark.parametrize("cut_on", [b"COMMIT", b"UPDATE"])
def test_cut_connection_outcome(engine_name: str, cut_on: bytes) -> None:
    from sqlalchemy import exc, text

    url = server_url(engine_name)
    table = unique_table()
    direct = _setup(url, table)
    u = plain_url(url)
    try:
        with LoopbackProxy(u.host or "127.0.0.1", u.port or 0) as proxy:
            via = raw_engine(plain_url(url, port=proxy.port))
            conn = via.connect()
            conn.execute(text("SELECT 1"))
            proxy.cut_after(cut_on)
            update = f"UPDATE {table} SET status='saving', tok='t1' WHERE k='a' AND status='queued'"

            def write() -> None:
                conn.execute(text(update))
                conn.commit()

            with pytest.raises(exc.DBAPIError) as seen:
                write()
            assert proxy.wait_cut(5)
            conn.invalidate()
            via.dispose()
        with direct.begin() as c:  # type: ignore[attr-defined]
            lock = " FOR UPDATE"
            row = c.execute(text(f"SELECT status, tok FROM {table} WHERE k='a'{lock}")).one()
        print(
            f"[fault-proxy {engine_name}] injected: cut after {cut_on!r}; caller saw: "
            f"{type(seen.value.orig).__name__}: {str(seen.value.orig).splitlines()[0]}; "
            f"database holds: {tuple(row)}"
        )
        if cut_on == b"COMMIT":
            assert tuple(row) == ("saving", "t1")  # committed, though the client saw an error
        else:
            assert tuple(row) == ("queued", None)  # the server rolled the open transaction back
    finally:
        with direct.begin() as c:  # type: ignore[attr-defined]
            c.execute(text(f"DROP TABLE IF EXISTS {table}"))
        direct.dispose()  # type: ignore[attr-defined]
