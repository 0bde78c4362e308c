"""What causal reads cost on a 3-node Galera cluster (medians and ratios, paired blocks).

    .ci/cluster/galera.sh start && eval "$(.ci/cluster/galera.sh env)"
    python benchmarks/bench_galera.py [--quick]

For ``causal_reads=True`` (``wsrep_sync_wait = 3``) and ``False`` it measures, in
alternating blocks so that a busy machine hits both alike:

- ``store.get`` on node 3, the cluster idle;
- ``store.get`` on node 3 while a thread fires on another key through node 1 in a loop;
- ``fire`` on node 3, acknowledged, of a key that node 1 wrote just before;

and prints each median in milliseconds with the ratio causal / not causal. The race
throughput over the nodes comes from ``tests/integration/test_galera.py``.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import statusguard as sg

ROOT = Path(__file__).resolve().parents[1]
CONFIG = {"delayed_delete": True}


def main(quick: bool) -> None:
    raw = os.environ.get("STATUSGUARD_TEST_GALERA_URLS")
    if not raw:
        sys.exit('STATUSGUARD_TEST_GALERA_URLS is not set: eval "$(.ci/cluster/galera.sh env)"')
    urls = raw.split(",")
    lc = sg.load(str(ROOT / "model" / "glance_image.py"))
    table, audit = "sg_bench_galera", "sg_bench_galera_a"
    setup = sg.SQLStore(urls[0], table, version="version", token="token", audit=audit)
    setup.create_schema()
    n, blocks = (100, 3) if quick else (300, 6)
    results: dict[str, dict[bool, list[float]]] = {}
    try:
        writer = sg.Guard(lc, setup, CONFIG, tokens=True)
        for key in ("read", "hot", "pair"):
            writer.create(key)
        for key in ("hot", "pair"):
            writer.fire(key, "upload_started")
            writer.fire(key, "upload_succeeded")
        stores = {
            c: sg.SQLStore(
                urls[2], table, version="version", token="token", audit=audit, causal_reads=c
            )
            for c in (True, False)
        }
        guards = {c: sg.Guard(lc, s, CONFIG, tokens=True) for c, s in stores.items()}
        for s in stores.values():
            s.get("read")  # a pooled, prepared session

        def reads(causal: bool) -> list[float]:
            out = []
            for _ in range(n):
                t = time.perf_counter()
                stores[causal].get("read")
                out.append(time.perf_counter() - t)
            return out

        def pairs(causal: bool) -> list[float]:
            out = []
            for _ in range(n // 2):
                writer.fire("pair", "deactivate")
                t = time.perf_counter()
                try:
                    guards[causal].fire("pair", "reactivate")
                except sg.IllegalTransition:
                    writer.fire("pair", "reactivate")  # node 3 had not seen node 1's write
                out.append(time.perf_counter() - t)
            return out

        stop = threading.Event()

        def load() -> None:
            while not stop.is_set():
                writer.fire("hot", "deactivate")
                writer.fire("hot", "reactivate")

        for name, fn, loaded in (
            ("get on node 3, idle", reads, False),
            ("get on node 3, node 1 writing", reads, True),
            ("fire on node 3 after a write on node 1", pairs, False),
        ):
            stop.clear()
            loader = threading.Thread(target=load, daemon=True) if loaded else None
            if loader is not None:
                loader.start()
            for _ in range(blocks):
                for causal in (True, False):
                    results.setdefault(name, {}).setdefault(causal, []).extend(fn(causal))
            stop.set()
            if loader is not None:
                loader.join()
        for s in stores.values():
            s.dispose()
    finally:
        setup.drop_schema()
        setup.dispose()
    report: dict[str, Any] = {}
    for name, by in results.items():
        on, off = statistics.median(by[True]) * 1000, statistics.median(by[False]) * 1000
        report[name] = {
            "causal_ms": round(on, 3),
            "not_causal_ms": round(off, 3),
            "ratio": round(on / off, 2),
        }
        print(f"{name:42s} causal {on:7.3f} ms   not causal {off:7.3f} ms   ratio {on / off:4.2f}")
    print(json.dumps(report))


if __name__ == "__main__":
    main("--quick" in sys.argv)
