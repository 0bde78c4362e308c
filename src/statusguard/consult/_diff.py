"""What a change to a lifecycle does: ``statusguard diff OLD NEW``.

Compares two versions of a lifecycle and reports added and removed transitions,
states whose reachability from the initial state changed (per config setting),
pairs ``(A, B)`` where ``B`` became reachable from ``A`` or stopped being (with a
witness walk), events that became enabled or disabled in a state, and every
obligation whose verdict changed. A change *regresses* when an obligation that
was proved (or did not exist) is no longer proved.

Verdicts come from the proof engine (``statusguard.verify._obligations.check_lifecycle``),
so ``diff`` and ``check`` never disagree; the structural parts (pairs, reachability,
events) are plain graph searches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from statusguard.consult._render import NO_CHANGE, flag_text
from statusguard.lifecycle._conditions import (
    describe_condition,
    format_config,
    merged_conditions,
    merged_noops,
)
from statusguard.lifecycle._model import AnyLifecycle
from statusguard.lifecycle._paths import (
    Path,
    all_settings,
    bits_to_names,
    graph,
    reach_bits,
    reach_from,
    shortest_paths,
)
from statusguard.results import ObligationResult, Verdict

__all__ = ["LifecycleDiff", "diff_lifecycles", "obligation_results"]

Config = Mapping[str, bool]
Checker = Callable[[AnyLifecycle], list[ObligationResult]]

# -- verdicts ----------------------------------------------------------------------------


def obligation_results(lc: AnyLifecycle, *, timeout: float = 60.0) -> list[ObligationResult]:
    """Every obligation's verdict, from the proof engine (the same as ``statusguard check``)."""
    from statusguard.verify._obligations import check_lifecycle

    return check_lifecycle(lc, timeout=timeout)


# -- the diff ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TransitionChange:
    """A ``(source, event, target)`` edge that appeared or disappeared (or changed condition).

    ``noop``: a no-op's acceptance (``target`` is ``source``; shown as ``(no change)``).
    """

    change: str  # "added" | "removed" | "condition"
    source: str
    event: str
    target: str
    before: str = ""  # condition in words ("" = always), for "removed"/"condition"
    after: str = ""
    noop: bool = False

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "change": self.change,
            "source": self.source,
            "event": self.event,
            "target": self.target,
            "condition_before": self.before if self.change != "added" else None,
            "condition_after": self.after if self.change != "removed" else None,
        }
        if self.noop:
            doc["noop"] = True
        return doc

    def render(self) -> str:
        mark = {"added": "+", "removed": "-", "condition": "~"}[self.change]
        edge = f"{self.source} --{self.event}--> {NO_CHANGE if self.noop else self.target}"
        if self.change == "condition":
            return f"{mark} {edge}: when {self.before or 'always'} -> when {self.after or 'always'}"
        cond = self.after if self.change == "added" else self.before
        return f"{mark} {edge}" + (f" [when {cond}]" if cond else "")


@dataclass(frozen=True)
class ReachabilityChange:
    """A state the initial state reaches (or no longer reaches) under some settings."""

    state: str
    reachable: bool  # after the change
    configs: tuple[Mapping[str, bool], ...]
    witness: Path | None  # a walk from the initial state, in the model where it exists
    added: bool = False  # a state only NEW has (``reachable`` says whether NEW reaches it)

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "added_state": self.added,
            "reachable": self.reachable,
            "configs": [dict(sorted(c.items())) for c in self.configs],
            "witness": self.witness.to_json() if self.witness else None,
        }


@dataclass(frozen=True)
class PairChange:
    """``target`` became reachable from ``source`` (``gained``) or stopped being."""

    source: str
    target: str
    gained: bool
    configs: tuple[Mapping[str, bool], ...]
    witness: Path  # in NEW when gained, in OLD when lost

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.target,
            "change": "gained" if self.gained else "lost",
            "configs": [dict(sorted(c.items())) for c in self.configs],
            "witness": self.witness.to_json(),
        }


@dataclass(frozen=True)
class EventChange:
    """``event`` became enabled (or disabled) in ``state`` under some settings."""

    state: str
    event: str
    enabled: bool
    configs: tuple[Mapping[str, bool], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "event": self.event,
            "change": "enabled" if self.enabled else "disabled",
            "configs": [dict(sorted(c.items())) for c in self.configs],
        }


