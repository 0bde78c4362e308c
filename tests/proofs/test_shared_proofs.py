"""The proof memo of the proofs tier (tests/proofs/conftest.py) reuses only identical requests."""

from __future__ import annotations

from typing import Any

import statusguard as sg
from statusguard.verify import _obligations
from tests.proofs.conftest import ENGINE_MODULE, ENGINES, ProofMemo


def lifecycle(target: str) -> sg.Lifecycle[str, str]:
    """A two-state model whose only edge goes to ``target`` (a new document per target)."""
    return sg.Lifecycle.from_json(
        {
            "format": "statusguard.lifecycle/v1",
            "name": "memo",
            "states": ["a", target],
            "initial": "a",
            "terminal": [target],
            "transitions": [{"event": "go", "source": ["a"], "target": target}],
        }
    )


def test_the_memo_runs_each_distinct_request_once() -> None:
    calls: list[tuple[str, dict[str, Any]]] = []

    def engine(lc: Any, **kwargs: Any) -> list[Any]:
        calls.append((lc.fingerprint, kwargs))
        return [lc.name, len(calls)]

    memo = ProofMemo()
    prove = memo.wrap(engine)
    first = prove(lifecycle("b"), timeout=60.0)
    assert prove(lifecycle("b"), timeout=60.0) == first  # same document, same arguments
    assert len(calls) == 1
    prove(lifecycle("c"), timeout=60.0)  # another model
    prove(lifecycle("b"), timeout=0.001)  # other arguments
    assert len(calls) == 3
    assert (memo.runs, memo.reuses) == (3, 1)
    again = prove(lifecycle("b"), timeout=60.0)
    again.append("changed by a caller")
    assert prove(lifecycle("b"), timeout=60.0) == first  # callers get copies


def test_shared_proofs_puts_the_memo_behind_the_engines_the_cli_calls(
    shared_proofs: ProofMemo,
) -> None:
    assert _obligations.__name__ == ENGINE_MODULE
    for name in ENGINES:
        assert getattr(_obligations, name).__qualname__.startswith("ProofMemo.wrap")
