"""The cheap structural checks run when a lifecycle is built (the z3 proofs must agree).

An invariant's kind-specific rule is its own (:meth:`Invariant.problem`); this module checks
what every kind shares (names, known states); the loops over transitions look at the time
budget (``_deadline``). Imports :mod:`statusguard.errors`, ``_parts``, ``_kind`` and
``_deadline``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from statusguard._text import did_you_mean, format_flag
from statusguard.errors import InvalidLifecycle
from statusguard.lifecycle._deadline import EVERY, check
from statusguard.lifecycle._kind import BUILTIN_OBLIGATIONS, RESERVED_PREFIX, Invariant
from statusguard.lifecycle._parts import NoOp, Transition, compatible

if TYPE_CHECKING:
    from statusguard.lifecycle._model import Lifecycle

__all__ = ["validate"]


def validate(lc: Lifecycle[Any, Any], terminal: Sequence[str], *, semantic: bool = True) -> None:
    """The cheap structural checks; the z3 proofs must agree with them.

    With ``semantic=False`` the checks that are also proof obligations (determinism,
    terminal exits) are left to the checker.
    """

    def bad(problem: str, *location: str | int, obligation: str | None = None) -> InvalidLifecycle:
        return InvalidLifecycle(
            problem, tuple(location), lifecycle=lc.name or None, obligation=obligation
        )

    if not isinstance(lc.name, str) or not lc.name.strip():
        raise bad("the lifecycle needs a non-empty name", "name")
    states = _unique_names(bad, lc.states, "states", "state")
    if not states:
        raise bad("a lifecycle needs at least one state", "states")
    allowed = ", ".join(repr(str(s)) for s in lc.states)
    if lc.initial not in states:
        raise bad(
            f"initial state {str(lc.initial)!r} is not a declared state; "
            f"expected one of: {allowed}{did_you_mean(lc.initial, states)}",
            "initial",
        )
    seen_terminal: set[str] = set()
    for i, s in enumerate(terminal):
        if s not in states:
            raise bad(
                f"terminal state {str(s)!r} is not a declared state; expected one of: {allowed}"
                + did_you_mean(s, states),
                "terminal",
                i,
            )
        if s in seen_terminal:
            raise bad(f"duplicate terminal state {str(s)!r}", "terminal", i)
        seen_terminal.add(s)
    events = _unique_names(bad, lc.events, "events", "event")
    flag_names = _unique_names(bad, [f.name for f in lc.flags], "flags", "flag", show=repr)
    _validate_transitions(lc, bad, states, seen_terminal if semantic else set(), events, flag_names)
    _validate_noops(lc, bad, states, events, flag_names)
    _validate_defaults(lc, bad)
    if semantic:
        _check_determinism(lc, bad)
        _check_noops(lc, bad)
    _validate_invariants(lc, bad, states)


def _unique_names(
    bad: Any,
    names: Sequence[Any],
    key: str,
    what: str,
    show: Callable[[Any], str] = lambda n: repr(str(n)),
) -> set[str]:
    """``names`` as a set; :class:`InvalidLifecycle` for an empty or repeated one."""
    seen: set[str] = set()
    for i, n in enumerate(names):
        if not isinstance(n, str) or not n.strip():
            raise bad(f"{what} names must be non-empty strings, got {n!r}", key, i)
        if n in seen:
            raise bad(f"duplicate {what} {show(n)}", key, i)
        seen.add(n)
    return seen


def _validate_transitions(
    lc: Lifecycle[Any, Any],
    bad: Any,
    states: set[str],
    seen_terminal: set[str],
    events: set[str],
    flag_names: set[str],
) -> None:
    allowed = ", ".join(repr(str(s)) for s in lc.states)
    for i, t in enumerate(lc.transitions):
        if not i % EVERY:
            check(f"checking the transitions of {lc.name!r}")
        if not isinstance(t, Transition):
            raise bad(f"expected a Transition, got {t!r}", "transitions", i)
        _check_part(
            lc, bad, "transition", "transitions", i, t, states, events, flag_names, seen_terminal
        )
        if t.target not in states:
            raise bad(
                f"transition {str(t.event)!r} has unknown target state {str(t.target)!r}; "
                f"expected one of: {allowed}{did_you_mean(t.target, states)}",
                "transitions",
                i,
                "target",
            )


def _check_part(
    lc: Lifecycle[Any, Any],
    bad: Any,
    what: str,
    key: str,
    i: int,
    part: Transition[Any, Any] | NoOp[Any, Any],
    states: set[str],
    events: set[str],
    flag_names: set[str],
    seen_terminal: set[str],
) -> None:
    """What a transition and a no-op share: a known event, known distinct sources none of
    them terminal, and a condition on known flags. ``what`` names the part in messages,
    ``key`` its list in the document's path."""
    if part.event not in events:
        ev_allowed = ", ".join(repr(str(e)) for e in lc.events)
        raise bad(
            f"{what} uses unknown event {str(part.event)!r}; expected one of: {ev_allowed}"
            + did_you_mean(part.event, events),
            key,
            i,
            "event",
        )
    if not part.sources:
        raise bad(f"{what} has no source state", key, i, "source")
    for j, s in enumerate(part.sources):
        if s not in states:
            allowed = ", ".join(repr(str(x)) for x in lc.states)
            raise bad(
                f"{what} {str(part.event)!r} has unknown source state {str(s)!r}; "
                f"expected one of: {allowed}{did_you_mean(s, states)}",
                key,
                i,
                "source",
                j,
            )
        if s in seen_terminal:
            raise bad(
                f"{what} {str(part.event)!r} leaves terminal state {str(s)!r}; "
                f"terminal states have no exits (remove the {what} or the terminal mark)",
                key,
                i,
                "source",
                j,
                obligation="terminal_final",
            )
    if len(set(part.sources)) != len(part.sources):
        raise bad(f"{what} {str(part.event)!r} lists a source twice", key, i, "source")
    for name, _ in part.when:
        if name not in flag_names:
            fl_allowed = ", ".join(repr(n) for n in sorted(flag_names)) or "(none declared)"
            raise bad(
                f"{what} {str(part.event)!r} tests unknown flag {name!r}; "
                f"expected one of: {fl_allowed}{did_you_mean(name, flag_names)}",
                key,
                i,
                "when",
                name,
            )


