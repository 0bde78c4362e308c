"""Answers the check reads off others instead of asking z3 (``verify._solve``/``_witness``).

A proved ``can_terminate`` proves ``no_dead_ends`` (every dead end is a trap), and an
invariant's premise is read off ``reachable``'s ``unreach``. These tests record which
relations z3 is asked, and show that the verdicts stay those of asking z3 every one: a
trap without a dead end still asks ``dead`` (proved), a dead end is still found, and a
premise no setting reaches is still vacuous, by either way of reading it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import statusguard
from statusguard import Lifecycle
from statusguard.lifecycle._model import _lenient
from statusguard.results import Verdict
from statusguard.verify import _obligations, _solve
from statusguard.verify._builtin import BUILTINS
from statusguard.verify._smt import invariant_query
from statusguard.verify._witness import Run

ROOT = Path(__file__).resolve().parents[3]
GLANCE = statusguard.load(ROOT / "model" / "glance_image.py")


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The relations z3 is asked for, in order (shared runs and single queries alike)."""
    names: list[str] = []
    decl = _solve.Fixpoint._decl

    def spy(self: _solve.Fixpoint, rel: str) -> Any:
        names.append(rel)
        return decl(self, rel)

    monkeypatch.setattr(_solve.Fixpoint, "_decl", spy)
    return names


def verdicts(lc: Lifecycle[Any, Any]) -> dict[str, Verdict]:
    return {r.obligation: r.status for r in _obligations.builtin_obligations(lc, timeout=60.0)}


def model(transitions: list[dict[str, Any]], **extra: Any) -> Lifecycle[Any, Any]:
    doc = {
        "format": "statusguard.lifecycle/v1",
        "name": "implied",
        "states": ["a", "b", "c", "z"],
        "initial": "a",
        "terminal": ["z"],
        "transitions": transitions,
        **extra,
    }
    with _lenient():
        return Lifecycle.from_json(doc)


def go(event: str, source: str, target: str) -> dict[str, Any]:
    return {"event": event, "source": [source], "target": target}


def test_a_proved_model_asks_neither_dead_ends_nor_premises(asked: list[str]) -> None:
    got = verdicts(GLANCE)
    assert set(got.values()) == {Verdict.PROVED}
    assert GLANCE.invariants  # premises to read
    assert "trap" in asked
    assert "unreach" in asked
    assert "dead" not in asked
    assert not [rel for rel in asked if rel.startswith("prem")]


def test_a_trap_without_a_dead_end_asks_for_dead_ends(asked: list[str]) -> None:
    lc = model(
        [go("go", "a", "b"), go("ping", "b", "c"), go("pong", "c", "b"), go("end", "a", "z")]
    )
    got = verdicts(lc)
    assert got["can_terminate"] is Verdict.VIOLATED
    assert got["no_dead_ends"] is Verdict.PROVED
    assert "dead" in asked


def test_a_dead_end_is_found(asked: list[str]) -> None:
    lc = model([go("go", "a", "b"), go("on", "b", "c"), go("end", "a", "z")])
    results = {r.obligation: r for r in _obligations.builtin_obligations(lc, timeout=60.0)}
    dead = results["no_dead_ends"]
    assert dead.status is Verdict.VIOLATED
    assert dead.counterexample is not None
    assert [s.state for s in dead.counterexample.trace] == ["a", "b", "c"]
    assert results["can_terminate"].status is Verdict.VIOLATED
    assert "dead" in asked


def test_premises_come_from_the_unreachable_states(asked: list[str]) -> None:
    invariants = [
        {"name": "c-final", "kind": "absorbing", "state": "c"},  # c is never reached
        {"name": "z-final", "kind": "absorbing", "state": "z"},
    ]
    lc = model([go("go", "a", "b"), go("end", "b", "z")], invariants=invariants)
    results = {r.obligation: r for r in _obligations.builtin_obligations(lc, timeout=60.0)}
    assert results["reachable"].status is Verdict.VIOLATED
    assert results["c-final"].status is Verdict.UNKNOWN
    assert "vacuous" in results["c-final"].detail
    assert results["z-final"].status is Verdict.PROVED
    assert not [rel for rel in asked if rel.startswith("prem")]


@pytest.mark.parametrize("with_reachable", [True, False], ids=["unreach", "own-query"])
def test_both_ways_to_a_premise_agree(asked: list[str], with_reachable: bool) -> None:
    # Run.any_reached reads unreach when the run asks it, else the premise's own query:
    # both must say c (never reached) is vacuous and z (reached) is not.
    invariants = [
        {"name": "c-final", "kind": "absorbing", "state": "c"},
        {"name": "z-final", "kind": "absorbing", "state": "z"},
    ]
    lc = model([go("go", "a", "b"), go("end", "b", "z")], invariants=invariants)
    run = Run(lc, 60.0)
    iqs = [invariant_query(run.enc, i, inv) for i, inv in enumerate(lc.invariants)]
    queries = [q for iq in iqs for q in (iq.query, iq.premise)]
    if with_reachable:
        (reachable,) = [b for b in BUILTINS if b.name == "reachable"]
        queries.append(reachable.query(run.enc))
    run.solve(queries)
    got = [run.any_reached(iq.premise_states, iq.premise) for iq in iqs]
    assert got == [False, True]
    premises = [rel for rel in asked if rel.startswith("prem")]
    assert ("unreach" in asked) is with_reachable
    assert premises == ([] if with_reachable else [iq.premise.relation for iq in iqs])
