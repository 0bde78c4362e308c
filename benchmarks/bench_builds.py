"""The pure-Python and the compiled (mypyc) build side by side, in one run.

Each build is an installed interpreter (a venv): the pure one is any install, the compiled
one a venv with a wheel built with ``STATUSGUARD_COMPILE=1`` (docs/performance.md, "The
compiled build"). Rounds alternate between the two, each round a fresh process timing
every case over the same number of calls in CPU time; a row is the median per call over
the rounds, with its ratio to the same build's dict lookup (the ``next`` rows) or
automaton's rejection (the refusal rows)::

    python benchmarks/bench_builds.py --pure .venv/bin/python --compiled /tmp/cv/bin/python
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Runs in each build's interpreter: the cases of run.py's "next" and refusal sections, on
# bench_guard's model and automaton machine.
PROBE = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from bench_guard import GLANCE as G
from statusguard import IllegalTransition
from statusguard.lifecycle._answer import COMPILED
n = int(sys.argv[2])
table = {(str(s), str(e)): str(t) for s, e, t in G}
flags = {"delayed_delete": True, "has_locations": True}
every = {**flags, "protected": False}
S, E = type(G.initial), type(G.events[0])
s_enum, e_enum = S("active"), E("deactivate")
nxt = G.next
s, e = "active", "deactivate"

def dict_lookup(k):
    for _ in range(k):
        table[(s, e)]

def plain(k):
    for _ in range(k):
        nxt("active", "deactivate")

def enum(k):
    for _ in range(k):
        nxt(s_enum, e_enum)

def two(k):
    for _ in range(k):
        nxt("active", "delete", flags)

def three(k):
    for _ in range(k):
        nxt("active", "delete", every)

def refusal(k):
    for _ in range(k):
        try:
            nxt("deleted", "restore")
        except IllegalTransition:
            pass

cases = {"dict lookup": dict_lookup, "next(s, e)": plain, "next(S, E) enum": enum,
         "next, 2 of 3 deciding flags": two, "next, 3 deciding flags": three,
         "next rejecting (raise + catch)": refusal}
try:
    from automaton.exceptions import NotFound
    from bench_guard import automaton_machine
    fm = automaton_machine()
    fm.initialize("deleted")  # no way out: every event is refused, as in run.py

    def automaton_refusal(k):
        for _ in range(k):
            try:
                fm.process_event("reactivate")
            except NotFound:
                pass

    cases["automaton rejecting (raise + catch)"] = automaton_refusal
except ImportError:
    pass
out = {}
for name, run in cases.items():
    k = n // 4 if "rejecting" in name else n
    run(k // 10)  # warm
    t0 = time.process_time()
    run(k)
    out[name] = (time.process_time() - t0) / k * 1e9
print(json.dumps({"compiled": COMPILED, "ns": out}))
"""


def _round(python: str, n: int) -> dict[str, object]:
    done = subprocess.run(
        [python, "-c", PROBE, str(ROOT / "benchmarks"), str(n)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pure", required=True, help="the pure-Python build's interpreter")
    parser.add_argument("--compiled", required=True, help="the compiled build's interpreter")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("-n", type=int, default=200_000, help="calls per case and round")
    args = parser.parse_args()
    builds = {"pure": args.pure, "compiled": args.compiled}
    times: dict[str, dict[str, list[float]]] = {b: {} for b in builds}
    for r in range(args.rounds):
        order = list(builds) if r % 2 == 0 else list(reversed(builds))
        for build in order:
            got = _round(builds[build], args.n)
            if got["compiled"] is not (build == "compiled"):
                sys.exit(f"{builds[build]} is not the {build} build (COMPILED={got['compiled']})")
            for case, ns in got["ns"].items():  # type: ignore[attr-defined]
                times[build].setdefault(case, []).append(ns)
    med = {b: {c: statistics.median(v) for c, v in cs.items()} for b, cs in times.items()}
    print(f"medians of {args.rounds} alternating rounds, {args.n:,} calls per case and round\n")
    print("| case | pure ns | compiled ns | pure, ratio | compiled, ratio | compiled / pure |")
    print("|---|---:|---:|---:|---:|---:|")
    for case in med["pure"]:
        floor = "automaton rejecting (raise + catch)" if "rejecting" in case else "dict lookup"
        p, c = med["pure"][case], med["compiled"][case]
        pr = p / med["pure"].get(floor, p)
        cr = c / med["compiled"].get(floor, c)
        print(f"| {case} | {p:,.1f} | {c:,.1f} | {pr:.2f}x | {cr:.2f}x | {c / p:.2f}x |")
    print("\nratio: to the same build's dict lookup (next rows) or automaton's rejection")


if __name__ == "__main__":
    main()
