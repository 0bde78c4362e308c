"""The README's guard example (docs/guard.md) runs and shows no resurrection."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def example() -> str:
    text = (ROOT / "docs" / "guard.md").read_text()
    match = re.search(r"```python\n(.*?)```", text, re.S)
    assert match is not None
    return match.group(1)


def test_example_is_short() -> None:
    assert len(example().strip().splitlines()) <= 11


def test_example_runs_and_the_image_ends_deleted() -> None:
    for _ in range(5):
        out = subprocess.run(
            [sys.executable, "-c", example()],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        lines = out.strip().splitlines()
        assert lines[-1].startswith("deleted ")
        upload_won = "[('queued', 'saving'), ('saving', 'active'), ('active', 'deleted')]"
        delete_won = "[('queued', 'saving'), ('saving', 'deleted')]"
        assert lines[-1] in (f"deleted {upload_won}", f"deleted {delete_won}")
        if lines[-1].endswith(delete_won):
            assert any(
                "refused: event 'upload_succeeded' is not allowed in state 'deleted'" in line
                for line in lines
            )
