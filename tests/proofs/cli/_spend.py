"""A time budget spent right after the models load: the checks after loading see it
expired, whatever the machine's speed (a budget that runs out while loading is
``unknown`` before any proof: tests/proofs/cli/test_cli_load_timeout.py)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from statusguard.lifecycle._deadline import expired


def spend_after_loading(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> None:
    """Make ``module.name`` (a loading function) wait for the budget to run out after it
    loads (sleeping: no CPU)."""
    real = getattr(module, name)

    def load_then_spend(*args: Any) -> Any:
        loaded = real(*args)
        while not expired():
            time.sleep(0.01)
        return loaded

    monkeypatch.setattr(module, name, load_then_spend)
