"""Shared proofs for the proofs tier: each distinct model is proved once per session.

Many CLI tests prove the same model (the shipped Glance models, an edited copy shown in
text and then in JSON, the two sides of a diff). A module that uses the ``shared_proofs``
fixture (``pytestmark = pytest.mark.usefixtures("shared_proofs")``) gets the proof engine
behind a memo: the first request for a model runs the real engine, later requests for the
same model document, engine and arguments get that run's results. Tests that exercise
the engine itself call it directly and do not use the memo.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

#: Where the CLI, ``diff`` and ``prove`` look the engines up (by module attribute, at call time).
ENGINE_MODULE = "statusguard.verify._obligations"
ENGINES = ("check_lifecycle", "builtin_obligations")


class ProofMemo:
    """Results of one engine run per (engine, model document, arguments)."""

    def __init__(self) -> None:
        self._results: dict[tuple[str, str, str], list[Any]] = {}
        self.runs = 0
        self.reuses = 0

    def wrap(self, engine: Callable[..., list[Any]]) -> Callable[..., list[Any]]:
        def memoized(lc: Any, **kwargs: Any) -> list[Any]:
            doc = json.dumps(lc.to_json(), sort_keys=True)
            key = (engine.__name__, doc, json.dumps(kwargs, sort_keys=True))
            if key in self._results:
                self.reuses += 1
            else:
                self.runs += 1
                self._results[key] = engine(lc, **kwargs)
            return list(self._results[key])

        return memoized


@pytest.fixture(scope="session")
def proof_memo() -> ProofMemo:
    return ProofMemo()


@pytest.fixture(scope="module")
def shared_proofs(proof_memo: ProofMemo) -> Iterator[ProofMemo]:
    """The engines behind the session's memo, for the duration of one test module."""
    import importlib

    module = importlib.import_module(ENGINE_MODULE)
    with pytest.MonkeyPatch.context() as mp:
        for name in ENGINES:
            mp.setattr(module, name, proof_memo.wrap(getattr(module, name)))
        yield proof_memo
