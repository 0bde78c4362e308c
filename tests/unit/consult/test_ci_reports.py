"""JUnit XML, SARIF 2.1.0 and GitHub annotations point at the model's file and line.

Reports are built from verdicts written by hand (no solver): the renderers and the
locator are what is tested here. The SARIF is validated against the published 2.1.0
schema and the JUnit against Jenkins' junit-10.xsd, both vendored in tests/data (see
its README for their sources); ``tests/proofs/cli/test_ci_formats.py`` runs the
commands end to end.
"""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import statusguard as sg
from statusguard.consult._ci import github_annotations, junit, sarif
from statusguard.consult._locate import findings, locate
from statusguard.consult._reports import CheckedModel, CheckReport
from statusguard.lifecycle import Never
from statusguard.results import Counterexample, ObligationResult, TraceStep, Verdict

DATA = Path(__file__).resolve().parents[2] / "data"
HASHES = {
    "sarif-schema-2.1.0.json": "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e",
    "junit-10.xsd": "a1a816f58d1bf95ebabf371994df0b9246dee66ea9572fbec4f9296f1b2c0ff6",
}
HERE = Path(__file__).resolve()


def door() -> Any:
    """Nondeterministic, leaving a terminal state, and breaking its invariant (built
    leniently, as the commands load models)."""
    from statusguard.lifecycle._model import _lenient

    with _lenient():
        return sg.Lifecycle(
            "door",
            states=["open", "closed", "gone"],
            initial="open",
            terminal=["gone"],
            transitions=[
                sg.Transition("close", "open", "closed"),  # LINE_CLOSE
                sg.Transition("remove", "closed", "gone"),
                sg.Transition("close", "open", "gone"),  # LINE_NONDET
                sg.Transition("revive", "gone", "open"),  # LINE_REVIVE
            ],
            invariants=[Never("never_back", source="gone", target="open")],  # LINE_NEVER
        )


def line_of(marker: str) -> int:
    lines = HERE.read_text().splitlines()
    (hit,) = [i for i, ln in enumerate(lines, 1) if ln.rstrip().endswith(f"# {marker}")]
    return hit


def trace(*steps: tuple[str, str | None]) -> Counterexample:
    return Counterexample({}, tuple(TraceStep(s, e) for s, e in steps))


def report() -> CheckReport:
    results = (
        ObligationResult("reachable", Verdict.PROVED, 0.01),
        ObligationResult(
            "deterministic", Verdict.VIOLATED, 0.002, detail="close leads to two states",
            counterexample=trace(("open", "close")),
        ),
        ObligationResult(
            "terminal_final", Verdict.VIOLATED, 0.003, detail="gone has an exit",
            counterexample=trace(("open", "close"), ("gone", "revive"), ("open", None)),
        ),
        ObligationResult(
            "never_back", Verdict.VIOLATED, 0.004, detail="gone -> open",
            counterexample=trace(("open", "close"), ("gone", "revive"), ("open", None)),
        ),
        ObligationResult("can_terminate", Verdict.UNKNOWN, 60.0, detail="z3 returned unknown"),
    )  # fmt: skip
    return CheckReport((CheckedModel(door(), results, "proofs/door/manifest.json", ("stale",)),))


def test_the_vendored_schemas_are_the_published_ones() -> None:
    for name, digest in HASHES.items():
        assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == digest, name


def test_findings_point_at_the_offending_transition_or_invariant() -> None:
    lc = door()
    by_name = {f.name: f for f in findings(report())}
    assert set(by_name) == {
        "deterministic", "terminal_final", "never_back", "can_terminate", "proofs manifest",
    }  # fmt: skip
    det = by_name["deterministic"]
    assert det.origin is not None
    assert (Path(det.origin.file).resolve(), det.origin.line) == (HERE, line_of("LINE_NONDET"))
    assert [o.line for o, _ in det.related] == [line_of("LINE_CLOSE")]
    final = by_name["terminal_final"]
    assert final.origin is not None
    assert final.origin.line == line_of("LINE_REVIVE")
    never = by_name["never_back"]
    assert never.origin is not None
    assert never.origin.line == line_of("LINE_REVIVE")  # the step the invariant forbids
    assert [o.line for o, _ in never.related] == [line_of("LINE_NEVER")]  # and the invariant
    assert by_name["can_terminate"].level == "warning"
    assert by_name["can_terminate"].origin == lc.origin  # no transition to blame
    assert by_name["proofs manifest"].origin == sg.errors.Origin("proofs/door/manifest.json", 1)


