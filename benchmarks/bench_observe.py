"""What the ``statusguard`` logger costs ``Guard.fire`` on a MemoryStore (the hottest path).

Run from the repository root:  python benchmarks/bench_observe.py
Compares, per fire (an active <-> deactivated toggle): ``fire`` with the logger disabled
(the default: WARNING), with the logger's one check answered without a call (what the
guard costs with no logger at all, ``watching`` patched to ``int``, a C call returning 0),
with OpenTelemetry's API installed but no tracer provider set (when it is installed), and
at DEBUG into a handler that drops records. Medians of 15 runs.
"""

from __future__ import annotations

import functools
import logging
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import statusguard
from statusguard import Guard, MemoryStore

ROOT = Path(__file__).resolve().parents[1]
GLANCE = statusguard.load(str(ROOT / "model" / "glance_image.py"))
N, RUNS = 20_000, 15


def _guard() -> Guard[Any, Any]:
    guard = Guard(GLANCE, MemoryStore(), {"delayed_delete": False})
    guard.create("img")
    for event in ("upload_started", "upload_succeeded"):
        guard.fire("img", event)
    return guard


def _median(fire: Callable[..., Any], guard: Guard[Any, Any]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        for _ in range(N // 2):
            fire(guard, "img", "deactivate")
            fire(guard, "img", "reactivate")
        times.append((time.perf_counter() - start) / N)
    return statistics.median(times)


def main() -> None:
    log = logging.getLogger("statusguard")
    from statusguard.guard import _guard as module
    from statusguard.guard import _observe

    real = module.watching
    module.watching = int  # a C call answering 0: nobody watching, at the least cost
    bare = _median(Guard.fire, _guard())
    log.setLevel(logging.WARNING)
    module.watching = functools.partial(log.isEnabledFor, logging.INFO)  # as without the API
    no_api = _median(Guard.fire, _guard())
    module.watching = real
    off = _median(Guard.fire, _guard())
    log.setLevel(logging.DEBUG)
    log.addHandler(logging.NullHandler())
    log.propagate = False
    on = _median(Guard.fire, _guard())
    print(f"fire, no logger check   : {bare * 1e9:7.0f} ns")
    print(f"fire, logger off, no otel: {no_api * 1e9:6.0f} ns  ({no_api / bare:.2f}x)")
    api = "installed, no provider" if _observe._trace is not None else "not installed"
    print(f"fire, logger off, otel {api}: {off * 1e9:6.0f} ns  ({off / bare:.2f}x)")
    print(f"fire, logger at DEBUG   : {on * 1e9:7.0f} ns  ({on / bare:.2f}x)")


if __name__ == "__main__":
    main()