@dataclass(frozen=True)
class ObligationChange:
    """An obligation whose verdict differs (``None``: the obligation does not exist there)."""

    obligation: str
    before: Verdict | None
    after: Verdict | None
    regressed: bool
    result: ObligationResult | None  # the NEW result (with its counterexample)

    def to_json(self) -> dict[str, Any]:
        return {
            "obligation": self.obligation,
            "before": str(self.before) if self.before else None,
            "after": str(self.after) if self.after else None,
            "regressed": self.regressed,
            "counterexample": (
                self.result.counterexample.to_json()
                if self.result is not None and self.result.counterexample is not None
                else None
            ),
            "detail": self.result.detail if self.result is not None else "",
        }


@dataclass(frozen=True)
class LifecycleDiff:
    """Everything that differs between two versions of one lifecycle."""

    old_name: str
    new_name: str
    old_fingerprint: str
    new_fingerprint: str
    settings: tuple[Mapping[str, bool], ...]
    header: tuple[str, ...] = ()  # states, events, flags, initial, terminal changes in words
    transitions: tuple[TransitionChange, ...] = ()
    reachability: tuple[ReachabilityChange, ...] = ()
    pairs: tuple[PairChange, ...] = ()
    events: tuple[EventChange, ...] = ()
    obligations: tuple[ObligationChange, ...] = ()
    unchanged_obligations: tuple[str, ...] = field(default=())
    old: AnyLifecycle | None = field(default=None, compare=False, repr=False)
    new: AnyLifecycle | None = field(default=None, compare=False, repr=False)

    @property
    def regressions(self) -> tuple[ObligationChange, ...]:
        return tuple(o for o in self.obligations if o.regressed)

    @property
    def identical(self) -> bool:
        return self.old_fingerprint == self.new_fingerprint

    def to_json(self) -> dict[str, Any]:
        return {
            "old": {"name": self.old_name, "fingerprint": self.old_fingerprint},
            "new": {"name": self.new_name, "fingerprint": self.new_fingerprint},
            "changes": list(self.header),
            "transitions": [t.to_json() for t in self.transitions],
            "reachability": [r.to_json() for r in self.reachability],
            "pairs": [p.to_json() for p in self.pairs],
            "events": [e.to_json() for e in self.events],
            "obligations": [o.to_json() for o in self.obligations],
            "regressed": [o.obligation for o in self.regressions],
        }

    def _configs(self, configs: Sequence[Mapping[str, bool]]) -> str:
        if len(configs) == len(self.settings):
            return "any config"
        return "; ".join(format_config(c) for c in configs)

    def render(self) -> str:
        """The report for humans (what ``statusguard diff`` prints)."""
        title = (
            self.new_name
            if self.old_name == self.new_name
            else f"{self.old_name} -> {self.new_name}"
        )
        lines = [f"{title}: {self.old_fingerprint[:19]} -> {self.new_fingerprint[:19]}"]
        if self.identical:
            lines.append("  no change")
            return "\n".join(lines)
        lines.extend(f"  {h}" for h in self.header)

        def section(name: str, items: Sequence[str], count: int | None = None) -> None:
            n = len(items) if count is None else count
            lines.append(f"{name} ({n}):" if items else f"{name}: none")
            lines.extend(f"  {i}" for i in items)

        section("transitions", [t.render() for t in self.transitions])
        section(
            "reachable from the initial state",
            [
                (
                    f"added state {r.state} is {'' if r.reachable else 'not '}reachable"
                    if r.added
                    else f"{r.state} is {'now' if r.reachable else 'no longer'} reachable"
                )
                + f" ({self._configs(r.configs)})"
                + (f": {r.witness.render()}" if r.witness is not None else "")
                for r in self.reachability
            ],
        )
        section(
            "reachable pairs",
            [
                f"{p.source} can {'now' if p.gained else 'no longer'} reach {p.target} "
                f"({self._configs(p.configs)}): {p.witness.render()}"
                for p in self.pairs
            ],
        )
        section(
            "events per state",
            [
                f"{e.state}: {e.event} {'enabled' if e.enabled else 'disabled'} "
                f"({self._configs(e.configs)})"
                for e in self.events
            ],
        )
        items: list[str] = []
        for o in self.obligations:
            mark = "REGRESSED" if o.regressed else "ok"
            items.append(
                f"{o.obligation}: {o.before or 'absent'} -> {o.after or 'absent'} [{mark}]"
            )
            r = o.result
            if r is not None and r.detail:
                items.append(f"  {r.detail}")
            if r is not None and r.counterexample is not None:
                items.extend("  " + line for line in r.counterexample.render().splitlines())
        section("obligation verdicts changed", items, len(self.obligations))
        n = len(self.regressions)
        lines.append(
            f"{n} obligation{'s' if n != 1 else ''} regressed" if n else "no obligation regressed"
        )
        return "\n".join(lines)


