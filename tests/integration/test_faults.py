"""Fault injection against SQLStore on the real servers: the five faults of issue 9.

1. the connection drops between the read and the write of ``move``, or mid-transaction
   (right after the UPDATE, 1b, and while the UPDATE waits inside its transaction, 1c);
2. the reply to the committing statement is lost (loopback proxy forwards it, then cuts);
3. a process holding the row lock is SIGKILLed;
4. a process holding the row lock is frozen with SIGSTOP (the guard's timeouts configured);
5. the row holds a status the lifecycle does not know, written behind the guard's back.

Each fault is injected under the Guard on SQLStore and under the AsyncGuard on
AsyncSQLStore (psycopg async, aiomysql, aiosqlite: the ``mode`` fixture). Each test records
what was injected, what the caller saw and what the database holds after (printed, and
shown in the terminal summary). The invariant checked everywhere:
the caller's report matches the database (a ``committed`` flag is never a guess), the
row and its audit history agree (nothing partial), and nothing illegal is committed.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from statusguard import AsyncGuard, Committed, Guard, IllegalTransition, Lifecycle, StatusGuardError
from statusguard.errors import StoreUnavailable, UnknownStatus
from statusguard.lifecycle._loading import _module_from_path
from statusguard.sql.dialects.mysql import MySQL
from statusguard.testing import EventLoopThread, blocking
from tests.integration._proxy import LoopbackProxy
from tests.integration._reliab_db import plain_url, raw_engine, server_url, unique_table
from tests.integration.conftest import async_url

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]
GLANCE: Lifecycle[Any, Any] = _module_from_path(
    ROOT / "model" / "glance_image.py", "glance_image.py"
).GLANCE_IMAGE
CONFIG = {"delayed_delete": False}
HOLDER = Path(__file__).with_name("_lock_holder.py")


def sqlstore_class() -> Any:
    """SQLStore, imported directly: a broken import must fail these tests, not skip them."""
    from statusguard import SQLStore

    return SQLStore


@dataclass
class Db:
    """One status table (plus audit table) on one engine, with a direct reader."""

    engine: str
    url: Any
    table: str
    audit: str

    def store(self, url: Any = None, *, batches: bool = True, **kwargs: Any) -> Any:
        """A SQLStore on this table (through ``url``, e.g. a proxy, when given).

        ``batches=False``: on an Engine given without multi-statement batches (MariaDB's
        write with audit is then START TRANSACTION, UPDATE, INSERT, COMMIT).
        """
        cls = sqlstore_class()
        target: Any = (url or self.url).render_as_string(hide_password=False)
        if not batches:
            from sqlalchemy import create_engine

            target = create_engine(target, isolation_level="AUTOCOMMIT")
        return cls(target, self.table, version="version", token="token", audit=self.audit, **kwargs)

    def holds(self, key: str) -> dict[str, Any]:
        """What the database holds for ``key``: the row and its audit history."""
        from sqlalchemy import text

        eng = raw_engine(self.url)
        try:
            with eng.connect() as c:
                row = c.execute(
                    text(f"SELECT status, version, token FROM {self.table} WHERE id = :k"),
                    {"k": key},
                ).first()
                audit = c.execute(
                    text(
                        f"SELECT source, target, version, token FROM {self.audit} "
                        "WHERE resource_key = :k ORDER BY id"
                    ),
                    {"k": key},
                ).all()
        finally:
            eng.dispose()
        return {
            "row": None if row is None else tuple(row),
            "audit": [tuple(a) for a in audit],
        }

    def write_behind(self, key: str, status: str) -> None:
        from sqlalchemy import text

        eng = raw_engine(self.url)
        try:
            with eng.begin() as c:
                c.execute(
                    text(f"UPDATE {self.table} SET status = :s WHERE id = :k"),
                    {"s": status, "k": key},
                )
        finally:
            eng.dispose()


@pytest.fixture
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Db]:
    engine = request.param
    if engine == "sqlite":
        url: Any = f"sqlite:///{tmp_path / 'faults.db'}"
        from sqlalchemy.engine import make_url

        url = make_url(url)
    else:
        url = plain_url(server_url(engine))
    d = Db(engine, url, unique_table("sg_fault"), unique_table("sg_fault_audit"))
    admin = d.store()
    admin.create_schema()
    try:
        yield d
    finally:
        admin.drop_schema()
        admin.dispose()


def record(request: pytest.FixtureRequest, fault: str, db: Db, injected: str, saw: str) -> str:
    mode = getattr(request.node, "callspec", None)
    guard = " (AsyncGuard)" if mode is not None and mode.params.get("mode") == "async" else ""
    line = (
        f"fault [{fault}] {db.engine}{guard}: injected: {injected} | caller saw: {saw} | "
        f"database holds: {db.holds('img')}"
    )
    line = " ".join(line.split())  # driver messages may span lines
    print(line)
    request.node.user_properties.append(("reliability", line))
    return line


def _saw(outcome: Committed | BaseException) -> str:
    if isinstance(outcome, Committed):
        return f"Committed({outcome.source} -> {outcome.target}, version {outcome.version})"
    return f"{type(outcome).__name__}: {outcome}"


def _call(fn: Any, *args: Any, **kwargs: Any) -> Committed | StatusGuardError:
    try:
        result = fn(*args, **kwargs)
    except StatusGuardError as exc:
        return exc
    assert isinstance(result, Committed)
    return result


def _assert_report_matches_db(
    outcome: Committed | StatusGuardError, held: dict[str, Any], token: str | None
) -> bool:
    """The caller's report agrees with the database; returns whether it committed."""
    row, audit = held["row"], held["audit"]
    # Nothing partial: the row's version counts exactly the audited transitions.
    assert row[1] == len(audit), held
    if isinstance(outcome, Committed):
        assert row[2] == outcome.token
        assert audit[-1][3] == outcome.token
        return True
    assert isinstance(outcome, StoreUnavailable), outcome
    assert outcome.committed is not None, (
        f"the guard guessed nothing but also settled nothing: {outcome}"
    )
    stored = any(a[3] == token for a in audit) if token else bool(audit)
    assert outcome.committed == stored, (outcome, held)
    return bool(outcome.committed)


