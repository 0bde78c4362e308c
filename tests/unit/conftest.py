"""The unit tier solves nothing: a z3 query here fails, pointing at tests/proofs/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _no_z3_solving() -> Iterator[None]:
    # Per test, not per session: a session-scoped patch would outlive the unit tests and
    # refuse the solver to the proofs and integration tests that run after them.
    import z3

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(
            "a unit test asked z3 to solve: the unit tier is fast and solver-free; "
            "move the test to tests/proofs/ (see tests/README.md)"
        )

    with pytest.MonkeyPatch.context() as mp:
        for cls, method in ((z3.Solver, "check"), (z3.Fixedpoint, "query")):
            mp.setattr(cls, method, refuse)
        yield
