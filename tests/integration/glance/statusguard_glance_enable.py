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
