"""Cost of the lifecycle core: ``import statusguard`` and ``Lifecycle.next``, against peers.

Run: ``python benchmarks/bench_core.py`` (from the repository root). Prints medians of
several timeit repeats (and of several fresh interpreters for import times) and the
ratios to the baselines, in one run. automaton and transitions are compared when
installed (they are in the ``dev`` extra).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import time
import timeit
from pathlib import Path
from typing import Any

import statusguard

ROOT = Path(__file__).resolve().parents[1]
PEER_MODULES = {"automaton": "automaton.machines", "transitions": "transitions"}


def import_times(modules: list[str | None], runs: int) -> dict[str | None, tuple[float, float]]:
    """Per module: median wall time (s) of a fresh interpreter that imports it (None:
    nothing), and median time of the import statement alone, measured inside it.

    Runs are interleaved round-robin so that load from other processes hits all alike.
    """
    wall: dict[str | None, list[float]] = {m: [] for m in modules}
    inner: dict[str | None, list[float]] = {m: [] for m in modules}
    for _ in range(runs):
        for module in modules:
            stmt = f"import {module}" if module else "pass"
            code = f"import time; t = time.perf_counter()\n{stmt}\nprint(time.perf_counter() - t)"
            start = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", code], check=True, capture_output=True, text=True
            ).stdout
            wall[module].append(time.perf_counter() - start)
            inner[module].append(float(out))
    return {m: (statistics.median(wall[m]), statistics.median(inner[m])) for m in modules}


def per_call(stmt: str, env: dict[str, Any], number: int, repeat: int, calls: int = 1) -> float:
    """Median seconds per call of ``stmt`` (which makes ``calls`` calls)."""
    runs = timeit.Timer(stmt, globals=env).repeat(repeat=repeat, number=number)
    return statistics.median(runs) / number / calls


def glance() -> Any:
    try:
        from statusguard_models.glance_image import GLANCE_IMAGE  # wheel install
    except ImportError:
        return statusguard.load(ROOT / "model" / "glance_image.py")
    return GLANCE_IMAGE


def automaton_machine(lc: Any) -> Any:
    from automaton import machines

    m = machines.FiniteMachine()
    for s in lc.states:
        m.add_state(str(s))
    for s, e, t in lc:
        if (str(s), str(e)) != ("active", "delete"):  # automaton has no conditions
            m.add_transition(str(s), str(t), str(e))
    m.default_start_state = "active"
    m.initialize()
    return m


def transitions_model(lc: Any) -> Any:
    from transitions import Machine

    class Model:
        pass

    model = Model()
    specs = [
        {"trigger": str(e), "source": str(s), "dest": str(t)}
        for s, e, t in lc
        if (str(s), str(e)) != ("active", "delete")
    ]
    Machine(
        model=model,
        states=[str(s) for s in lc.states],
        transitions=specs,
        initial="active",
        auto_transitions=False,
    )
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--imports", type=int, default=15, help="fresh interpreters per module")
    parser.add_argument("--repeat", type=int, default=7, help="timeit repeats")
    parser.add_argument("--number", type=int, default=200_000, help="calls per repeat")
    args = parser.parse_args()
    have = {m: importlib.util.find_spec(m) is not None for m in ("automaton", "transitions")}

    print(f"Python {sys.version.split()[0]}, statusguard {statusguard.__version__}")
    print(f"\n== import time: median of {args.imports} fresh interpreters ==")
    modules: list[str | None] = [None, "statusguard"]
    modules += [PEER_MODULES[m] for m, ok in have.items() if ok]
    times = import_times(modules, args.imports)
    bare = times[None][0]
    sg = times["statusguard"][1]
    print(f"{'':34} {'wall ms':>8} {'vs bare':>8} {'import ms':>10} {'vs statusguard':>15}")
    for module, (wall, inner) in times.items():
        label = f"import {module}" if module else "bare interpreter (python -c pass)"
        print(
            f"{label:34} {wall * 1e3:8.1f} {wall / bare:7.2f}x {inner * 1e3:10.1f} "
            f"{inner / sg:14.2f}x"
        )

    lc = glance()
    env: dict[str, Any] = {
        "lc": lc,
        "table": {(str(s), str(e)): str(t) for s, e, t in lc},
        "s": "active",
        "e": "deactivate",
        "S": type(lc.initial)("active"),
        "E": type(lc.events[0])("deactivate"),
        # every flag the answer depends on (facts with defaults too): the tabled fast path
        "flags": {"delayed_delete": True, "has_locations": True, "protected": False},
        "IllegalTransition": statusguard.IllegalTransition,
    }
    cases = [
        ("dict lookup d[(s, e)]  (baseline)", "table[(s, e)]", 1),
        ("lc.next(s, e)  str, unconditional", "lc.next(s, e)", 1),
        ("lc.next(S, E)  enum, unconditional", "lc.next(S, E)", 1),
        ("lc.next(s, 'delete', flags)  conditional", "lc.next(s, 'delete', flags)", 1),
    ]
    illegal = (
        "lc.next('deleted', 'restore')  illegal",
        "try:\n    lc.next('deleted', 'restore')\nexcept IllegalTransition:\n    pass",
        1,
    )
    cases.append(illegal)
    if have["automaton"]:
        env["fsm"] = automaton_machine(lc)
        cases.append(
            (
                "automaton process_event",
                "fsm.process_event('deactivate'); fsm.process_event('reactivate')",
                2,
            )
        )
    if have["transitions"]:
        env["model"] = transitions_model(lc)
        cases.append(
            (
                "transitions model.trigger",
                "model.trigger('deactivate'); model.trigger('reactivate')",
                2,
            )
        )

    print(f"\n== one transition: median of {args.repeat} x {args.number} calls ==")
    results = []
    for label, stmt, calls in cases:
        number = args.number if "illegal" not in label else max(args.number // 20, 1000)
        if label.startswith(("automaton", "transitions")):
            number = max(args.number // 20, 1000)
        results.append((label, per_call(stmt, env, number, args.repeat, calls)))
    base = results[0][1]
    print(f"{'':44} {'ns/call':>9} {'vs dict':>8}")
    for label, t in results:
        print(f"{label:44} {t * 1e9:9.0f} {t / base:7.2f}x")


if __name__ == "__main__":
    main()
