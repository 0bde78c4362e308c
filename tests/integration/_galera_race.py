"""Races spread over the nodes of a cluster: one worker process, and the checker of what it left.

Usage: ``python _galera_race.py CONFIG_JSON``. The config names the worker's node URL, the
tables, the model file, the keys, the number of attempts, the seed and ``mode``:

- ``fire``: read the status (``guard.status``), pick an event enabled there, ``fire`` it;
  a third of the attempts are ``move(target, expected, expected_version)`` instead;
- ``naive``: read, decide, then an unconditional ``UPDATE`` (the unguarded control).

The worker prints ``ready``, waits for a line on stdin (so all workers start together),
runs, and writes its counts, every acknowledged transition and the token of every attempt
that ended in ``StoreUnavailable`` (with its ``committed``) to ``out`` as JSON.
:func:`node_state` reads what one node holds; :func:`check` judges the histories.
"""

from __future__ import annotations

import json
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.integration._soak_worker import CONFIG, FACTS, SOAK_EVENTS, _Naive, _Recording  # noqa: E402

FLAGS = {**CONFIG, **FACTS}


def glance() -> Any:
    from statusguard.lifecycle._loading import _module_from_path

    path = ROOT / "model" / "glance_image.py"
    return _module_from_path(path, str(path)).GLANCE_IMAGE


def main(cfg: dict[str, Any]) -> None:
    from statusguard import Guard, IllegalTransition, SQLStore, TransitionConflict
    from statusguard.errors import StoreUnavailable

    lc = glance()
    rng = random.Random(cfg["seed"])
    naive = _Naive(cfg) if cfg["mode"] == "naive" else None
    store: Any = None
    guard: Any = None
    if naive is None:
        store = _Recording(
            SQLStore(
                cfg["url"],
                cfg["table"],
                version="version",
                token="token",
                audit=cfg["audit"],
                lock_timeout=cfg.get("lock_timeout", 5.0),
                causal_reads=cfg.get("causal_reads", True),
            )
        )
        guard = Guard(lc, store, CONFIG, tokens=True)
    counts: Counter[str] = Counter()
    acks: list[list[Any]] = []
    unavailable: list[list[Any]] = []
    print("ready", flush=True)
    sys.stdin.readline()
    start = time.monotonic()
    for _ in range(cfg["attempts"]):
        key = rng.choice(cfg["keys"])
        counts["attempts"] += 1
        if store is not None:
            store.last_token = None  # a failed read before the write names no token
        try:
            if naive is None:
                record = store.get(key)
                status = str(lc.state(record.status))
            else:
                status = naive.status(key)
            events = [e for e in lc.allowed_events(status, FLAGS) if e in SOAK_EVENTS]
            event = rng.choice(events)
            target = str(lc.next(status, event, FLAGS))
            if naive is not None:
                done = naive.write(key, status, event, target)
            elif rng.random() < 1 / 3:
                done = guard.move(key, target, status, expected_version=record.version, facts=FACTS)
            else:
                done = guard.fire(key, event, FACTS)
            if getattr(done, "noop", False):
                # another worker got there first and left the no-op's status (deactivated
                # for a deactivate): accepted, nothing written, nothing to acknowledge
                counts["stale"] += 1
                continue
            acks.append([key, done.source, done.target, done.version, done.token])
            counts["commits"] += 1
        except IllegalTransition:
            counts["stale"] += 1  # enabled where we read it; another worker moved it first
        except TransitionConflict:
            counts["conflicts"] += 1
        except StoreUnavailable as exc:
            counts[f"unavailable_{exc.committed}"] += 1
            unavailable.append([key, store.last_token, exc.committed, str(exc)[:300]])
        except Exception as exc:  # the naive writer's raw driver errors
            if naive is None:
                raise
            code = getattr(getattr(exc, "orig", None), "args", [None])[0]
            counts[f"raw_{code}"] += 1
    elapsed = time.monotonic() - start
    out = {"counts": dict(counts), "acks": acks, "unavailable": unavailable, "elapsed": elapsed}
    Path(cfg["out"]).write_text(json.dumps(out))
    if store is not None:
        store.dispose()


# -- what the nodes hold, and the verdict -----------------------------------------------


