"""``statusguard sql trigger``: the printed DDL makes the database reject illegal raw UPDATEs."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

pytest.importorskip("sqlalchemy")

from statusguard import Guard
from statusguard.cli import cli
from statusguard.errors import StoreRejected
from tests.integration._trigger import DIALECT, MODEL, ROOT, install, raw_update


@pytest.mark.parametrize("engine", list(DIALECT), indirect=True)
def test_trigger_rejects_illegal_raw_updates(make_store: Any, engine: str, glance: Any) -> None:
    dialect = DIALECT[engine]
    store = make_store()
    script = install(store, dialect, "delayed_delete=false")
    assert f"lifecycle glance-image ({glance.fingerprint})" in script
    guard = Guard(glance, store, {"delayed_delete": False})
    guard.create("a")
    # legal raw updates pass, including a same-value write
    for status in ("saving", "active", "active", "deactivated", "active"):
        raw_update(store, "a", status)
    assert store.get("a").status == "active"
    # illegal ones fail, and change nothing
    for status in ("queued", "saving", "killed", "bogus", "pending_delete"):
        with pytest.raises(Exception) as info:
            raw_update(store, "a", status)
        text = str(info.value)
        assert "illegal status transition" in text
        if dialect != "sqlite":
            assert f"active -> {status}" in text
        assert store.get("a").status == "active"
    # the guard's own writes pass the trigger
    assert guard.fire("a", "delete", {"has_locations": True}).target == "deleted"
    with pytest.raises(Exception, match="illegal status transition"):
        raw_update(store, "a", "active")


@pytest.mark.parametrize("engine", list(DIALECT), indirect=True)
def test_trigger_and_guard_disagreeing_is_a_typed_error(
    make_store: Any, engine: str, glance: Any
) -> None:
    store = make_store()
    install(store, DIALECT[engine], "delayed_delete=false")  # no pending_delete edge
    guard = Guard(glance, store, {"delayed_delete": True})
    guard.create("a")
    guard.fire("a", "location_added")
    with pytest.raises(StoreRejected) as info:
        guard.fire("a", "delete", {"has_locations": True})
    assert "regenerate it with 'statusguard sql trigger'" in str(info.value)
    assert "nothing was committed" in str(info.value)
    assert guard.status("a") == "active"


def test_cli_bad_input_exits_2() -> None:
    runner = CliRunner()
    base = ["sql", "trigger", MODEL, "--dialect", "sqlite", "--column", "status"]
    bad_table = runner.invoke(
        cli, [*base, "--table", "x; drop table y", "--config", "delayed_delete=0"]
    )
    assert bad_table.exit_code == 2
    assert "invalid table name 'x; drop table y'" in bad_table.output
    no_config = runner.invoke(cli, [*base, "--table", "images"])
    assert no_config.exit_code == 2
    assert "'delayed_delete' not set" in no_config.output
    unknown = runner.invoke(cli, [*base, "--table", "images", "--config", "turbo=1"])
    assert unknown.exit_code == 2
    assert "unknown flag 'turbo'" in unknown.output
    many = runner.invoke(cli, ["sql", "trigger", str(ROOT / "model"), "--dialect", "sqlite",
                               "--table", "t", "--column", "c"])  # fmt: skip
    assert many.exit_code == 2
    assert "holds 2 lifecycles (glance-image, glance-task)" in many.output


def count_statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement PyMySQL sends from now on (one round trip each)."""
    import pymysql.cursors

    sent: list[str] = []
    execute = pymysql.cursors.Cursor.execute

    def counting(self: Any, query: str, args: Any = None) -> int:
        sent.append(query)
        return int(execute(self, query, args))

    monkeypatch.setattr(pymysql.cursors.Cursor, "execute", counting)
    return sent


@pytest.mark.parametrize("engine", ["mysql"], indirect=True)
def test_mariadb_trigger_keeps_the_outcome_of_every_write(
    make_store: Any, engine: str, glance: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a trigger on the table MariaDB's OK packet says insert id 0 for an UPDATE that
    sets ``LAST_INSERT_ID(expr)``: the source, version and audit rows must not follow it."""
    store = make_store(audit=True)
    install(store, "mysql", "delayed_delete=false")
    guard = Guard(glance, store, {"delayed_delete": False})
    assert guard.create("a") == "queued"  # create reads no insert id
    assert store.get("a").version == 0
    got = [
        guard.fire("a", "stage_started"),
        guard.fire("a", "glance_direct_import"),  # glance-direct: from the staged image
        guard.fire("a", "import_succeeded"),
        guard.move("a", "deactivated"),  # compare-and-set with the version it read
        guard.move("a", "active", "deactivated", expected_version=4),
        guard.fire("a", "delete", {"has_locations": True}),  # seven sources
    ]
    want = [
        ("queued", "uploading", 1),
        ("uploading", "importing", 2),
        ("importing", "active", 3),
        ("active", "deactivated", 4),
        ("deactivated", "active", 5),
        ("active", "deleted", 6),
    ]
    assert [(c.source, c.target, c.version) for c in got] == want
    assert store.get("a").version == 6
    history = store.history("a")
    assert [(h.source, h.target, h.version) for h in history] == want
    assert [h.event for h in history] == [
        "stage_started", "glance_direct_import", "import_succeeded", None, None, "delete",
    ]  # fmt: skip
    # the extra round trip (SELECT LAST_INSERT_ID()) is paid only when the packet lost the id
    guard.create("b")
    sent = count_statements(monkeypatch)
    guard.fire("b", "stage_started")
    assert [s for s in sent if "LAST_INSERT_ID()" in s] == ["SELECT LAST_INSERT_ID()"]
    assert len(sent) == 5  # START TRANSACTION, UPDATE, SELECT LAST_INSERT_ID(), INSERT, COMMIT


@pytest.mark.parametrize("engine", ["mysql"], indirect=True)
@pytest.mark.parametrize("triggered", [True, False], ids=["trigger", "no-trigger"])
def test_mariadb_round_trips_of_a_fire(
    make_store: Any, engine: str, glance: Any, monkeypatch: pytest.MonkeyPatch, triggered: bool
) -> None:
    """Without an audit table a fire is one UPDATE; a trigger adds one query, nothing else does."""
    store = make_store(version=False)
    if triggered:
        install(store, "mysql", "delayed_delete=false")
    guard = Guard(glance, store, {"delayed_delete": False})
    guard.create("a")
    sent = count_statements(monkeypatch)
    # unversioned: the insert id is the source's index (queued is one of delete's eight)
    done = guard.fire("a", "delete", {"has_locations": False})
    assert (done.source, done.target) == ("queued", "deleted")
    assert len(sent) == (2 if triggered else 1)
    # an unversioned compare-and-set sets no LAST_INSERT_ID: never asked, trigger or not
    guard.create("b")
    guard.fire("b", "web_download_import")
    sent.clear()
    assert guard.move("b", "active", "importing").source == "importing"
    assert len(sent) == 1
