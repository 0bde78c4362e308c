"""Database helpers of the integration tier: server URLs, unique table names, raw engines."""

from __future__ import annotations

import os
import secrets
from typing import Any

import pytest

from tests._budget import uses_server

ENGINES = {
    "postgresql": "STATUSGUARD_TEST_POSTGRES_URL",
    "mysql": "STATUSGUARD_TEST_MYSQL_URL",
}


def server_url(engine: str) -> str:
    """The test server URL for ``engine`` (the one reader of these variables), or skip with
    the variable to set. A test that gets a URL is outside the default run's time budget."""
    var = ENGINES[engine]
    url = os.environ.get(var)
    if not url:
        pytest.skip(f"{var} is not set: set it to a {engine} URL to run this test")
    uses_server(engine)
    return url


GALERA = "STATUSGUARD_TEST_GALERA_URLS"


def galera_urls() -> list[str]:
    """The three Galera node URLs (``.ci/cluster/galera.sh env``), or skip naming the variable."""
    raw = os.environ.get(GALERA)
    if not raw:
        pytest.skip(
            f"{GALERA} is not set: start the cluster with .ci/cluster/galera.sh start and "
            'eval "$(.ci/cluster/galera.sh env)" to run this test'
        )
    uses_server("galera")
    return raw.split(",")


PG_PRIMARY, PG_STANDBY = "STATUSGUARD_TEST_PG_PRIMARY_URL", "STATUSGUARD_TEST_PG_STANDBY_URL"


def pg_pair_urls() -> tuple[str, str]:
    """The PostgreSQL primary and hot standby URLs (``.ci/cluster/pg-standby.sh env``), or skip."""
    primary, standby = os.environ.get(PG_PRIMARY), os.environ.get(PG_STANDBY)
    if not primary or not standby:
        missing = PG_PRIMARY if not primary else PG_STANDBY
        pytest.skip(
            f"{missing} is not set: start the pair with .ci/cluster/pg-standby.sh start and "
            'eval "$(.ci/cluster/pg-standby.sh env)" to run this test'
        )
    uses_server("pg-standby")
    return primary, standby


def unique_table(prefix: str = "sg_rel") -> str:
    return f"{prefix}_{secrets.token_hex(4)}"


def plain_url(url: str, *, port: int | None = None) -> Any:
    """``url`` (optionally through a proxy on ``port``), without TLS so a proxy sees statements."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if port is not None:
        u = u.set(host="127.0.0.1", port=port)
    if u.get_backend_name() == "postgresql":
        u = u.update_query_dict({"sslmode": "disable"})
    return u


def raw_engine(url: Any, **kwargs: Any) -> Any:
    """A SQLAlchemy engine with no pooling: every connect is a fresh server session."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    return create_engine(url, poolclass=NullPool, **kwargs)