def node_state(url: str, table: str, audit: str, keys: Iterable[str]) -> dict[str, Any]:
    """Every key's row and audit rows on one node, read causally (``wsrep_sync_wait = 3``)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as c:
            if c.dialect.name in ("mysql", "mariadb"):
                wsrep = c.execute(text("SELECT @@GLOBAL.wsrep_on")).scalar()
                if wsrep:
                    c.execute(text("SET SESSION wsrep_sync_wait = 3"))
            rows = {
                str(k): tuple(r)
                for k, *r in c.execute(text(f"SELECT id, status, version, token FROM {table}"))
            }
            history: dict[str, list[tuple[Any, ...]]] = {str(k): [] for k in keys}
            for r in c.execute(
                text(
                    f"SELECT resource_key, source, event, target, version, token FROM {audit} "
                    "ORDER BY version, id"
                )
            ):
                history.setdefault(str(r[0]), []).append(tuple(r[1:]))
        return {"rows": rows, "history": history}
    finally:
        engine.dispose()


@dataclass
class Verdict:
    """What the histories show: illegal steps, chain breaks, acknowledged steps missing."""

    steps: int = 0
    illegal: list[str] = field(default_factory=list)
    chain_breaks: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)  # acknowledged, not in the history
    phantom: list[str] = field(default_factory=list)  # in the history, never acknowledged
    false_not_committed: list[str] = field(default_factory=list)
    false_committed: list[str] = field(default_factory=list)
    mismatched_rows: list[str] = field(default_factory=list)

    def clean(self) -> bool:
        return not (
            self.illegal
            or self.chain_breaks
            or self.lost
            or self.phantom
            or self.false_not_committed
            or self.false_committed
            or self.mismatched_rows
        )

    def summary(self) -> str:
        return (
            f"steps={self.steps} illegal={len(self.illegal)} chain_breaks={len(self.chain_breaks)} "
            f"lost={len(self.lost)} phantom={len(self.phantom)} "
            f"false_committed_False={len(self.false_not_committed)} "
            f"false_committed_True={len(self.false_committed)} "
            f"row_mismatch={len(self.mismatched_rows)}"
        )


def check(
    lc: Any,
    state: Mapping[str, Any],
    acks: Iterable[list[Any]],
    unavailable: Iterable[list[Any]] = (),
    initial: str = "queued",
) -> Verdict:
    """Judge one node's ``state`` (:func:`node_state`) against what the callers were told.

    Per key, sorted by version: each source is the previous target (else a chain break: a
    step decided on a status that was overwritten, a lost update), each step legal (the
    event's transition, or for a ``move`` an allowed edge), versions 1..n, and the row
    holds the last target at version n. Every acknowledged token is in the history
    (else lost); every history token was acknowledged or is the token of an attempt whose
    outcome the caller was told is unknown (``committed=None``). An attempt reported
    ``committed=False`` must be absent, ``committed=True`` present.
    """
    v = Verdict()
    tokens: set[str] = set()
    for key, history in state["history"].items():
        status, version = initial, 0
        for source, event, target, ver, token in history:
            v.steps += 1
            tokens.add(token)
            if ver != version + 1:
                v.chain_breaks.append(f"{key} v{ver}: version after v{version}")
            if source != status:
                v.chain_breaks.append(f"{key} v{ver}: {source}->{target} recorded after {status}")
            if event is None:
                legal = lc.edge_allowed(status, target, FLAGS)
            else:
                legal = event in lc.allowed_events(status, FLAGS) and str(
                    lc.next(status, event, FLAGS)
                ) == str(target)
            if not legal:
                v.illegal.append(f"{key} v{ver}: {status} --{event}--> {target}")
            status, version = str(target), int(ver)
        row = state["rows"].get(key)
        if row is not None and (row[0], row[1]) != (status, version):
            v.mismatched_rows.append(f"{key}: row {row[:2]} != history ({status}, {version})")
    acked = {a[4] for a in acks}
    unknown = {u[1] for u in unavailable if u[2] is None}
    v.lost = sorted(acked - tokens)
    v.phantom = sorted(tokens - acked - unknown)
    v.false_not_committed = sorted(u[1] for u in unavailable if u[2] is False and u[1] in tokens)
    v.false_committed = sorted(u[1] for u in unavailable if u[2] is True and u[1] not in tokens)
    return v


def naive_damage(lc: Any, state: Mapping[str, Any]) -> tuple[int, int]:
    """(illegal steps, overwritten steps) in an unguarded run's history, by version order."""
    illegal = lost = 0
    for history in state["history"].values():
        status = "queued"
        for source, _event, target, _ver, _tok in history:
            if source != status:
                lost += 1  # decided on a status another writer had already replaced
            if not lc.edge_allowed(status, target, FLAGS):
                illegal += 1
            status = str(target)
    return illegal, lost


def unique_token() -> str:
    return uuid.uuid4().hex


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
