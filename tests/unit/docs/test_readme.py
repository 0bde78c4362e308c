"""The README's Python blocks run as written."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[3] / "README.md"


def blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_python_blocks() -> None:
    assert blocks(), "the README lost its runnable example"


@pytest.mark.parametrize("index", range(len(blocks())))
def test_readme_block_runs(index: int, capsys: pytest.CaptureFixture[str]) -> None:
    if importlib.util.find_spec("statusguard_models") is None:
        pytest.skip("editable install: the models import by name only from the wheel (CI)")
    pytest.importorskip("sqlalchemy", reason="the README example needs statusguard[sql]")
    exec(compile(blocks()[index], f"README.md block {index}", "exec"), {})
    out = capsys.readouterr().out
    assert "is not allowed in state 'deleted'" in out