def _validate_invariants(lc: Lifecycle[Any, Any], bad: Any, states: set[str]) -> None:
    allowed = ", ".join(repr(str(s)) for s in lc.states)
    inv_names: set[str] = set()
    for i, inv in enumerate(lc.invariants):
        if not isinstance(inv, Invariant):
            raise bad(f"expected an Invariant, got {inv!r}", "invariants", i)
        if not isinstance(inv.name, str) or not inv.name.strip():
            raise bad("invariant names must be non-empty strings", "invariants", i, "name")
        if inv.name in inv_names:
            raise bad(f"duplicate invariant name {inv.name!r}", "invariants", i, "name")
        if inv.name in BUILTIN_OBLIGATIONS or inv.name.startswith(RESERVED_PREFIX):
            raise bad(
                f"invariant name {inv.name!r} is reserved (built-in obligations: "
                f"{', '.join(BUILTIN_OBLIGATIONS)}; race obligations start with "
                f"{RESERVED_PREFIX!r}); rename the invariant",
                "invariants",
                i,
                "name",
            )
        inv_names.add(inv.name)
        if any(f.many and not getattr(inv, f.attr) for f in inv.json_fields()):
            raise bad(f"invariant {inv.name!r} names no states", "invariants", i)
        for loc, s in inv.state_fields():
            if s not in states:
                raise bad(
                    f"invariant {inv.name!r} names unknown state {str(s)!r}; "
                    f"expected one of: {allowed}{did_you_mean(s, states)}",
                    "invariants",
                    i,
                    *loc,
                )
        problem = inv.problem()
        if problem is not None:
            message, where = problem
            raise bad(message, "invariants", i, *where)


def _check_determinism(lc: Lifecycle[Any, Any], bad: Any) -> None:
    by_key: dict[tuple[str, str], list[tuple[int, Transition[Any, Any]]]] = {}
    for i, t in enumerate(lc.transitions):
        if not i % EVERY:
            check(f"checking that {lc.name!r} is deterministic")
        for s in t.sources:
            by_key.setdefault((s, t.event), []).append((i, t))
    for (s, ev), options in by_key.items():
        for a in range(len(options)):
            for b in range(a + 1, len(options)):
                (ia, ta), (ib, tb) = options[a], options[b]
                if ta.target != tb.target and compatible(ta.when, tb.when):
                    both = {**dict(ta.when), **dict(tb.when)}
                    setting = (
                        ", ".join(format_flag(k, v) for k, v in sorted(both.items()))
                        or "any flag setting"
                    )
                    raise bad(
                        f"nondeterministic: in state {str(s)!r}, event {str(ev)!r} leads to both "
                        f"{str(ta.target)!r} (transition {ia}) and {str(tb.target)!r} "
                        f"(transition {ib}) under {setting}; make their 'when' conditions "
                        "exclusive",
                        "transitions",
                        ib,
                        obligation="deterministic",
                    )


def _validate_noops(
    lc: Lifecycle[Any, Any], bad: Any, states: set[str], events: set[str], flag_names: set[str]
) -> None:
    for i, n in enumerate(lc.noops):
        if not isinstance(n, NoOp):
            raise bad(f"expected a NoOp, got {n!r}", "noops", i)
        # a no-op from a terminal state changes nothing: no exit, so no terminal check
        _check_part(lc, bad, "no-op", "noops", i, n, states, events, flag_names, set())


def _validate_defaults(lc: Lifecycle[Any, Any], bad: Any) -> None:
    from statusguard.lifecycle._parts import FlagKind

    for f in lc.flags:
        if f.default is not None and f.kind is not FlagKind.FACT:
            raise bad(
                f"config flag {f.name!r} has a default; only fact flags take one",
                "fact_defaults",
                f.name,
            )


def _check_noops(lc: Lifecycle[Any, Any], bad: Any) -> None:
    """A no-op may not overlap a transition of its event from the same state.

    Both a move to another state and a self-loop (which writes and bumps the version) break
    ``noop_unchanged``: "accepted, no change" must be the event's only outcome there.
    """
    for i, n in enumerate(lc.noops):
        for j, t in enumerate(lc.transitions):
            if t.event != n.event or not compatible(n.when, t.when):
                continue
            for s in n.sources:
                if s not in t.sources:
                    continue
                both = {**dict(n.when), **dict(t.when)}
                setting = (
                    ", ".join(format_flag(k, v) for k, v in sorted(both.items()))
                    or "any flag setting"
                )
                if t.target != s:
                    raise bad(
                        f"no-op {i} accepts event {str(n.event)!r} in state {str(s)!r} without "
                        f"a change, but transition {j} moves it to {str(t.target)!r} under "
                        f"{setting}; make their 'when' conditions exclusive",
                        "noops",
                        i,
                        obligation="noop_unchanged",
                    )
                raise bad(
                    f"no-op {i} accepts event {str(n.event)!r} in state {str(s)!r} without "
                    f"a change, but the self-loop transition {j} writes it under {setting}; "
                    "keep one of them",
                    "noops",
                    i,
                    obligation="noop_unchanged",
                )
