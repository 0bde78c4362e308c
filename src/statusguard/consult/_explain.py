"""Why a transition is or is not allowed: ``statusguard explain TARGET STATE [EVENT]``.

For a state: the shortest walk from the initial state (under each config setting
consistent with the flags given) and the events enabled there. For a state and
an event: whether the event is allowed, where it leads, which events are allowed
instead, and which flag values would change the answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from statusguard._text import format_flag, format_flags
from statusguard.lifecycle._conditions import (
    describe_condition,
    format_config,
    merged_conditions,
    merged_noops,
)
from statusguard.lifecycle._model import AnyLifecycle
from statusguard.lifecycle._paths import Path, all_settings, graph, shortest_paths

__all__ = ["EventAnswer", "StateAnswer", "explain_event", "explain_state"]


@dataclass(frozen=True)
class Option:
    """``event`` leads to ``target`` when ``condition`` (what remains unknown) holds.

    ``noop``: the event is accepted without a change (``target`` is the state itself).
    """

    event: str
    target: str
    condition: str  # "" = given the flags, always
    noop: bool = False

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "event": self.event,
            "target": self.target,
            "when": self.condition or None,
        }
        if self.noop:
            doc["noop"] = True
        return doc

    @property
    def shown(self) -> str:
        return "(no change)" if self.noop else self.target

    def render(self) -> str:
        return f"{self.event} -> {self.shown}" + (
            f" (when {self.condition})" if self.condition else ""
        )


def _options(
    lc: AnyLifecycle, state: str, flags: Mapping[str, bool], event: str | None = None
) -> list[Option]:
    moves = [
        Option(e, t, describe_condition(c))
        for (s, e, t), c in merged_conditions(lc, flags).items()
        if s == state and (event is None or e == event)
    ]
    stays = [
        Option(e, s, describe_condition(c), noop=True)
        for (s, e), c in merged_noops(lc, flags).items()
        if s == state and (event is None or e == event)
    ]
    return moves + stays


@dataclass(frozen=True)
class StateAnswer:
    """How a state is reached and what can happen there."""

    lifecycle: str
    state: str
    flags: Mapping[str, bool]
    initial: bool
    terminal: bool
    paths: tuple[Path, ...]  # the shortest walk under each setting that reaches the state
    unreached: tuple[Mapping[str, bool], ...]  # settings under which it is unreachable
    enabled: tuple[Option, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "lifecycle": self.lifecycle,
            "state": self.state,
            "flags": dict(sorted(self.flags.items())),
            "initial": self.initial,
            "terminal": self.terminal,
            "paths": [p.to_json() for p in self.paths],
            "unreachable_under": [dict(sorted(c.items())) for c in self.unreached],
            "enabled": [o.to_json() for o in self.enabled],
        }

    def render(self) -> str:
        marks = [m for m, on in (("initial", self.initial), ("terminal", self.terminal)) if on]
        given = f" with {format_flags(self.flags.items())}" if self.flags else ""
        head = f"{self.lifecycle}: state {self.state}" + (f" ({', '.join(marks)})" if marks else "")
        lines = [head + given]
        if self.paths:
            lines.append("shortest path from the initial state:")
            for p in self.paths:
                walk = p.render() if p.hops else f"{self.state} is the initial state"
                lines.append(f"  {format_config(p.config)}: {walk}")
        for cfg in self.unreached:
            lines.append(f"  {format_config(cfg)}: not reachable from the initial state")
        if self.enabled:
            lines.append("enabled events:")
            lines.extend(f"  {o.render()}" for o in self.enabled)
        elif self.terminal:
            lines.append("no event leaves it: it is terminal")
        else:
            lines.append("no event is enabled here with these flags")
        return "\n".join(lines)


def explain_state(lc: AnyLifecycle, state: str, flags: Mapping[str, bool]) -> StateAnswer:
    """The shortest walks to ``state`` and the events enabled there.

    Raises :class:`~statusguard.errors.UnknownState`/:class:`~statusguard.errors.UnknownFlag` for
    names the lifecycle does not declare.
    """
    s = str(lc.state(state))
    lc.check_flags(flags)
    paths: list[Path] = []
    unreached: list[Mapping[str, bool]] = []
    for cfg in all_settings(lc, fixed=flags):
        known = {**flags, **cfg}
        walk = shortest_paths(lc, str(lc.initial), known, adj=graph(lc, known)).get(s)
        if walk is None:
            unreached.append(cfg)
        else:
            paths.append(Path(cfg, walk.start, walk.hops))
    return StateAnswer(
        lc.name,
        s,
        dict(flags),
        s == str(lc.initial),
        s in {str(t) for t in lc.terminal},
        tuple(paths),
        tuple(unreached),
        tuple(_options(lc, s, flags)),
    )


@dataclass(frozen=True)
class FlagEffect:
    """With ``flag`` set to ``value``, the event's outcome becomes ``outcome``."""

    flag: str
    value: bool
    outcome: tuple[Option, ...]  # empty: not allowed
    depends_on: tuple[str, ...] = ()  # flags still unknown that decide whether it is allowed

    @property
    def allowed(self) -> str:
        """``yes``, ``no``, or ``depends`` (on the flags in ``depends_on``)."""
        if not self.outcome:
            return "no"
        return "depends" if self.depends_on else "yes"

    def to_json(self) -> dict[str, Any]:
        return {
            "flag": self.flag,
            "value": self.value,
            "allowed": self.allowed,
            "depends_on": list(self.depends_on),
            "outcome": [o.to_json() for o in self.outcome],
        }

    def render(self) -> str:
        setting = format_flag(self.flag, self.value)
        if not self.outcome:
            return f"with {setting}: not allowed"
        head = "allowed" if not self.depends_on else f"depends on {', '.join(self.depends_on)}"
        return f"with {setting}: {head}, " + "; ".join(
            f"-> {o.shown}" + (f" when {o.condition}" if o.condition else "") for o in self.outcome
        )


