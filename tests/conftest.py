"""Shared test configuration: hypothesis profiles, the tiers, --run-slow, the time budget.

The tiers are the top-level folders (tests/README.md): each test gets its folder's marker
(``unit``, ``proofs``, ``property``, ``integration``), so ``-m`` can combine them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

pytest_plugins = ("tests._budget", "pytester")

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=200,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
# dev (the default): random seeds and half hypothesis's usual examples, so the default run
# stays fast and each run explores new inputs (failures are replayed from .hypothesis/).
# ci: derandomized, reproducible, four times the examples.
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-slow",
        action="store_true",
        default=False,
        help="also run tests marked slow (long stress, soak and exhaustive runs)",
    )


TIERS = ("unit", "proofs", "property", "integration")
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = item.path.resolve()
        tier = path.relative_to(HERE).parts[0] if path.is_relative_to(HERE) else ""
        if tier in TIERS:
            item.add_marker(tier)
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: pass --run-slow to run it")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Show the reliability records (fault outcomes, bad-input counts, soak figures)."""
    lines = [
        str(value)
        for reports in terminalreporter.stats.values()
        for report in reports
        # the teardown report holds every record, those a fixture added after the call too
        if getattr(report, "when", None) == "teardown"
        for name, value in getattr(report, "user_properties", ())
        if name == "reliability"
    ]
    if lines:
        terminalreporter.section("reliability records")
        for line in lines:
            terminalreporter.write_line(line)
