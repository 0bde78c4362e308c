"""``statusguard diff --format markdown``: a report ready to post on a pull request.

What it owns: :func:`diff_markdown` (per lifecycle: the verdicts that changed, with
their counterexamples, the states and pairs whose reachability changed, with witness
walks, and a Mermaid ``stateDiagram-v2`` of the lifecycle after the change) and
:func:`review_mermaid`, the diagram. State diagrams cannot colour single edges, so a
changed transition is marked in its label: ``+`` added, ``-`` removed (drawn from OLD),
``~`` condition changed; states NEW added and states newly reachable get their own
classes (``added_state``, ``newly_reachable``), and a removed state ``removed_state``.
"""

from __future__ import annotations

from statusguard.consult._diff import LifecycleDiff
from statusguard.consult._render import (
    _MERMAID_ID,
    _MERMAID_RESERVED,
    _fresh,
    _mermaid_text,
    edges,
)
from statusguard.consult._reports import DiffReport
from statusguard.lifecycle._model import AnyLifecycle
from statusguard.results import Counterexample

__all__ = ["MARKS", "diff_markdown", "review_mermaid"]

MARKS = {"added": "+", "removed": "-", "condition": "~"}
"""The prefix of a changed transition's label."""
_CLASSES = {
    "added_state": "fill:#d1fae5,stroke:#047857,stroke-width:2px",
    "removed_state": "fill:#fee2e2,stroke:#b91c1c,stroke-dasharray:4 3",
    "newly_reachable": "fill:#fef3c7,stroke:#b45309,stroke-width:3px",
}


def _ids(names: list[str]) -> dict[str, str]:
    taken = {n.lower() for n in names} | set(_MERMAID_RESERVED)
    return {
        n: n
        if _MERMAID_ID.match(n) and n.lower() not in _MERMAID_RESERVED
        else _fresh(f"s{i}", taken)
        for i, n in enumerate(names)
    }


def review_mermaid(d: LifecycleDiff, old: AnyLifecycle, new: AnyLifecycle) -> str:
    """NEW's lifecycle as a Mermaid diagram with the change marked (see the module doc)."""
    new_states = [str(s) for s in new.states]
    gone = [str(s) for s in old.states if str(s) not in new_states]
    names = new_states + gone
    ids = _ids(names)
    lines = ["stateDiagram-v2", "    direction LR"]
    for name in names:
        if ids[name] != name:
            lines.append(f'    state "{name.replace(chr(34), "")}" as {ids[name]}')
    lines.append(f"    [*] --> {ids[str(new.initial)]}")
    changed = {(t.source, t.event, t.target): t.change for t in d.transitions}
    for e in edges(new):
        mark = MARKS.get(changed.get((e.source, e.event, e.target), ""), "")
        label = f"{mark} {e.label}" if mark else e.label
        lines.append(f"    {ids[e.source]} --> {ids[e.target]}: {_mermaid_text(label)}")
    for e in edges(old):
        if changed.get((e.source, e.event, e.target)) == "removed":
            label = f"{MARKS['removed']} {e.label}"
            lines.append(f"    {ids[e.source]} --> {ids[e.target]}: {_mermaid_text(label)}")
    lines.extend(f"    {ids[str(s)]} --> [*]" for s in new.states if s in new.terminal)
    members = {
        "added_state": [s for s in new_states if s not in {str(x) for x in old.states}],
        "removed_state": gone,
        "newly_reachable": [r.state for r in d.reachability if r.reachable and not r.added],
    }
    for cls, states in members.items():
        if states:
            lines.append(f"    classDef {cls} {_CLASSES[cls]}")
            lines.append(f"    class {','.join(dict.fromkeys(ids[s] for s in states))} {cls}")
    return "\n".join(lines)


def _witness(cx: Counterexample) -> str:
    """A counterexample's run, or for a race its interleaving of workers."""
    if cx.schedule:
        from statusguard.race import render_schedule

        return render_schedule(cx)
    return cx.render()


def _section(d: LifecycleDiff) -> list[str]:
    out = [f"## `{d.new_name}`", ""]
    out.append(f"`{d.old_fingerprint[:19]}` → `{d.new_fingerprint[:19]}`")
    out.append("")
    if d.identical:
        return [*out, "No change.", ""]
    regressions = d.regressions
    n = len(regressions)
    out.append(
        f"**{n} obligation{'s' if n != 1 else ''} regressed.**" if n else "No obligation regressed."
    )
    out.append("")
    out.extend(f"- {h}" for h in d.header)
    if d.header:
        out.append("")
    if d.obligations:
        out += [
            "### Verdicts that changed",
            "",
            "| obligation | before | after | |",
            "|---|---|---|---|",
        ]
        for o in d.obligations:
            mark = "**REGRESSED**" if o.regressed else "ok"
            out.append(
                f"| `{o.obligation}` | {o.before or 'absent'} | {o.after or 'absent'} | {mark} |"
            )
        out.append("")
        for o in d.obligations:
            r = o.result
            if r is None or (r.counterexample is None and not r.detail):
                continue
            out.append(f"`{o.obligation}`: {r.detail}" if r.detail else f"`{o.obligation}`:")
            if r.counterexample is not None:
                out += ["", "```text", _witness(r.counterexample), "```"]
            out.append("")
    walks = [
        (
            f"`{r.state}` is {'now' if r.reachable else 'no longer'} reachable"
            + (" (a state NEW added)" if r.added else "")
            + f" ({d._configs(r.configs)})"
            + (f": `{r.witness.render()}`" if r.witness is not None else "")
        )
        for r in d.reachability
    ]
    walks += [
        f"`{p.source}` can {'now' if p.gained else 'no longer'} reach `{p.target}` "
        f"({d._configs(p.configs)}): `{p.witness.render()}`"
        for p in d.pairs
    ]
    if walks:
        out += ["### Reachability that changed (witness walks)", ""]
        out.extend(f"- {w}" for w in walks)
        out.append("")
    if d.transitions:
        out += ["### Transitions that changed", ""]
        out.extend(f"- `{t.render()}`" for t in d.transitions)
        out.append("")
    if d.old is not None and d.new is not None:
        out += ["### The lifecycle after the change", "", "```mermaid"]
        out.append(review_mermaid(d, d.old, d.new))
        out += [
            "```",
            "",
            "Labels: `+` added transition, `-` removed, `~` condition changed. "
            "Green states were added, amber ones are newly reachable, red ones removed.",
            "",
        ]
    return out


def diff_markdown(report: DiffReport) -> str:
    """The whole ``diff`` as Markdown for a pull request comment."""
    verdict = "**regressed**" if report.regressed else "no regression"
    out = [f"# statusguard diff: {verdict}", "", f"`{report.old}` → `{report.new}`", ""]
    for d in report.lifecycles:
        out += _section(d)
    if report.notes:
        out += ["## Lifecycles added or removed", ""]
        out.extend(f"- {n}" for n in report.notes)
        out.append("")
    return "\n".join(out).rstrip() + "\n"
