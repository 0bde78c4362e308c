"""Import cost and the installed package: what ``import statusguard`` loads, models by name."""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import pytest

import statusguard

MODEL_DIR = Path(__file__).resolve().parents[2] / "model"
HEAVY = ("z3", "sqlalchemy", "hypothesis", "jsonschema", "jsonschema_rs")


def modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_import_statusguard_stays_light() -> None:
    loaded = modules_after("import statusguard")
    assert "statusguard" in loaded
    heavy = {m for m in loaded for h in HEAVY if m == h or m.startswith(h + ".")}
    assert heavy == set()


def test_the_check_sees_heavy_imports() -> None:
    """The subprocess check above can fail: importing statusguard.testing loads hypothesis."""
    loaded = modules_after("import statusguard.testing")
    assert "hypothesis" in loaded


def test_building_a_lifecycle_in_python_stays_light() -> None:
    loaded = modules_after(
        f"import statusguard; statusguard.load({str(MODEL_DIR / 'glance_image.py')!r})"
    )
    assert not {"z3", "sqlalchemy", "hypothesis"} & loaded


NOT_FOR_CHECK = (
    "statusguard.guard",
    "statusguard.sql",
    "statusguard.consult._diff",
    "opentelemetry",
)


def after_cli(*argv: str) -> set[str]:
    return modules_after(
        "import statusguard.cli\ntry:\n"
        f"    statusguard.cli.main({list(argv)!r})\nexcept SystemExit:\n    pass"
    )


def test_the_check_command_loads_only_what_it_runs() -> None:
    root = MODEL_DIR.parent
    loaded = after_cli("check", str(MODEL_DIR), "--proofs", str(root / "proofs"))
    assert {"z3", "statusguard.race._gate", "statusguard.verify._obligations"} <= loaded
    assert {m for m in loaded for n in NOT_FOR_CHECK if m == n or m.startswith(n + ".")} == set()


def test_a_listing_loads_every_command() -> None:
    """The check above can fail: ``--help`` imports every command's module."""
    loaded = after_cli("--help")
    assert {"statusguard.sql", "statusguard.cli._sql", "statusguard.cli._consult"} <= loaded


def test_py_typed_and_schema_ship_with_the_package() -> None:
    root = Path(statusguard.__file__).parent
    assert (root / "py.typed").is_file()
    schema = json.loads((root / "schemas" / "lifecycle-v1.schema.json").read_text())
    assert schema["properties"]["format"]["const"] == "statusguard.lifecycle/v1"


def _editable() -> bool:
    try:
        text = importlib.metadata.distribution("statusguard").read_text("direct_url.json")
    except importlib.metadata.PackageNotFoundError:
        return True
    return bool(text) and bool(json.loads(text or "{}").get("dir_info", {}).get("editable"))


@pytest.mark.skipif(
    _editable(),
    reason="editable install: model/ is not the package statusguard_models there "
    "(CI installs the wheel, where this test runs)",
)
def test_models_import_by_name_after_wheel_install() -> None:
    image = importlib.import_module("statusguard_models.glance_image")
    task = importlib.import_module("statusguard_models.glance_task")
    assert statusguard.load(MODEL_DIR / "glance_image.py") == image.GLANCE_IMAGE
    assert task.GLANCE_TASK.name == "glance-task"
    assert statusguard.load("statusguard_models.glance_image").name == "glance-image"
    assert statusguard.load("statusguard_models.glance_task:GLANCE_TASK").name == "glance-task"
    assert image.ImageStatus.ACTIVE == "active"


def test_the_guard_path_loads_no_schema_validator() -> None:
    """Validation is for loading JSON documents: a guard over a Python model never pays it."""
    loaded = modules_after(
        f"import statusguard; lc = statusguard.load({str(MODEL_DIR / 'glance_task.py')!r}); "
        "g = statusguard.Guard(lc, statusguard.MemoryStore()); g.store.create('k', lc.initial)"
    )
    assert "statusguard.guard" in loaded
    assert not {"jsonschema", "jsonschema_rs"} & loaded
