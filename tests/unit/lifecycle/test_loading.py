"""statusguard.load / load_all: every target form and every LoadError."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import statusguard
from statusguard import load, load_all
from statusguard.errors import InvalidLifecycle, LoadError

MODEL_DIR = Path(__file__).resolve().parents[3] / "model"

MODEL_SRC = """
from statusguard import Lifecycle, Transition

{name} = Lifecycle(
    {lc_name!r},
    states=["a", "b"],
    initial="a",
    transitions=[Transition("go", "a", "b")],
)
"""


def write_model(folder: Path, file: str, *names: str) -> Path:
    path = folder / file
    path.write_text("".join(MODEL_SRC.format(name=n, lc_name=n.lower()) for n in names))
    return path


@pytest.fixture
def on_path(tmp_path: Path) -> Iterator[Path]:
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for mod in [m for m in sys.modules if m.startswith("sgtest_")]:
        del sys.modules[mod]


def test_load_by_path() -> None:
    lc = load(MODEL_DIR / "glance_image.py")
    assert lc.name == "glance-image"
    assert len(lc.edges()) == 23
    assert load(str(MODEL_DIR / "glance_image.py")) is lc  # the module is executed once


def test_load_path_with_name() -> None:
    lc = load(f"{MODEL_DIR / 'glance_task.py'}:GLANCE_TASK")
    assert lc.name == "glance-task"


def test_load_path_with_name_among_several(tmp_path: Path) -> None:
    path = write_model(tmp_path, "two.py", "FIRST", "SECOND")
    assert load(f"{path}:SECOND").name == "second"
    assert [lc.name for lc in load_all(path)] == ["first", "second"]


def test_load_dotted_module(on_path: Path) -> None:
    write_model(on_path, "sgtest_mod.py", "ONLY")
    assert load("sgtest_mod").name == "only"
    assert load("sgtest_mod:ONLY").name == "only"


def test_load_json_file(tmp_path: Path) -> None:
    doc = load(MODEL_DIR / "glance_image.py").to_json()
    path = tmp_path / "image.json"
    path.write_text(json.dumps(doc))
    lc = load(path)
    assert lc.to_json() == doc


def test_load_directory() -> None:
    found = load_all(MODEL_DIR)
    assert sorted(lc.name for lc in found) == ["glance-image", "glance-task"]
    with pytest.raises(LoadError, match=r"holds 2 lifecycles .*pick one with :NAME"):
        load(MODEL_DIR)


def test_load_directory_mixes_py_and_json(tmp_path: Path) -> None:
    write_model(tmp_path, "b_model.py", "BEE")
    (tmp_path / "a.json").write_text(load(MODEL_DIR / "glance_task.py").canonical_json())
    (tmp_path / "_private.py").write_text("raise SystemExit('must not run')")
    (tmp_path / "notes.txt").write_text("ignored")
    assert [lc.name for lc in load_all(tmp_path)] == ["glance-task", "bee"]


def test_one_object_under_two_names_counts_once(tmp_path: Path) -> None:
    path = write_model(tmp_path, "alias.py", "ONE")
    path.write_text(path.read_text() + "ALIAS = ONE\n")
    assert load(path).name == "one"


def test_private_names_are_not_lifecycles(tmp_path: Path) -> None:
    path = write_model(tmp_path, "priv.py", "_HIDDEN", "SHOWN")
    assert load(path).name == "shown"


# -- LoadError ---------------------------------------------------------------------


def test_missing_py_file(tmp_path: Path) -> None:
    target = str(tmp_path / "nope.py")
    with pytest.raises(LoadError, match=r"no such file") as info:
        load(target)
    assert info.value.target == target


def test_missing_json_file(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match=r"no such file"):
        load(tmp_path / "nope.json")


def test_missing_module() -> None:
    with pytest.raises(LoadError, match=r"importing it as a module failed"):
        load("sgtest_no_such_module_anywhere")


def test_not_a_target() -> None:
    with pytest.raises(LoadError, match=r"not a \.py or \.json file"):
        load("some file.txt")


def test_module_with_no_lifecycle(tmp_path: Path) -> None:
    path = tmp_path / "empty.py"
    path.write_text("X = 1\n")
    with pytest.raises(LoadError, match=r"defines no Lifecycle"):
        load(path)


def test_several_lifecycles_without_name(tmp_path: Path) -> None:
    path = write_model(tmp_path, "two.py", "FIRST", "SECOND")
    with pytest.raises(LoadError, match=r"holds 2 lifecycles \(first, second\); pick one"):
        load(path)


def test_unknown_name(tmp_path: Path) -> None:
    path = write_model(tmp_path, "two.py", "FIRST", "SECOND")
    with pytest.raises(LoadError, match=r"no Lifecycle named 'THIRD'.*FIRST, SECOND"):
        load(f"{path}:THIRD")


def test_unknown_name_in_module(on_path: Path) -> None:
    write_model(on_path, "sgtest_named.py", "ONLY")
    with pytest.raises(LoadError, match=r"no Lifecycle named 'OTHER'"):
        load("sgtest_named:OTHER")


def test_model_file_that_raises(tmp_path: Path) -> None:
    path = tmp_path / "broken.py"
    path.write_text("raise RuntimeError('boom')\n")
    with pytest.raises(LoadError, match=r"executing the model raised RuntimeError: boom"):
        load(path)
    # A failed load leaves nothing behind: fixing the file makes it load.
    write_model(tmp_path, "broken.py", "FIXED")
    assert load(path).name == "fixed"


def test_module_that_raises(on_path: Path) -> None:
    (on_path / "sgtest_raises.py").write_text("1 / 0\n")
    with pytest.raises(LoadError, match=r"ZeroDivisionError"):
        load("sgtest_raises")


def test_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match=r"holds no \.py or \.json models"):
        load(tmp_path)


def test_unreadable_json_file(tmp_path: Path) -> None:
    path = tmp_path / "bin.json"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(LoadError, match=r"cannot read the file"):
        load(path)


def test_invalid_model_file_raises_invalid_lifecycle(tmp_path: Path) -> None:
    path = tmp_path / "bad.py"
    path.write_text(
        textwrap.dedent(
            """
            from statusguard import Lifecycle, Transition
            BAD = Lifecycle("bad", states=["a"], initial="z", transitions=[])
            """
        )
    )
    with pytest.raises(InvalidLifecycle, match=r"initial state 'z'"):
        load(path)


def test_invalid_json_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"format": ')
    with pytest.raises(InvalidLifecycle, match=r"bad\.json is not valid JSON"):
        load(path)


def test_load_errors_are_statusguard_errors() -> None:
    assert issubclass(LoadError, statusguard.StatusGuardError)
    assert issubclass(InvalidLifecycle, ValueError)
