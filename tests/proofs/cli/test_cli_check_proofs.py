"""The proofs/ workflow, the JSON output schema, and the SMT-LIB2 export re-checked by z3."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from statusguard.cli import cli
from statusguard.lifecycle._model import Lifecycle, _lenient
from statusguard.results import Verdict
from statusguard.verify import _obligations
from tests.proofs.cli._spend import spend_after_loading

ROOT = Path(__file__).resolve().parents[3]
# The shipped models, and edited copies shown in text and in JSON, are proved once.
pytestmark = pytest.mark.usefixtures("shared_proofs")


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def schema() -> dict[str, Any]:
    text = resources.files("statusguard").joinpath("schemas/check-v1.schema.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def glance_json(tmp_path: Path, edit: Any = None) -> Path:
    doc = json.loads(
        run("show", str(ROOT / "model" / "glance_image.py"), "--format", "json").stdout
    )
    if edit is not None:
        edit(doc)
    path = tmp_path / "models" / "glance.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def test_committed_manifests_match_the_shipped_models() -> None:
    out = run("check", str(ROOT / "model"), "--proofs", str(ROOT / "proofs"))
    assert out.exit_code == 0, out.output


def test_json_output_matches_its_schema(tmp_path: Path) -> None:
    ok = run("check", str(ROOT / "model"), "--format", "json")
    jsonschema.validate(json.loads(ok.stdout), schema())
    bad = glance_json(tmp_path, lambda d: d["transitions"].pop(0))  # queued -> saving gone
    out = run("check", str(bad), "--format", "json", "--proofs", str(ROOT / "proofs"))
    assert out.exit_code == 1
    doc = json.loads(out.stdout)
    jsonschema.validate(doc, schema())
    assert any(r["status"] == "violated" for r in doc["models"][0]["results"])


def test_record_then_recheck_then_stale(tmp_path: Path) -> None:
    model = glance_json(tmp_path)
    proofs = tmp_path / "proofs"
    rec = run("prove", "--write", "--proofs", str(proofs), str(model))
    assert rec.exit_code == 0, rec.output
    assert (proofs / "glance-image" / "manifest.json").is_file()
    assert run("check", str(model), "--proofs", str(proofs)).exit_code == 0
    # Edit the model without re-recording: still all proved, but the manifest is stale.
    doc = json.loads(model.read_text())
    doc["transitions"].append({"event": "kill", "source": ["uploading"], "target": "killed"})
    model.write_text(json.dumps(doc))
    plain = run("check", str(model))
    assert plain.exit_code == 1  # killed-only-from-saving now fails too
    out = run("check", str(model), "--proofs", str(proofs))
    assert out.exit_code == 1
    assert "stale manifest" in out.stdout
    assert "killed-only-from-saving: status was 'proved', now 'violated'" in out.stdout


def test_stale_fingerprint_alone_fails(tmp_path: Path) -> None:
    model = glance_json(tmp_path)
    proofs = tmp_path / "proofs"
    assert run("prove", "--write", "--proofs", str(proofs), str(model)).exit_code == 0
    doc = json.loads(model.read_text())
    doc["transitions"].append({"event": "kill", "source": ["saving"], "target": "killed"})
    model.write_text(json.dumps(doc))  # a duplicate edge: same verdicts, new fingerprint
    out = run("check", str(model), "--proofs", str(proofs), "--format", "json")
    assert out.exit_code == 1
    result = json.loads(out.stdout)["models"][0]
    assert all(r["status"] == "proved" for r in result["results"])
    assert any("stale manifest" in d for d in result["manifest"]["differences"])


def test_missing_manifest_and_missing_dir(tmp_path: Path) -> None:
    model = glance_json(tmp_path)
    (tmp_path / "empty").mkdir()
    out = run("check", str(model), "--proofs", str(tmp_path / "empty"))
    assert out.exit_code == 1
    assert "no recorded manifest" in out.stdout
    out = run("check", str(model), "--proofs", str(tmp_path / "nope"))
    assert out.exit_code == 2


def test_recorded_violation_keeps_its_counterexample(tmp_path: Path) -> None:
    model = glance_json(tmp_path, lambda d: d["transitions"].pop(0))
    proofs = tmp_path / "proofs"
    assert run("prove", "--write", "--proofs", str(proofs), str(model)).exit_code == 0
    manifest = json.loads((proofs / "glance-image" / "manifest.json").read_text())
    recorded = {o["obligation"]: o for o in manifest["obligations"]}
    assert recorded["reachable"]["status"] == "violated"
    # Violations are never accepted, even when recorded.
    assert run("check", str(model), "--proofs", str(proofs)).exit_code == 1


def z3_binary() -> str | None:
    candidate = Path(sys.executable).parent / "z3"
    if candidate.is_file():
        return str(candidate)
    return shutil.which("z3")


def mutated_models() -> list[Lifecycle[Any, Any]]:
    from tests.proofs.verify.test_obligations_mutations import CASES, build

    models = [build(mutate) for mutate in dict.fromkeys(case[0] for case in CASES)]
    with _lenient():
        models.append(
            Lifecycle.from_json(
                {
                    "format": "statusguard.lifecycle/v1",
                    "name": "vacuous",
                    "states": ["a", "b", "z"],
                    "initial": "a",
                    "transitions": [{"event": "go", "source": ["a"], "target": "b"}],
                    "invariants": [{"name": "z-final", "kind": "absorbing", "state": "z"}],
                }
            )
        )
    return models


@pytest.mark.skipif(
    z3_binary() is None, reason="no z3 command line (the z3-solver wheel ships one)"
)
def test_exported_programs_give_the_same_verdicts_in_the_z3_cli(tmp_path: Path) -> None:
    from statusguard.verify._obligations import export_programs

    checked = 0
    for lc in mutated_models():
        # The exported programs are the built-in obligations: compare with those alone.
        results = {r.obligation: r for r in _obligations.builtin_obligations(lc, timeout=60.0)}
        for name, text in export_programs(lc).items():
            path = tmp_path / f"{lc.fingerprint[7:19]}-{name}.smt2"
            path.write_text(text)
            proc = subprocess.run(
                [str(z3_binary()), str(path)],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            answers = proc.stdout.split()
            assert proc.returncode == 0, proc.stdout + proc.stderr
            assert answers[0] in ("sat", "unsat"), proc.stdout
            expected = results[name]
            if answers[0] == "sat":
                assert expected.status is Verdict.VIOLATED, (lc.name, name)
            elif len(answers) > 1 and answers[1] == "unsat":
                assert expected.status is Verdict.UNKNOWN, (lc.name, name)
                assert "vacuous" in expected.detail
            elif name == "terminal_final" and not lc.terminal:
                assert expected.status is Verdict.UNKNOWN
            else:
                assert expected.status is Verdict.PROVED, (lc.name, name, expected)
            checked += 1
    assert checked > 40


def test_export_smt_command_writes_files(tmp_path: Path) -> None:
    out = run("export-smt", str(ROOT / "model"), "-o", str(tmp_path))
    assert out.exit_code == 0, out.output
    files = sorted(p.name for p in (tmp_path / "glance-task").iterdir())
    assert "reachable.smt2" in files
    assert "no-success-after-failure.smt2" in files


def test_export_smt_keeps_the_old_out_spelling(tmp_path: Path) -> None:
    task = str(ROOT / "model" / "glance_task.py")
    old = run("export-smt", task, "--out", str(tmp_path / "old"))
    new = run("export-smt", task, "--output", str(tmp_path / "new"))
    assert (old.exit_code, new.exit_code) == (0, 0), old.output + new.output
    assert old.output.replace("/old/", "/new/") == new.output
    assert sorted(p.name for p in (tmp_path / "old" / "glance-task").iterdir()) == sorted(
        p.name for p in (tmp_path / "new" / "glance-task").iterdir()
    )
    both = run("export-smt", task, "--out", str(tmp_path / "a"), "-o", str(tmp_path / "b"))
    assert both.exit_code == 2
    assert "--out" in both.output
    assert not (tmp_path / "a").exists()
    assert not (tmp_path / "b").exists()


def long_chain(n: int) -> dict[str, Any]:
    """A correct lifecycle of ``n`` states: a chain, and a way back to its second state."""
    return {
        "format": "statusguard.lifecycle/v1",
        "name": "long-chain",
        "states": [f"s{i}" for i in range(n)],
        "initial": "s0",
        "terminal": [f"s{n - 1}"],
        "transitions": [
            {"event": "next", "source": [f"s{i}" for i in range(n - 1)], "target": "s1"},
            *(
                {"event": "advance", "source": [f"s{i}"], "target": f"s{i + 1}"}
                for i in range(n - 1)
            ),
        ],
    }


@pytest.mark.parametrize(
    ("n", "race"),
    [
        (3000, False),  # the built-in obligations: a fixpoint over 3,000 states takes > 1 ms
        (8, True),  # the race obligations: already 8 states take each > 1 ms
    ],
    ids=["builtin-3000-states", "race-8-states"],
)
def test_a_timeout_is_unknown_and_never_proved(
    tmp_path: Path, n: int, race: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from statusguard.cli import _check

    spend_after_loading(monkeypatch, _check, "_load")  # the proofs find the budget spent
    path = tmp_path / "long.json"
    path.write_text(json.dumps(long_chain(n)))
    args = ["check", str(path), "--timeout", "2", "--format", "json"]
    out = run(*args, *([] if race else ["--no-race"]))
    assert out.exit_code == 1
    results = json.loads(out.stdout)["models"][0]["results"]
    checked = [r for r in results if r["obligation"].startswith("race.") is race]
    assert checked
    statuses = {r["status"] for r in checked}
    assert "unknown" in statuses
    assert "violated" not in statuses


@pytest.mark.parametrize("args", [["--format", "xml"], ["--bogus"], ["--timeout", "soon"]])
def test_usage_errors_are_one_line_exit_2(args: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "statusguard", "check", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1
    assert proc.stderr.startswith("statusguard: error:")


def test_no_race_checks_only_the_lifecycle_obligations() -> None:
    from click.testing import CliRunner

    from statusguard.cli import cli

    runner = CliRunner()
    full = runner.invoke(cli, ["check", str(ROOT / "model" / "glance_task.py"), "--format", "json"])
    lean = runner.invoke(
        cli, ["check", str(ROOT / "model" / "glance_task.py"), "--format", "json", "--no-race"]
    )
    assert full.exit_code == lean.exit_code == 0
    names = {r["obligation"] for r in json.loads(lean.output)["models"][0]["results"]}
    all_names = {r["obligation"] for r in json.loads(full.output)["models"][0]["results"]}
    assert names
    assert not any(n.startswith("race.") for n in names)
    assert any(n.startswith("race.") for n in all_names)
    assert names < all_names
    mixed = runner.invoke(
        cli, ["check", str(ROOT / "model"), "--no-race", "--proofs", str(ROOT / "proofs")]
    )
    assert mixed.exit_code == 2
    assert "--no-race" in mixed.output
