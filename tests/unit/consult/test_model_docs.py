"""The generated diagrams beside the shipped models never go stale."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from statusguard.cli import cli
from statusguard.cli._consult import generated_docs

MODEL = Path(__file__).resolve().parents[3] / "model"


def test_committed_model_docs_are_current() -> None:
    wanted = generated_docs(MODEL)
    assert set(wanted) == {MODEL / "glance_image.md", MODEL / "glance_task.md"}
    for path, text in wanted.items():
        assert path.is_file(), f"{path.name} is missing: run `statusguard docs model/`"
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.name} is stale: run `statusguard docs model/` and commit it"
        )
        assert "```mermaid\n---\ntitle:" in text


def test_docs_check_catches_an_edited_model(tmp_path: Path) -> None:
    runner = CliRunner()
    for sub in ("before", "after"):
        (tmp_path / sub / "model").mkdir(parents=True)
        for name in ("glance_task.py", "glance_task.md"):
            shutil.copy(MODEL / name, tmp_path / sub / "model" / name)
    assert (
        runner.invoke(cli, ["docs", "--check", str(tmp_path / "before" / "model")]).exit_code == 0
    )
    # A loaded .py model stays cached for the process: edit a copy at another path.
    folder = tmp_path / "after" / "model"
    source = folder / "glance_task.py"
    source.write_text(
        source.read_text().replace(
            "Transition(E.SUCCEED, S.PROCESSING, S.SUCCESS),",
            "Transition(E.SUCCEED, [S.PENDING, S.PROCESSING], S.SUCCESS),",
        )
    )
    result = runner.invoke(cli, ["docs", "--check", str(folder)])
    assert result.exit_code == 1
    assert "stale: " in result.stderr
    result = runner.invoke(cli, ["docs", str(folder)])
    assert result.exit_code == 0
    assert "pending --> success: succeed" in (folder / "glance_task.md").read_text()
    assert runner.invoke(cli, ["docs", "--check", str(folder)]).exit_code == 0
