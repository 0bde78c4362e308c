"""Writing models: errors name the file and line, folders may hold helpers, names are unique.

Issue 17 items 5 and 11: duplicate lifecycle names in one target are refused naming both
files (for every command that loads a folder, ``prove --write`` included); an error
raised while a ``.py`` model runs names its file and line (with a did-you-mean for a
misspelt name); errors in Python-built lifecycles point at the ``Transition(...)`` or
invariant that is wrong; an unknown JSON key is reported as the unknown key it is; a
model folder may hold helper modules.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

import statusguard as sg
from statusguard.cli import cli
from statusguard.errors import InvalidLifecycle, LoadError
from statusguard.lifecycle import Absorbing

DOOR_PY = """\
import enum
import statusguard as sg

class S(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"

DOOR = sg.Lifecycle(
    {name!r},
    states=list(S),
    initial=S.{initial},
    transitions=[
        sg.Transition("close", S.OPEN, S.CLOSED),
        sg.Transition("open", S.CLOSED, S.OPEN),
    ],
)
"""

DOOR_JSON = {
    "format": "statusguard.lifecycle/v1",
    "name": "door",
    "states": ["open", "closed"],
    "initial": "open",
    "transitions": [
        {"event": "close", "source": ["open"], "target": "closed"},
        {"event": "open", "source": ["closed"], "target": "open"},
    ],
}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


# -- item 5: duplicate names -------------------------------------------------------------


@pytest.fixture
def twins(tmp_path: Path) -> Path:
    """A folder with two different lifecycles named 'door' (a .py and a .json)."""
    folder = tmp_path / "models"
    folder.mkdir()
    write(folder / "a_door.py", DOOR_PY.format(name="door", initial="OPEN"))
    doc = dict(DOOR_JSON, initial="closed")
    (folder / "b_door.json").write_text(json.dumps(doc, indent=2))
    return folder


def test_load_all_refuses_two_lifecycles_with_one_name(twins: Path) -> None:
    with pytest.raises(LoadError) as info:
        sg.load_all(twins)
    message = str(info.value)
    assert "two lifecycles are named 'door'" in message
    assert "a_door.py:8" in message  # where DOOR = sg.Lifecycle(...) is written
    assert "b_door.json:1" in message


@pytest.mark.parametrize(
    "command",
    [
        ["prove", "--write", "--proofs", "{proofs}"],
        ["check"],
        ["check", "--no-race"],
        ["race"],
        ["show"],
        ["export-smt", "-o", "{proofs}"],
        ["docs"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_every_command_taking_a_folder_refuses_duplicates(
    twins: Path, tmp_path: Path, command: list[str]
) -> None:
    args = [a.format(proofs=tmp_path / "out") for a in command]
    code, out, err = run(*args, str(twins))
    assert code == 2, (out, err)
    assert "two lifecycles are named 'door'" in err
    assert "a_door.py" in err
    assert "b_door.json" in err
    assert not (tmp_path / "out").exists()  # prove --write wrote nothing


def test_two_targets_with_one_name_are_refused(twins: Path) -> None:
    code, _, err = run("check", str(twins / "a_door.py"), str(twins / "b_door.json"))
    assert code == 2
    assert "two lifecycles are named 'door'" in err


def test_the_same_lifecycle_reached_twice_is_not_a_clash(tmp_path: Path) -> None:
    """A model importing another model's lifecycle holds the same object: one lifecycle."""
    write(tmp_path / "door.py", DOOR_PY.format(name="door", initial="OPEN"))
    write(tmp_path / "reuse.py", "from door import DOOR\n")
    assert [lc.name for lc in sg.load_all(tmp_path)] == ["door"]


# -- item 11: errors name the file and line ----------------------------------------------


def test_an_error_while_the_model_runs_names_file_line_and_a_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path / "door.py", DOOR_PY.format(name="door", initial="OPN"))
    with pytest.raises(LoadError) as info:
        sg.load(path)
    message = str(info.value)
    assert "AttributeError: OPN" in message
    assert f"{path}:11" in message  # the initial= line
    assert "did you mean 'OPEN'?" in message
    code, _, err = run("show", str(path))
    assert code == 2
    assert "door.py:11" in err


def test_a_name_error_gets_a_suggestion_from_the_module(tmp_path: Path) -> None:
    path = write(
        tmp_path / "door.py",
        DOOR_PY.format(name="door", initial="OPEN").replace("list(S)", "list(SS)"),
    )
    with pytest.raises(LoadError, match=r"NameError: .*'SS'.* at .*door.py:10; did you mean 'S'"):
        sg.load(path)


