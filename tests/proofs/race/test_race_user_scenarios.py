"""Race scenarios a user declares on their own lifecycle (not Glance), in Python and in JSON.

They run through ``statusguard race`` and ``statusguard check`` like the shipped ones, a
wrong expected verdict fails the gate, and a scenario the lifecycle cannot run is refused
with the JSON path of the culprit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import statusguard as sg
from statusguard.cli import cli
from statusguard.errors import InvalidLifecycle
from statusguard.lifecycle import SAVE, RaceScenario
from statusguard.race import race_checks
from statusguard.results import Verdict

MODEL = """
from statusguard import Lifecycle, Transition
from statusguard.lifecycle import RaceScenario

JOB = Lifecycle(
    "job",
    states=["queued", "running", "done", "cancelled"],
    initial="queued",
    terminal=["done", "cancelled"],
    transitions=[
        Transition("start", "queued", "running"),
        Transition("finish", "running", "done"),
        Transition("cancel", ["queued", "running"], "cancelled"),
    ],
    race_scenarios=[
        RaceScenario(
            "cancel_during_run",
            "the runner read running, a cancel commits, the late finish lands on cancelled",
            "running",
            [["finish"], ["cancel"]],
            {"unguarded": "violated", "cas_status": "proved",
             "cas_version": "proved", "atomic_event": "proved"},
        ),
    ],
)
"""

SCENARIO = "race.scenario.cancel_during_run"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def job_py(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("user") / "job_model.py"
    path.write_text(MODEL)
    return path


@pytest.fixture(scope="module")
def job_doc(job_py: Path) -> dict[str, Any]:
    code, out, err = run("show", str(job_py), "--format", "json")
    assert code == 0, err
    doc: dict[str, Any] = json.loads(out)
    return doc


def write_doc(tmp_path: Path, doc: dict[str, Any], name: str = "job.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def results(out: str) -> dict[str, dict[str, Any]]:
    (model,) = json.loads(out)["models"]
    return {r["obligation"]: r for r in model["results"]}


def test_the_json_document_carries_the_scenarios(job_doc: dict[str, Any]) -> None:
    (sc,) = job_doc["race_scenarios"]
    assert sc == {
        "name": "cancel_during_run",
        "doc": "the runner read running, a cancel commits, the late finish lands on cancelled",
        "start": "running",
        "roles": [["finish"], ["cancel"]],
        "expected": {
            "unguarded": "violated",
            "cas_status": "proved",
            "cas_version": "proved",
            "atomic_event": "proved",
        },
    }
    lc = sg.Lifecycle.from_json(job_doc)
    assert lc.race_scenarios[0].expected["unguarded"] is Verdict.VIOLATED
    assert lc.to_json() == job_doc


def test_a_lifecycle_without_scenarios_keeps_its_document() -> None:
    task = sg.load("model/glance_task.py")
    assert "race_scenarios" not in task.to_json()
    recorded = json.loads(Path("proofs/glance-task/manifest.json").read_text())
    assert recorded["fingerprint"] == task.fingerprint


def test_race_runs_a_user_scenario_from_python(job_py: Path) -> None:
    code, out, _ = run(
        "race", str(job_py), "--obligation", "none", "--scenario", "cancel_during_run",
        "--format", "json",
    )  # fmt: skip
    assert code == 0  # unguarded: the race is open, as the scenario declares
    got = results(out)
    assert json.loads(out)["surprises"] == 0
    assert list(got) == [f"{SCENARIO}.{p}" for p in sg.race.PROTOCOLS]
    unguarded = got[f"{SCENARIO}.unguarded"]
    assert unguarded["status"] == "violated"
    last = unguarded["counterexample"]["schedule"][-1]
    # the late write leaves the terminal state the other worker committed
    assert last["from"] in ("done", "cancelled")
    assert last["status"] != last["from"]
    assert last["read_status"] == "running"
    for p in ("cas_status", "cas_version", "atomic_event"):
        assert got[f"{SCENARIO}.{p}"]["status"] == "proved"
    text_code, text, _ = run(
        "race", str(job_py), "--obligation", "none", "--protocol", "atomic_event"
    )
    assert text_code == 0, text
    assert f"ok   {SCENARIO}.atomic_event" in text


def test_check_gates_a_user_scenario_from_json(tmp_path: Path, job_doc: dict[str, Any]) -> None:
    path = write_doc(tmp_path, job_doc)
    code, out, _ = run("check", str(path), "--format", "json")
    assert code == 0, out
    got = results(out)
    control = got[f"{SCENARIO}.unguarded.race_found"]
    assert control["status"] == "proved"
    assert control["counterexample"]["schedule"][-1]["violates"] in ("legal_steps", "absorbing")
    for p in ("cas_status", "cas_version", "atomic_event"):
        assert got[f"{SCENARIO}.{p}"]["status"] == "proved"


@pytest.mark.parametrize(
    ("protocol", "wrong", "failing"),
    [
        # claims the unguarded race is closed: the counterexample fails the gate
        ("unguarded", "proved", f"{SCENARIO}.unguarded"),
        # claims the guarded race is open: the negative control is lost
        ("atomic_event", "violated", f"{SCENARIO}.atomic_event.race_found"),
    ],
)
def test_a_wrong_expected_verdict_fails_the_gate(
    tmp_path: Path, job_doc: dict[str, Any], protocol: str, wrong: str, failing: str
) -> None:
    doc = json.loads(json.dumps(job_doc))
    doc["race_scenarios"][0]["expected"][protocol] = wrong
    code, out, _ = run("check", str(write_doc(tmp_path, doc)), "--format", "json")
    assert code == 1
    bad = [name for name, r in results(out).items() if r["status"] != "proved"]
    assert bad == [failing]


def test_gated_only_skips_protocols_a_scenario_does_not_expect(
    job_doc: dict[str, Any],
) -> None:
    doc = json.loads(json.dumps(job_doc))
    del doc["race_scenarios"][0]["expected"]["unguarded"]
    lc = sg.Lifecycle.from_json(doc)
    gated = race_checks(lc, protocols=["unguarded"], gated_only=True)
    assert [c.scenario for c in gated] == [None]  # only race.progress.unguarded
    every = race_checks(lc, protocols=["unguarded"])
    (sc,) = [c for c in every if c.scenario is not None]
    assert sc.expected is None
    assert sc.ok  # checked (and violated) but not gated
    assert sc.result.status is Verdict.VIOLATED


@pytest.mark.parametrize(
    ("edit", "path", "message"),
    [
        (lambda sc: sc.update(start="paused"), "$.race_scenarios[0].start", "unknown state"),
        (
            lambda sc: sc["roles"][1].append("abort"),
            "$.race_scenarios[0].roles[1][1]",
            "unknown event 'abort'",
        ),
        (
            lambda sc: sc.update(config={"fast": True}),
            "$.race_scenarios[0].config.fast",
            "unknown config flag",
        ),
        (lambda sc: sc.update(roles=[]), "$.race_scenarios[0].roles", "non-empty"),
        (
            lambda sc: sc["expected"].update(cas_status="unknown"),
            "$.race_scenarios[0].expected.cas_status",
            "'unknown' is not one of",
        ),
    ],
)
def test_a_scenario_the_lifecycle_cannot_run_is_refused(
    tmp_path: Path, job_doc: dict[str, Any], edit: Any, path: str, message: str
) -> None:
    doc = json.loads(json.dumps(job_doc))
    edit(doc["race_scenarios"][0])
    with pytest.raises(InvalidLifecycle) as info:
        sg.Lifecycle.from_json(doc)
    assert info.value.path == path
    assert message in str(info.value)
    code, _, err = run("check", str(write_doc(tmp_path, doc)))
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert path in err


def test_a_duplicate_scenario_name_is_refused(job_doc: dict[str, Any]) -> None:
    doc = json.loads(json.dumps(job_doc))
    doc["race_scenarios"].append(doc["race_scenarios"][0])
    with pytest.raises(InvalidLifecycle, match="duplicate race scenario") as info:
        sg.Lifecycle.from_json(doc)
    assert info.value.path == "$.race_scenarios[1].name"


def test_an_unknown_protocol_in_expected_is_refused_when_checked(
    tmp_path: Path, job_doc: dict[str, Any]
) -> None:
    doc = json.loads(json.dumps(job_doc))
    doc["race_scenarios"][0]["expected"]["cas_versoin"] = "proved"
    lc = sg.Lifecycle.from_json(doc)  # the lifecycle layer does not know the protocols
    with pytest.raises(InvalidLifecycle, match="unknown protocol 'cas_versoin'") as info:
        race_checks(lc, protocols=["atomic_event"])
    assert info.value.path == "$.race_scenarios[0].expected.cas_versoin"
    code, _, err = run("check", str(write_doc(tmp_path, doc)))
    assert code == 2
    assert "cas_versoin" in err


def test_python_scenarios_are_checked_when_the_lifecycle_is_built() -> None:
    def job(*scenarios: RaceScenario) -> sg.Lifecycle[str, str]:
        return sg.Lifecycle(
            "job",
            states=["queued", "done"],
            initial="queued",
            terminal=["done"],
            transitions=[sg.Transition("finish", "queued", "done")],
            race_scenarios=scenarios,
        )

    ok = job(RaceScenario("save_vs_finish", "", "queued", [[SAVE], ["finish"]]))
    assert ok.race_scenarios[0].requests() == (SAVE, "finish")
    with pytest.raises(InvalidLifecycle, match="unknown event 'start'") as info:
        job(RaceScenario("s", "", "queued", [["start"]]))
    assert info.value.path == "$.race_scenarios[0].roles[0][0]"
    with pytest.raises(InvalidLifecycle, match="must be 'proved' or 'violated'"):
        RaceScenario("s", "", "queued", [["finish"]], {"unguarded": "maybe"})
    with pytest.raises(InvalidLifecycle, match="roles must be a list of roles"):
        RaceScenario("s", "", "queued", ["finish"])
