"""Fixtures the race proof tests share."""

from __future__ import annotations

from typing import Any

import pytest

from statusguard.race._encoding import Encoding


@pytest.fixture
def encodings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The lifecycles a per-model race encoding is built for (none: nothing of the model
    was unrolled for z3)."""
    built: list[str] = []
    init = Encoding.__init__

    def counted(self: Any, problem: Any, z3: Any) -> None:
        built.append(problem.lifecycle.name)
        init(self, problem, z3)

    monkeypatch.setattr(Encoding, "__init__", counted)
    return built
