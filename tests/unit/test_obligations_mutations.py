"""Each kind of defect planted into the Glance image model is caught under the right name."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import statusguard
from statusguard import Lifecycle
from statusguard._cli import cli
from statusguard._lifecycle import _lenient
from statusguard._obligations import check_lifecycle
from statusguard._results import Counterexample, ObligationResult, Verdict
from tests.lifecycle_strategies import replay

ROOT = Path(__file__).resolve().parents[2]
GLANCE = statusguard.load(ROOT / "model" / "glance_image.py")


def glance_doc() -> dict[str, Any]:
    return copy.deepcopy(GLANCE.to_json())


def add_state(doc: dict[str, Any], name: str) -> None:
    doc["states"].append(name)


def add_edge(doc: dict[str, Any], event: str, source: str, target: str, when: Any = None) -> None:
    if event not in doc["events"]:
        doc["events"].append(event)
    t: dict[str, Any] = {"event": event, "source": [source], "target": target}
    if when:
        t["when"] = when
    doc["transitions"].append(t)


def unreachable_state(doc: dict[str, Any]) -> None:
    add_state(doc, "orphan")
    add_edge(doc, "adopt", "orphan", "deleted")


def dead_end(doc: dict[str, Any]) -> None:
    add_state(doc, "parked")
    add_edge(doc, "park", "deactivated", "parked")


def trap_cycle(doc: dict[str, Any]) -> None:
    add_state(doc, "ping")
    add_state(doc, "pong")
    add_edge(doc, "serve", "active", "ping")
    add_edge(doc, "volley", "ping", "pong")
    add_edge(doc, "return", "pong", "ping")


def nondeterminism_under_one_setting(doc: dict[str, Any]) -> None:
    # Conflicts with delete(has_locations=false) -> deleted only when delayed_delete is on.
    add_edge(doc, "delete", "active", "deactivated", {"delayed_delete": True})


def invariant_broken_deep_through_flag(doc: dict[str, Any]) -> None:
    # pending_delete needs delayed_delete and has_locations: killed is now 3 steps deep.
    add_edge(doc, "scrub_failed", "pending_delete", "killed")


def terminal_with_exit(doc: dict[str, Any]) -> None:
    add_edge(doc, "undelete", "deleted", "queued")


# (mutation, obligation that must be violated, expected config, trace length or None)
CASES: list[tuple[Callable[[dict[str, Any]], None], str, dict[str, bool] | None, int | None]] = [
    (unreachable_state, "reachable", None, None),
    (dead_end, "no_dead_ends", None, 4),
    (trap_cycle, "can_terminate", None, 3),
    (nondeterminism_under_one_setting, "deterministic", {"delayed_delete": True}, 2),
    (invariant_broken_deep_through_flag, "killed-only-from-saving", {"delayed_delete": True}, 4),
    (terminal_with_exit, "terminal_final", None, 3),
]


def build(mutate: Callable[[dict[str, Any]], None]) -> Lifecycle[Any, Any]:
    doc = glance_doc()
    mutate(doc)
    with _lenient():
        return Lifecycle.from_json(doc)


def by_name(results: list[ObligationResult]) -> dict[str, ObligationResult]:
    return {r.obligation: r for r in results}


def test_the_unmutated_model_is_proved() -> None:
    assert all(r.status is Verdict.PROVED for r in check_lifecycle(GLANCE, timeout=30))


@pytest.mark.parametrize(("mutate", "name", "config", "length"), CASES)
def test_mutation_is_caught(
    mutate: Callable[[dict[str, Any]], None],
    name: str,
    config: dict[str, bool] | None,
    length: int | None,
) -> None:
    lc = build(mutate)
    res = by_name(check_lifecycle(lc, timeout=30))[name]
    assert res.status is Verdict.VIOLATED, res
    if name == "reachable":
        assert "orphan" in res.detail
        assert res.counterexample is None
        return
    cex = res.counterexample
    assert cex is not None
    if config is not None:
        assert dict(cex.config) == config
    assert len(cex.trace) == length, cex.render()
    replay(lc, cex, exact=name != "deterministic")


def test_deep_invariant_trace_uses_the_flag() -> None:
    lc = build(invariant_broken_deep_through_flag)
    cex = by_name(check_lifecycle(lc, timeout=30))["killed-only-from-saving"].counterexample
    assert cex is not None
    assert [s.state for s in cex.trace] == ["queued", "active", "pending_delete", "killed"]
    assert cex.trace[1].event == "delete"
    assert cex.trace[1].facts == {"has_locations": True}


def test_nondeterminism_detail_names_both_targets() -> None:
    lc = build(nondeterminism_under_one_setting)
    res = by_name(check_lifecycle(lc, timeout=30))["deterministic"]
    assert res.counterexample is not None
    assert res.counterexample.trace[-1].state == "active"
    for word in ("active", "deactivated", "deleted", "has_locations=false"):
        assert word in res.detail


def test_strict_construction_names_the_obligation() -> None:
    doc = glance_doc()
    nondeterminism_under_one_setting(doc)
    with pytest.raises(statusguard.InvalidLifecycle, match="obligation 'deterministic'"):
        Lifecycle.from_json(doc)
    doc = glance_doc()
    terminal_with_exit(doc)
    with pytest.raises(statusguard.InvalidLifecycle, match="obligation 'terminal_final'"):
        Lifecycle.from_json(doc)


# -- the CLI ---------------------------------------------------------------------------------


def write_doc(tmp_path: Path, mutate: Callable[[dict[str, Any]], None]) -> Path:
    doc = glance_doc()
    mutate(doc)
    path = tmp_path / f"{mutate.__name__}.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize(("mutate", "name", "config", "length"), CASES)
def test_cli_json_reports_the_violation(
    tmp_path: Path,
    mutate: Callable[[dict[str, Any]], None],
    name: str,
    config: dict[str, bool] | None,
    length: int | None,
) -> None:
    path = write_doc(tmp_path, mutate)
    out = CliRunner().invoke(cli, ["check", str(path), "--format", "json"])
    assert out.exit_code == 1, out.output
    doc = json.loads(out.stdout)
    results = {r["obligation"]: r for r in doc["models"][0]["results"]}
    assert results[name]["status"] == "violated"
    if length is not None:
        cex = Counterexample.from_json(results[name]["counterexample"])
        with _lenient():
            lc = Lifecycle.from_json(json.loads(path.read_text()))
        assert len(cex.trace) == length
        replay(lc, cex, exact=name != "deterministic")


@pytest.mark.parametrize(("mutate", "name", "config", "length"), CASES)
def test_cli_text_reports_the_violation(
    tmp_path: Path,
    mutate: Callable[[dict[str, Any]], None],
    name: str,
    config: dict[str, bool] | None,
    length: int | None,
) -> None:
    path = write_doc(tmp_path, mutate)
    out = CliRunner().invoke(cli, ["check", str(path)])
    assert out.exit_code == 1, out.output
    line = next(x for x in out.stdout.splitlines() if f" {name} " in x)
    assert line.lstrip().startswith("FAIL")
    if length is not None:
        assert "config:" in out.stdout
        assert "-->" in out.stdout


def test_cli_python_model_with_a_structural_defect(tmp_path: Path) -> None:
    model = tmp_path / "bad_model.py"
    model.write_text(
        "from statusguard import Lifecycle, Transition\n"
        "BAD = Lifecycle('bad', states=['a', 'b', 'c'], initial='a', terminal=['b', 'c'],\n"
        "    transitions=[Transition('go', 'a', 'b'), Transition('go', 'a', 'c')])\n"
    )
    out = CliRunner().invoke(cli, ["check", str(model)])
    assert out.exit_code == 1, out.output
    assert "FAIL deterministic" in out.stdout
    # Outside the checker the constructor refuses it, naming the obligation (exit 2).
    shown = CliRunner().invoke(cli, ["show", str(model)])
    assert shown.exit_code == 2
    assert "obligation 'deterministic'" in shown.output
    assert len(shown.output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("mutate_doc", "needle"),
    [
        (
            lambda d: d["transitions"].append(
                {"event": "delete", "source": ["nowhere"], "target": "deleted"}
            ),
            "nowhere",
        ),
        (lambda d: d.pop("states"), "states"),
        (lambda d: d.update(format="other/v9"), "format"),
    ],
)
def test_cli_malformed_documents_exit_2(
    tmp_path: Path, mutate_doc: Callable[[dict[str, Any]], Any], needle: str
) -> None:
    doc = glance_doc()
    mutate_doc(doc)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(doc))
    out = CliRunner().invoke(cli, ["check", str(path)])
    assert out.exit_code == 2
    assert needle in out.output
    assert len(out.output.strip().splitlines()) == 1
    assert "Traceback" not in out.output


def test_cli_not_json_and_bad_timeout_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "junk.json"
    path.write_text("{not json")
    out = CliRunner().invoke(cli, ["check", str(path)])
    assert out.exit_code == 2
    assert len(out.output.strip().splitlines()) == 1
    out = CliRunner().invoke(cli, ["check", str(ROOT / "model"), "--timeout", "0"])
    assert out.exit_code == 2
    assert "--timeout" in out.output


def test_cli_shipped_models_exit_0() -> None:
    out = CliRunner().invoke(cli, ["check", str(ROOT / "model")])
    assert out.exit_code == 0, out.output
    assert "all proved" in out.stdout


def test_import_does_not_load_z3() -> None:
    import subprocess
    import sys

    code = (
        "import sys, statusguard, statusguard._cli, statusguard._obligations; "
        "assert 'z3' not in sys.modules, 'z3 imported eagerly'"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
