"""``check`` and ``diff`` write JUnit, SARIF and a pull-request Markdown report, and print
GitHub Actions annotations under GitHub Actions (issue 15), end to end on the CLI."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from statusguard.cli import cli

DATA = Path(__file__).resolve().parents[2] / "data"
MODEL = """\
import statusguard as sg

DOOR = sg.Lifecycle(
    "door",
    states=["open", "closed", "gone"],
    initial="open",
    terminal=["gone"],
    transitions=[
        sg.Transition("close", "open", "closed"),
        sg.Transition("remove", "closed", "gone"),
{extra}    ],
)
"""
REVIVE = '        sg.Transition("revive", "gone", "open"),\n'
REVIVE_LINE = 11  # the line of REVIVE in MODEL


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def models(tmp_path: Path) -> tuple[Path, Path]:
    good = tmp_path / "old" / "door.py"
    bad = tmp_path / "new" / "door.py"
    for path, extra in ((good, ""), (bad, REVIVE)):
        path.parent.mkdir()
        path.write_text(MODEL.format(extra=extra))
    assert bad.read_text().splitlines()[REVIVE_LINE - 1] == REVIVE.rstrip("\n")
    return good, bad


def sarif_schema() -> Any:
    return jsonschema.Draft4Validator(json.loads((DATA / "sarif-schema-2.1.0.json").read_text()))


def test_check_sarif_is_valid_and_points_at_the_transition(
    models: tuple[Path, Path], tmp_path: Path
) -> None:
    _, bad = models
    out = tmp_path / "check.sarif"
    code, _, err = run("check", str(bad), "--no-race", "-o", str(out))
    assert code == 1, err
    log = json.loads(out.read_text())
    sarif_schema().validate(log)
    (result,) = [r for r in log["runs"][0]["results"] if r["ruleId"] == "terminal_final"]
    where = result["locations"][0]["physicalLocation"]
    assert where["region"]["startLine"] == REVIVE_LINE
    assert where["artifactLocation"]["uri"].endswith("new/door.py")


def test_check_junit_of_a_sound_model_has_no_failure() -> None:
    xmlschema = pytest.importorskip("xmlschema")
    code, out, _ = run("check", "model/glance_task.py", "--no-race", "--format", "junit")
    assert code == 0
    xmlschema.XMLSchema(str(DATA / "junit-10.xsd")).validate(out)
    root = ET.fromstring(out)
    assert root.get("failures") == "0"
    assert int(root.get("tests", "0")) >= 5


def test_diff_junit_and_sarif_report_the_regression(models: tuple[Path, Path]) -> None:
    xmlschema = pytest.importorskip("xmlschema")
    good, bad = models
    code, out, _ = run("diff", str(good), str(bad), "--format", "junit")
    assert code == 1
    xmlschema.XMLSchema(str(DATA / "junit-10.xsd")).validate(out)
    failed = [
        c.get("name") for c in ET.fromstring(out).iter("testcase") if c.find("failure") is not None
    ]
    assert "terminal_final" in failed
    code, out, _ = run("diff", str(good), str(bad), "--format", "sarif")
    assert code == 1
    log = json.loads(out)
    sarif_schema().validate(log)
    lines = [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in log["runs"][0]["results"]]  # fmt: skip  # noqa: E501
    assert REVIVE_LINE in lines


def test_annotations_under_github_actions(models: tuple[Path, Path]) -> None:
    _, bad = models
    env = {"GITHUB_ACTIONS": "true"}
    code, out, _ = run("check", str(bad), "--no-race", env=env)
    assert code == 1
    (line,) = [ln for ln in out.splitlines() if ln.startswith("::error") and "terminal_final" in ln]
    assert f",line={REVIVE_LINE}," in line
    assert "door.py" in line.split("file=")[1].split(",")[0]
    # A machine-readable report on stdout stays parseable: the annotations go to stderr.
    code, out, err = run("check", str(bad), "--no-race", "--format", "json", env=env)
    json.loads(out)
    assert "::error file=" in err
    # Outside GitHub Actions: no annotation.
    code, out, err = run("check", str(bad), "--no-race", env={"GITHUB_ACTIONS": ""})
    assert "::error" not in out + err


def test_diff_markdown_is_a_pull_request_report(models: tuple[Path, Path]) -> None:
    good, bad = models
    code, out, _ = run("diff", str(good), str(bad), "--format", "markdown")
    assert code == 1
    assert out.startswith("# statusguard diff: **regressed**")
    assert "| `terminal_final` | proved | violated | **REGRESSED** |" in out
    assert "```text" in out  # the counterexample (witness path)
    assert "now reach" in out  # a pair that became reachable, with its witness walk
    diagram = out.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert "stateDiagram-v2" in diagram
    assert "gone --> open: + revive" in diagram
    code, same, _ = run("diff", str(good), str(good), "--format", "markdown")
    assert code == 0
    assert "No change." in same
