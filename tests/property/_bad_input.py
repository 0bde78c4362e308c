"""Shared machinery of the bad-input tests: case counting, example budgets, the model oracle.

Every boundary runs a hypothesis test twice: a quick default run and, behind ``--run-slow``
(or ``STATUSGUARD_BAD_INPUT_EXAMPLES``), a long run of at least 10,000 generated cases.
Each run counts the cases actually executed and the outcomes (which typed error, or success)
and records them on the test item, so the terminal summary shows them.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from statusguard import Lifecycle

QUICK = 150
LONG = 10_000
#: A single case taking longer than this is a hang, not slowness.
CASE_LIMIT_S = 10.0


def budget(long: bool) -> int:
    """How many cases to generate: ``STATUSGUARD_BAD_INPUT_EXAMPLES`` overrides both runs."""
    override = os.environ.get("STATUSGUARD_BAD_INPUT_EXAMPLES")
    if override:
        return int(override)
    return LONG if long else QUICK


class Tally:
    """Counts generated cases per outcome and flags any case that took too long."""

    def __init__(self, boundary: str) -> None:
        self.boundary = boundary
        self.outcomes: Counter[str] = Counter()
        self.cases = 0
        self.slowest = 0.0

    def run(self, case: Callable[[], str | list[str]]) -> None:
        """Run one generated case; ``case`` returns its outcome label(s) (error class or 'ok')."""
        start = time.monotonic()
        outcome = case()
        elapsed = time.monotonic() - start
        self.slowest = max(self.slowest, elapsed)
        assert elapsed < CASE_LIMIT_S, f"{self.boundary}: one case took {elapsed:.1f} s (a hang)"
        self.cases += 1
        self.outcomes.update([outcome] if isinstance(outcome, str) else outcome)

    def summary(self) -> str:
        parts = ", ".join(f"{k}={v}" for k, v in sorted(self.outcomes.items()))
        return (
            f"bad input [{self.boundary}]: {self.cases} generated cases "
            f"(slowest {self.slowest * 1000:.1f} ms): {parts}"
        )


def run_boundary(
    request: pytest.FixtureRequest, tally: Tally, test: Callable[[], None], n: int
) -> None:
    """Run the hypothesis ``test`` for ``n`` examples, then report and check the count."""
    configured = settings(
        max_examples=n,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.large_base_example,
        ],
    )(test)
    configured()
    line = tally.summary()
    print(line)
    request.node.user_properties.append(("reliability", line))
    # Hypothesis may stop early only when it has exhausted the input space; ours is unbounded.
    assert tally.cases >= n, f"only {tally.cases} of {n} cases ran"


# -- an independent oracle for "is this an acceptable lifecycle?" --------------------------


def _name_ok(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def lifecycle_problems(lc: Lifecycle[Any, Any]) -> list[str]:
    """Everything wrong with an accepted lifecycle, judged without the library's validator."""
    problems: list[str] = []
    states = [str(s) for s in lc.states]
    if not _name_ok(lc.name):
        problems.append("bad name")
    if not states or len(set(states)) != len(states) or not all(map(_name_ok, lc.states)):
        problems.append("bad states")
    if lc.initial not in states:
        problems.append("initial not a state")
    if not set(lc.terminal) <= set(states):
        problems.append("terminal not states")
    events = [str(e) for e in lc.events]
    if len(set(events)) != len(events) or not all(map(_name_ok, lc.events)):
        problems.append("bad events")
    flag_names = [f.name for f in lc.flags]
    if len(set(flag_names)) != len(flag_names) or not all(map(_name_ok, flag_names)):
        problems.append("bad flags")
    for t in lc.transitions:
        if t.event not in events or t.target not in states or not t.sources:
            problems.append(f"transition {t!r} names undeclared parts")
        if any(s not in states or s in lc.terminal for s in t.sources):
            problems.append(f"transition {t!r} leaves an undeclared or terminal state")
        if len(set(t.sources)) != len(t.sources):
            problems.append(f"transition {t!r} repeats a source")
        if any(n not in flag_names for n, _ in t.when):
            problems.append(f"transition {t!r} tests an undeclared flag")
    by_key: dict[tuple[str, str], list[Any]] = {}
    for t in lc.transitions:
        for s in t.sources:
            by_key.setdefault((s, t.event), []).append(t)
    for options in by_key.values():
        for i, a in enumerate(options):
            for b in options[i + 1 :]:
                da = dict(a.when)
                clash = any(n in da and da[n] != v for n, v in b.when)
                if a.target != b.target and not clash:
                    problems.append(f"nondeterministic {a!r} / {b!r}")
    inv_names = [i.name for i in lc.invariants]
    if len(set(inv_names)) != len(inv_names) or not all(map(_name_ok, inv_names)):
        problems.append("bad invariant names")
    for inv in lc.invariants:
        if not inv.mentioned_states() or any(s not in states for s in inv.mentioned_states()):
            problems.append(f"invariant {inv.name!r} names undeclared states")
    return problems


def assert_sound(lc: Lifecycle[Any, Any]) -> None:
    """An accepted lifecycle must be valid and survive its own JSON round trip."""
    problems = lifecycle_problems(lc)
    assert not problems, f"accepted an invalid lifecycle: {problems}"
    again = Lifecycle.from_json(lc.to_json())
    assert again.to_json() == lc.to_json()
    assert again.fingerprint == lc.fingerprint


def check_message(exc: BaseException, prefix: str = "") -> str:
    """A typed error's message is one line (starting with ``prefix``); returns the class name."""
    text = str(exc)
    assert text, f"{type(exc).__name__} with an empty message"
    assert "\n" not in text, f"multi-line message: {text!r}"
    assert text.startswith(prefix), text
    return type(exc).__name__