# -- 1 and 2: connections cut through the loopback proxy -------------------------------


@pytest.fixture
def proxy(db: Db) -> Iterator[LoopbackProxy]:
    with LoopbackProxy(db.url.host or "127.0.0.1", db.url.port) as p:
        yield p


class TokenSpy:
    """Wraps a store and remembers the token of every write the guard attempts."""

    def __init__(self, store: Any) -> None:
        self.inner = store
        self.tokens: list[str | None] = []

    def create(self, key: Any, status: str, token: str | None = None) -> Any:
        return self.inner.create(key, status, token)

    def get(self, key: Any) -> Any:
        return self.inner.get(key)

    def apply(self, key: Any, moves: Any, token: str | None = None, *rest: Any) -> Any:
        self.tokens.append(token)
        return self.inner.apply(key, moves, token, *rest)

    def compare_and_set(
        self,
        key: Any,
        expected: str,
        target: str,
        expected_version: int | None = None,
        token: str | None = None,
    ) -> Any:
        self.tokens.append(token)
        return self.inner.compare_and_set(key, expected, target, expected_version, token)

    def dispose(self) -> None:
        self.inner.dispose()

    @property
    def versioned(self) -> bool:
        return bool(self.inner.versioned)

    def history(self, key: Any) -> Any:
        return self.inner.history(key)


class AsyncTokenSpy:
    """:class:`TokenSpy` for an async store."""

    def __init__(self, store: Any) -> None:
        self.inner = store
        self.tokens: list[str | None] = []

    async def create(self, key: Any, status: str, token: str | None = None) -> Any:
        return await self.inner.create(key, status, token)

    async def get(self, key: Any) -> Any:
        return await self.inner.get(key)

    async def apply(self, key: Any, moves: Any, token: str | None = None, *rest: Any) -> Any:
        self.tokens.append(token)
        return await self.inner.apply(key, moves, token, *rest)

    async def compare_and_set(
        self,
        key: Any,
        expected: str,
        target: str,
        expected_version: int | None = None,
        token: str | None = None,
    ) -> Any:
        self.tokens.append(token)
        return await self.inner.compare_and_set(key, expected, target, expected_version, token)

    async def dispose(self) -> None:
        await self.inner.dispose()

    @property
    def versioned(self) -> bool:
        return bool(self.inner.versioned)

    async def history(self, key: Any) -> Any:
        return await self.inner.history(key)


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    """``sync``: Guard on SQLStore; ``async``: AsyncGuard on AsyncSQLStore."""
    return str(request.param)


