"""One exit code for one defective model, from every command (issue 17 item 12), and
``statusguard race`` exits 0 when every verdict is the expected one (issue 15).

The rule (docs/verification.md, "Exit codes"): a model that reads but breaks an
obligation its constructor enforces (a transition out of a terminal state,
nondeterminism) is a violation, exit 1, from every command; a model that cannot be read
is exit 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from statusguard.cli import cli

DOOR: dict[str, Any] = {
    "format": "statusguard.lifecycle/v1",
    "name": "door",
    "states": ["open", "closed", "gone"],
    "initial": "open",
    "terminal": ["gone"],
    "transitions": [
        {"event": "close", "source": ["open"], "target": "closed"},
        {"event": "open", "source": ["closed"], "target": "open"},
        {"event": "remove", "source": ["closed"], "target": "gone"},
    ],
}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, doc: dict[str, Any], name: str) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc, indent=2))
    return str(path)


def revived() -> dict[str, Any]:
    """DOOR with a transition out of its terminal state."""
    doc = json.loads(json.dumps(DOOR))
    doc["transitions"].append({"event": "revive", "source": ["gone"], "target": "open"})
    return doc


def nondeterministic() -> dict[str, Any]:
    doc = json.loads(json.dumps(DOOR))
    doc["transitions"].append({"event": "close", "source": ["open"], "target": "gone"})
    return doc


def overlapping_noop() -> dict[str, Any]:
    """DOOR where closing an open door is declared a no-op, but close also moves it."""
    doc = json.loads(json.dumps(DOOR))
    doc["noops"] = [{"event": "close", "source": ["open", "closed"]}]
    return doc


COMMANDS = [
    ["check", "--no-race"],
    ["check"],
    ["prove", "--timeout", "30"],
    ["race", "--protocol", "cas_version"],
    ["diff", "{good}"],  # OLD good, NEW defective: the defect is a regression
    ["diff", "{bad}"],  # OLD defective too: NEW still breaks it
    ["show"],
    ["explain", "{target}", "open"],
    ["export-smt", "-o", "{smt}"],
    ["docs"],
    ["sql", "trigger", "--dialect", "sqlite", "--table", "t", "--column", "status"],
]


@pytest.mark.parametrize(
    "defect", [revived, nondeterministic, overlapping_noop], ids=lambda d: d.__name__
)
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_every_command_gives_a_defective_model_exit_1(
    tmp_path: Path, command: list[str], defect: Any
) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    bad = write(folder, defect(), "door.json")
    good = write(tmp_path, DOOR, "good.json")
    fill = {"good": good, "bad": bad, "target": bad, "smt": str(tmp_path / "smt")}
    args = [a.format(**fill) for a in command]
    if command[0] == "docs":
        args.append(str(folder))
    elif "{target}" not in command:
        args.append(bad)
    code, out, err = run(*args)
    assert code == 1, (args, out, err)
    assert "Traceback" not in err
    obligation = {
        revived: "terminal_final",
        nondeterministic: "deterministic",
        overlapping_noop: "noop_unchanged",
    }[defect]
    assert obligation in out + err


def test_a_model_that_cannot_be_read_is_exit_2_everywhere(tmp_path: Path) -> None:
    doc = json.loads(json.dumps(DOOR))
    doc["transitions"][0]["target"] = "ajar"  # an unknown state: not a model at all
    bad = write(tmp_path, doc, "door.json")
    for args in (["check", bad], ["race", bad], ["diff", bad, bad], ["show", bad]):
        code, _, err = run(*args)
        assert code == 2, (args, err)
        assert "unknown target state 'ajar'" in err


@pytest.mark.parametrize("noop", [False, True], ids=["plain", "with-noop"])
def test_a_sound_model_is_exit_0_from_the_same_commands(tmp_path: Path, noop: bool) -> None:
    doc = json.loads(json.dumps(DOOR))
    if noop:  # closing a closed door: accepted, no change (Glance's deactivate twice)
        doc["noops"] = [{"event": "close", "source": ["closed"]}]
    good = write(tmp_path, doc, "door.json")
    for args in (
        ["check", "--no-race", good],
        ["race", "--protocol", "cas_version", good],
        ["show", good],
        ["explain", good, "open"],
    ):
        code, out, err = run(*args)
        assert code == 0, (args, out, err)


# -- race: exit 0 when every verdict is the expected one -------------------------------


def scenario_doc(expected_unguarded: str) -> dict[str, Any]:
    doc = json.loads(json.dumps(DOOR))
    doc["race_scenarios"] = [
        {
            "name": "remove_while_opening",
            "doc": "one worker opens, another removes: the late open lands on gone",
            "start": "closed",
            "roles": [["open"], ["remove"]],
            "expected": {"unguarded": expected_unguarded, "atomic_event": "proved"},
        }
    ]
    return doc


def test_race_exits_0_when_the_unguarded_protocol_loses_as_expected(tmp_path: Path) -> None:
    path = write(tmp_path, scenario_doc("violated"), "door.json")
    code, out, _ = run("race", path, "--format", "json")
    assert code == 0, out
    doc = json.loads(out)
    assert doc["surprises"] == 0
    results = {r["obligation"]: r for r in doc["models"][0]["results"]}
    lost = results["race.scenario.remove_while_opening.unguarded"]
    assert lost["status"] == "violated"
    assert lost["expected"] == "violated"
    assert lost["surprise"] is False


def test_race_exits_1_on_a_surprise(tmp_path: Path) -> None:
    path = write(tmp_path, scenario_doc("proved"), "door.json")  # a wrong expectation
    code, out, _ = run("race", path)
    assert code == 1
    line = next(ln for ln in out.splitlines() if "remove_while_opening.unguarded" in ln)
    assert line.split()[0] == "FAIL"
    assert "violated (expected proved)" in line
    assert out.rstrip().endswith("1 surprise(s)")


def test_race_on_the_shipped_models_exits_0() -> None:
    """Every Glance verdict is the expected one: unguarded loses, cas_status's ABA."""
    code, out, _ = run("race", "model/", "--format", "json")
    assert code == 0, out
    doc = json.loads(out)
    results = [r for m in doc["models"] for r in m["results"]]
    assert doc["surprises"] == 0
    assert any(r["status"] == "violated" and r["expected"] == "violated" for r in results)
    assert any(r["status"] == "violated" and r["expected"] is None for r in results)
