"""Each kind of defect planted into the Glance image model is caught under the right name.

The planted defects are structural: only the built-in obligations are asserted on, so only
they are proved (``builtin_obligations``; the CLI with ``--no-race``). Each mutated model
is proved once (``shared_proofs``): the engine tests and the CLI's text and JSON reports of
the same model share that run.
"""

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
from statusguard.cli import cli
from statusguard.lifecycle._model import _lenient
from statusguard.results import Counterexample, ObligationResult, Verdict
from statusguard.verify import _obligations
from tests.lifecycle_strategies import replay

pytestmark = pytest.mark.usefixtures("shared_proofs")

ROOT = Path(__file__).resolve().parents[3]
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


def killed_revived(doc: dict[str, Any]) -> None:
    # Breaks the never invariant killed-never-active (and killed-only-to-deleted).
    add_edge(doc, "revive", "killed", "active")


def post_data_reset(doc: dict[str, Any]) -> None:
    # Breaks the closed invariant post-data-closed: active falls back to queued.
    add_edge(doc, "reset", "active", "queued")


OFF, ON = {"delayed_delete": False}, {"delayed_delete": True}

# (mutation, obligation that must be violated, expected config, trace length or None).
# Where the defect exists under every setting, ties go to the first setting (OFF).
CASES: list[tuple[Callable[[dict[str, Any]], None], str, dict[str, bool] | None, int | None]] = [
    (unreachable_state, "reachable", None, None),
    (dead_end, "no_dead_ends", OFF, 4),
    (trap_cycle, "can_terminate", OFF, 3),
    (nondeterminism_under_one_setting, "deterministic", ON, 2),
    (invariant_broken_deep_through_flag, "killed-only-from-saving", ON, 4),
    (terminal_with_exit, "terminal_final", OFF, 3),
    (terminal_with_exit, "deleted-is-final", OFF, 3),  # absorbing
    (terminal_with_exit, "no-resurrection", OFF, 4),  # unreachable
    (killed_revived, "killed-never-active", OFF, 4),  # never
    (killed_revived, "killed-only-to-deleted", OFF, 4),  # closed
    (post_data_reset, "post-data-closed", OFF, 3),  # closed
]


def build(mutate: Callable[[dict[str, Any]], None]) -> Lifecycle[Any, Any]:
    doc = glance_doc()
    mutate(doc)
    with _lenient():
        return Lifecycle.from_json(doc)


def by_name(results: list[ObligationResult]) -> dict[str, ObligationResult]:
    return {r.obligation: r for r in results}


#: The CLI's default, so that its runs on the same models reuse these proofs.
TIMEOUT = 60.0


def proved(lc: Lifecycle[Any, Any]) -> dict[str, ObligationResult]:
    """The built-in obligations of ``lc`` (looked up at call time: ``shared_proofs``)."""
    return by_name(_obligations.builtin_obligations(lc, timeout=TIMEOUT))


def test_the_unmutated_model_is_proved() -> None:
    results = _obligations.check_lifecycle(GLANCE, timeout=TIMEOUT)
    assert any(r.obligation.startswith("race.") for r in results)
    assert all(r.status is Verdict.PROVED for r in results)


@pytest.mark.parametrize(("mutate", "name", "config", "length"), CASES)
def test_mutation_is_caught(
    mutate: Callable[[dict[str, Any]], None],
    name: str,
    config: dict[str, bool] | None,
    length: int | None,
) -> None:
    lc = build(mutate)
    res = proved(lc)[name]
    assert res.status is Verdict.VIOLATED, res
    if name == "reachable":
        assert "orphan" in res.detail
        assert res.counterexample is None
        return
    cex = res.counterexample
    assert cex is not None
    assert dict(cex.config) == config
    assert len(cex.trace) == length, cex.render()
    replay(lc, cex, exact=name != "deterministic")