@dataclass
class Guarded:
    """A guard on ``db`` whose store remembers the tokens of the writes it attempts.

    ``guard`` is a Guard, or an AsyncGuard behind :func:`statusguard.testing.blocking`
    (its calls block; the faults hit it the same way).
    """

    guard: Any
    spy: Any
    loop: EventLoopThread | None

    @property
    def tokens(self) -> list[str | None]:
        return self.spy.tokens  # type: ignore[no-any-return]

    def dispose(self) -> None:
        if self.loop is None:
            self.spy.dispose()
            return
        try:
            self.loop.run(self.spy.dispose())
        finally:
            self.loop.close()


class _Unbatched(MySQL):
    """MariaDB without batches, for one async store (aiomysql connects with
    CLIENT_MULTI_STATEMENTS whatever it is given: aiomysql/connection.py)."""

    def batch_ready(self, info: Any, session: Any) -> bool:
        return False


def guarded(
    db: Db,
    mode: str,
    url: Any = None,
    *,
    tokens: bool = True,
    batches: bool = True,
    **kwargs: Any,
) -> Guarded:
    """A Guard (``mode`` ``sync``) or an AsyncGuard (``async``) on ``db``'s table, through
    ``url`` (a proxy) when given; ``kwargs`` are the store's options; ``batches=False``:
    without MariaDB's multi-statement batches (the sync store on a given Engine without
    the flag; aiomysql always asks for it, so the async store's batches are switched off
    on that one store, :class:`_Unbatched`)."""
    if mode == "sync":
        spy: Any = TokenSpy(db.store(url, batches=batches, **kwargs))
        return Guarded(Guard(GLANCE, spy, CONFIG, tokens=tokens), spy, None)
    from statusguard.sql import AsyncSQLStore

    target = async_url((url or db.url).render_as_string(hide_password=False))
    store = AsyncSQLStore(
        target, db.table, version="version", token="token", audit=db.audit, **kwargs
    )
    if not batches:
        store.sync._sql.dialect = _Unbatched()
    spy = AsyncTokenSpy(store)
    loop = EventLoopThread()
    return Guarded(blocking(AsyncGuard(GLANCE, spy, CONFIG, tokens=tokens), loop), spy, loop)


def _through(db: Db, mode: str, proxy: LoopbackProxy, **kwargs: Any) -> Guarded:
    """A guard reaching ``db`` through ``proxy``, its image ``img`` created (so connected)."""
    g = guarded(db, mode, plain_url(db.url.render_as_string(False), port=proxy.port), **kwargs)
    g.guard.create("img")
    return g


def _cut(
    proxy: LoopbackProxy, when: str, marker: bytes, fn: Any, *args: Any
) -> Committed | StatusGuardError:
    """``fn(*args)`` with the socket cut ``"before"`` or ``"after"`` the statement
    ``marker`` starts; what it returned or raised, once the cut happened."""
    (proxy.cut_after if when == "after" else proxy.cut_before)(marker)
    outcome = _call(fn, *args)
    assert proxy.wait_cut(5)
    return outcome


@pytest.mark.parametrize("db", ["postgresql", "mysql"], indirect=True)
def test_drop_between_read_and_write(
    request: pytest.FixtureRequest, mode: str, db: Db, proxy: LoopbackProxy
) -> None:
    """Fault 1a: ``move`` reads the status, then its UPDATE never reaches the server."""
    g = _through(db, mode, proxy)
    guard, tokens = g.guard, g.tokens
    outcome = _cut(proxy, "before", b"UPDATE", guard.move, "img", "saving")
    record(
        request,
        "1a drop between read and write",
        db,
        "move('img', 'saving') read 'queued', then the UPDATE was dropped and the socket closed",
        _saw(outcome),
    )
    assert isinstance(outcome, StoreUnavailable)
    assert outcome.committed is False
    held = db.holds("img")
    assert held["row"][:2] == ("queued", 0)
    assert held["audit"] == []
    assert _assert_report_matches_db(outcome, held, tokens[-1]) is False
    # The store recovers: the next call reconnects and the CAS decides afresh.
    done = guard.move("img", "saving")
    assert (done.source, done.target, done.version) == ("queued", "saving", 1)
    g.dispose()


