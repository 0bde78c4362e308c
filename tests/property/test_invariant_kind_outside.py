"""A kind defined outside the package, in one class, is proved by z3 and checked by the oracle.

The three kinds below are not registered (``register=False``: no JSON, no schema branch),
so they touch no file of the package: their queries use only the public vocabulary
(:class:`statusguard.lifecycle.Queries`, :class:`~statusguard.lifecycle.Explicit`), and
the walk shapes the built-in kinds do not use (a walk from a state other than the initial
one, with states to avoid) are compared with the oracle on random lifecycles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from hypothesis import given, settings

from statusguard import Lifecycle, Transition
from statusguard.lifecycle import (
    INVARIANT_KINDS,
    Defect,
    Explicit,
    ExplicitSetting,
    Invariant,
    Queries,
    many,
    one,
)
from statusguard.results import Verdict
from statusguard.verify._obligations import builtin_obligations
from tests.lifecycle_strategies import any_lifecycles
from tests.property import test_obligations_differential as differential


@dataclass(frozen=True)
class OnlyFrom(Invariant, register=False):
    """Every transition into ``target`` leaves one of ``sources``."""

    target: Annotated[str, one("to")]
    sources: Annotated[Sequence[str], many("from")]
    kind: ClassVar[str] = "only_from"

    def describe(self) -> str:
        return f"every transition into {self.target} leaves one of {', '.join(self.sources)}"

    def premise(self) -> tuple[str, ...]:
        return (self.target,)

    def query(self, q: Queries[Any]) -> Any:
        return q.bad_step(q.negate(q.source_in(self.sources)), q.target_is(self.target))

    def oracle(self, x: Explicit[Any]) -> Any:
        return x.bad_steps(lambda s, t: t == self.target and s not in self.sources)


@dataclass(frozen=True)
class Guarded(Invariant, register=False):
    """Every walk of one step or more from ``source`` to ``target`` passes one of ``via``."""

    source: Annotated[str, one("from")]
    target: Annotated[str, one("to")]
    via: Annotated[Sequence[str], many("via")]
    kind: ClassVar[str] = "guarded"
    min_steps: ClassVar[int] = 1

    def problem(self) -> tuple[str, tuple[str | int, ...]] | None:
        if self.source in self.via or self.target in self.via:
            return f"invariant {self.name!r}: via may not hold its ends", ("via",)
        return None

    def describe(self) -> str:
        return f"every walk from {self.source} to {self.target} passes {', '.join(self.via)}"

    def premise(self) -> tuple[str, ...]:
        return (self.source,)

    def query(self, q: Queries[Any]) -> Any:
        says = f"{self.target} is reached from {self.source} avoiding {', '.join(self.via)}"
        return q.bad_walk(
            self.source, self.target, avoid=self.via, min_steps=self.min_steps, says=says
        )

    def oracle(self, x: Explicit[Any]) -> Any:
        def under(g: ExplicitSetting) -> Defect | None:
            tail = g.walk(self.source, self.target, avoid=self.via, strict=bool(self.min_steps))
            if tail is None:
                return None
            head = g.walk(x.initial, self.source)
            return Defect(None if head is None else (*head[:-1], *tail))

        return x.bad_walks(under)


@dataclass(frozen=True)
class GuardedOrSame(Guarded, register=False):
    """As :class:`Guarded`, but the empty walk counts: ``source == target`` breaks it."""

    kind: ClassVar[str] = "guarded_or_same"
    min_steps: ClassVar[int] = 0


OUTSIDE = [OnlyFrom, Guarded, GuardedOrSame]


def test_outside_kinds_are_not_registered() -> None:
    assert not {k.kind for k in OUTSIDE} & set(INVARIANT_KINDS)


@settings(max_examples=120, deadline=None)
@given(any_lifecycles(kinds=[*OUTSIDE, *INVARIANT_KINDS.values()]))
def test_z3_and_oracle_agree_on_outside_kinds(lc: Lifecycle[Any, Any]) -> None:
    differential.test_z3_and_oracle_agree.hypothesis.inner_test(lc)  # type: ignore[attr-defined]


def _verdicts(*invariants: Invariant, shortcut: bool) -> dict[str, Any]:
    transitions = [Transition("go", "a", "b"), Transition("go", "b", "c")]
    if shortcut:
        transitions.append(Transition("jump", "a", "c"))
    lc = Lifecycle(
        "k",
        states=["a", "b", "c"],
        initial="a",
        terminal=["c"],
        transitions=transitions,
        invariants=invariants,
    )
    return {r.obligation: r for r in builtin_obligations(lc, timeout=30)}


def test_an_outside_walk_kind_is_violated_and_proved() -> None:
    kinds = (Guarded("g", "a", "c", ["b"]), OnlyFrom("f", "c", ["b"]))
    broken = _verdicts(*kinds, shortcut=True)
    for name in ("g", "f"):
        assert broken[name].status is Verdict.VIOLATED, broken[name]
        cex = broken[name].counterexample
        assert cex is not None
        assert [s.state for s in cex.trace] == ["a", "c"]
    assert "c is reached from a avoiding b" in broken["g"].detail
    fixed = _verdicts(*kinds, shortcut=False)
    assert fixed["g"].status is Verdict.PROVED, fixed["g"]
    assert fixed["f"].status is Verdict.PROVED, fixed["f"]
