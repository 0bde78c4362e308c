"""What each command reports, as records a format renders: show, check, race, diff, explain.

A report carries what its command found. ``to_json()`` is the ``--format json`` document
(part of the CLI contract) and ``render()`` the text view; :class:`ShowReport` is drawn
by the views in :mod:`statusguard.consult._render` instead. Which formats apply to which
report is written once, in :mod:`statusguard.consult._formats`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from statusguard._text import format_flags
from statusguard.consult._render import restrict
from statusguard.lifecycle._model import AnyLifecycle
from statusguard.race._gate import RaceCheck
from statusguard.results import ObligationResult, Verdict

if TYPE_CHECKING:
    from statusguard.consult._diff import LifecycleDiff
    from statusguard.consult._explain import EventAnswer, StateAnswer

__all__ = [
    "CheckReport",
    "CheckedModel",
    "DiffReport",
    "ExplainReport",
    "RaceReport",
    "ShowReport",
    "Unloaded",
    "unloaded_targets",
]


@dataclass(frozen=True)
class ShowReport:
    """``statusguard show``: lifecycles to draw, flags fixed, the table wrapped at ``width``."""

    lifecycles: tuple[AnyLifecycle, ...]
    fixed: Mapping[str, bool] = field(default_factory=dict)
    width: int | None = None

    def to_json(self) -> Any:
        """The v1 document of each lifecycle (restricted); one document for one lifecycle."""
        docs = [restrict(lc, self.fixed).to_json() for lc in self.lifecycles]
        return docs[0] if len(docs) == 1 else docs


# -- check -----------------------------------------------------------------------------

_MARKS = {Verdict.PROVED: "ok  ", Verdict.VIOLATED: "FAIL", Verdict.UNKNOWN: "??  "}


@dataclass(frozen=True)
class CheckedModel:
    """One lifecycle's verdicts, and (with ``--proofs``) how they differ from its manifest."""

    lifecycle: AnyLifecycle
    results: tuple[ObligationResult, ...]
    manifest: str | None = None  # the manifest compared with; None: not compared
    differences: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results) and not self.differences

    def to_json(self) -> dict[str, Any]:
        lc = self.lifecycle
        doc: dict[str, Any] = {
            "name": lc.name,
            "fingerprint": lc.fingerprint,
            "results": [r.to_json() for r in self.results],
        }
        if self.manifest is not None:
            doc["manifest"] = {"path": self.manifest, "differences": list(self.differences)}
        return doc

    def render(self) -> str:
        """One line per obligation (mark, name, time), then traces and manifest differences."""
        lc = self.lifecycle
        lines = [f"{lc.name}  {lc.fingerprint}"]
        width = max((len(r.obligation) for r in self.results), default=0)
        for r in self.results:
            line = f"  {_MARKS[r.status]} {r.obligation.ljust(width)}  {r.seconds * 1000:8.1f} ms"
            if r.status is not Verdict.PROVED:
                line += f"  {r.status}"
                if r.detail:
                    line += f": {r.detail}"
            lines.append(line)
            if r.counterexample is not None:
                lines += ["        " + x for x in r.counterexample.render().splitlines()]
            if r.reached_under is not None:
                lines.append("        " + _reached(lc, r.reached_under))
        lines.extend(f"  FAIL proofs manifest: {d}" for d in self.differences)
        return "\n".join(lines)


def _reached(lc: AnyLifecycle, reached: Mapping[str, Sequence[Mapping[str, bool]]]) -> str:
    """One line: which states some settings miss (the full map is in the JSON)."""
    n = sum(1 for _ in lc.config_settings())
    partial = [
        f"{state} [{' | '.join(format_flags(c) for c in cfgs)}]"
        for state, cfgs in reached.items()
        if 0 < len(cfgs) < n
    ]
    never = [state for state, cfgs in reached.items() if not cfgs]
    full = len(reached) - len(partial) - len(never)
    out = f"reached under every setting: {full}/{len(reached)} states"
    if partial:
        out += f"; only under some: {', '.join(partial)}"
    if never:
        out += f"; under none: {', '.join(never)}"
    return out


LOADING = "loading"
"""The pseudo-obligation of a target not loaded within the time budget."""


@dataclass(frozen=True)
class Unloaded:
    """A target whose models were not loaded within the time budget (``--timeout``):
    none of their obligations was checked, so the check is ``unknown``, never proved.
    ``result`` is the ``loading`` verdict (``unknown``; its detail names the step)."""

    target: str
    result: ObligationResult

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, **self.result.to_json()}

    def render(self) -> str:
        r = self.result
        return f"{self.target}\n  {_MARKS[r.status]} {r.obligation}  {r.status}: {r.detail}"


