"""Timings of the consulting commands: show, explain, diff (medians, one run).

    python benchmarks/bench_consult.py [--quick]

Prints the median of several runs for rendering and explaining the Glance model,
for ``diff`` on Glance (the undelete edit) and on synthetic lifecycles of 100,
1,000 and 10,000 states (~3 transitions each), with the ratio against the naive
all-pairs method (one breadth-first search from every state), and the wall time of
a cold ``statusguard diff`` process.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import statusguard as sg
from statusguard.consult._diff import diff_lifecycles, obligation_results
from statusguard.consult._explain import explain_event, explain_state
from statusguard.consult._render import render_dot, render_markdown, render_mermaid, render_table
from statusguard.lifecycle._paths import graph, reach_from

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _installed import prime, run  # noqa: E402


def median(fn: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def synth(n: int, extra: bool = False) -> sg.Lifecycle[str, str]:
    rnd = random.Random(n)
    states = [f"s{i}" for i in range(n)]
    ts = []
    for i in range(n - 1):
        ts.append(sg.Transition("next", states[i], states[i + 1]))
        ts.append(sg.Transition("jump", states[i], states[rnd.randrange(i + 1, n)]))
        if i % 2:
            ts.append(sg.Transition("back", states[i], states[rnd.randrange(0, i + 1)]))
    if extra:  # a new edge that makes a late state reach an early one
        ts.append(sg.Transition("back", states[n - 2], states[1]))
    return sg.Lifecycle(
        f"synth-{n}", states=states, initial="s0", terminal=[states[-1]], transitions=ts
    )


def naive_pairs(old: sg.Lifecycle[str, str], new: sg.Lifecycle[str, str]) -> int:
    og, ng = graph(old, {}), graph(new, {})
    changed = 0
    for s in old.states:
        changed += len(set(reach_from(old, s, {}, adj=og)) ^ set(reach_from(new, s, {}, adj=ng)))
    return changed


def no_verdicts(lc: sg.Lifecycle[str, str]) -> list[Any]:
    return []


def main() -> None:
    quick = "--quick" in sys.argv
    runs = 3 if quick else 7
    glance = sg.load(ROOT / "model" / "glance_image.py")
    doc = glance.to_json()
    doc["terminal"] = []
    doc["events"].append("undelete")
    doc["transitions"].append({"event": "undelete", "source": ["deleted"], "target": "queued"})
    edited = sg.Lifecycle.from_json(doc)

    print("Glance image model (medians):")
    rows = [
        ("render table", lambda: render_table(glance)),
        ("render mermaid", lambda: render_mermaid(glance)),
        ("render dot", lambda: render_dot(glance)),
        ("render markdown", lambda: render_markdown(glance)),
        ("explain state", lambda: explain_state(glance, "pending_delete", {})),
        ("explain event", lambda: explain_event(glance, "deactivated", "delete", {})),
        ("z3 verdicts (check_lifecycle)", lambda: obligation_results(edited)),
        ("diff undelete (with z3 verdicts)", lambda: diff_lifecycles(glance, edited)),
    ]
    for name, fn in rows:
        print(f"  {name:36s} {median(fn, runs * 3) * 1e3:8.2f} ms")

    print("\ndiff on synthetic lifecycles (structure only, no verdicts), vs BFS from every state:")
    print(f"  {'states':>7s} {'diff':>10s} {'naive':>10s} {'ratio':>7s} pairs changed")
    for n in (100, 1000) if quick else (100, 1000, 10_000):
        old, new = synth(n), synth(n, extra=True)
        d = diff_lifecycles(old, new, checker=no_verdicts)
        t_diff = median(lambda o=old, w=new: diff_lifecycles(o, w, checker=no_verdicts), runs)
        if n <= 1000:
            t_naive = median(lambda o=old, w=new: naive_pairs(o, w), 1 if n == 1000 else runs)
            naive, ratio = f"{t_naive:9.3f}s", f"{t_naive / t_diff:6.1f}x"
        else:
            naive, ratio = "(skipped)", ""
        print(f"  {n:7d} {t_diff:9.3f}s {naive:>10s} {ratio:>7s} {len(d.pairs)}")

    exe = Path(sys.executable).with_name("statusguard")
    with_tmp = ROOT / "benchmarks" / ".edited_glance.json"
    with_tmp.write_text(json.dumps(edited.to_json()))
    try:
        cmd = [str(exe), "diff", str(ROOT / "model" / "glance_image.py"), str(with_tmp)]
        prime(cmd)  # then each run from bytecode, as installed code runs
        t = median(lambda: run(cmd), runs)
        print(f"\ncold `statusguard diff` process, Glance undelete: {t:.3f} s (median)")
    finally:
        with_tmp.unlink()


if __name__ == "__main__":
    main()
