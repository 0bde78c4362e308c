"""The gate on generated lifecycles of many states, and ``--timeout`` as one budget.

Structural, never timed: a valid generated lifecycle proves everything (race obligations
included), a dead end thousands of steps deep is reported with its shortest trace, and a
budget too small for the work leaves every obligation it did not finish ``unknown``
(exit 1): nothing is skipped and nothing is proved by default.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from statusguard.cli import cli
from statusguard.lifecycle._deadline import OUT_OF_TIME
from tests.proofs.cli._spend import spend_after_loading

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "benchmarks"))
from lifecycles import dead_end_document, lifecycle_document, write_document  # noqa: E402


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def results_of(out: Any) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = json.loads(out.stdout)["models"][0]["results"]
    return results


def test_a_generated_lifecycle_proves_everything(tmp_path: Path) -> None:
    path = write_document(lifecycle_document(1000), tmp_path)
    out = run("check", str(path), "--format", "json")
    assert out.exit_code == 0, out.output
    results = results_of(out)
    assert {r["status"] for r in results} == {"proved"}
    race = [r for r in results if r["obligation"].startswith("race.")]
    assert len(race) == 12
    assert all(r["method"].startswith("lifecycle-parametric") for r in race)


@pytest.mark.parametrize(
    ("n", "depth"),
    [(1000, 300), pytest.param(10_000, 3000, marks=pytest.mark.slow)],
    ids=["1000-states-300-deep", "10000-states-3000-deep"],
)
def test_a_deep_dead_end_keeps_its_shortest_trace(tmp_path: Path, n: int, depth: int) -> None:
    doc = dead_end_document(n, depth)
    assert len(doc["states"]) == n
    out = run("check", str(write_document(doc, tmp_path)), "--format", "json")
    assert out.exit_code == 1
    dead = {r["obligation"]: r for r in results_of(out)}["no_dead_ends"]
    assert dead["status"] == "violated"
    trace = dead["counterexample"]["trace"]
    assert len(trace) == depth + 1  # depth steps, then the dead end
    assert trace[-1]["state"] == f"d{depth}"
    assert [t["state"] for t in trace] == [f"d{i}" for i in range(depth + 1)]


@pytest.mark.parametrize("race", [True, False], ids=["race", "no-race"])
def test_a_spent_budget_leaves_everything_unknown(
    tmp_path: Path, race: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The budget runs out right after loading (the load waits for it), so no obligation
    may run. (A budget spent while loading: tests/proofs/cli/test_cli_load_timeout.py.)"""
    from statusguard.cli import _check

    spend_after_loading(monkeypatch, _check, "_load")
    path = write_document(lifecycle_document(2000), tmp_path)
    out = run(
        "check",
        str(path),
        "--timeout",
        "2",
        "--format",
        "json",
        *([] if race else ["--no-race"]),
    )
    assert out.exit_code == 1, out.output
    results = results_of(out)
    assert {r["status"] for r in results} == {"unknown"}
    assert all(OUT_OF_TIME in r["detail"] for r in results)
    assert len([r for r in results if r["obligation"].startswith("race.")]) == (12 if race else 0)


def test_a_scenario_out_of_time_is_unknown_never_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    from statusguard.cli import _race

    spend_after_loading(monkeypatch, _race, "load_targets")
    out = run("race", str(ROOT / "model/glance_image.py"), "--timeout", "1", "--format", "json")
    assert out.exit_code == 1, out.output
    results = results_of(out)
    scenarios = [r for r in results if r["obligation"].startswith("race.scenario.")]
    assert len(scenarios) == 24  # six scenarios, four protocols: every one reported
    assert {r["status"] for r in scenarios} == {"unknown"}
    assert all(OUT_OF_TIME in r["detail"] for r in scenarios)
