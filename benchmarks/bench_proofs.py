"""Proof-engine benchmark: the Glance gate from a cold process, and z3 vs BFS by size.

Run: python benchmarks/bench_proofs.py [--repeat 3] [--sizes 100,1000,10000]

Prints medians and ratios in one run:
* the full Glance gate, ``statusguard check model/`` in a fresh interpreter (wall
  time including interpreter start and the z3 import), against a bare interpreter
  and ``statusguard show model/`` (no z3);
* synthetic lifecycles of N states (about 3 transitions each, one config flag, one
  fact flag, 5 % terminal states): every built-in obligation plus two invariants by
  z3 (``check_lifecycle``) against the explicit BFS oracle (``oracle_check``), both
  from a built ``Lifecycle`` to verdicts;
* a violated row: a chain of N states whose last state is a dead end, so the
  shortest counterexample of ``no_dead_ends`` is N steps deep (built-in
  obligations, verdict plus trace, against the oracle).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _installed import prime, run  # noqa: E402


def synthetic(n: int, seed: int = 7) -> Any:
    from statusguard import Flag, FlagKind, Lifecycle, Transition
    from statusguard.lifecycle import Absorbing, Unreachable

    rng = random.Random(seed)
    states = [f"s{i}" for i in range(n)]
    n_term = max(1, n // 20)
    terminal = states[n - n_term :]
    transitions = []
    for i in range(n - n_term):
        transitions.append(Transition("advance", states[i], states[i + 1]))
        transitions.append(
            Transition("retry", states[i], states[rng.randrange(n)], when={"mode": True})
        )
        transitions.append(
            Transition("skip", states[i], states[rng.randrange(n)], when={"ready": True})
        )
    for k, t in enumerate(terminal[1:]):  # every terminal state has a way in
        transitions.append(Transition("finish", states[k * 7 % (n - n_term)], t))
    return Lifecycle(
        f"synthetic-{n}",
        states=states,
        initial=states[0],
        terminal=terminal,
        events=["advance", "retry", "skip", "finish"],
        flags=[Flag("mode", FlagKind.CONFIG), Flag("ready", FlagKind.FACT)],
        transitions=transitions,
        invariants=[
            Absorbing("last-is-final", states[-1]),
            Unreachable("no-way-back", states[-1], states[0]),
        ],
    )


def deep_violation(n: int) -> Any:
    """``s0 -> s1 -> ... -> s{n-1}`` (a dead end); every ``s_i`` but the last may ``cancel``."""
    from statusguard import Flag, FlagKind, Lifecycle, Transition

    states = [f"s{i}" for i in range(n)]
    transitions = [Transition("advance", states[i], states[i + 1]) for i in range(n - 1)]
    transitions.append(Transition("cancel", states[:-1], "done", when={"ready": True}))
    return Lifecycle(
        f"deep-violation-{n}",
        states=[*states, "done"],
        initial=states[0],
        terminal=["done"],
        events=["advance", "cancel"],
        flags=[Flag("mode", FlagKind.CONFIG), Flag("ready", FlagKind.FACT)],
        transitions=transitions,
    )


def median_time(fn: Any, repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def cold(cmd: list[str], repeat: int) -> tuple[float, int]:
    times, rc = [], 0
    prime(cmd, ROOT)  # then each run from bytecode, as installed code runs
    for _ in range(repeat):
        t0 = time.perf_counter()
        proc = run(cmd, ROOT)
        times.append(time.perf_counter() - t0)
        rc = proc.returncode
    return statistics.median(times), rc


def fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--deep", default="300,1000,3000", help="violated chain lengths")
    args = parser.parse_args()
    import z3

    from statusguard.results import Verdict
    from statusguard.verify._obligations import builtin_obligations, check_lifecycle
    from statusguard.verify._oracle import oracle_check

    print(f"python {sys.version.split()[0]}, z3 {z3.get_full_version()}, median of {args.repeat}")
    print()
    exe = str(Path(sys.executable).parent / "statusguard")
    bare, _ = cold([sys.executable, "-c", "pass"], max(5, args.repeat))
    show, _ = cold([exe, "show", "model/"], max(5, args.repeat))
    gate, rc = cold([exe, "check", "model/", "--proofs", "proofs/"], max(5, args.repeat))
    print("| cold process | wall (median) | exit |")
    print("|---|---|---|")
    print(f"| python -c pass | {fmt(bare)} | 0 |")
    print(f"| statusguard show model/ | {fmt(show)} | 0 |")
    print(f"| statusguard check model/ --proofs proofs/ (full Glance gate) | {fmt(gate)} | {rc} |")
    print(f"\nGlance gate: {fmt(gate)} against the 2 s target ({gate / 2:.0%} of budget)")
    print()
    print(
        "| states | transitions | z3 (lifecycle obligations) | BFS oracle | z3 / BFS | z3 growth |"
    )
    print("|---|---|---|---|---|---|")
    prev: tuple[int, float] | None = None
    for n in [int(x) for x in args.sizes.split(",")]:
        lc = synthetic(n)
        t_z3, res = median_time(lambda lc=lc: builtin_obligations(lc, timeout=300), args.repeat)
        t_bfs, ores = median_time(lambda lc=lc: oracle_check(lc), args.repeat)
        ov = [r.status for r in ores]
        z3v = [r.status for r in res[: len(ores)]]
        assert [r.obligation for r in res[: len(ores)]] == [r.obligation for r in ores]
        assert z3v == ov, (z3v, ov)
        assert all(v is Verdict.PROVED for v in z3v), res
        growth = "-"
        if prev is not None:
            growth = f"x{t_z3 / prev[1]:.1f} for x{n / prev[0]:.0f} states"
        print(
            f"| {n:,} | {len(lc):,} | {fmt(t_z3)} | {fmt(t_bfs)} | {t_z3 / t_bfs:.1f}x | {growth} |"
        )
        prev = (n, t_z3)

    print()
    print("| states | race obligations (check_lifecycle minus the lifecycle ones) |")
    print("|---|---|")
    for n in (20, 50, 100):
        lc = synthetic(n)
        t_all, _ = median_time(lambda lc=lc: check_lifecycle(lc, timeout=300), 1)
        t_own, _ = median_time(lambda lc=lc: builtin_obligations(lc, timeout=300), 1)
        print(f"| {n:,} | {fmt(t_all - t_own)} |")

    print()
    print("| violated: dead end N steps deep | z3 verdict + BFS trace | BFS oracle | trace steps |")
    print("|---|---|---|---|")
    for n in [int(x) for x in args.deep.split(",")]:
        lc = deep_violation(n)
        t_z3, res = median_time(lambda lc=lc: builtin_obligations(lc, timeout=300), args.repeat)
        t_bfs, ores = median_time(lambda lc=lc: oracle_check(lc), args.repeat)
        got = {r.obligation: r for r in res}
        want = {r.obligation: r for r in ores}
        assert {k: r.status for k, r in got.items()} == {k: r.status for k, r in want.items()}
        dead, odead = got["no_dead_ends"], want["no_dead_ends"]
        assert dead.status is Verdict.VIOLATED, dead
        assert dead.counterexample is not None
        assert odead.counterexample is not None
        assert len(dead.counterexample.trace) == len(odead.counterexample.trace) == n
        print(f"| {n:,} | {fmt(t_z3)} | {fmt(t_bfs)} | {len(dead.counterexample.trace):,} |")


if __name__ == "__main__":
    main()
