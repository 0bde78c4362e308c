"""pytest plugin for Glance's own unit tests: ``-p statusguard_glance_enable``.

Calls :func:`statusguard.integrations.glance.enable` before Glance's tests are collected,
so every test module imports a Glance whose image status writes go through statusguard.
``STATUSGUARD_GLANCE_DISABLED=1`` loads the plugin without enabling (the baseline run).
"""

from __future__ import annotations

import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("STATUSGUARD_GLANCE_DISABLED") == "1":
        return
    from statusguard.integrations.glance import enable, enabled

    enable()
    enable()  # idempotent
    assert enabled()


def pytest_report_header(config: pytest.Config) -> str:
    from statusguard.integrations import glance

    return f"statusguard glance integration enabled: {glance.enabled()}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from statusguard.integrations.glance import _hooks

    seen = ", ".join(f"{name}: {n}" for name, n in sorted(_hooks.calls.items())) or "none"
    terminalreporter.write_line(f"statusguard glance integration decisions: {seen}")
