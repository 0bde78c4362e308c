"""The lifecycle-parametric race proof: the protocols' theorems once for every lifecycle.

Its cost does not depend on the model (a structural test: the solver gets the very same
assertions for 10, 100 and 1,000 states, and no per-model race encoding is built), the
planted protocol bugs still break it, and a model that does not meet its premises gets
the per-model verdicts, unchanged.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

import statusguard as sg
from statusguard.race import REGISTRY, race_checks, race_obligations
from statusguard.race._parametric import (
    PARAMETRIC_METHOD,
    PER_MODEL,
    ParametricEncoding,
    clear_cache,
    parametric_proof,
    theorems_proof,
)
from statusguard.results import Verdict

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "benchmarks"))
from lifecycles import lifecycle_document  # noqa: E402

MODELS = [sg.load(str(ROOT / "model/glance_image.py")), sg.load(str(ROOT / "model/glance_task.py"))]


def generated(n: int) -> sg.Lifecycle[str, str]:
    return sg.Lifecycle.from_json(lifecycle_document(n))


@pytest.mark.parametrize("protocol", list(REGISTRY))
def test_every_theorem_is_proved_for_every_lifecycle(protocol: str) -> None:
    proof = parametric_proof(protocol)
    for theorem in REGISTRY[protocol].theorems:
        assert proof.proved(theorem), (theorem, proof.details)


def test_the_protocols_share_one_frame_and_each_planted_bug_still_breaks_the_proof() -> None:
    from statusguard.race import RaceProblem, _induction
    from statusguard.race._induction import induction

    clear_cache()
    assert all(parametric_proof(p).proved(t) for p, r in REGISTRY.items() for t in r.theorems)
    assert len(_induction._FRAMES) == 1  # built and checked once, for the four protocols
    for protocol, rec in REGISTRY.items():  # the frame is warm: only the write differs
        for mutation in rec.mutants:
            buggy = parametric_proof(protocol, mutation=mutation)
            assert [t for t in rec.theorems if not buggy.proved(t)], (protocol, mutation)
    induction(RaceProblem(generated(10), "cas_status"))  # a model's own symbols: not shared
    assert len(_induction._FRAMES) == 1


@pytest.mark.parametrize("protocol", list(REGISTRY))
def test_what_a_lifecycle_inherits_is_asked_alone(protocol: str) -> None:
    proof = theorems_proof(protocol)
    assert set(proof.verdicts) == set(REGISTRY[protocol].theorems)
    assert all(proof.proved(t) for t in proof.verdicts), proof.details


def test_what_depends_on_the_model_is_not_proved_for_every_lifecycle() -> None:
    # unguarded loses on some lifecycles; cas_status suffers ABA on some (a cycle back)
    assert not parametric_proof("unguarded").proved("legal_steps")
    assert not parametric_proof("cas_status").proved("fresh_decision")


@pytest.mark.parametrize(
    ("protocol", "mutation"),
    [(p, m) for p, rec in REGISTRY.items() for m in rec.mutants],
)
def test_a_planted_bug_breaks_the_parametric_proof(protocol: str, mutation: str) -> None:
    buggy = parametric_proof(protocol, mutation=mutation)
    broken = [t for t in REGISTRY[protocol].theorems if not buggy.proved(t)]
    assert broken, buggy.verdicts
    assert "counterexample to induction" in buggy.details[broken[0]]


@pytest.mark.parametrize("lc", MODELS, ids=lambda lc: lc.name)
def test_verdicts_on_the_shipped_models_match_the_per_model_proof(lc: Any) -> None:
    fast = race_checks(lc)
    slow = race_checks(lc, method=PER_MODEL)
    assert [(c.result.obligation, c.result.status) for c in fast] == [
        (c.result.obligation, c.result.status) for c in slow
    ]
    inherited = [c for c in fast if c.result.method == PARAMETRIC_METHOD]
    assert len(inherited) >= 12  # the twelve theorems, at least
    assert all(c.ok for c in fast)


LEAKY = {
    "format": "statusguard.lifecycle/v1",
    "name": "leaky",
    "states": ["a", "b", "z"],
    "initial": "a",
    "terminal": ["z"],
    "transitions": [
        {"event": "go", "source": "a", "target": "z"},
        {"event": "undo", "source": "z", "target": "b"},
        {"event": "go", "source": "b", "target": "z"},
    ],
}
STUCK = {
    "format": "statusguard.lifecycle/v1",
    "name": "stuck",
    "states": ["a", "b"],
    "initial": "a",
    "terminal": ["b"],
    "transitions": [{"event": "go", "source": "b", "target": "b"}],
}


@pytest.mark.parametrize("doc", [LEAKY, STUCK], ids=["absorbing-left", "vacuous"])
def test_a_model_outside_the_premises_gets_the_per_model_verdicts(doc: Any) -> None:
    lc = _lenient(doc)
    fast = race_obligations(lc)
    slow = race_obligations(lc, method=PER_MODEL)
    assert [(r.obligation, r.status, r.method) for r in fast] == [
        (r.obligation, r.status, r.method) for r in slow
    ]
    assert all(r.method != PARAMETRIC_METHOD for r in fast)
    assert any(r.status is not Verdict.PROVED for r in fast)


UNREACHED_LEAK = {
    **LEAKY,
    "name": "unreached-leak",
    "states": ["a", "b", "y", "z"],
    "terminal": ["y", "z"],
    "transitions": [
        {"event": "go", "source": "a", "target": "z"},
        {"event": "go", "source": "b", "target": "y"},
        {"event": "undo", "source": "y", "target": "b"},
    ],
}


@pytest.mark.parametrize(
    ("doc", "start", "requests", "expected"),
    [
        (LEAKY, "a", None, ["the absorbing state z is reachable and can be left (to b)"]),
        (LEAKY, "a", ("go",), []),  # without its requests, nothing leaves z
        (STUCK, "a", None, ["no request is enabled at a, so no write can happen (vacuous)"]),
        (UNREACHED_LEAK, "a", None, []),  # y can be left, but a never reaches it
        (UNREACHED_LEAK, "b", None, ["the absorbing state y is reachable and can be left (to b)"]),
    ],
)
def test_the_premises_name_what_fails_and_only_for_what_is_reached(
    doc: Any, start: str, requests: tuple[str, ...] | None, expected: list[str]
) -> None:
    from statusguard.race import RaceProblem
    from statusguard.race._parametric import premises

    lc = _lenient(doc)
    roles = None if requests is None else (requests, requests)
    assert premises(RaceProblem(lc, "cas_status", start, roles)) == expected


def _lenient(doc: Any) -> Any:
    from statusguard.lifecycle._model import _lenient as lenient

    with lenient():
        return sg.Lifecycle.from_json(doc)


@pytest.fixture
def solver_log(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Every z3 ``Solver.check`` call as (assertions, size of their SMT-LIB text)."""
    import z3

    log: list[tuple[int, int]] = []
    check = z3.Solver.check

    def logged(self: Any, *args: Any) -> Any:
        log.append((len(self.assertions()), len(self.sexpr())))
        return check(self, *args)

    monkeypatch.setattr(z3.Solver, "check", logged)
    return log


def test_race_proof_work_is_flat_from_10_to_1000_states(
    solver_log: list[tuple[int, int]], encodings: list[str]
) -> None:
    work = {}
    for n in (10, 100, 1000):
        lc = generated(n)
        clear_cache()
        solver_log.clear()
        results = race_obligations(lc)
        assert [r.status for r in results] == [Verdict.PROVED] * 12
        work[n] = list(solver_log)
    assert encodings == []  # nothing of the model is encoded for z3
    assert work[10], "the parametric proof ran"
    assert work[10] == work[100] == work[1000]


def test_the_per_model_proof_grows_with_the_model(
    solver_log: list[tuple[int, int]], encodings: list[str]
) -> None:
    """The negative control of the flat test: the same measure sees per-model growth."""
    sizes = {}
    for n in (10, 30):
        solver_log.clear()
        race_obligations(generated(n), method=PER_MODEL)
        sizes[n] = sum(size for _, size in solver_log)
    assert len(encodings) >= 8
    assert sizes[30] > 2 * sizes[10]


def test_the_parametric_encoding_names_no_status() -> None:
    import z3

    enc = ParametricEncoding("atomic_event", z3)
    with pytest.raises(TypeError):
        enc.sval("pending")
