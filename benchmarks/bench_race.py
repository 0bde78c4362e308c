"""Race model timings: the unbounded proofs on Glance, and how BMC grows with workers and depth.

Run: ``python benchmarks/bench_race.py [--quick]``. Prints medians (in-process, z3 already
imported; the import is timed separately) and ratios against the explicit-state BFS of
the same protocol (statusguard.race._interp), the peer baseline. The whole script stays
within a few minutes: a BMC run that exceeds its budget (--budget, seconds) stops.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import statusguard as sg  # noqa: E402
from statusguard.race import OBLIGATIONS, RaceInterpreter, RaceProblem  # noqa: E402
from statusguard.race._bmc import bmc  # noqa: E402
from statusguard.race._induction import induction  # noqa: E402
from statusguard.race._scenarios import check_scenario  # noqa: E402


def median_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def fmt(s: float) -> str:
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller grid (CI smoke)")
    ap.add_argument(
        "--budget", type=float, default=20.0, help="seconds per BMC run before it stops"
    )
    args = ap.parse_args()
    glance = sg.load(str(ROOT / "model/glance_image.py"))

    cold = [
        float(
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "import time; t=time.perf_counter(); import z3; print(time.perf_counter()-t)",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        for _ in range(3)
    ]
    print(f"import z3 (fresh process, median of 3): {fmt(statistics.median(cold))}\n")

    # 1. the unbounded proofs
    print(
        "## Unbounded proofs on glance-image "
        "(one-step induction, any number of workers; median of 5)\n"
    )
    print("| proof | obligations | verdicts | time |")
    print("|---|---|---|---|")
    total = 0.0
    for protocol in ("atomic_event", "cas_version", "cas_status"):
        t, ind = median_time(lambda p=protocol: induction(RaceProblem(glance, p)), 5)
        total += t if protocol != "cas_status" else 0.0
        verdicts = ", ".join(f"{o}={ind.verdicts[o]}" for o in OBLIGATIONS)
        print(f"| general, {protocol} | 4 | {verdicts} | {fmt(t)} |")
    scen_total = 0.0
    for protocol in ("atomic_event", "cas_version"):

        def all_scenarios(p: str = protocol) -> list[str]:
            return [str(check_scenario(glance, sc, p).status) for sc in glance.race_scenarios]

        t, verdicts = median_time(all_scenarios, 5)
        scen_total += t
        print(f"| 6 scenarios, {protocol} | 6 x 3 | {', '.join(verdicts)} | {fmt(t)} |")
    print(
        f"\nguarded protocols (atomic_event + cas_version), general + scenarios: "
        f"**{fmt(total + scen_total)}** together (target < 1 s)\n"
    )

    # 2. BMC growth: one incremental run per N, cumulative time at each depth
    depths = (5, 10) if args.quick else (5, 10, 15, 20)
    workers = (2, 3) if args.quick else (2, 3, 4, 5, 6)
    print("## BMC: cas_version, legal_steps, full search to depth D (no violation exists)\n")
    print(
        "One incremental run per N (the same solver deepens one step at a time); each cell is "
        f"the cumulative time to prove depths 1..D; a run stops past {args.budget:g} s "
        "(`-`). BFS = explicit-state search of the same runs (the peer baseline), "
        "only where it is small; ratio = BMC / BFS.\n"
    )
    print("| N | " + " | ".join(f"D={d}" for d in depths) + " |")
    print("|---|" + "---|" * len(depths))
    for n in workers:
        problem = RaceProblem(glance, "cas_version", config={"delayed_delete": True})
        at: dict[int, float] = {}
        res = bmc(
            problem,
            ["legal_steps"],
            workers=n,
            depth=max(depths),
            timeout=60,
            budget=args.budget,
            on_depth=lambda d, t, at=at: at.__setitem__(d, t),
        )
        cells = []
        for d in depths:
            if d not in at:
                cells.append("-")
                continue
            cell = fmt(at[d])
            if n * d <= 20:  # BFS grows exponentially: only the small cells
                interp = RaceInterpreter(glance, "cas_version", {"delayed_delete": True}, workers=n)
                tb, found = median_time(partial(interp.shortest_violation, ["legal_steps"], d), 1)
                assert found is None
                cell += f"; BFS {fmt(tb)}, x{at[d] / tb:.1f}"
            cells.append(cell)
        print(f"| {n} | " + " | ".join(cells) + f" |  ({res.status})")

    print(
        "\n## BMC: time to the shortest counterexample "
        "(unguarded legal_steps; cas_status fresh_decision)\n"
    )
    print(
        "BMC alone (canonical=False); the gate then canonicalises the schedule by an explicit "
        "search of the same depth (timed in the last column).\n"
    )
    print(
        "| N | unguarded: depth, time | cas_status ABA: depth, time | BFS (unguarded) "
        "| ABA + canonical schedule |"
    )
    print("|---|---|---|---|---|")
    for n in workers:
        pu = RaceProblem(glance, "unguarded", config={"delayed_delete": False})
        pc = RaceProblem(glance, "cas_status", config={"delayed_delete": False})
        tu, ru = median_time(
            partial(bmc, pu, ["legal_steps"], workers=n, depth=8, canonical=False), 3
        )
        tc, rc = median_time(
            partial(bmc, pc, ["fresh_decision"], workers=n, depth=8, canonical=False), 3
        )
        interp = RaceInterpreter(glance, "unguarded", {"delayed_delete": False}, workers=n)
        tb, db = median_time(partial(interp.shortest_violation, ["legal_steps"], 8), 3)
        tk, _ = median_time(partial(bmc, pc, ["fresh_decision"], workers=n, depth=8), 1)
        print(
            f"| {n} | {ru.depth}, {fmt(tu)} | {rc.depth}, {fmt(tc)} | {db}, {fmt(tb)} | {fmt(tk)} |"
        )


if __name__ == "__main__":
    main()
