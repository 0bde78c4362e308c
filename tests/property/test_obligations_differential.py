"""z3 and the explicit-state oracle agree on every obligation of random lifecycles."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings

from statusguard import IllegalTransition, Lifecycle
from statusguard.results import Counterexample, Verdict
from statusguard.testing import lifecycles
from statusguard.verify._obligations import builtin_obligations
from statusguard.verify._oracle import oracle_check
from tests.lifecycle_strategies import any_lifecycles, replay


@settings(deadline=None)  # examples: the profile's (dev 50 random, ci 200 derandomized)
@given(any_lifecycles())
def test_z3_and_oracle_agree(lc: Lifecycle[Any, Any]) -> None:
    z3_results = builtin_obligations(lc, timeout=30)  # the race provider has no oracle here
    oracle = {r.obligation: r for r in oracle_check(lc)}
    assert [r.obligation for r in z3_results] == list(oracle)
    # next() answers one outcome only when no event has two (transitions, or a no-op too)
    deterministic = all(
        oracle[n].status is Verdict.PROVED
        for n in ("deterministic", "noop_unchanged")
        if n in oracle  # noop_unchanged: only when the lifecycle declares no-ops
    )
    assert ("noop_unchanged" in oracle) is bool(lc.noops)
    for r in z3_results:
        o = oracle[r.obligation]
        assert r.status is o.status, (r, o)
        assert (r.counterexample is None) == (o.counterexample is None), (r, o)
        if r.counterexample is not None and o.counterexample is not None:
            # Both are shortest, so they have the same length.
            assert len(r.counterexample.trace) == len(o.counterexample.trace), (r, o)
            replay(lc, r.counterexample, exact=deterministic)
            replay(lc, o.counterexample, exact=deterministic)
        if r.status is Verdict.VIOLATED and r.obligation not in ("reachable",):
            assert r.detail


def test_replay_rejects_a_wrong_trace() -> None:
    from statusguard.results import TraceStep

    lc = Lifecycle(
        "t",
        states=["a", "b"],
        initial="a",
        terminal=["b"],
        transitions=[__import__("statusguard").Transition("go", "a", "b")],
    )
    bad = Counterexample({}, (TraceStep("b", "go"), TraceStep("a")))
    try:
        replay(lc, bad, exact=True)
    except (AssertionError, IllegalTransition):
        return
    raise AssertionError("replay accepted a trace that does not start at the initial state")


@pytest.mark.slow
@settings(max_examples=1000, deadline=None)
@given(any_lifecycles(max_states=14))
def test_z3_and_oracle_agree_on_larger_models(lc: Lifecycle[Any, Any]) -> None:
    test_z3_and_oracle_agree.hypothesis.inner_test(lc)  # type: ignore[attr-defined]


@settings(deadline=None)
@given(lifecycles())
def test_z3_and_oracle_agree_on_valid_lifecycles(lc: Lifecycle[Any, Any]) -> None:
    """On lifecycles the constructor accepts, the two checks it makes are proved by z3 too."""
    test_z3_and_oracle_agree.hypothesis.inner_test(lc)  # type: ignore[attr-defined]
    results = {r.obligation: r for r in builtin_obligations(lc, timeout=30)}
    assert results["deterministic"].status is Verdict.PROVED
    if lc.noops:
        assert results["noop_unchanged"].status is Verdict.PROVED
    expected = Verdict.PROVED if lc.terminal else Verdict.UNKNOWN
    assert results["terminal_final"].status is expected
