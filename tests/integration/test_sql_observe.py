"""Observability of the SQL store: SQLAlchemy's cursor events, the logger, the spans.

The store runs its statements on the DBAPI cursor (no SQLAlchemy transaction, so no
ROLLBACK at checkin); with listeners on the engine, ``before_cursor_execute`` and
``after_cursor_execute`` still see every statement the driver runs, with a context, and
``handle_error`` each driver error. Checked against what the driver itself executed
(PyMySQL's and psycopg's ``Cursor.execute``, SQLite's trace callback), on SQLite,
PostgreSQL and MariaDB; then OpenTelemetry's SQLAlchemy instrumentation makes spans of
them, children of the guard's own span; and the ``statusguard`` logger and spans report
a SQL store's transitions as they do a MemoryStore's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import statusguard
from statusguard import Guard, IllegalTransition, SQLStore
from statusguard.errors import StoreUnavailable
from tests.integration.conftest import SQL_ENGINES, engine_url, unique
from tests.unit.guard.test_guard_logging import _seen

ROOT = Path(__file__).resolve().parents[2]
GLANCE = statusguard.load(str(ROOT / "model" / "glance_image.py"))
CONFIG = {"delayed_delete": False}

pytestmark = pytest.mark.parametrize("engine", SQL_ENGINES)


@pytest.fixture
def store(engine: str, tmp_path: Path) -> Iterator[SQLStore]:
    made = SQLStore(
        engine_url(engine, tmp_path),
        unique("sqlrt_o"),
        version="version",
        token="token",
        audit=unique("sqlrt_oa"),
    )
    made.create_schema()
    yield made
    try:
        made.drop_schema()
    finally:
        made.dispose()


def _driver_statements(store: SQLStore, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the driver executes from now on, seen below SQLAlchemy."""
    sent: list[str] = []
    if store.dialect == "sqlite":
        # every connection the store holds or makes gets SQLite's own trace callback
        import sqlalchemy as sa

        raw = store.engine.raw_connection()  # the shared one (memory) or a new one (file)
        raw.driver_connection.set_trace_callback(sent.append)  # type: ignore[union-attr]
        raw.close()
        for kept in store._conn._idle or []:
            kept.connection.driver_connection.set_trace_callback(sent.append)  # type: ignore[union-attr]
        sa.event.listen(
            store.engine, "connect", lambda dbapi, _rec: dbapi.set_trace_callback(sent.append)
        )
        return sent
    if store.dialect == "postgresql":
        import psycopg

        cls: Any = psycopg.Cursor
    else:
        import pymysql.cursors

        cls = pymysql.cursors.Cursor
    execute = cls.execute

    def counting(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(str(query))
        return execute(self, query, *args, **kwargs)

    monkeypatch.setattr(cls, "execute", counting)
    return sent


def _listen(store: SQLStore) -> list[tuple[str, str, Any, Any]]:
    import sqlalchemy as sa

    seen: list[tuple[str, str, Any, Any]] = []

    def before(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: Any
    ) -> None:
        assert conn.engine is store.engine or conn.engine.url == store.engine.url
        assert context is not None
        assert context.cursor is cursor
        assert many is False
        seen.append(("before", statement, params, context))

    def after(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: Any) -> None:
        seen.append(("after", statement, params, context))

    sa.event.listen(store.engine, "before_cursor_execute", before)
    sa.event.listen(store.engine, "after_cursor_execute", after)
    return seen


def _warm(guard: Guard[Any, Any]) -> None:
    guard.create("img")
    for event in ("web_download_import", "import_succeeded", "deactivate", "reactivate"):
        guard.fire("img", event)


def test_the_cursor_events_see_every_statement(
    engine: str, store: SQLStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    guard = Guard(GLANCE, store, CONFIG, tokens=True)
    _warm(guard)
    seen = _listen(store)
    sent = _driver_statements(store, monkeypatch)
    guard.fire("img", "deactivate")
    with pytest.raises(IllegalTransition):
        guard.fire("img", "upload_succeeded")
    guard.move("img", "active", "deactivated")
    assert guard.status("img") == "active"
    befores = [s for s in seen if s[0] == "before"]
    afters = [s for s in seen if s[0] == "after"]
    assert len(befores) == len(afters) == len(sent) > 0
    for b, a in zip(befores, afters, strict=True):  # one context per statement, both events
        assert (b[1], b[3]) == (a[1], a[3])
    writes = [b for b in befores if "UPDATE" in b[1]]
    assert len(writes) == 3  # the fire, the refused fire, the move: each its UPDATE
    assert all(w[2] for w in writes)  # with their parameters
    if store.dialect == "sqlite":  # the trace callback shows the SQL with its values bound
        assert [s.split()[0] for s in sent] == [b[1].split()[0] for b in befores]
    else:
        assert sent == [b[1] for b in befores]


def test_handle_error_is_told_and_the_store_still_translates(engine: str, store: SQLStore) -> None:
    import sqlalchemy as sa

    guard = Guard(GLANCE, store, CONFIG)
    guard.create("img")
    told: list[Any] = []
    sa.event.listen(store.engine, "handle_error", told.append)
    _listen(store)
    with store.engine.connect() as conn:  # the status table disappears behind the store
        conn.exec_driver_sql(f"DROP TABLE {store.table_name}")
        conn.commit()
    with pytest.raises(StoreUnavailable):
        guard.fire("img", "web_download_import")
    assert len(told) == 1
    ctx = told[0]
    assert store.table_name in ctx.statement
    assert ctx.execution_context is not None
    assert ctx.sqlalchemy_exception is not None
    assert ctx.is_disconnect is False


def test_no_listener_no_context(
    engine: str, store: SQLStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without listeners the store's statements never build an execution context."""
    guard = Guard(GLANCE, store, CONFIG)
    _warm(guard)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an execution context was built without listeners")

    monkeypatch.setattr("statusguard.sql._engine._observed", refuse)
    guard.fire("img", "deactivate")
    with pytest.raises(IllegalTransition):
        guard.fire("img", "upload_succeeded")
    _listen(store)  # control: with a listener it is built
    with pytest.raises(AssertionError, match="without listeners"):
        guard.fire("img", "reactivate")


def test_logger_records_a_sql_fire(
    engine: str, store: SQLStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="statusguard")
    guard = Guard(GLANCE, store, CONFIG)
    guard.create("img")
    guard.fire("img", "web_download_import")
    with pytest.raises(IllegalTransition):
        guard.fire("img", "upload_started")
    name = GLANCE.name
    assert _seen(caplog) == [
        ("DEBUG", name, "img", "web_download_import", "queued", "importing", 1, "committed"),
        ("INFO", name, "img", "upload_started", "importing", None, None, "refused"),
    ]


def test_opentelemetry_sqlalchemy_spans_for_the_guard_statements(
    engine: str, store: SQLStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    trace = pytest.importorskip("opentelemetry.trace", reason="needs statusguard[otel]")
    instrumentation = pytest.importorskip(
        "opentelemetry.instrumentation.sqlalchemy",
        reason="needs opentelemetry-instrumentation-sqlalchemy (the dev extra)",
    )
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", provider)  # as test_guard_spans does
    guard = Guard(GLANCE, store, CONFIG)
    _warm(guard)
    instrumentor = instrumentation.SQLAlchemyInstrumentor()
    # its declared range stops below SQLAlchemy 2.1 ("sqlalchemy >= 1.0.0, < 2.1.0": it
    # instruments nothing, saying so): skip_dep_check, BaseInstrumentor's own switch
    instrumentor.instrument(engine=store.engine, tracer_provider=provider, skip_dep_check=True)
    try:
        exporter.clear()
        guard.fire("img", "deactivate")
        with pytest.raises(IllegalTransition):
            guard.fire("img", "upload_succeeded")
    finally:
        instrumentor.uninstrument()
    spans = exporter.get_finished_spans()
    fires = [s for s in spans if s.name == "statusguard.fire"]
    assert [dict(s.attributes or {})["statusguard.outcome"] for s in fires] == [
        "committed",
        "refused",
    ]
    sql = [s for s in spans if s.name != "statusguard.fire"]
    statement = "db.statement"  # the attribute name of the semantic conventions in use
    texts = [str(dict(s.attributes or {}).get(statement, "")) for s in sql]
    assert sum("UPDATE" in t for t in texts) == 2, texts  # each fire's write has its span
    for span in sql:  # ... inside the guard's span of that fire
        assert span.parent is not None
        assert span.parent.span_id in {f.context.span_id for f in fires}
