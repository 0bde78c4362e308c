"""A violation hundreds of steps deep keeps its verdict and gets a shortest, replaying trace."""

from __future__ import annotations

from typing import Any

from statusguard import Flag, FlagKind, Lifecycle, Transition
from statusguard.lifecycle._model import _lenient
from statusguard.results import Verdict
from statusguard.verify._obligations import builtin_obligations
from statusguard.verify._oracle import oracle_check
from tests.lifecycle_strategies import replay

DEPTH = 400


def _chain(n: int) -> Lifecycle[Any, Any]:
    """``s0 -> ... -> s{n-1}``: the last state is a dead end and cannot terminate."""
    states = [f"s{i}" for i in range(n)]
    transitions = [Transition("advance", states[i], states[i + 1]) for i in range(n - 1)]
    transitions.append(Transition("cancel", states[:-1], "done", when={"ready": True}))
    with _lenient():
        return Lifecycle(
            f"chain-{n}",
            states=[*states, "done"],
            initial="s0",
            terminal=["done"],
            flags=[Flag("mode", FlagKind.CONFIG), Flag("ready", FlagKind.FACT)],
            transitions=transitions,
        )


def test_deep_dead_end_is_violated_with_a_shortest_trace() -> None:
    lc = _chain(DEPTH)
    # A short timeout: the verdict comes from the fixpoint, the trace from BFS (no deepening).
    results = {r.obligation: r for r in builtin_obligations(lc, timeout=5)}
    oracle = {r.obligation: r for r in oracle_check(lc)}
    for name in ("no_dead_ends", "can_terminate"):
        r, o = results[name], oracle[name]
        assert r.status is Verdict.VIOLATED, r
        assert o.status is Verdict.VIOLATED
        assert r.counterexample is not None
        assert o.counterexample is not None
        assert len(r.counterexample.trace) == len(o.counterexample.trace) == DEPTH
        assert r.counterexample.trace[-1].state == f"s{DEPTH - 1}"
        replay(lc, r.counterexample, exact=True)
        # Untested facts are set deterministically (false), tested ones keep their value.
        assert all(step.facts == {"ready": False} for step in r.counterexample.trace[:-1])