@dataclass(frozen=True)
class EventAnswer:
    """Whether ``event`` is allowed in ``state`` given ``flags``, and what would change it."""

    lifecycle: str
    state: str
    event: str
    flags: Mapping[str, bool]
    outcome: tuple[Option, ...]  # how the event leads on (empty: not allowed)
    instead: tuple[Option, ...]  # the events allowed in the state
    effects: tuple[FlagEffect, ...]  # flag values that change the answer
    enabled_in: tuple[str, ...]  # states where the event can happen at all
    always: bool  # allowed whatever values the flags not given take

    @property
    def allowed(self) -> str:
        """``yes``, ``no``, or ``depends`` (on flags that were not given)."""
        if not self.outcome:
            return "no"
        return "yes" if self.always else "depends"

    def to_json(self) -> dict[str, Any]:
        return {
            "lifecycle": self.lifecycle,
            "state": self.state,
            "event": self.event,
            "flags": dict(sorted(self.flags.items())),
            "allowed": self.allowed,
            "outcome": [o.to_json() for o in self.outcome],
            "allowed_instead": [o.to_json() for o in self.instead],
            "flag_effects": [e.to_json() for e in self.effects],
            "event_enabled_in": list(self.enabled_in),
        }

    def render(self) -> str:
        given = f" with {format_flags(self.flags.items())}" if self.flags else ""
        lines = [f"{self.lifecycle}: {self.event} in {self.state}{given}: "]
        if self.allowed == "no":
            lines[0] += "not allowed"
        else:
            lines[0] += "allowed" if self.allowed == "yes" else "depends on flags"
            lines.extend(
                f"  -> {o.shown}" + (f" when {o.condition}" if o.condition else "")
                for o in self.outcome
            )
        if self.allowed != "yes":
            if self.instead:
                lines.append(f"allowed in {self.state} instead:")
                lines.extend(f"  {o.render()}" for o in self.instead)
            else:
                lines.append(f"no event is allowed in {self.state}")
        if self.effects:
            lines.append("flags that change the answer:")
            lines.extend(f"  {e.render()}" for e in self.effects)
        elif self.allowed == "no":
            where = ", ".join(self.enabled_in) or "no state"
            lines.append(
                f"no flag value allows it: no transition of {self.event} leaves {self.state}; "
                f"{self.event} happens in: {where}"
            )
        return "\n".join(lines)


def explain_event(
    lc: AnyLifecycle, state: str, event: str, flags: Mapping[str, bool]
) -> EventAnswer:
    """Whether ``event`` is allowed in ``state``; if not, what is, and which flags matter."""
    s = str(lc.state(state))
    e = str(lc.event(event))
    lc.check_flags(flags)
    outcome = tuple(_options(lc, s, flags, e))
    mentioned: list[str] = []
    parts: list[tuple[tuple[Any, ...], Any, tuple[tuple[str, bool], ...]]] = [
        (t.sources, t.event, t.when) for t in lc.transitions
    ] + [(n.sources, n.event, n.when) for n in lc.noops]
    for sources, ev, when in parts:
        if s in sources and str(ev) == e:
            mentioned.extend(n for n, _ in when if n not in mentioned)

    def key(opts: tuple[Option, ...]) -> list[tuple[str, str]]:
        return sorted((o.target, o.condition) for o in opts)

    def always(given: Mapping[str, bool]) -> bool:
        """Allowed whatever values the mentioned flags not in ``given`` take."""
        free = [n for n in mentioned if n not in given]
        return all(
            any(
                not o.condition
                for o in _options(
                    lc, s, {**given, **{n: bool(bits >> i & 1) for i, n in enumerate(free)}}, e
                )
            )
            for bits in range(1 << len(free))
        )

    def effect(name: str, value: bool) -> FlagEffect:
        given = {**flags, name: value}
        changed = tuple(_options(lc, s, given, e))
        depends = () if always(given) else tuple(n for n in mentioned if n not in given)
        return FlagEffect(name, value, changed, depends)

    effects: list[FlagEffect] = []
    for name in [f.name for f in lc.flags if f.name in mentioned]:
        if name in flags:
            flipped = effect(name, not flags[name])
            if key(flipped.outcome) != key(outcome):
                effects.append(flipped)
        else:
            effects.extend(effect(name, value) for value in (True, False))
    enabled_in = tuple(
        str(st)
        for st in lc.states
        if any(str(ev) == e for _, ev, _t in _edges_from(lc, st))
        or any(str(n.event) == e and st in n.sources for n in lc.noops)
    )
    return EventAnswer(
        lc.name,
        s,
        e,
        dict(flags),
        outcome,
        tuple(o for o in _options(lc, s, flags) if o.event != e),
        tuple(effects),
        enabled_in,
        always(flags),
    )


def _edges_from(lc: AnyLifecycle, state: object) -> list[tuple[Any, Any, Any]]:
    return [(s, ev, t) for s, ev, t in lc if s == state]