@pytest.mark.parametrize(
    ("db", "batches"),
    [("postgresql", True), ("mysql", True), ("mysql", False)],
    ids=["postgresql", "mysql-batch", "mysql-no-batch"],
    indirect=["db"],
)
def test_drop_mid_transaction(
    request: pytest.FixtureRequest, mode: str, db: Db, proxy: LoopbackProxy, batches: bool
) -> None:
    """Fault 1b: the socket is cut right after the UPDATE reaches the server.

    MariaDB with an audit table and without batches runs START TRANSACTION, UPDATE,
    INSERT, COMMIT: the cut leaves the transaction open and the server rolls it back, so
    nothing may be committed. PostgreSQL writes row and audit in one autocommit
    statement, MariaDB with batches sends the whole transaction in one packet: the server
    may or may not have committed it; the guard must find out which, not guess.
    """
    g = _through(db, mode, proxy, batches=batches)
    guard, tokens = g.guard, g.tokens
    outcome = _cut(proxy, "after", b"UPDATE", guard.fire, "img", "upload_started")
    record(
        request,
        "1b drop mid-transaction",
        db,
        "fire('img', 'upload_started'): socket cut right after the UPDATE was forwarded",
        _saw(outcome),
    )
    committed = _assert_report_matches_db(outcome, db.holds("img"), tokens[-1])
    if db.engine == "mysql" and not batches:
        assert committed is False
    g.dispose()


@pytest.mark.parametrize("db", ["postgresql", "mysql"], indirect=True)
def test_drop_while_the_write_waits_in_its_transaction(
    request: pytest.FixtureRequest, mode: str, db: Db, proxy: LoopbackProxy
) -> None:
    """Fault 1c: the connection drops while the server is inside the write's transaction.

    On PostgreSQL the write is one autocommit statement, so 1b cannot catch it between
    statements: here another session holds the row lock, the UPDATE reaches the server
    and waits for it (its transaction open, nothing committed), and the socket is cut.
    The guard must end the orphaned session before it settles: otherwise the statement
    would commit as soon as the lock is released, after the caller was told it did not.
    """
    from sqlalchemy import text

    g = _through(db, mode, proxy)
    guard, tokens = g.guard, g.tokens
    holder = raw_engine(db.url)
    conn = holder.connect()
    tx = conn.begin()
    conn.execute(text(f"SELECT status FROM {db.table} WHERE id = 'img' FOR UPDATE")).all()
    result: list[Committed | StatusGuardError] = []
    try:
        proxy.cut_after(b"UPDATE")
        worker = threading.Thread(
            target=lambda: result.append(_call(guard.fire, "img", "upload_started"))
        )
        worker.start()
        assert proxy.wait_cut(5)
        worker.join(30)
        assert not worker.is_alive(), "the guard hung settling a write that waits on a lock"
    finally:
        tx.commit()  # release the row lock: an orphaned UPDATE would go through now
        conn.close()
        holder.dispose()
    time.sleep(0.5)
    (outcome,) = result
    held = db.holds("img")
    record(
        request,
        "1c drop while the write waits in its transaction",
        db,
        "another session held the row lock; fire('img', 'upload_started') sent its UPDATE, "
        "which waited for the lock, and the socket was cut; then the lock was released",
        _saw(outcome),
    )
    assert isinstance(outcome, StoreUnavailable)
    assert outcome.committed is False
    assert held["row"][:2] == ("queued", 0)
    assert held["audit"] == []
    assert _assert_report_matches_db(outcome, held, tokens[-1]) is False
    done = guard.fire("img", "upload_started")
    assert (done.source, done.target, done.version) == ("queued", "saving", 1)
    g.dispose()