def test_a_result_without_a_trace_points_at_its_invariant_or_the_lifecycle() -> None:
    lc = door()
    origin, _ = locate(lc, ObligationResult("never_back", Verdict.UNKNOWN, 1.0))
    assert origin is not None
    assert origin.line == line_of("LINE_NEVER")
    origin, _ = locate(lc, ObligationResult("reachable", Verdict.VIOLATED, 1.0))
    assert origin == lc.origin


def test_sarif_is_valid_sarif_2_1_0_and_points_at_the_lines() -> None:
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    log = json.loads(sarif(report()))
    jsonschema.Draft4Validator(schema).validate(log)
    (run,) = log["runs"]
    results = run["results"]
    assert len(results) == 5
    lines = {
        r["partialFingerprints"]["statusguard/v1"]: r["locations"][0]["physicalLocation"]
        for r in results
    }
    revive = lines["door/terminal_final"]
    assert revive["region"]["startLine"] == line_of("LINE_REVIVE")
    assert revive["artifactLocation"]["uri"].endswith("test_ci_reports.py")
    assert {r["level"] for r in results} == {"error", "warning"}
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    for r in results:
        assert rule_ids[r["ruleIndex"]] == r["ruleId"]


def test_the_sarif_check_can_fail() -> None:
    """The control: the schema refuses a broken log, so the validation above can fail."""
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    log = json.loads(sarif(report()))
    log["runs"][0]["results"][0]["level"] = "fatal"  # not a SARIF level
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate(log)
    del log["version"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate(log)


def junit_schema() -> Any:
    xmlschema = pytest.importorskip("xmlschema", reason="pip install '.[dev]' brings xmlschema")
    return xmlschema.XMLSchema(str(DATA / "junit-10.xsd"))


def test_junit_is_valid_against_junit_10_xsd_and_counts_right() -> None:
    text = junit(report())
    junit_schema().validate(text)
    root = ET.fromstring(text)
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "door"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("6", "4", "1")
    assert root.get("failures") == "4"
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert cases["reachable"].find("failure") is None
    failure = cases["terminal_final"].find("failure")
    assert failure is not None
    assert f"test_ci_reports.py:{line_of('LINE_REVIVE')}" in failure.get("message", "")
    assert "gone" in (failure.text or "")  # the counterexample
    error = cases["can_terminate"].find("error")
    assert error is not None
    assert error.get("type") == "unknown"


def test_the_junit_check_can_fail() -> None:
    schema = junit_schema()
    broken = junit(report()).replace("<testcase ", "<testcase file='x.py' ", 1)
    assert not schema.is_valid(broken)  # junit-10 has no testcase/@file: the XSD is strict
    assert not schema.is_valid(junit(report()).replace('name="door"', "", 1))


def test_github_annotations_name_file_line_and_escape_the_message() -> None:
    lines = list(github_annotations(report()))
    assert len(lines) == 5
    final = next(ln for ln in lines if "terminal_final" in ln.split("::")[1])
    assert final.startswith("::error file=")
    assert f",line={line_of('LINE_REVIVE')}," in final
    assert "test_ci_reports.py" in final
    assert "title=statusguard door%3A terminal_final::" in final
    assert next(ln for ln in lines if "can_terminate" in ln).startswith("::warning ")
    for ln in lines:
        assert "\n" not in ln
        command, _, message = ln[2:].partition("::")
        assert "," not in command.split("title=")[1]  # escaped as %2C
        assert message
