"""One soak worker process: fire conflicting Glance events at hot and cold keys until told time.

Usage: ``python _soak_worker.py CONFIG_JSON``. The config names the database URL, tables,
model file, keys, duration and seed. The worker prints ``ready``, waits for a line on
stdin (so all workers start together), runs, and writes its counts, every
acknowledged transition and every attempt that ended in ``StoreUnavailable`` (its token
and ``committed``) to ``out`` as JSON, for ``tests/integration/_history.py`` to judge.
``naive: true`` bypasses the guard (read, decide, unconditional UPDATE): the mutant the
history checker must catch.
"""

from __future__ import annotations

import json
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

#: Events that keep keys cycling (nothing reaches the terminal 'deleted').
SOAK_EVENTS = (
    "upload_started",
    "upload_succeeded",
    "upload_failed",
    "stage_started",
    "stage_failed",
    "web_download_import",
    "import_succeeded",
    "import_failed",
    "deactivate",
    "reactivate",
    "delete",
    "restore",
)
CONFIG = {"delayed_delete": True}
FACTS = {"has_locations": True}


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main(cfg: dict[str, Any]) -> None:
    from statusguard import Guard, IllegalTransition, TransitionConflict
    from statusguard.errors import StoreUnavailable
    from statusguard.lifecycle._loading import _module_from_path

    lc = _module_from_path(Path(cfg["model"]), cfg["model"]).GLANCE_IMAGE
    rng = random.Random(cfg["seed"])
    if cfg.get("naive"):
        store: Any = None
        naive = _Naive(cfg)
    else:
        from statusguard import SQLStore

        store = _Recording(
            SQLStore(
                cfg["url"],
                cfg["table"],
                version="version",
                token="token",
                audit=cfg["audit"],
                lock_timeout=5.0,
            )
        )
        guard: Any = Guard(lc, store, CONFIG, tokens=True)
    flags = {**CONFIG, **FACTS}
    counts = dict.fromkeys(
        ("attempts", "commits", "stale", "conflicts", "unavailable", "settled_commits"), 0
    )
    acks: list[list[Any]] = []
    unavailable: list[list[Any]] = []
    print("ready", flush=True)
    sys.stdin.readline()
    rss = [rss_kib()]
    start = time.monotonic()
    deadline = start + cfg["seconds"]
    marks = 0
    while time.monotonic() < deadline:
        hot = rng.random() < cfg["hot_share"]
        key = rng.choice(cfg["hot"] if hot else cfg["cold"])
        status = naive.status(key) if store is None else str(guard.status(key))
        events = [
            e
            for e in lc.allowed_events(status, flags)
            if e in SOAK_EVENTS and not lc.is_noop(status, e, flags)  # no-ops write nothing
        ]
        event = rng.choice(events)
        target = str(lc.next(status, event, flags))
        counts["attempts"] += 1
        if store is not None:
            store.last_token = None  # an attempt that fails before its write names no token
        try:
            if store is None:
                done = naive.write(key, status, event, target)
            elif rng.random() < 0.3:
                done = guard.move(key, target, status, facts=FACTS)
            else:
                done = guard.fire(key, event, FACTS)
            if getattr(done, "noop", False):
                # another worker got there first and left the no-op's status (deactivated
                # for a deactivate): accepted, nothing written, nothing to acknowledge
                counts["stale"] += 1
            else:
                acks.append([key, done.source, done.target, done.version, done.token])
                counts["commits"] += 1
        except IllegalTransition:
            counts["stale"] += 1  # enabled where we read it; another worker moved it first
        except TransitionConflict:
            counts["conflicts"] += 1
        except StoreUnavailable as exc:
            counts["unavailable"] += 1
            unavailable.append([key, store.last_token, exc.committed, str(exc)[:300]])
            if exc.committed:
                # The guard settled the lost reply from its token: an acknowledgement like
                # any other, checked against the audit by that token (source and version
                # never reached us).
                counts["settled_commits"] += 1
                acks.append([key, None, None, None, store.last_token])
        if time.monotonic() - start > (marks + 1) * cfg["seconds"] / 4:
            marks += 1
            rss.append(rss_kib())
    elapsed = time.monotonic() - start
    rss.append(rss_kib())
    out = {
        "counts": counts,
        "acks": acks,
        "unavailable": unavailable,
        "elapsed": elapsed,
        "rss_kib": rss,
    }
    Path(cfg["out"]).write_text(json.dumps(out))
    if store is not None:
        store.dispose()


class _Recording:
    """A store that remembers the token of the last write the guard asked for."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.last_token: str | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def apply(self, key: Any, moves: Any, token: Any, *args: Any, **kwargs: Any) -> Any:
        self.last_token = token
        return self.inner.apply(key, moves, token, *args, **kwargs)

    def compare_and_set(self, *args: Any, **kwargs: Any) -> Any:
        self.last_token = kwargs.get("token", args[4] if len(args) > 4 else None)
        return self.inner.compare_and_set(*args, **kwargs)


class _Naive:
    """Read, decide, then write without comparing: the lost-update bug the guard prevents."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        from sqlalchemy import create_engine

        self.engine = create_engine(cfg["url"])
        self.t = cfg["table"]
        self.a = cfg["audit"]

    def status(self, key: str) -> str:
        from sqlalchemy import text

        with self.engine.connect() as c:
            return str(
                c.execute(text(f"SELECT status FROM {self.t} WHERE id = :k"), {"k": key}).scalar()
            )

    def write(self, key: str, source: str, event: str, target: str) -> Any:
        from sqlalchemy import text

        token = uuid.uuid4().hex
        with self.engine.begin() as c:
            c.execute(
                text(
                    f"UPDATE {self.t} SET status = :s, version = version + 1, token = :tok "
                    "WHERE id = :k"
                ),
                {"s": target, "k": key, "tok": token},
            )
            version = c.execute(
                text(f"SELECT version FROM {self.t} WHERE id = :k"), {"k": key}
            ).scalar()
            c.execute(
                text(
                    f"INSERT INTO {self.a} "
                    "(resource_key, source, event, target, version, token, at) "
                    "VALUES (:k, :s, :e, :t, :v, :tok, CURRENT_TIMESTAMP)"
                ),
                {"k": key, "s": source, "e": event, "t": target, "v": version, "tok": token},
            )

        class Done:
            pass

        done = Done()
        done.source, done.target, done.version, done.token = source, target, version, token  # type: ignore[attr-defined]
        return done


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
