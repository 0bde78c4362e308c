"""Races spread over the nodes of a cluster: one worker process, and the checker of what it left.

Usage: ``python _galera_race.py CONFIG_JSON``. The config names the worker's node URL, the
tables, the model file, the keys, the number of attempts, the seed and ``mode``:

- ``fire``: read the status (``guard.status``), pick an event enabled there, ``fire`` it;
  a third of the attempts are ``move(target, expected, expected_version)`` instead;
- ``naive``: read, decide, then an unconditional ``UPDATE`` (the unguarded control).

The worker prints ``ready``, waits for a line on stdin (so all workers start together),
runs, and writes its counts, every acknowledged transition and the token of every attempt
that ended in ``StoreUnavailable`` (with its ``committed``) to ``out`` as JSON, which
``tests/integration/_history.py`` judges against what each node holds.
"""

from __future__ import annotations

import json
import random
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.integration._history import FLAGS  # noqa: E402
from tests.integration._soak_worker import CONFIG, FACTS, SOAK_EVENTS, _Naive, _Recording  # noqa: E402


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


def unique_token() -> str:
    return uuid.uuid4().hex


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
