"""What depends on the model, settled from its graph: no per-model z3 encoding.

``statusguard race`` (the default method) gives the obligations that are not a protocol's
theorems without unrolling the model: ``unguarded`` loses by the explicit search's shortest
run (the one BMC reports), and ``cas_status``'s ``fresh_decision`` (ABA) is proved by the
rank argument on a lifecycle with no reachable cycle, or broken by a schedule that walks a
cycle under a stale read, replayed by the interpreter and by the real guard. A declared
scenario's ``cas_status`` verdict is settled the same way on the scenario's own graph (its
start, its requests) when no cycle is reachable there. The verdicts agree with the
per-model proofs; without the cycle check the rank argument would claim a proof the
per-model search refutes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

import statusguard as sg
from statusguard.race import RaceInterpreter, race_checks
from statusguard.race import _check as check_module
from statusguard.race._check import CYCLE_METHOD, EXPLICIT_METHOD, INDUCTION_METHOD, RANK_METHOD
from statusguard.race._parametric import PER_MODEL
from statusguard.race._scenarios import RANKED_METHOD, check_scenario, scenario_named
from statusguard.results import Verdict

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "benchmarks"))
from lifecycles import lifecycle_document  # noqa: E402

GLANCE = sg.load(str(ROOT / "model/glance_image.py"))
TASK = sg.load(str(ROOT / "model/glance_task.py"))

CHAIN = {
    "format": "statusguard.lifecycle/v1",
    "name": "chain",
    "states": ["new", "busy", "done", "gone"],
    "initial": "new",
    "terminal": ["gone"],
    "transitions": [
        {"event": "start", "source": "new", "target": "busy"},
        {"event": "finish", "source": "busy", "target": "done"},
        {"event": "drop", "source": ["new", "busy", "done"], "target": "gone"},
    ],
}
LOOP = {
    **CHAIN,
    "name": "loop",
    "transitions": [*CHAIN["transitions"], {"event": "retry", "source": "done", "target": "busy"}],
}


def verdicts(lc: Any, **kwargs: Any) -> dict[str, Any]:
    return {c.result.obligation: c.result for c in race_checks(lc, **kwargs)}


@pytest.mark.parametrize("n", [10, 100, 1000])
def test_no_obligation_unrolls_a_generated_model(n: int, encodings: list[str]) -> None:
    fast = verdicts(sg.Lifecycle.from_json(lifecycle_document(n)))
    assert encodings == []
    assert all(r.status is not Verdict.UNKNOWN for r in fast.values()), fast
    assert fast["race.fresh_decision.cas_status"].method == CYCLE_METHOD
    for o in ("legal_steps", "absorbing", "fresh_decision"):
        assert fast[f"race.{o}.unguarded"].method == EXPLICIT_METHOD


@pytest.mark.parametrize(
    "lc", [GLANCE, TASK, sg.Lifecycle.from_json(LOOP)], ids=["glance", "task", "loop"]
)
def test_the_verdicts_and_unguarded_runs_are_the_per_model_ones(lc: Any) -> None:
    fast, slow = verdicts(lc), verdicts(lc, method=PER_MODEL)
    assert {k: r.status for k, r in fast.items()} == {k: r.status for k, r in slow.items()}
    lost = [o for o in ("legal_steps", "absorbing", "fresh_decision")
            if slow[f"race.{o}.unguarded"].status is Verdict.VIOLATED]  # fmt: skip
    assert "fresh_decision" in lost
    for o in lost:
        name = f"race.{o}.unguarded"
        a, b = fast[name].counterexample, slow[name].counterexample
        assert a is not None
        assert b is not None
        assert a.schedule == b.schedule


@pytest.mark.parametrize("lc", [TASK, sg.Lifecycle.from_json(CHAIN)], ids=["task", "chain"])
def test_an_acyclic_lifecycle_is_fresh_by_rank(lc: Any, encodings: list[str]) -> None:
    res = verdicts(lc, protocols=["cas_status"])["race.fresh_decision.cas_status"]
    assert (res.status, res.method) == (Verdict.PROVED, RANK_METHOD)
    assert encodings == []
    per_model = verdicts(lc, protocols=["cas_status"], method=PER_MODEL)
    assert per_model["race.fresh_decision.cas_status"].status is Verdict.PROVED


@pytest.mark.parametrize("lc", [GLANCE, sg.Lifecycle.from_json(LOOP)], ids=["glance", "loop"])
def test_a_reachable_cycle_is_an_aba_the_interpreter_and_the_guard_replay(lc: Any) -> None:
    res = verdicts(lc, protocols=["cas_status"])["race.fresh_decision.cas_status"]
    assert (res.status, res.method) == (Verdict.VIOLATED, CYCLE_METHOD)
    cex = res.counterexample
    assert cex is not None
    for backend in ("model", "guard"):
        interp = RaceInterpreter(lc, "cas_status", cex.config, workers=2, backend=backend)
        steps = interp.replay(cex.schedule)
        assert "fresh_decision" in steps[-1]["violates"], (backend, steps[-1])
        assert steps[-1]["action"] == "write"
    # the same schedule's decisions under a version compare: the stale write is rejected
    versioned = RaceInterpreter(lc, "cas_version", cex.config, workers=2, backend="guard")
    assert versioned.replay(cex.schedule)[-1]["action"] == "rejected"


@pytest.fixture
def no_cycle_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rank argument's cycle check removed: every graph looks acyclic."""

    class NoCycles:
        def __init__(self, graph: Any) -> None:
            pass

        def prepare(self) -> None:
            pass

    monkeypatch.setattr(check_module, "TopologicalSorter", NoCycles)


