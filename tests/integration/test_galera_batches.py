"""On a Galera node the store sends no multi-statement batches, and why.

The control: a transaction sent as one batch, aborted by a conflicting write set from
another node while it runs, reports success for every statement; its UPDATE is gone and
the statements after the abort committed on their own (the INSERT even twice, here).
So on a Galera node a write with audit stays START TRANSACTION, UPDATE, INSERT, COMMIT
(each answered before the next).
Needs ``STATUSGUARD_TEST_GALERA_URLS`` (``.ci/cluster/galera.sh env``).
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Any

from statusguard import Guard, SQLStore
from tests.integration._reliab_db import galera_urls, plain_url, unique_table

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_guard import CONFIG, GLANCE, TurnCounter  # noqa: E402


def _pymysql(url: str, *, batches: bool) -> Any:
    import pymysql
    from pymysql.constants import CLIENT

    u = plain_url(url)
    flags = CLIENT.FOUND_ROWS | (CLIENT.MULTI_STATEMENTS if batches else 0)
    return pymysql.connect(
        host=u.host,
        port=u.port,
        user=u.username,
        password=u.password or "",
        database=u.database,
        autocommit=True,
        client_flag=flags,
    )


def test_a_batch_aborted_by_another_node_reports_success() -> None:
    """The negative control behind the rule: what a batch would do on Galera."""
    first, second = galera_urls()[:2]
    admin = _pymysql(first, batches=False)
    table, audit = unique_table("sqlrt_bf"), unique_table("sqlrt_bfa")
    cur = admin.cursor()
    try:
        cur.execute(f"CREATE TABLE {table} (k INT PRIMARY KEY, v INT) ENGINE=InnoDB")
        cur.execute(f"CREATE TABLE {audit} (id INT AUTO_INCREMENT PRIMARY KEY, v INT)")
        cur.execute(f"INSERT INTO {table} VALUES (1, 0)")
        time.sleep(0.5)  # replicated to the second node
        batch = (
            f"START TRANSACTION; UPDATE {table} SET v = v + 1 WHERE k = 1; DO SLEEP(1.5); "
            f"INSERT INTO {audit} (v) SELECT v FROM {table} WHERE k = 1; COMMIT"
        )
        victim = _pymysql(first, batches=True).cursor()
        answers: list[Any] = []

        def run() -> None:
            try:
                victim.execute(batch)
                while victim.nextset():
                    pass
                answers.append("ok")
            except Exception as exc:
                answers.append(exc)

        worker = threading.Thread(target=run)
        worker.start()
        time.sleep(0.5)  # the batch holds its row lock and sleeps
        other = _pymysql(second, batches=False).cursor()
        other.execute(f"UPDATE {table} SET v = v + 100 WHERE k = 1")  # aborts the batch's trx
        worker.join(10)
        time.sleep(0.5)
        cur.execute(f"SELECT v FROM {table} WHERE k = 1")
        (value,) = cur.fetchone()
        cur.execute(f"SELECT v FROM {audit}")
        logged = [r[0] for r in cur.fetchall()]
    finally:
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(f"DROP TABLE IF EXISTS {audit}")
        admin.close()
    assert answers == ["ok"]  # the client was told every statement succeeded
    assert value == 100  # ... yet its UPDATE is gone
    # ... and the INSERT after the abort committed on its own (here even twice)
    assert logged
    assert set(logged) == {100}


def test_the_store_sends_no_batch_to_a_galera_node() -> None:
    url = plain_url(galera_urls()[0])
    proxy = TurnCounter(url.host or "127.0.0.1", url.port or 0)
    via = url.set(port=proxy.port).render_as_string(hide_password=False)
    store = SQLStore(
        via,
        unique_table("sqlrt_g"),
        version="version",
        token="token",
        audit=unique_table("sqlrt_ga"),
    )
    store.create_schema()
    try:
        guard = Guard(GLANCE, store, CONFIG, tokens=True)
        guard.create("img")
        for event in ("web_download_import", "import_succeeded"):
            guard.fire("img", event)
        before = proxy.turns
        for event in ("deactivate", "reactivate") * 3:
            guard.fire("img", event)
        assert (proxy.turns - before) / 6 == 4.0  # START TRANSACTION, UPDATE, INSERT, COMMIT
        assert [h.target for h in store.history("img")][-2:] == ["deactivated", "active"]
    finally:
        store.drop_schema()
        store.dispose()
