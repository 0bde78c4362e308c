"""The examples in docs/lifecycle.md run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "lifecycle.md"


def test_lifecycle_doc_examples_run(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DOC.is_file(), f"{DOC} is missing: the lifecycle guide ships with the repository"
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    assert len(blocks) >= 4
    monkeypatch.chdir(ROOT)  # the loading example uses repository-relative paths
    namespace: dict[str, object] = {"__name__": "docs_lifecycle"}
    for block in blocks:
        # dont_inherit: run as a reader would, without this module's ``from __future__`` flags
        exec(compile(block, str(DOC), "exec", dont_inherit=True), namespace)
    assert "DOOR" in namespace
