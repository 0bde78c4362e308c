"""Where a verdict points in the model: the file and line of the offending part.

What it owns: :class:`Finding` (one verdict that did not pass, with the line to show it
on) and :func:`findings`, which lists them for a ``check`` or ``diff`` report, for the
formats CI systems read (JUnit, SARIF, GitHub annotations). A finding points at the
transition its counterexample takes last (the step that breaks the obligation: the exit
from a terminal state, the step an invariant forbids), at both transitions of a
nondeterministic choice, at the invariant it breaks, else at the lifecycle; for a proofs
manifest that differs, at the manifest. The lines come from the parts' ``origin``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from statusguard.errors import Origin
from statusguard.lifecycle._model import AnyLifecycle
from statusguard.results import ObligationResult, TraceStep, Verdict

if TYPE_CHECKING:
    from statusguard.consult._reports import CheckReport, DiffReport

__all__ = ["Finding", "findings", "locate", "rule_of"]

RULES: Mapping[str, str] = {
    "reachable": "every state is reachable from the initial state",
    "no_dead_ends": "every non-terminal state has a way out",
    "can_terminate": "a terminal state is reachable from every reachable state",
    "deterministic": "an event leads to one state under any flag setting",
    "terminal_final": "no transition leaves a terminal state",
    "noop_unchanged": "an event accepted without a change has no transition there",
    "invariant": "a declared invariant holds",
    "race": "the write protocols keep their race obligations",
    "proofs.manifest": "the recorded proofs manifest matches the verdicts",
    "loading": "the models load within the --timeout budget",
    "diff.lifecycle_removed": "a change keeps every lifecycle",
}
"""Each rule a finding can break, with what it asks (SARIF's rule descriptions)."""


@dataclass(frozen=True)
class Finding:
    """A verdict that did not pass: ``level`` is ``error`` (violated, regressed) or
    ``warning`` (unknown: the solver gave up); ``origin`` the line to show it on."""

    lifecycle: str
    name: str  # the obligation (or what else failed)
    rule: str  # a key of RULES
    level: str
    message: str
    origin: Origin | None
    related: tuple[tuple[Origin, str], ...] = ()  # other lines involved, with what they are


def rule_of(lc: AnyLifecycle, obligation: str) -> str:
    """The rule an obligation belongs to (its own name for a built-in one)."""
    if obligation in RULES:
        return obligation
    if obligation.startswith("race."):
        return "race"
    return "invariant" if any(i.name == obligation for i in lc.invariants) else obligation


def _enabled(when: Sequence[tuple[str, bool]], flags: Mapping[str, bool]) -> bool:
    return all(flags.get(n, v) == v for n, v in when)


def _steps(lc: AnyLifecycle, state: str, event: str, flags: Mapping[str, bool]) -> list[Any]:
    return [
        t
        for t in lc.transitions
        if str(t.event) == event
        and state in {str(s) for s in t.sources}
        and _enabled(t.when, flags)
    ]


def _offending(lc: AnyLifecycle, r: ObligationResult) -> list[Any]:
    """The transitions the counterexample blames: the last step taken, or every
    transition a final step's event could take (a nondeterministic choice)."""
    if r.counterexample is None or not r.counterexample.trace:
        return []
    trace: tuple[TraceStep, ...] = r.counterexample.trace
    config = dict(r.counterexample.config)
    last = trace[-1]
    if last.event is not None:  # the trace ends on a choice: every transition it offers
        return _steps(lc, last.state, last.event, {**config, **last.facts})
    if len(trace) < 2 or trace[-2].event is None:
        return []
    step = trace[-2]
    event = str(step.event)
    options = _steps(lc, step.state, event, {**config, **step.facts})
    return [t for t in options if str(t.target) == last.state][:1]


def _noops_blamed(lc: AnyLifecycle, r: ObligationResult) -> list[Any]:
    """For ``noop_unchanged``: the no-ops that accept the counterexample's last step."""
    cex = r.counterexample
    if r.obligation != "noop_unchanged" or cex is None or len(cex.trace) < 2:
        return []
    step = cex.trace[-2]
    flags = {**dict(cex.config), **step.facts}
    return [
        n
        for n in lc.noops
        if n.origin is not None
        and str(n.event) == str(step.event)
        and step.state in {str(s) for s in n.sources}
        and _enabled(n.when, flags)
    ]


def locate(
    lc: AnyLifecycle, r: ObligationResult
) -> tuple[Origin | None, tuple[tuple[Origin, str], ...]]:
    """The line a result points at, and the other lines involved (with what they are)."""
    blamed = [t for t in _offending(lc, r) if t.origin is not None]
    invariant = next((i for i in lc.invariants if i.name == r.obligation), None)
    related: list[tuple[Origin, str]] = []
    for t in blamed[:-1]:
        related.append((t.origin, f"transition {t!r}"))
    for n in _noops_blamed(lc, r):  # the no-op the blamed transition overlaps
        related.append((n.origin, f"no-op {n!r}"))
    if invariant is not None and invariant.origin is not None:
        if blamed:
            related.append((invariant.origin, f"invariant {invariant.name!r}"))
        else:
            return invariant.origin, tuple(related)
    if blamed:
        return blamed[-1].origin, tuple(related)
    return lc.origin, tuple(related)


def _message(lc: AnyLifecycle, r: ObligationResult, prefix: str = "") -> str:
    text = f"{lc.name}: {prefix}{r.obligation} {r.status}"
    if r.detail:
        text += f": {r.detail}"
    if r.counterexample is not None and r.counterexample.trace:
        walk = " -> ".join(
            s.state + (f" --{s.event}" if s.event else "") for s in r.counterexample.trace
        )
        text += f" (run: {walk})"
    return text


def _finding(lc: AnyLifecycle, r: ObligationResult, prefix: str = "") -> Finding:
    origin, related = locate(lc, r)
    level = "warning" if r.status is Verdict.UNKNOWN else "error"
    return Finding(
        lc.name, r.obligation, rule_of(lc, r.obligation), level, _message(lc, r, prefix),
        origin, related,
    )  # fmt: skip


def findings(report: CheckReport | DiffReport) -> Iterator[Finding]:
    """The findings of a ``check`` report (every result not proved, every manifest
    difference) or a ``diff`` report (every regression, every lifecycle removed)."""
    from statusguard.consult._reports import CheckReport

    if isinstance(report, CheckReport):
        for m in report.models:
            for r in m.results:
                if not r.ok:
                    yield _finding(m.lifecycle, r)
            manifest = Origin(m.manifest, 1) if m.manifest is not None else None
            for d in m.differences:
                yield Finding(
                    m.lifecycle.name, "proofs manifest", "proofs.manifest", "error",
                    f"{m.lifecycle.name}: proofs manifest: {d}", manifest,
                )  # fmt: skip
        for u in report.unloaded:
            r = u.result
            yield Finding(
                u.target, r.obligation, "loading", "warning",
                f"{u.target}: {r.obligation} {r.status}: {r.detail}", None,
            )  # fmt: skip
        return
    for change in report.lifecycles:
        for o in change.regressions:
            if o.result is not None and change.new is not None:
                before = o.before or "absent"
                yield _finding(change.new, o.result, f"regressed (was {before}): ")
            else:
                origin = change.old.origin if change.old is not None else None
                yield Finding(
                    change.new_name, o.obligation, "invariant", "error",
                    f"{change.new_name}: {o.obligation} regressed: NEW no longer has it", origin,
                )  # fmt: skip
    for name in report.removed:
        if not report.allow_removed:
            yield Finding(
                name, "lifecycle removed", "diff.lifecycle_removed", "error",
                f"lifecycle {name} removed: its obligations went with it", None,
            )  # fmt: skip
