"""Glance's own tests (from the installed 33.0.0 wheel) with statusguard enabled.

The slow test runs the whole selection of ``run_glance_units.py`` with and without the
integration and checks the failures by name: the environment's (both runs) and the tests
that assert a write the lifecycle forbids (only with statusguard; docs/glance.md lists
them). The fast one runs just those refused tests: they pass on Glance alone and fail
with statusguard's refusal, so the list cannot grow or shrink silently.
"""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    pytest.importorskip(
        "glance.db.sqlalchemy.api", reason="glance is not installed: pip install '.[glance]'"
    )

from tests.integration.glance import run_glance_units as runner

DOC = Path(__file__).resolve().parents[3] / "docs" / "glance.md"


def _run(tmp_path: Path, *, without: bool, select: list[str] | None = None) -> tuple[int, set[str]]:
    xml = tmp_path / ("without.xml" if without else "with.xml")
    cmd, env, site = runner.command(
        without=without, extra=["-p", "no:warnings", f"--junitxml={xml}", *(select or [])]
    )
    if select is not None:  # only the named tests
        cmd = [c for c in cmd if c not in runner.GLANCE_UNIT_TESTS + runner.GLANCE_SQL_TESTS]
    subprocess.run(cmd, cwd=site, env=env, check=False, capture_output=True, timeout=900)
    return runner.failures(xml)


def test_the_refused_glance_tests_are_the_documented_ones(tmp_path: Path) -> None:
    names = sorted(runner.REFUSED_ILLEGAL_WRITES)
    doc = DOC.read_text()
    for name in names:
        assert name.split("::", 1)[1] in doc, f"{name} is not listed in docs/glance.md"
    total, failed = _run(tmp_path, without=True, select=names)
    assert (total, failed) == (len(names), set())  # Glance alone: they pass
    total, failed = _run(tmp_path, without=False, select=names)
    assert (total, failed) == (len(names), set(names))  # statusguard refuses their write


@pytest.mark.slow
def test_glance_tests_pass_with_statusguard_but_for_the_refused_ones(tmp_path: Path) -> None:
    total_without, failed_without = _run(tmp_path, without=True)
    total_with, failed_with = _run(tmp_path, without=False)
    assert total_with == total_without > 1200
    assert failed_without == runner.ENVIRONMENT_FAILURES
    assert failed_with == runner.ENVIRONMENT_FAILURES | set(runner.REFUSED_ILLEGAL_WRITES)