@pytest.mark.parametrize(
    ("db", "batches"),
    [("postgresql", True), ("mysql", True), ("mysql", False)],
    ids=["postgresql", "mysql-batch", "mysql-no-batch"],
    indirect=["db"],
)
def test_lost_commit_reply(
    request: pytest.FixtureRequest, mode: str, db: Db, proxy: LoopbackProxy, batches: bool
) -> None:
    """Fault 2: the committing statement reaches the server; its reply never comes back.

    On MariaDB that is the COMMIT (with batches: the one packet ending in it); on
    PostgreSQL the autocommit UPDATE is the commit.
    The guard settles the outcome from the attempt's token (after ending the old session),
    so ``StoreUnavailable.committed`` is True or False, never ``None``, and it is right.
    Without tokens the outcome is honestly unknown (``committed=None``).
    """
    # A MySQL COM_QUERY packet carrying exactly COMMIT (not SET AUTOCOMMIT), or the batch
    # ending with it; PostgreSQL's store writes in one autocommit statement, its commit.
    commit, what = b"UPDATE", "UPDATE"
    if db.engine == "mysql":
        commit, what = (b"; COMMIT", "the batch") if batches else (b"\x03COMMIT", "COMMIT")
    url = plain_url(db.url.render_as_string(False), port=proxy.port)
    g = _through(db, mode, proxy, batches=batches)
    guard, tokens = g.guard, g.tokens
    outcomes = []
    for event in ("upload_started", "upload_succeeded", "deactivate"):
        outcome = _cut(proxy, "after", commit, guard.fire, "img", event)
        committed = _assert_report_matches_db(outcome, db.holds("img"), tokens[-1])
        outcomes.append(f"{event}: {'committed' if committed else 'not committed'}")
        if not committed:  # the guard said "not committed": retrying is safe
            guard.fire("img", event)
    record(
        request,
        "2 lost COMMIT reply (tokens=True)",
        db,
        f"three fires, each with the socket cut right after forwarding {what}",
        "; ".join(outcomes) + f"; last: {_saw(outcome)}",
    )
    assert guard.status("img") == "deactivated"
    g.dispose()

    blinded = guarded(db, mode, url, tokens=False, batches=batches)
    blind = blinded.guard
    assert blind.status("img") == "deactivated"  # connect before arming the cut
    unknown = _cut(proxy, "after", commit, blind.fire, "img", "reactivate")
    record(
        request,
        "2 lost COMMIT reply (tokens=False)",
        db,
        f"fire('img', 'reactivate') without tokens, cut after {what}",
        _saw(unknown),
    )
    assert isinstance(unknown, StoreUnavailable)
    assert unknown.committed is None  # without a token the guard does not guess
    blinded.dispose()


# -- 3 and 4: a lock holder killed or frozen -------------------------------------------