@pytest.mark.usefixtures("no_cycle_check")
def test_negative_control_without_the_cycle_check_the_rank_argument_is_wrong() -> None:
    lc = sg.Lifecycle.from_json(LOOP)
    claimed = verdicts(lc, protocols=["cas_status"])["race.fresh_decision.cas_status"]
    assert (claimed.status, claimed.method) == (Verdict.PROVED, RANK_METHOD)
    refuted = verdicts(lc, protocols=["cas_status"], method=PER_MODEL)
    assert refuted["race.fresh_decision.cas_status"].status is Verdict.VIOLATED


def test_a_planted_bug_is_left_to_the_z3_proofs() -> None:
    from statusguard.race import RaceProblem

    problem = RaceProblem(GLANCE, "cas_status", mutation="skip_compare")
    assert check_module.without_unrolling(problem, "fresh_decision") is None


ACYCLIC_SCENARIOS = ["delete_during_upload", "stale_metadata_save", "scrubber_racing_restore"]
CYCLIC_SCENARIOS = ["two_concurrent_uploads", "stage_racing_upload", "deactivate_racing_delete"]


def scenario(name: str, **kwargs: Any) -> Any:
    return check_scenario(GLANCE, scenario_named(GLANCE, name), "cas_status", **kwargs)


@pytest.mark.parametrize("name", ACYCLIC_SCENARIOS)
def test_a_scenario_without_a_cycle_is_fresh_by_rank_under_a_status_compare(
    name: str, encodings: list[str]
) -> None:
    # the whole model has cycles (its cas_status loses fresh_decision); the roles do not
    whole = verdicts(GLANCE, protocols=["cas_status"])["race.fresh_decision.cas_status"]
    assert whole.status is Verdict.VIOLATED
    res = scenario(name)
    assert (res.status, res.method) == (Verdict.PROVED, RANKED_METHOD), res.detail
    assert "can come back to itself" in res.detail
    assert encodings == []
    per_model = scenario(name, method=PER_MODEL)
    assert (per_model.status, per_model.method) == (Verdict.PROVED, INDUCTION_METHOD)


@pytest.mark.parametrize("name", CYCLIC_SCENARIOS)
def test_a_scenario_with_a_cycle_is_searched_under_a_status_compare(name: str) -> None:
    res = scenario(name)
    assert (res.status, res.method) == (Verdict.VIOLATED, EXPLICIT_METHOD)
    assert res.counterexample is not None
    assert scenario(name, method=PER_MODEL).status is Verdict.VIOLATED


@pytest.mark.parametrize("name", CYCLIC_SCENARIOS)
def test_a_scenario_with_a_cycle_builds_no_schedule_it_would_discard(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    walked: list[Any] = []
    real = check_module._walk_under_stale_read

    def counted(*args: Any) -> Any:
        walked.append(args)
        return real(*args)

    monkeypatch.setattr(check_module, "_walk_under_stale_read", counted)
    res = scenario(name)
    assert (res.status, res.method) == (Verdict.VIOLATED, EXPLICIT_METHOD)
    assert walked == []
    # the control: the model-level obligation does walk its cycle, and reports that schedule
    whole = verdicts(GLANCE, protocols=["cas_status"])["race.fresh_decision.cas_status"]
    assert (whole.status, whole.method) == (Verdict.VIOLATED, CYCLE_METHOD)
    assert len(walked) == 1


@pytest.mark.parametrize("name", ACYCLIC_SCENARIOS + CYCLIC_SCENARIOS)
def test_the_rank_proof_agrees_with_the_rank_argument_that_builds_the_cycle(name: str) -> None:
    from statusguard.race import RaceProblem

    sc = scenario_named(GLANCE, name)
    problem = RaceProblem(GLANCE, "cas_status", sc.start, sc.roles, dict(sc.config))
    full = check_module.without_unrolling(problem, "fresh_decision")
    ranked = check_module.rank_proof(problem)
    assert full is not None
    if name in ACYCLIC_SCENARIOS:
        assert ranked is not None
        assert ranked.status is full.status is Verdict.PROVED
        assert ranked.detail == full.detail
    else:
        assert ranked is None
        assert full.status is Verdict.VIOLATED


@pytest.mark.usefixtures("no_cycle_check")
def test_negative_control_without_the_cycle_check_a_scenario_is_wrongly_proved() -> None:
    for name in CYCLIC_SCENARIOS:
        claimed = scenario(name)
        assert (claimed.status, claimed.method) == (Verdict.PROVED, RANKED_METHOD), name
        assert scenario(name, method=PER_MODEL).status is Verdict.VIOLATED, name
