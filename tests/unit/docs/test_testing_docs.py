"""docs/testing.md: its examples run, and the adapter example has teeth."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import Phase, settings
from hypothesis.stateful import run_state_machine_as_test

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "testing.md"


def run_examples() -> dict[str, Any]:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    assert len(blocks) == 4  # the machine, its adapter, run_stress, async adapters
    namespace: dict[str, Any] = {"__name__": "docs_testing"}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    return namespace


def test_doc_examples_run_and_the_repo_machine_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    ns = run_examples()
    assert ns["result"].ok
    run_state_machine_as_test(ns["ImageRepoMachine"], settings=settings(stateful_step_count=30))


def test_doc_repo_without_from_state_fails_with_the_documented_race(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    ns = run_examples()
    repo = ns["ImageRepo"]

    def blind_save(self: Any, image_id: str, status: str, from_state: str) -> bool:
        self.db.execute("UPDATE images SET status = ? WHERE id = ?", (status, image_id))
        return True

    monkeypatch.setattr(repo, "save", blind_save)
    machine = ns["ImageRepoMachine"]
    monkeypatch.setattr(machine, "max_keys", 1)  # one hot key: the shrinker takes no detours
    with pytest.raises(AssertionError, match="illegal step"):
        run_state_machine_as_test(
            machine,
            settings=settings(
                phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
                report_multiple_bugs=False,
                derandomize=True,
                database=None,
            ),
        )
    for step in machine.last_schedule:
        print(step)
    actions = [s.action for s in machine.last_schedule if s.action != "create"]
    assert actions == ["read", "read", "write", "write"]


def test_doc_audited_repo_passes_and_its_check_key_has_teeth(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The event-named adapter: handle from read to write, event to write, check_key."""
    monkeypatch.chdir(ROOT)
    ns = run_examples()
    machine = ns["AuditedRepoMachine"]
    quick = settings(max_examples=20, stateful_step_count=20, database=None, deadline=None)
    run_state_machine_as_test(machine, settings=quick)
    repo = ns["AuditedRepo"]
    apply = repo.apply

    def forgets_deletes(self: Any, image: Any, event: str, facts: Any) -> bool:
        done: bool = apply(self, image, event, facts)
        if done and event == "delete":  # the status moves, the audit row is lost
            self.db.execute("UPDATE images SET audit = '' WHERE id = ?", (image["id"],))
        return done

    monkeypatch.setattr(repo, "apply", forgets_deletes)
    with pytest.raises(AssertionError, match="check_key: audit"):
        run_state_machine_as_test(
            # No shrinking: the test asks only that check_key catches the lost audit row, and
            # shrinking that failure under load took most of a minute.
            machine,
            settings=settings(
                quick,
                max_examples=200,
                derandomize=True,
                phases=(Phase.explicit, Phase.reuse, Phase.generate),
            ),
        )