def _edge_conditions(lc: AnyLifecycle) -> dict[tuple[str, str, str], str]:
    return {k: describe_condition(v) for k, v in merged_conditions(lc).items()}


def _noop_conditions(lc: AnyLifecycle) -> dict[tuple[str, str, str], str]:
    return {(s, e, s): describe_condition(v) for (s, e), v in merged_noops(lc).items()}


def _changes(
    oc: Mapping[tuple[str, str, str], str], nc: Mapping[tuple[str, str, str], str], *, noop: bool
) -> list[TransitionChange]:
    """Edges (or no-ops) added, re-conditioned and removed, in that order."""
    out: list[TransitionChange] = []
    for key, cond in nc.items():
        if key not in oc:
            out.append(TransitionChange("added", *key, after=cond, noop=noop))
        elif oc[key] != cond:
            out.append(TransitionChange("condition", *key, before=oc[key], after=cond, noop=noop))
    out += [
        TransitionChange("removed", *k, before=c, noop=noop) for k, c in oc.items() if k not in nc
    ]
    return out


def _names_change(what: str, old: Sequence[str], new: Sequence[str]) -> list[str]:
    added = [n for n in new if n not in old]
    removed = [n for n in old if n not in new]
    out = []
    if added:
        out.append(f"{what} added: {', '.join(added)}")
    if removed:
        out.append(f"{what} removed: {', '.join(removed)}")
    return out


