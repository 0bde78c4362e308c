"""``prove`` and ``export-smt`` edges: timeouts, a solver that gives up, file names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from statusguard.cli import cli
from statusguard.results import ObligationResult, Verdict

ROOT = Path(__file__).resolve().parents[3]
TASK = str(ROOT / "model" / "glance_task.py")
# The shipped models are proved once for all the commands here.
pytestmark = pytest.mark.usefixtures("shared_proofs")


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize("command", ["check", "prove"])
@pytest.mark.parametrize("value", ["inf", "nan", "0", "-1", "1e9"])
def test_timeout_out_of_range_is_bad_input(command: str, value: str) -> None:
    res = run(command, TASK, "--timeout", value)
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert "--timeout" in res.output


def test_prove_prints_one_shape_for_one_or_many_models() -> None:
    one = json.loads(run("prove", TASK).output)
    assert [m["model"] for m in one["manifests"]] == ["glance-task"]
    many = json.loads(run("prove", TASK, str(ROOT / "model" / "glance_image.py")).output)
    assert [m["model"] for m in many["manifests"]] == ["glance-task", "glance-image"]


def test_prove_exits_1_when_the_solver_gives_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import statusguard.verify._obligations as obligations

    def gives_up(lc: Any, *, timeout: float) -> list[ObligationResult]:
        return [ObligationResult("reachable", Verdict.UNKNOWN, 0.0, "m", "z3 answered unknown")]

    monkeypatch.setattr(obligations, "check_lifecycle", gives_up)
    res = run("prove", "--write", "--proofs", str(tmp_path), TASK)
    assert res.exit_code == 1, res.output
    assert "solver gave up on reachable" in res.output
    assert not list(tmp_path.iterdir())  # nothing recorded


def test_distinct_model_names_get_distinct_folders() -> None:
    from statusguard.verify._manifests import safe_file_name

    names = ["glance-image", "a b", "a_b", "a/b", "..", ".", "", "é", "_"]
    mapped = [safe_file_name(n) for n in names]
    assert len(set(mapped)) == len(names)
    assert safe_file_name("glance-image") == "glance-image"
    assert all(m and not m.startswith(".") and "/" not in m for m in mapped)


def test_each_exported_program_declares_only_its_relations() -> None:
    from statusguard import load
    from statusguard.verify._obligations import export_programs

    programs = export_programs(load(TASK))
    assert "(declare-rel dead " not in programs["reachable"]
    assert "(declare-rel unreach " not in programs["no_dead_ends"]
    assert "(declare-rel dead " in programs["no_dead_ends"]


@pytest.mark.parametrize(
    ("args", "code"), [(["--no-such-option"], 2), (["check", "--timeout", "inf"], 2)]
)
def test_console_entry_point_and_test_runner_agree(args: list[str], code: int) -> None:
    from statusguard.cli import main

    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == code
    assert run(*args).exit_code == code


def test_abort_exits_1_through_either_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    import click

    import statusguard.cli._check as cli_check
    from statusguard.cli import main

    def abort(*args: Any) -> Any:
        raise click.Abort

    monkeypatch.setattr(cli_check, "_load", abort)
    with pytest.raises(SystemExit) as info:
        main(["check", TASK])
    assert info.value.code == 1
    res = run("check", TASK)
    assert res.exit_code == 1
    assert "aborted" in res.output