def test_a_syntax_error_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path / "door.py", "import statusguard\nDOOR = (\n")
    with pytest.raises(LoadError, match=r"SyntaxError: .* at .*door.py:2"):
        sg.load(path)


def test_errors_in_python_built_lifecycles_point_at_the_transition(tmp_path: Path) -> None:
    source = DOOR_PY.format(name="door", initial="OPEN").replace(
        'sg.Transition("open", S.CLOSED, S.OPEN)', 'sg.Transition("open", S.CLOSED, "ajar")'
    )
    path = write(tmp_path / "door.py", source)
    with pytest.raises(InvalidLifecycle) as info:
        sg.load(path)
    exc = info.value
    assert exc.path == "$.transitions[1].target"
    assert exc.origin is not None
    assert exc.origin.line == 14
    assert Path(exc.origin.file).resolve() == path.resolve()
    assert "door.py:14" in str(exc)


def test_errors_in_invariants_point_at_the_invariant() -> None:
    with pytest.raises(InvalidLifecycle) as info:
        sg.Lifecycle(
            "door",
            states=["open", "closed"],
            initial="open",
            transitions=[sg.Transition("close", "open", "closed")],
            invariants=[
                Absorbing("stays_shut", state="closd"),  # the line the error names
            ],
        )
    exc = info.value
    here = Path(__file__).resolve()
    assert exc.origin is not None
    assert Path(exc.origin.file).resolve() == here
    line = here.read_text().splitlines()[exc.origin.line - 1]
    assert "Absorbing(" in line
    assert "did you mean 'closed'?" in str(exc)


def test_json_errors_name_the_line_of_the_element(tmp_path: Path) -> None:
    doc = json.loads(json.dumps(DOOR_JSON))
    doc["transitions"][1]["target"] = "ajar"
    path = tmp_path / "door.json"
    path.write_text(json.dumps(doc, indent=2))
    with pytest.raises(InvalidLifecycle) as info:
        sg.load(path)
    lines = path.read_text().splitlines()
    assert info.value.origin is not None
    assert '"target": "ajar"' in lines[info.value.origin.line - 1]


def test_an_unknown_json_key_is_reported_as_the_unknown_key(tmp_path: Path) -> None:
    doc = json.loads(json.dumps(DOOR_JSON))
    first = doc["transitions"][0]
    first["sources"] = first.pop("source")
    with pytest.raises(InvalidLifecycle) as info:
        sg.Lifecycle.from_json(doc)
    assert info.value.path == "$.transitions[0].sources"
    assert "unknown key 'sources'" in str(info.value)
    assert "did you mean 'source'?" in str(info.value)
    assert "missing required key" not in str(info.value)


def test_origins_stay_out_of_equality_and_the_fingerprint(tmp_path: Path) -> None:
    path = tmp_path / "door.json"
    path.write_text(json.dumps(DOOR_JSON, indent=2))
    from_file = sg.load(path)
    from_dict = sg.Lifecycle.from_json(DOOR_JSON)
    assert from_file.transitions[1].origin is not None
    assert from_dict.transitions[1].origin is None
    assert from_file == from_dict
    assert from_file.fingerprint == from_dict.fingerprint
    assert hash(from_file.transitions[1]) == hash(from_dict.transitions[1])


# -- item 11: the folder rule ------------------------------------------------------------


def test_a_folder_may_hold_helper_modules(tmp_path: Path) -> None:
    write(tmp_path / "helpers.py", "def closed():\n    return 'closed'\n")
    write(
        tmp_path / "door.py",
        DOOR_PY.format(name="door", initial="OPEN").replace(
            "import enum\n", "import enum\nfrom helpers import closed\n"
        ),
    )
    write(tmp_path / "_private.py", "raise RuntimeError('never run')\n")
    assert [lc.name for lc in sg.load_all(tmp_path)] == ["door"]
    code, out, err = run("show", str(tmp_path))
    assert code == 0, err
    assert "door" in out
    assert "helpers.py: defines no Lifecycle at top level; skipped as a helper module" in err
    assert "_private" not in err


def test_a_helper_named_on_its_own_is_still_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "helpers.py", "X = 1\n")
    with pytest.raises(LoadError, match="defines no Lifecycle"):
        sg.load_all(path)


def test_a_folder_of_helpers_only_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "helpers.py", "X = 1\n")
    with pytest.raises(LoadError, match="define no Lifecycle"):
        sg.load_all(tmp_path)