def diff_lifecycles(
    old: AnyLifecycle,
    new: AnyLifecycle,
    *,
    checker: Checker | None = None,
    allow_removed: bool = False,
) -> LifecycleDiff:
    """Compare two versions of a lifecycle (see the module docstring).

    ``checker`` gives the obligation verdicts (default :func:`obligation_results`).
    An obligation that was proved and is gone from NEW counts as a regression
    unless ``allow_removed`` (dropping an invariant is how rules get weakened).
    """
    check = checker or obligation_results
    settings = tuple(all_settings(new, old))
    if old.fingerprint == new.fingerprint:
        # The same lifecycle: nothing can differ, and re-checking it could only
        # disagree with itself (a timeout that hits one run and not the other).
        return LifecycleDiff(
            old.name, new.name, old.fingerprint, new.fingerprint, settings, old=old, new=new
        )
    old_states = [str(s) for s in old.states]
    new_states = [str(s) for s in new.states]
    common = [s for s in new_states if s in old_states]
    added = [s for s in new_states if s not in old_states]

    header = _names_change("states", old_states, new_states)
    header += _names_change("events", [str(e) for e in old.events], [str(e) for e in new.events])
    header += _names_change(
        "flags",
        [f"{f.name} ({flag_text(f)})" for f in old.flags],
        [f"{f.name} ({flag_text(f)})" for f in new.flags],
    )
    if str(old.initial) != str(new.initial):
        header.append(f"initial state: {old.initial} -> {new.initial}")
    header += _names_change(
        "terminal states",
        [str(s) for s in old.states if s in old.terminal],
        [str(s) for s in new.states if s in new.terminal],
    )
    header += _names_change(
        "invariants",
        [f"{i.name} ({i.kind})" for i in old.invariants],
        [f"{i.name} ({i.kind})" for i in new.invariants],
    )

    transitions = _changes(_edge_conditions(old), _edge_conditions(new), noop=False)
    transitions += _changes(_noop_conditions(old), _noop_conditions(new), noop=True)

    names = [*common, *(s for s in new_states if s not in common), *old_states]
    names = list(dict.fromkeys(names))
    index = {n: i for i, n in enumerate(names)}
    # Pairs run from a state both versions have to one both have or one NEW added.
    target_mask = sum(1 << index[s] for s in (*common, *added))
    reach_changes: dict[tuple[str, bool], list[tuple[Config, Path | None]]] = {}
    pair_changes: dict[tuple[str, str, bool], list[tuple[Config, Path]]] = {}
    event_changes: dict[tuple[str, str, bool], list[Config]] = {}
    for cfg in settings:
        og, ng = graph(old, cfg), graph(new, cfg)
        ro = shortest_paths(old, str(old.initial), cfg, adj=og)
        rn = shortest_paths(new, str(new.initial), cfg, adj=ng)
        for s in common:
            if (s in ro) != (s in rn):
                reach_changes.setdefault((s, s in rn), []).append((cfg, rn.get(s) or ro.get(s)))
        for s in added:
            reach_changes.setdefault((s, s in rn), []).append((cfg, rn.get(s)))
        bo, bn = reach_bits(og, index), reach_bits(ng, index)
        for a in common:
            changed = (bo[a] ^ bn[a]) & target_mask & ~(1 << index[a])
            if changed:
                fo = reach_from(old, a, cfg, adj=og)
                fn = reach_from(new, a, cfg, adj=ng)
                for b in bits_to_names(changed, names):
                    walk = fn[b] if b in fn else fo[b]
                    pair_changes.setdefault((a, b, b in fn), []).append((cfg, walk))
            eo = {h.event for h in og[a]}
            en = {h.event for h in ng[a]}
            for ev in [str(e) for e in new.events if str(e) in en - eo]:
                event_changes.setdefault((a, ev, True), []).append(cfg)
            for ev in [str(e) for e in old.events if str(e) in eo - en]:
                event_changes.setdefault((a, ev, False), []).append(cfg)

    reachability = tuple(
        ReachabilityChange(s, now, tuple(c for c, _ in found), found[0][1], s in added)
        for (s, now), found in reach_changes.items()
    )
    pairs = tuple(
        PairChange(a, b, gained, tuple(c for c, _ in found), min((w for _, w in found), key=_len))
        for (a, b, gained), found in sorted(
            pair_changes.items(),
            # Gained first, then the most direct consequences (shortest witness) first.
            key=lambda kv: (
                not kv[0][2],
                min(_len(w) for _, w in kv[1]),
                index[kv[0][0]],
                index[kv[0][1]],
            ),
        )
    )
    events = tuple(
        EventChange(s, e, on, tuple(cfgs))
        for (s, e, on), cfgs in sorted(
            event_changes.items(), key=lambda kv: (common.index(kv[0][0]), not kv[0][2])
        )
    )

    changes, unchanged = _compare(check(old), check(new), allow_removed=allow_removed)

    return LifecycleDiff(
        old.name,
        new.name,
        old.fingerprint,
        new.fingerprint,
        settings,
        tuple(header),
        tuple(transitions),
        reachability,
        pairs,
        events,
        tuple(changes),
        tuple(unchanged),
        old=old,
        new=new,
    )


def _compare(
    old: Sequence[ObligationResult], new: Sequence[ObligationResult], *, allow_removed: bool
) -> tuple[list[ObligationChange], list[str]]:
    before = {r.obligation: r for r in old}
    after = {r.obligation: r for r in new}
    changes: list[ObligationChange] = []
    unchanged: list[str] = []
    for name, r in after.items():
        prev = before.get(name)
        if prev is not None and prev.status is r.status:
            unchanged.append(name)
            continue
        regressed = r.status is not Verdict.PROVED and (
            prev is None or prev.status is Verdict.PROVED
        )
        changes.append(
            ObligationChange(name, prev.status if prev else None, r.status, regressed, r)
        )
    for name, prev in before.items():
        if name not in after:
            regressed = prev.status is Verdict.PROVED and not allow_removed
            changes.append(ObligationChange(name, prev.status, None, regressed, None))
    return changes, unchanged


def _len(p: Path) -> int:
    return len(p.hops)
