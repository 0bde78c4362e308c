"""``check --timeout`` bounds loading too: an expired budget while a model loads is an
``unknown`` report (exit 1), within a small bound of CPU, never a crash or exit 2.

The negative control runs the same check, on a larger document, with the loading steps'
deadline checks replaced by no-ops: it then spends seconds loading before the budget is
looked at.
"""

from __future__ import annotations

import gc
import json
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from statusguard.cli import cli
from statusguard.lifecycle import _jsonio, _loading, _model, _positions, _runtime, _validate
from statusguard.lifecycle._deadline import OUT_OF_TIME
from tests._budget import _cpu_seconds
from tests.proofs.cli.test_ci_formats import sarif_schema

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "benchmarks"))
from lifecycles import lifecycle_document, write_document  # noqa: E402

BOUND_CPU_S = 0.5
"""CPU seconds an expired check may spend (the unchecked load of 10,000 states: ~0.6 s, of
30,000: ~2 s, on 2026-12-02)."""


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def schema() -> dict[str, Any]:
    text = resources.files("statusguard").joinpath("schemas/check-v1.schema.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_document(lifecycle_document(10_000), tmp_path_factory.mktemp("big"))


@pytest.fixture(scope="module")
def bigger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """For the negative control and the mid-load budget: loading 10,000 states unchecked
    has become cheap enough (~0.6 s) to sit at the bound; 30,000 take 2.0-2.3 s."""
    return write_document(lifecycle_document(30_000), tmp_path_factory.mktemp("bigger"))


def timed_check(path: Path, *args: str) -> tuple[Any, float]:
    """The check's CPU seconds, as in a fresh ``statusguard`` process.

    The objects the test session already holds are frozen out of the cyclic collector
    first: late in a long run one full collection over them costs up to a second (1.19 CPU s
    for a 0.3 s budget was seen in CI), work the CLI's own process never does.
    """
    gc.collect()
    gc.freeze()
    try:
        cpu = _cpu_seconds()
        out = run("check", str(path), "--format", "json", *args)
        return out, _cpu_seconds() - cpu
    finally:
        gc.unfreeze()


def test_a_spent_budget_while_loading_is_unknown_and_cheap(big: Path) -> None:
    out, cpu = timed_check(big, "--timeout", "0.001")
    assert out.exit_code == 1, out.output
    doc = json.loads(out.stdout)
    jsonschema.validate(doc, schema())
    assert doc["models"] == []
    [unloaded] = doc["unloaded"]
    assert unloaded["target"] == str(big)
    assert unloaded["obligation"] == "loading"
    assert unloaded["status"] == "unknown"
    assert OUT_OF_TIME in unloaded["detail"]
    assert "raise --timeout" in unloaded["detail"]
    assert cpu < BOUND_CPU_S, f"{cpu:.2f} CPU s after the budget ran out"


@pytest.mark.parametrize("fmt", ["text", "junit", "sarif"])
def test_every_format_reports_the_unloaded_target(big: Path, fmt: str) -> None:
    out = run("check", str(big), "--timeout", "0.001", "--format", fmt)
    assert out.exit_code == 1, out.output
    assert "loading" in out.stdout
    assert "raise --timeout" in out.stdout
    if fmt == "text":
        assert "not loaded within --timeout" in out.stdout
    if fmt == "junit":
        xmlschema = pytest.importorskip("xmlschema")
        xmlschema.XMLSchema(str(ROOT / "tests/data/junit-10.xsd")).validate(out.stdout)
        [case] = ET.fromstring(out.stdout).iter("testcase")
        assert case.get("name") == "loading"
        assert case.find("error") is not None
    if fmt == "sarif":
        log = json.loads(out.stdout)
        sarif_schema().validate(log)
        [result] = log["runs"][0]["results"]
        assert (result["ruleId"], result["level"]) == ("loading", "warning")


def test_a_budget_running_out_mid_load_stops_it_there(bigger: Path) -> None:
    """A budget that ends inside the load (not before it starts) stops it soon after.

    On the 30,000 states, whose load takes about seven times the budget: on 10,000 it
    takes only twice as long, so a faster load would end before the budget does."""
    out, cpu = timed_check(bigger, "--timeout", "0.3")
    assert out.exit_code == 1, out.output
    [unloaded] = json.loads(out.stdout)["unloaded"]
    assert unloaded["status"] == "unknown"
    assert cpu < 0.3 + BOUND_CPU_S, f"{cpu:.2f} CPU s with a 0.3 s budget"


def test_other_targets_are_reported_not_checked(big: Path) -> None:
    out = run(
        "check", str(ROOT / "model/glance_image.py"), str(big), "--timeout", "0.001",
        "--format", "json",
    )  # fmt: skip
    assert out.exit_code == 1, out.output
    doc = json.loads(out.stdout)
    jsonschema.validate(doc, schema())
    assert [u["target"] for u in doc["unloaded"]] == [str(ROOT / "model/glance_image.py"), str(big)]
    assert {u["status"] for u in doc["unloaded"]} == {"unknown"}


def test_a_generous_budget_still_proves(tmp_path: Path) -> None:
    path = write_document(lifecycle_document(1000), tmp_path)
    out = run("check", str(path), "--timeout", "60", "--format", "json")
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert "unloaded" not in doc
    assert {r["status"] for r in doc["models"][0]["results"]} == {"proved"}


def _unpaced(items: Iterable[Any], doing: str) -> Iterator[Any]:
    return iter(items)


def test_negative_control_without_the_checks_the_load_runs_on(
    bigger: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, checked_cpu = timed_check(bigger, "--timeout", "0.001")
    assert [u["target"] for u in json.loads(out.stdout)["unloaded"]] == [str(bigger)]
    assert checked_cpu < BOUND_CPU_S, f"{checked_cpu:.2f} CPU s after the budget ran out"
    for module in (_jsonio, _loading, _model, _positions, _runtime, _validate):
        monkeypatch.setattr(module, "check", lambda doing: None)
    monkeypatch.setattr(_runtime, "paced", _unpaced)
    out, cpu = timed_check(bigger, "--timeout", "0.001")
    assert out.exit_code == 1  # the proofs then find the budget spent
    doc = json.loads(out.stdout)
    # Loaded to the end: the model is there, every obligation unknown, nothing unloaded.
    assert "unloaded" not in doc
    [model] = doc["models"]
    assert {r["status"] for r in model["results"]} == {"unknown"}
    assert cpu > BOUND_CPU_S, f"the unchecked load took only {cpu:.2f} CPU s"


def test_diff_loads_within_its_budget(big: Path) -> None:
    cpu = _cpu_seconds()
    out = run("diff", str(big), str(big), "--timeout", "0.001")
    spent = _cpu_seconds() - cpu
    assert out.exit_code == 1, out.output
    assert out.stdout == ""
    assert f"statusguard: unknown: loading {str(big)!r}: {OUT_OF_TIME}" in out.stderr
    assert spent < BOUND_CPU_S, f"{spent:.2f} CPU s after the budget ran out"


def test_diff_with_a_generous_budget_compares(tmp_path: Path) -> None:
    path = write_document(lifecycle_document(100), tmp_path)
    out = run("diff", str(path), str(path), "--timeout", "60")
    assert out.exit_code == 0, out.output
    assert "no change" in out.stdout


def test_prove_reports_the_unloaded_targets_in_its_document(big: Path) -> None:
    cpu = _cpu_seconds()
    out = run("prove", str(big), str(ROOT / "model/glance_task.py"), "--timeout", "0.001")
    spent = _cpu_seconds() - cpu
    assert out.exit_code == 1, out.output
    assert f"statusguard: unknown: loading {str(big)!r}: {OUT_OF_TIME}" in out.stderr
    doc = json.loads(out.stdout)
    assert doc["manifests"] == []
    first, second = doc["unloaded"]
    assert (first["target"], first["obligation"], first["status"]) == (
        str(big),
        "loading",
        "unknown",
    )
    assert OUT_OF_TIME in first["detail"]
    assert second["target"] == str(ROOT / "model/glance_task.py")
    assert second["detail"].startswith(f"not checked: loading {str(big)!r}")
    assert spent < BOUND_CPU_S, f"{spent:.2f} CPU s after the budget ran out"


def test_prove_write_records_nothing_when_loading_runs_out(big: Path, tmp_path: Path) -> None:
    out = run("prove", str(big), "--write", "--proofs", str(tmp_path), "--timeout", "0.001")
    assert out.exit_code == 1, out.output
    assert out.stdout == ""
    assert f"statusguard: unknown: loading {str(big)!r}: {OUT_OF_TIME}" in out.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_loaded_prove_document_has_no_unloaded_key() -> None:
    out = run("prove", str(ROOT / "model/glance_task.py"))
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert "unloaded" not in doc
    assert [m["model"] for m in doc["manifests"]] == ["glance-task"]


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_race_reports_the_unloaded_target_in_its_format(big: Path, fmt: str) -> None:
    out = run("race", str(big), "--timeout", "0.001", "--format", fmt)
    assert out.exit_code == 1, out.output
    assert out.stderr == ""
    if fmt == "json":
        doc = json.loads(out.stdout)
        assert doc["models"] == []
        [unloaded] = doc["unloaded"]
        assert (unloaded["target"], unloaded["obligation"]) == (str(big), "loading")
        assert unloaded["status"] == "unknown"
        assert OUT_OF_TIME in unloaded["detail"]
    else:
        assert "not loaded within --timeout" in out.stdout
        assert "raise --timeout" in out.stdout


def test_a_loaded_race_report_has_no_unloaded_key() -> None:
    out = run("race", str(ROOT / "model/glance_task.py"), "--format", "json")
    assert out.exit_code == 0, out.output
    assert "unloaded" not in json.loads(out.stdout)