def _holder(db: Db, status: str, idle: float | None = None) -> subprocess.Popen[str]:
    url = db.url.render_as_string(hide_password=False)
    args = [sys.executable, str(HOLDER), url, db.table, "img", status]
    if idle is not None:
        args.append(str(idle))
    proc = subprocess.Popen(
        args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if line != "ready":
        proc.kill()
        raise AssertionError(
            f"lock holder failed: {line!r} {proc.stderr.read() if proc.stderr else ''}"
        )
    return proc


def _finish(proc: subprocess.Popen[str]) -> None:
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


def _in_thread(fn: Any, *args: Any) -> tuple[threading.Thread, list[Any]]:
    box: list[Any] = []

    def run() -> None:
        start = time.monotonic()
        box.append(_call(fn, *args))
        box.append(time.monotonic() - start)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, box


@pytest.mark.parametrize("db", ["postgresql", "mysql", "sqlite"], indirect=True)
def test_sigkill_lock_holder(request: pytest.FixtureRequest, mode: str, db: Db) -> None:
    """Fault 3: the process holding the row lock (an uncommitted write) is SIGKILLed."""
    g = guarded(db, mode, lock_timeout=20.0)
    guard = g.guard
    guard.create("img")
    holder = _holder(db, "uploading")
    thread, box = _in_thread(guard.fire, "img", "upload_started")
    time.sleep(0.5)
    assert thread.is_alive(), f"the guard did not wait for the lock: {box}"
    holder.send_signal(signal.SIGKILL)
    _finish(holder)
    thread.join(30)
    assert not thread.is_alive(), "the guard stayed blocked after the holder died"
    outcome, waited = box
    record(
        request,
        "3 SIGKILL lock holder",
        db,
        "another process held the row lock with an uncommitted 'uploading'; SIGKILL after 0.5 s",
        f"{_saw(outcome)} after {waited:.2f} s",
    )
    assert isinstance(outcome, Committed)
    assert (outcome.source, outcome.target) == ("queued", "saving")
    held = db.holds("img")
    assert held["row"][:2] == ("saving", 1)  # the killed write left nothing behind
    assert [a[:2] for a in held["audit"]] == [("queued", "saving")]
    g.dispose()


@pytest.mark.parametrize("db", ["postgresql", "mysql", "sqlite"], indirect=True)
def test_sigstop_lock_holder(request: pytest.FixtureRequest, mode: str, db: Db) -> None:
    """Fault 4: the lock holder is frozen; the guard's lock timeout keeps others live.

    The waiter gets ``StoreUnavailable(committed=False)`` after the lock timeout instead of
    hanging. On PostgreSQL and MariaDB the frozen session's idle-in-transaction timeout
    then ends it on the server, a retry commits, and the holder's late COMMIT fails.
    SQLite has no such server: the holder keeps its lock until it resumes, commits its
    legal write, and the retry gets the typed ``IllegalTransition``.
    """
    g = guarded(db, mode, lock_timeout=1.0, idle_timeout=2.0)
    guard = g.guard
    guard.create("img")
    holder = _holder(db, "uploading", idle=2.0)
    holder.send_signal(signal.SIGSTOP)
    holder_said = "(not resumed)"
    try:
        start = time.monotonic()
        first = _call(guard.fire, "img", "upload_started")
        first_s = time.monotonic() - start
        if db.engine != "sqlite":
            time.sleep(2.5)  # past the holder's idle-in-transaction timeout
            retry = _call(guard.fire, "img", "upload_started")
        holder.send_signal(signal.SIGCONT)
        assert holder.stdin is not None
        assert holder.stdout is not None
        holder.stdin.write("commit\n")
        holder.stdin.flush()
        holder_said = holder.stdout.readline().strip()
    finally:
        if holder.poll() is None:
            holder.send_signal(signal.SIGCONT)
        _finish(holder)
    if db.engine == "sqlite":
        retry = _call(guard.fire, "img", "upload_started")
    record(
        request,
        "4 SIGSTOP lock holder",
        db,
        "another process held the row lock with an uncommitted 'uploading' and was "
        "SIGSTOPped; guard lock_timeout=1 s, holder idle timeout=2 s",
        f"first: {_saw(first)} after {first_s:.2f} s; retry: {_saw(retry)}; "
        f"holder after SIGCONT: {holder_said}",
    )
    # Bounded: SQLite retries busy errors (each waits the lock timeout), the servers do not.
    assert isinstance(first, StoreUnavailable), first
    assert first.committed is False
    assert first_s < 30
    held = db.holds("img")
    if db.engine == "sqlite":
        assert holder_said == "committed"
        assert isinstance(retry, IllegalTransition)
        assert held["row"][0] == "uploading"
    else:
        assert isinstance(retry, Committed)
        assert holder_said.startswith("commit failed")
        assert held["row"][:2] == ("saving", 1)
        assert [a[:2] for a in held["audit"]] == [("queued", "saving")]
    g.dispose()


# -- 5: a status written behind the guard's back ---------------------------------------


@pytest.mark.parametrize("db", ["postgresql", "mysql", "sqlite"], indirect=True)
@pytest.mark.parametrize("alien", ["bogus", "QUEUED", "queued "])
def test_unknown_stored_status(
    request: pytest.FixtureRequest, mode: str, db: Db, alien: str
) -> None:
    """Fault 5: the row holds a status the lifecycle lacks: ``UnknownStatus``, nothing written.

    ``QUEUED`` and ``queued `` are traps for case-insensitive and PAD SPACE collations
    (MariaDB's default): they compare equal to ``queued`` unless the store compares bytes.
    """
    g = guarded(db, mode)
    guard = g.guard
    guard.create("img")
    db.write_behind("img", alien)
    seen = []
    for call in (
        lambda: guard.status("img"),
        lambda: guard.fire("img", "upload_started"),
        lambda: guard.fire("img", "delete", {"has_locations": False}),
        lambda: guard.move("img", "saving"),
        lambda: guard.move("img", "saving", "queued"),
    ):
        with pytest.raises(UnknownStatus) as err:
            call()
        seen.append(type(err.value).__name__)
    record(
        request,
        f"5 unknown stored status {alien!r}",
        db,
        f"raw UPDATE set status={alien!r}; then status, fire x2, move x2",
        ", ".join(seen) + f" ({err.value})",
    )
    held = db.holds("img")
    assert held["row"][:2] == (alien, 0)
    assert held["audit"] == []
    g.dispose()
