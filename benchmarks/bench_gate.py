"""The gate at scale: ``statusguard check`` against a plain Python BFS of the same graph, and
the race proofs by model size.

Run: ``python benchmarks/bench_gate.py [--repeat 5] [--quick]``. Prints medians of
repeated runs and their ratios, measured side by side in one run:

* cold processes, on generated valid lifecycles of 100 / 1,000 / 10,000 states
  (``benchmarks/lifecycles.py``): ``statusguard check FILE`` (race obligations on, the
  default) against a fresh interpreter that reads the same file, ``json.loads`` it and
  walks its graph breadth-first (the floor), plus the shipped models
  (``check model/ --proofs proofs/``) and a dead end 3,000 steps deep in 10,000 states;
  ``statusguard race FILE`` (every race check, the model-dependent ones included) at 100
  and 1,000 states, and with ``--method per-model`` at 100;
  both CPU seconds (user + system of the child, what a shared machine disturbs least)
  and wall seconds;
* in one process: every obligation of the loaded lifecycle (``check_lifecycle``)
  against the plain BFS of its graph;
* the race proofs (``race_obligations``) at 10 / 100 / 1,000 states, cold (the
  lifecycle-parametric proof cache cleared before each run), against the 10-state run:
  flat means the cost does not depend on the model; the per-model induction
  (``--method per-model``) at 10 and 30 states for contrast.

:func:`rows` gives the same measurements to ``benchmarks/run.py``.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _installed import prime, run  # noqa: E402
from lifecycles import dead_end_document, lifecycle_document, write_document  # noqa: E402

Row = tuple[str, float, str | None]
"""(case, median seconds, the case it is compared with or ``None``)."""

BFS_SCRIPT = """
import json, sys
from collections import deque
doc = json.loads(open(sys.argv[1], encoding="utf-8").read())
adj = {}
for t in doc["transitions"]:
    src = t["source"] if isinstance(t["source"], list) else [t["source"]]
    for s in src:
        adj.setdefault(s, []).append(t["target"])
seen = {doc["initial"]}
todo = deque([doc["initial"]])
while todo:
    for n in adj.get(todo.popleft(), ()):
        if n not in seen:
            seen.add(n)
            todo.append(n)
