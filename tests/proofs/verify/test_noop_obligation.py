"""``noop_unchanged``: z3 proves that no event accepted as a no-op also moves the state.

The no-ops of the Glance model (deactivate of a deactivated image, reactivate of an active
one: glance/domain/__init__.py:260-262 and 273-275 at c76abb08e) are proved; a model whose
no-op overlaps a transition (built leniently, as ``statusguard check`` builds models) is
reported violated, with a run that ends on the offending step, and the oracle agrees.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from statusguard import Flag, FlagKind, Lifecycle, NoOp, Transition, load
from statusguard.results import Verdict
from statusguard.verify._obligations import builtin_obligations
from statusguard.verify._oracle import oracle_check

ROOT = Path(__file__).resolve().parents[3]


def results(lc: Lifecycle[Any, Any]) -> dict[str, Any]:
    return {r.obligation: r for r in builtin_obligations(lc, timeout=30)}


def test_glance_noops_are_proved() -> None:
    lc = load(ROOT / "model" / "glance_image.py")
    assert lc.noops
    assert results(lc)["noop_unchanged"].status is Verdict.PROVED
    assert {r.obligation: r.status for r in oracle_check(lc)}["noop_unchanged"] is Verdict.PROVED


def overlapping(fact_value: bool) -> Lifecycle[Any, Any]:
    """deactivate is a no-op in deactivated when ``gone`` is false, and (the defect) also
    moves deactivated to deleted when ``gone`` is ``fact_value``."""
    return Lifecycle._unchecked(
        "overlap",
        states=["active", "deactivated", "deleted"],
        initial="active",
        terminal=["deleted"],
        flags=[Flag("gone", FlagKind.FACT)],
        transitions=[
            Transition("deactivate", "active", "deactivated"),
            Transition("deactivate", "deactivated", "deleted", when={"gone": fact_value}),
            Transition("delete", ["active", "deactivated"], "deleted"),
        ],
        noops=[NoOp("deactivate", "deactivated", when={"gone": False})],
    )


def test_an_overlapping_noop_is_violated_with_a_trace() -> None:
    res = results(overlapping(False))["noop_unchanged"]
    assert res.status is Verdict.VIOLATED
    assert res.counterexample is not None
    steps = [(s.state, s.event, dict(s.facts)) for s in res.counterexample.trace]
    assert steps == [
        ("active", "deactivate", {"gone": False}),
        ("deactivated", "deactivate", {"gone": False}),  # the no-op's facts: it also moves
        ("deleted", None, {}),
    ]
    assert "an event accepted as a no-op also moves: deactivated --deactivate" in res.detail
    oracle = {r.obligation: r for r in oracle_check(overlapping(False))}["noop_unchanged"]
    assert oracle.status is Verdict.VIOLATED
    assert len(oracle.counterexample.trace) == len(res.counterexample.trace)  # type: ignore[union-attr]


def test_exclusive_conditions_are_proved_the_negative_control() -> None:
    """The same model with the transition under the other fact value: no overlap."""
    assert results(overlapping(True))["noop_unchanged"].status is Verdict.PROVED


def test_a_model_without_noops_has_no_such_obligation() -> None:
    """No vacuous proof: a lifecycle that declares no no-op has no noop_unchanged."""
    task = load(ROOT / "model" / "glance_task.py")
    assert "noop_unchanged" not in results(task)
    assert "noop_unchanged" not in {r.obligation for r in oracle_check(task)}


def test_the_finding_points_at_the_transition_and_names_the_noop() -> None:
    """SARIF/annotations: the overlapping transition's line, with the no-op's as related."""
    from statusguard.consult._locate import locate, rule_of

    lc = overlapping(False)
    res = results(lc)["noop_unchanged"]
    origin, related = locate(lc, res)
    moving = lc.transitions[1]
    assert origin == moving.origin
    assert [(o, what) for o, what in related if what.startswith("no-op")] == [
        (lc.noops[0].origin, f"no-op {lc.noops[0]!r}")
    ]
    assert rule_of(lc, "noop_unchanged") == "noop_unchanged"