def unloaded_targets(
    targets: Sequence[str], target: str, problem: str, seconds: float
) -> tuple[Unloaded, ...]:
    """Every target of a run whose budget ran out while ``target`` loaded: that one
    ``unknown`` with ``problem`` (the step that did not finish), the others not checked."""
    out = []
    for t in targets:
        mine = t == target
        detail = problem if mine else f"not checked: loading {target!r}: {problem}"
        out.append(
            Unloaded(
                t, ObligationResult(LOADING, Verdict.UNKNOWN, seconds if mine else 0.0, "", detail)
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class CheckReport:
    """``statusguard check``: every model's verdicts, and the targets not loaded in time."""

    models: tuple[CheckedModel, ...]
    unloaded: tuple[Unloaded, ...] = ()

    @property
    def ok(self) -> bool:
        return all(m.ok for m in self.models) and not self.unloaded

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"models": [m.to_json() for m in self.models]}
        if self.unloaded:  # omitted when empty: reports of loaded models are unchanged
            doc["unloaded"] = [u.to_json() for u in self.unloaded]
        return doc

    def render(self) -> str:
        total = sum(len(m.results) for m in self.models)
        bad = sum(1 for m in self.models for r in m.results if not r.ok)
        if self.ok:
            verdict = "all proved"
        elif self.unloaded:
            verdict = f"unknown: {len(self.unloaded)} target(s) not loaded within --timeout"
        else:
            verdict = f"{bad} not proved" if bad else "all proved, but a proofs manifest differs"
        summary = f"{len(self.models)} model(s), {total} obligation(s): {verdict}"
        blocks = [m.render() for m in self.models] + [u.render() for u in self.unloaded]
        return "\n\n".join(blocks) + "\n\n" + summary


# -- race ------------------------------------------------------------------------------


def _race_mark(check: RaceCheck) -> tuple[str, str]:
    """The mark and the verdict words of one race check."""
    status = check.result.status
    if check.expected is None:
        return ("ok" if status is Verdict.PROVED else "--"), f"{status} (not gated)"
    if status is check.expected:
        return "ok", f"{status}" + (" (expected)" if status is Verdict.VIOLATED else "")
    return "FAIL", f"{status} (expected {check.expected})"


@dataclass(frozen=True)
class RaceReport:
    """``statusguard race``: per lifecycle, each race check with the verdict expected of it.

    A check is *as expected* when its verdict is the one the protocol's theorems or the
    scenario declare (``unguarded`` losing a scenario is expected); one with no expected
    verdict is not gated. The report is ``ok`` when nothing surprised.
    """

    models: tuple[tuple[AnyLifecycle, tuple[RaceCheck, ...]], ...]
    unloaded: tuple[Unloaded, ...] = ()

    @property
    def surprises(self) -> int:
        return sum(1 for _, checks in self.models for c in checks if not c.ok)

    @property
    def ok(self) -> bool:
        return self.surprises == 0 and not self.unloaded

    def to_json(self) -> dict[str, Any]:
        return {
            "models": [
                {
                    "name": lc.name,
                    "fingerprint": lc.fingerprint,
                    "results": [
                        {
                            **c.result.to_json(),
                            "expected": None if c.expected is None else str(c.expected),
                            "surprise": not c.ok,
                        }
                        for c in checks
                    ],
                }
                for lc, checks in self.models
            ],
            "surprises": self.surprises,
            # omitted when empty: reports of loaded models are unchanged
            **({"unloaded": [u.to_json() for u in self.unloaded]} if self.unloaded else {}),
        }

    def render(self) -> str:
        from statusguard.race import render_schedule

        blocks = []
        for lc, checks in self.models:
            lines = [f"{lc.name} ({lc.fingerprint})"]
            width = max((len(c.result.obligation) for c in checks), default=0)
            words = [_race_mark(c) for c in checks]
            vwidth = max((len(w) for _, w in words), default=0)
            for c, (mark, verdict) in zip(checks, words, strict=True):
                r = c.result
                lines.append(
                    f"  {mark:<4} {r.obligation:<{width}}  {verdict:<{vwidth}} "
                    f"{r.seconds * 1000:7.1f} ms  {r.method}"
                )
                if r.detail:
                    lines.append(f"       {r.detail}")
                if r.counterexample is not None:
                    schedule = render_schedule(r.counterexample)
                    lines.extend("     " + ln for ln in schedule.splitlines())
            blocks.append("\n".join(lines))
        total = sum(len(checks) for _, checks in self.models)
        ungated = sum(1 for _, checks in self.models for c in checks if c.expected is None)
        summary = (
            f"{total} race check(s): {total - ungated - self.surprises} as expected, "
            f"{ungated} not gated, {self.surprises} surprise(s)"
        )
        if self.unloaded:
            blocks += [u.render() for u in self.unloaded]
            summary += f"; unknown: {len(self.unloaded)} target(s) not loaded within --timeout"
        return "\n\n".join([*blocks, summary])


# -- diff and explain ------------------------------------------------------------------


@dataclass(frozen=True)
class DiffReport:
    """``statusguard diff OLD NEW``: the lifecycles both hold, compared, and what else changed."""

    old: str
    new: str
    lifecycles: tuple[LifecycleDiff, ...]
    notes: tuple[str, ...] = ()  # lifecycles added or removed, in words
    removed: tuple[str, ...] = ()  # names only OLD has
    regressed: bool = False
    allow_removed: bool = False  # a removed lifecycle is not a regression

    def to_json(self) -> dict[str, Any]:
        return {
            "old": self.old,
            "new": self.new,
            "lifecycles": [d.to_json() for d in self.lifecycles],
            "notes": list(self.notes),
            "removed_lifecycles": list(self.removed),
            "regressed": self.regressed,
        }

    def render(self) -> str:
        return "\n\n".join([*(d.render() for d in self.lifecycles), *self.notes])


@dataclass(frozen=True)
class ExplainReport:
    """``statusguard explain``: how a state is reached, or whether an event is allowed."""

    answer: StateAnswer | EventAnswer

    def to_json(self) -> dict[str, Any]:
        return self.answer.to_json()

    def render(self) -> str:
        return self.answer.render()