def test_deep_invariant_trace_uses_the_flag() -> None:
    lc = build(invariant_broken_deep_through_flag)
    cex = proved(lc)["killed-only-from-saving"].counterexample
    assert cex is not None
    assert [s.state for s in cex.trace] == ["queued", "active", "pending_delete", "killed"]
    assert cex.trace[1].event == "delete"
    # the facts delete tests; the others at their defaults
    assert cex.trace[1].facts == {
        "has_locations": True,
        "protected": False,
        "formats_set": True,
        "import_locked": False,
    }


def test_nondeterminism_detail_names_both_targets() -> None:
    lc = build(nondeterminism_under_one_setting)
    res = proved(lc)["deterministic"]
    assert res.counterexample is not None
    # The trace ends on the offending event and the facts under which it has two targets.
    last = res.counterexample.trace[-1]
    facts = {
        "formats_set": True,
        "has_locations": False,
        "import_locked": False,
        "protected": False,
    }
    assert (last.state, last.event, dict(last.facts)) == ("active", "delete", facts)
    assert res.counterexample.to_json()["trace"][-1] == {
        "state": "active",
        "event": "delete",
        "facts": facts,
    }
    for word in ("active", "deactivated", "deleted", "has_locations=false"):
        assert word in res.detail


def test_strict_construction_names_the_obligation() -> None:
    doc = glance_doc()
    nondeterminism_under_one_setting(doc)
    with pytest.raises(statusguard.errors.InvalidLifecycle, match="obligation 'deterministic'"):
        Lifecycle.from_json(doc)
    doc = glance_doc()
    terminal_with_exit(doc)
    with pytest.raises(statusguard.errors.InvalidLifecycle, match="obligation 'terminal_final'"):
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
    out = CliRunner().invoke(cli, ["check", str(path), "--no-race", "--format", "json"])
    assert out.exit_code == 1, out.output
    doc = json.loads(out.stdout)
    results = {r["obligation"]: r for r in doc["models"][0]["results"]}
    assert results[name]["status"] == "violated"
    if length is None:
        assert results[name]["counterexample"] is None
    else:
        cex = Counterexample.from_json(results[name]["counterexample"])
        with _lenient():
            lc = Lifecycle.from_json(json.loads(path.read_text()))
        assert results[name]["counterexample"]["config"] == config
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
    out = CliRunner().invoke(cli, ["check", str(path), "--no-race"])
    assert out.exit_code == 1, out.output
    lines = out.stdout.splitlines()
    at = next(i for i, x in enumerate(lines) if x.lstrip().startswith(f"FAIL {name} "))
    if length is None:
        assert not lines[at + 1].strip().startswith("config:")
        return
    # The trace printed right under this obligation's FAIL line is its counterexample.
    cex = proved(build(mutate))[name].counterexample
    assert cex is not None
    expected = cex.render().splitlines()
    assert expected[0] == "config: " + ", ".join(
        f"{k}={'true' if v else 'false'}" for k, v in sorted((config or {}).items())
    )
    assert [x.strip() for x in lines[at + 1 : at + 1 + len(expected)]] == [
        x.strip() for x in expected
    ]
    assert len(expected) == length + 1


def test_cli_python_model_with_a_structural_defect(tmp_path: Path) -> None:
    model = tmp_path / "bad_model.py"
    model.write_text(
        "from statusguard import Lifecycle, Transition\n"
        "BAD = Lifecycle('bad', states=['a', 'b', 'c'], initial='a', terminal=['b', 'c'],\n"
        "    transitions=[Transition('go', 'a', 'b'), Transition('go', 'a', 'c')])\n"
    )
    out = CliRunner().invoke(cli, ["check", str(model), "--no-race"])
    assert out.exit_code == 1, out.output
    assert "FAIL deterministic" in out.stdout
    # Every command gives it the same exit code (the one rule): show draws it, then names
    # the violated obligation on stderr and exits 1.
    shown = CliRunner().invoke(cli, ["show", str(model)])
    assert shown.exit_code == 1
    assert "bad: initial a" in shown.stdout
    assert "deterministic violated" in shown.stderr
    assert len(shown.stderr.strip().splitlines()) == 1


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
