"""What statusguard.integrations.glance costs on Glance's own ``image_update``.

Run from the repository root:  python benchmarks/bench_glance.py [--quick] [--engine URL]

Glance 33.0.0's ``glance.db.sqlalchemy.api.image_update`` (its write session, its
re-read) on in-memory SQLite (default: no fsync, so the figures are the CPU cost and the
extra statements, not the disk) or the given URL, Glance's tables from its models.
Two calls, each timed with Glance unmodified and with :func:`enable`, interleaved in
rounds, one run; per call the median seconds and the ratio enabled / unmodified:

* ``status``: ``image_update(id, {"status": s}, from_state=...)`` alternating
  ``active <-> deactivated`` (a status change: statusguard's conditional UPDATE);
* ``name``: ``image_update(id, {"name": ...})`` (no status: the wrapper passes through);
* ``save``: ``ImageRepo.save`` of a whole image whose status stays ``active`` (the
  PATCH path: conditional on the loaded status).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

warnings.simplefilter("ignore")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.integration.glance import glance_stack as gs  # noqa: E402


def rate(fn: Callable[[int], Any], n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return (time.perf_counter() - start) / n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--engine", default=None, help="a database URL (default: in-memory SQLite)")
    args = parser.parse_args()
    n, rounds = (20, 3) if args.quick else (100, 7)

    import glance.context
    import glance.db.sqlalchemy.api as db_api

    from statusguard.integrations import glance as integration

    tmp = Path(tempfile.mkdtemp(prefix="sg-bench-glance-"))
    url = args.engine or "sqlite://"
    engine = gs.configure(url, tmp / "images")
    stack = gs.Stack(engine, tmp / "images")
    ctx = glance.context.RequestContext(is_admin=True, project_id="p1", user_id="u1")
    image_id = stack.new_image()
    stack.upload(image_id)

    pair = ("deactivated", "active")

    def status(i: int) -> None:
        db_api.image_update(ctx, image_id, {"status": pair[i % 2]}, from_state=pair[(i + 1) % 2])

    def name(i: int) -> None:
        db_api.image_update(ctx, image_id, {"name": f"n{i}"})

    repo = stack.repo()

    def save(i: int) -> None:
        image = repo.get(image_id)
        image.name = f"s{i}"
        repo.save(image)

    calls = {"status": status, "name": name, "save": save}
    times: dict[tuple[str, bool], list[float]] = {(c, on): [] for c in calls for on in (0, 1)}
    try:
        for _ in range(rounds):
            for on in (False, True):
                (integration.enable if on else integration.disable)()
                for call, fn in calls.items():
                    if call == "status" and n % 2:
                        raise SystemExit("n must be even: the status pair must end active")
                    times[(call, on)].append(rate(fn, n))
    finally:
        integration.disable()
        gs.teardown(engine)
    print(f"Glance 33.0.0 image_update on {engine.dialect.name}, {rounds} rounds x {n} calls")
    print(f"{'call':8} {'unmodified':>12} {'statusguard':>12} {'ratio':>7}")
    for call in calls:
        off = statistics.median(times[(call, False)])
        on_ = statistics.median(times[(call, True)])
        print(f"{call:8} {off * 1e3:10.3f}ms {on_ * 1e3:10.3f}ms {on_ / off:7.2f}")


if __name__ == "__main__":
    main()
