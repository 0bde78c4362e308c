"""The built-in structural obligations: one record each, its z3 queries and its judgement.

``reachable``       every state is reachable from the initial state under some config setting
``no_dead_ends``    under every setting, every reachable non-terminal state has an enabled event
``can_terminate``   under every setting, every reachable state can still reach a terminal state
``deterministic``   under every setting and fact values, no (state, event) enables two targets
``terminal_final``  no transition leaves a terminal state
``noop_unchanged``  under every setting and fact values, an event a no-op accepts in a state
                    ("accepted, no change") has no transition there: a no-op never changes
                    the state nor writes (with ``deterministic``: one outcome per event);
                    only lifecycles that declare no-ops have it (no vacuous proof)

Imports :mod:`statusguard.verify._smt`, :mod:`~statusguard.verify._solve` and
:mod:`~statusguard.verify._witness` (and the layers below).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from statusguard.lifecycle._model import Lifecycle
from statusguard.results import ObligationResult, Verdict
from statusguard.verify._smt import Encoding, Query
from statusguard.verify._witness import Run, edge_witness, fmt_setting

__all__ = ["BUILTINS", "Builtin"]


@dataclass(frozen=True)
class Builtin:
    """One built-in obligation.

    ``query`` is the obligation itself (``sat`` = violated; what ``export-smt`` writes);
    ``helpers`` are the further queries its judgement asks; ``judge`` reads the answers.
    """

    name: str
    query: Callable[[Encoding], Query]
    helpers: Callable[[Encoding, Query], tuple[Query, ...]]
    judge: Callable[[Run, Query, tuple[Query, ...]], ObligationResult]
    #: whether the lifecycle has the obligation at all (a vacuous proof is no pass)
    applies: Callable[[Lifecycle[Any, Any]], bool] = lambda lc: True


def _reachable(run: Run, q: Query, helpers: tuple[Query, ...]) -> ObligationResult:
    enc, lc = run.enc, run.lc
    (q_partial,) = helpers
    gone = run.unreached()
    partial = run.ask(q_partial.relation) if lc.config_flags else None
    not_under: dict[int, set[tuple[bool, ...]]] = {}
    for tup in partial or ():
        not_under.setdefault(int(tup[enc.ncfg]), set()).add(tuple(tup[: enc.ncfg]))
    # Settings as tuples once, and one shared answer for every state reached under all of
    # them (most states): linear in the states, not states x settings x flags.
    keyed = [(enc.setting_tuple(st), st) for st in enc.settings]
    everywhere = tuple(dict(st) for st in enc.settings)
    reached_under: dict[str, tuple[dict[str, bool], ...]] = {}
    for s, name in enumerate(enc.states):
        if s in gone:
            reached_under[name] = ()
        elif s in not_under:
            skip = not_under[s]
            reached_under[name] = tuple(dict(st) for key, st in keyed if key not in skip)
        else:
            reached_under[name] = everywhere
    notes = [
        f"{enc.states[s]} is reached only under "
        + " | ".join(fmt_setting(st) for st in reached_under[enc.states[s]])
        for s in sorted(not_under)
    ]
    if gone:
        names = sorted((enc.states[s] for s in gone), key=enc.sidx.__getitem__)
        detail = (
            f"unreachable from {lc.initial} under every config setting: {', '.join(names)}"
            " (no run reaches them, so there is no trace)"
        )
        res = run.result("reachable", Verdict.VIOLATED, "; ".join([detail, *notes]))
    else:
        res = run.result("reachable", Verdict.PROVED, "; ".join(notes))
    return dataclasses.replace(res, reached_under=reached_under)


def _stuck(name: str, what: str) -> Callable[[Run, Query, tuple[Query, ...]], ObligationResult]:
    """A state-shaped obligation: its witnesses are reachable states that are stuck."""

    def judge(run: Run, q: Query, helpers: tuple[Query, ...]) -> ObligationResult:
        tuples = run.ask(q.relation)
        if not tuples:
            return run.result(name, Verdict.PROVED)
        best = run.shortest(run.by_setting(tuples))
        return run.violated(name, best, lambda steps: f"{steps[-1].state} {what}")

    return judge


def _deterministic(run: Run, q: Query, helpers: tuple[Query, ...]) -> ObligationResult:
    (q_r,) = helpers
    return edge_witness(run, "deterministic", q, q_r, run.nondet_text)


def _terminal_final(run: Run, q: Query, helpers: tuple[Query, ...]) -> ObligationResult:
    if not run.lc.terminal:
        return run.result(
            "terminal_final", Verdict.UNKNOWN, "vacuous: the lifecycle declares no terminal state"
        )
    (q_r,) = helpers

    def describe(t: tuple[object, ...]) -> str:
        return f"terminal state has an exit: {run.edge_text(t)}"

    return edge_witness(run, "terminal_final", q, q_r, describe)


def _noop_unchanged(run: Run, q: Query, helpers: tuple[Query, ...]) -> ObligationResult:
    (q_r,) = helpers

    def describe(t: tuple[object, ...]) -> str:
        return f"an event accepted as a no-op also moves: {run.edge_text(t)}"

    return edge_witness(run, "noop_unchanged", q, q_r, describe, noops=True)


def _none(enc: Encoding, q: Query) -> tuple[Query, ...]:
    return ()


def _reached(enc: Encoding, q: Query) -> tuple[Query, ...]:
    return (enc.reached_variant(q),)


BUILTINS = (
    Builtin("reachable", Encoding.q_reachable, lambda enc, q: (enc.q_partial(),), _reachable),
    Builtin(
        "no_dead_ends",
        Encoding.q_dead,
        _none,
        _stuck("no_dead_ends", "is a dead end (no enabled event)"),
    ),
    Builtin(
        "can_terminate",
        Encoding.q_trap,
        _none,
        _stuck("can_terminate", "cannot reach a terminal state (trap)"),
    ),
    Builtin("deterministic", Encoding.q_nondet, _reached, _deterministic),
    Builtin("terminal_final", Encoding.q_terminal_exit, _reached, _terminal_final),
    Builtin(
        "noop_unchanged",
        Encoding.q_noop_change,
        _reached,
        _noop_unchanged,
        lambda lc: bool(lc.noops),  # only a lifecycle that declares no-ops has it
    ),
)
"""The built-in obligations, in result order (their names are ``BUILTIN_OBLIGATIONS``)."""