print(len(seen))
"""


def plain_bfs(doc: dict[str, Any]) -> int:
    """The floor in one process: the graph of ``doc`` and a BFS from its initial state."""
    adj: dict[str, list[str]] = {}
    for t in doc["transitions"]:
        src = t["source"] if isinstance(t["source"], list) else [t["source"]]
        for s in src:
            adj.setdefault(s, []).append(t["target"])
    seen = {doc["initial"]}
    todo = deque([doc["initial"]])
    while todo:
        for n in adj.get(todo.popleft(), ()):
            if n not in seen:
                seen.add(n)
                todo.append(n)
    return len(seen)


def cold(cmd: list[str], repeat: int) -> tuple[float, float, int]:
    """Median CPU seconds (user + system of the child), median wall seconds, last exit code
    (each run from bytecode, as an installed package runs: ``_installed.py``)."""
    cpu, wall, rc = [], [], 0
    prime(cmd, ROOT)
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        rc = run(cmd, ROOT).returncode
        wall.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(cpu), statistics.median(wall), rc


def warm(fn: Callable[[], Any], repeat: int) -> float:
    """Median CPU seconds of ``fn()`` in this process."""
    times = []
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return statistics.median(times)


def measure(quick: bool = False, repeat: int = 5) -> list[dict[str, Any]]:
    """Every measurement, as records (case, cpu, wall, exit, versus)."""
    from statusguard import Lifecycle
    from statusguard.race import race_obligations
    from statusguard.race._parametric import PER_MODEL, clear_cache
    from statusguard.verify import check_lifecycle

    exe = str(Path(sys.executable).parent / "statusguard")
    sizes = (100, 1000) if quick else (100, 1000, 10_000)
    out: list[dict[str, Any]] = []

    def add(case: str, cpu: float, wall: float | None, versus: str | None, rc: int = 0) -> None:
        out.append({"case": case, "cpu": cpu, "wall": wall, "exit": rc, "versus": versus})

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for n in sizes:
            doc = lifecycle_document(n)
            path = write_document(doc, folder)
            floor = f"plain BFS, {n:,} states (cold)"
            cpu, wall, rc = cold([sys.executable, "-c", BFS_SCRIPT, str(path)], repeat)
            add(floor, cpu, wall, None, rc)
            cpu, wall, rc = cold([exe, "check", str(path)], repeat)
            add(f"statusguard check, {n:,} states (cold)", cpu, wall, floor, rc)
            if n <= 1000:  # every race check, not only the gated theorems
                cpu, wall, rc = cold([exe, "race", str(path)], repeat)
                add(f"statusguard race, {n:,} states (cold)", cpu, wall, floor, rc)
            if n == 100:
                cpu, wall, rc = cold([exe, "race", str(path), "--method", "per-model"], 1)
                case = f"statusguard race --method per-model, {n:,} states (cold)"
                add(case, cpu, wall, floor, rc)
            lc = Lifecycle.from_json(doc)
            floor = f"plain BFS, {n:,} states (in process)"
            add(floor, warm(lambda doc=doc: plain_bfs(doc), repeat), None, None)
            add(
                f"check_lifecycle, {n:,} states (in process)",
                warm(lambda lc=lc: check_lifecycle(lc, timeout=300), repeat),
                None,
                floor,
            )
        if not quick:
            path = write_document(dead_end_document(10_000, 3000), folder)
            cpu, wall, rc = cold([exe, "check", str(path)], repeat)
            add("check, dead end 3,000 deep in 10,000 states (cold)", cpu, wall, None, rc)
        cpu, wall, rc = cold([exe, "check", "model/", "--proofs", "proofs/"], repeat)
        add("check model/ --proofs proofs/ (cold)", cpu, wall, None, rc)

    base = "race proofs, 10 states"
    for n in (10, 100, 1000):
        lc = Lifecycle.from_json(lifecycle_document(n))

        def cold_race(lc: Any = lc) -> Any:
            clear_cache()
            return race_obligations(lc, timeout=300)

        add(f"race proofs, {n:,} states", warm(cold_race, repeat), None, None if n == 10 else base)
    for n in (10,) if quick else (10, 30):
        lc = Lifecycle.from_json(lifecycle_document(n))
        secs = warm(lambda lc=lc: race_obligations(lc, timeout=300, method=PER_MODEL), 1)
        add(f"race proofs, {n:,} states, --method per-model", secs, None, base)
    return out


def rows(quick: bool = False, repeat: int = 3) -> list[Row]:
    """The measurements for ``benchmarks/run.py``: (case, median CPU seconds, reference)."""
    return [(r["case"], r["cpu"], r["versus"]) for r in measure(quick, repeat)]


def fmt(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="100 and 1,000 states only")
    parser.add_argument("--json", action="store_true", help="the records as JSON")
    args = parser.parse_args()
    records = measure(args.quick, args.repeat)
    if args.json:
        print(json.dumps(records, indent=2))
        return
    import z3

    print(f"python {sys.version.split()[0]}, z3 {z3.get_full_version()}, median of {args.repeat}")
    print()
    print("| case | CPU (median) | wall (median) | vs | ratio (CPU) | exit |")
    print("|---|---|---|---|---|---|")
    cpu = {r["case"]: r["cpu"] for r in records}
    for r in records:
        ref = r["versus"]
        ratio = f"{r['cpu'] / cpu[ref]:.1f}x" if ref and cpu.get(ref) else "-"
        print(
            f"| {r['case']} | {fmt(r['cpu'])} | {fmt(r['wall'])} | {ref or '-'} | {ratio} "
            f"| {r['exit']} |"
        )


if __name__ == "__main__":
    main()
