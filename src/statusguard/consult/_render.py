"""Views of a lifecycle: a states x events table, Markdown, Mermaid and Graphviz DOT.

Every view is computed from the same :class:`Lifecycle` object, so a diagram
generated from the model cannot disagree with it. Conditions on flags label the
edges, the initial and terminal states are marked, and :func:`restrict` fixes
some flags first (``statusguard show --config delayed_delete=true``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from statusguard._text import format_flags
from statusguard.lifecycle._conditions import (
    describe_condition,
    merged_conditions,
    simplify,
)
from statusguard.lifecycle._model import AnyLifecycle, Lifecycle
from statusguard.lifecycle._parts import Flag, NoOp, Transition

__all__ = [
    "Edge",
    "cells",
    "describe_condition",
    "edges",
    "flag_text",
    "merged_conditions",
    "noop_conditions",
    "render_dot",
    "render_markdown",
    "render_mermaid",
    "render_table",
    "restrict",
]

Condition = tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class Edge:
    """``source --event--> target`` under any of ``conditions`` (``((),)``: always)."""

    source: str
    event: str
    target: str
    conditions: tuple[Condition, ...]

    @property
    def label(self) -> str:
        cond = describe_condition(self.conditions)
        return f"{self.event} [{cond}]" if cond else self.event


def edges(lc: AnyLifecycle) -> list[Edge]:
    """One edge per ``(source, event, target)``, its conditions merged, in model order."""
    merged = merged_conditions(lc)
    return [Edge(s, e, t, simplify(conds)) for (s, e, t), conds in merged.items()]


def restrict(lc: AnyLifecycle, flags: Mapping[str, bool]) -> AnyLifecycle:
    """The lifecycle with ``flags`` fixed: transitions they disable are dropped, and the
    literals they satisfy disappear from the conditions that remain.

    Raises :class:`~statusguard.errors.UnknownFlag` for a flag the lifecycle does not declare.
    """
    if not flags:
        return lc
    lc.check_flags(flags)
    kept: list[Transition[Any, Any]] = []
    for t in lc.transitions:
        if any(flags.get(n, v) != v for n, v in t.when):
            continue
        rest = tuple((n, v) for n, v in t.when if n not in flags)
        kept.append(Transition(t.event, t.sources, t.target, rest, origin=t.origin))
    noops: list[NoOp[Any, Any]] = []
    for n in lc.noops:
        if any(flags.get(k, v) != v for k, v in n.when):
            continue
        rest = tuple((k, v) for k, v in n.when if k not in flags)
        noops.append(NoOp(n.event, n.sources, rest, origin=n.origin))
    return Lifecycle(
        lc.name,
        states=lc.states,
        initial=lc.initial,
        terminal=[s for s in lc.states if s in lc.terminal],
        transitions=kept,
        events=lc.events,
        flags=[f for f in lc.flags if f.name not in flags],
        invariants=lc.invariants,
        noops=noops,
        origin=lc.origin,
    )


# -- the states x events grid ----------------------------------------------------------


@dataclass(frozen=True)
class Grid:
    """The table behind the text and Markdown views: ``rows[state][event]`` is a cell."""

    states: tuple[str, ...]
    events: tuple[str, ...]
    rows: dict[str, dict[str, str]]
    notes: tuple[str, ...]  # footnote i+1 explains marker [i+1]


def cells(lc: AnyLifecycle) -> Grid:
    """Each (state, event) cell names the target; a conditional target carries a
    footnote marker ``[n]`` whose note states the condition. A no-op's cell reads
    :data:`NO_CHANGE` (accepted without a change)."""
    notes: list[str] = []
    rows: dict[str, dict[str, str]] = {str(s): {} for s in lc.states}
    by_cell: dict[tuple[str, str], list[Edge]] = {}
    for edge in edges(lc):
        by_cell.setdefault((edge.source, edge.event), []).append(edge)
    for (state, event), conds in noop_conditions(lc).items():
        by_cell.setdefault((state, event), []).append(Edge(state, event, NO_CHANGE, conds))
    for (state, event), options in by_cell.items():
        parts: list[str] = []
        for edge in options:
            cond = describe_condition(edge.conditions)
            if not cond:
                parts.append(edge.target)
                continue
            if cond not in notes:
                notes.append(cond)
            parts.append(f"{edge.target} [{notes.index(cond) + 1}]")
        rows[state][event] = ", ".join(parts)
    return Grid(
        tuple(str(s) for s in lc.states), tuple(str(e) for e in lc.events), rows, tuple(notes)
    )


NO_CHANGE = "(no change)"
"""How a view shows a no-op: the event is accepted and the status stays."""


def noop_conditions(lc: AnyLifecycle) -> dict[tuple[str, str], tuple[Condition, ...]]:
    """``(state, event)`` -> the conditions under which a no-op accepts it, in model order."""
    out: dict[tuple[str, str], list[Condition]] = {}
    for n in lc.noops:
        for s in n.sources:
            out.setdefault((str(s), str(n.event)), []).append(n.when)
    return {k: simplify(tuple(v)) for k, v in out.items()}


def flag_text(f: Flag) -> str:
    """``kind`` or ``kind, default false``: how views describe a flag."""
    return str(f.kind) if f.default is None else f"{f.kind}, default {str(f.default).lower()}"


def _state_label(lc: AnyLifecycle, state: str) -> str:
    marks = []
    if state == str(lc.initial):
        marks.append("initial")
    if state in {str(s) for s in lc.terminal}:
        marks.append("terminal")
    return f"{state} ({', '.join(marks)})" if marks else state


def _header(lc: AnyLifecycle, fixed: Mapping[str, bool]) -> list[str]:
    terminal = ", ".join(str(s) for s in lc.states if s in lc.terminal) or "(none)"
    lines = [f"{lc.name}: initial {lc.initial}; terminal {terminal}"]
    flags = [f"{f.name} ({flag_text(f)})" for f in lc.flags]
    if flags:
        lines.append("flags: " + ", ".join(flags))
    if fixed:
        lines.append("restricted to: " + format_flags(fixed.items()))
    return lines


def render_table(
    lc: AnyLifecycle, *, fixed: Mapping[str, bool] | None = None, width: int | None = None
) -> str:
    """The terminal view: one row per state, one column per event, ``-`` where the
    event is not enabled. Columns wrap into blocks of at most ``width`` characters."""
    fixed = fixed or {}
    view = restrict(lc, fixed)
    grid = cells(view)
    labels = [_state_label(view, s) for s in grid.states]
    first = max(len("state"), *(len(label) for label in labels))
    cols = [
        (e, max(len(e), *(len(grid.rows[s].get(e, "-")) for s in grid.states))) for e in grid.events
    ]
    blocks: list[list[tuple[str, int]]] = [[]]
    used = first
    for col in cols:
        if width is not None and blocks[-1] and used + 2 + col[1] > width:
            blocks.append([])
            used = first
        blocks[-1].append(col)
        used += 2 + col[1]
    out = _header(lc, fixed)
    if width is not None:  # the flags line wraps too (after a comma), indented
        out = [part for line in out for part in _wrap(line, width)]
    for block in blocks:
        out.append("")
        out.append("  ".join(["state".ljust(first), *(e.ljust(w) for e, w in block)]).rstrip())
        out.append("  ".join(["-" * first, *("-" * w for _, w in block)]))
        for state, label in zip(grid.states, labels, strict=True):
            row = [label.ljust(first), *(grid.rows[state].get(e, "-").ljust(w) for e, w in block)]
            out.append("  ".join(row).rstrip())
    if grid.notes:
        out.append("")
        out.extend(f"[{i}] when {note}" for i, note in enumerate(grid.notes, 1))
    return "\n".join(out)


def _wrap(line: str, width: int) -> list[str]:
    """``line`` broken after ", " into lines of at most ``width`` (continuations indented)."""
    if len(line) <= width or ", " not in line:
        return [line]
    out: list[str] = []
    cur = ""
    for piece in line.split(", "):
        candidate = f"{cur}, {piece}" if cur else piece
        if cur and len(candidate) + 1 > width:
            out.append(cur + ",")
            cur = "  " + piece
        else:
            cur = candidate
    out.append(cur)
    return out


# -- Mermaid ---------------------------------------------------------------------------

_MERMAID_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_MERMAID_RESERVED = frozenset(
    {"end", "state", "note", "direction", "class", "classdef", "style", "click", "as", "graph"}
)


def _fresh(base: str, taken: set[str]) -> str:
    """``base``, or ``base_2``, ``base_3``...: the first not in ``taken`` (which it joins)."""
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}_{n}"
    taken.add(candidate)
    return candidate


def _mermaid_ids(lc: AnyLifecycle) -> dict[str, str]:
    """A Mermaid id per state: its name when that is a safe id, else a generated id
    unique against every state name (a state called ``s0`` keeps its own node)."""
    names = [str(s) for s in lc.states]
    safe = {n for n in names if _MERMAID_ID.match(n) and n.lower() not in _MERMAID_RESERVED}
    taken = {n.lower() for n in names} | set(_MERMAID_RESERVED)
    ids: dict[str, str] = {}
    for i, name in enumerate(names):
        ids[name] = name if name in safe else _fresh(f"s{i}", taken)
    return ids


def _mermaid_text(text: str) -> str:
    # Mermaid labels end at a newline; ';' and '#' start statements and entities.
    return re.sub(r"[\n;#:]", " ", text).strip()


def render_mermaid(lc: AnyLifecycle, *, fixed: Mapping[str, bool] | None = None) -> str:
    """A Mermaid ``stateDiagram-v2``: ``[*] -->`` the initial state, terminal states
    ``--> [*]`` and drawn bold, conditions in brackets on the edge labels."""
    fixed = fixed or {}
    view = restrict(lc, fixed)
    ids = _mermaid_ids(view)
    title = view.name + (f" ({format_flags(fixed.items())})" if fixed else "")
    lines = ["---", f"title: {_mermaid_text(title)}", "---", "stateDiagram-v2", "    direction LR"]
    for s in view.states:
        name = str(s)
        if ids[name] != name:
            lines.append(f'    state "{name.replace(chr(34), "")}" as {ids[name]}')
    lines.append(f"    [*] --> {ids[str(view.initial)]}")
    lines.extend(
        f"    {ids[e.source]} --> {ids[e.target]}: {_mermaid_text(e.label)}" for e in edges(view)
    )
    terminal = [ids[str(s)] for s in view.states if s in view.terminal]
    lines.extend(f"    {t} --> [*]" for t in terminal)
    if terminal:
        lines.append("    classDef terminal font-weight:bold,stroke-width:3px")
        lines.append(f"    class {','.join(terminal)} terminal")
    return "\n".join(lines)


# -- Graphviz DOT ----------------------------------------------------------------------


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def render_dot(lc: AnyLifecycle, *, fixed: Mapping[str, bool] | None = None) -> str:
    """A Graphviz digraph: a point leads to the initial state, terminal states are
    double circles, conditional edges are dashed and labelled with their condition."""
    fixed = fixed or {}
    view = restrict(lc, fixed)
    title = view.name + (f" ({format_flags(fixed.items())})" if fixed else "")
    # The start marker's node id must not be a state's name (DOT ids are the names).
    start = _dot_quote(_fresh("__start__", {str(s) for s in view.states}))
    lines = [
        f"digraph {_dot_quote(view.name)} {{",
        "  rankdir=LR;",
        f"  label={_dot_quote(title)}; labelloc=t;",
        '  node [shape=ellipse, fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
        f'  {start} [shape=point, width=0.15, label=""];',
    ]
    for s in view.states:
        shape = ", shape=doublecircle" if s in view.terminal else ""
        lines.append(f"  {_dot_quote(str(s))} [label={_dot_quote(str(s))}{shape}];")
    lines.append(f"  {start} -> {_dot_quote(str(view.initial))};")
    for e in edges(view):
        style = ", style=dashed" if describe_condition(e.conditions) else ""
        ends = f"{_dot_quote(e.source)} -> {_dot_quote(e.target)}"
        lines.append(f"  {ends} [label={_dot_quote(e.label)}{style}];")
    lines.append("}")
    return "\n".join(lines)


# -- Markdown --------------------------------------------------------------------------


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(
    lc: AnyLifecycle, *, fixed: Mapping[str, bool] | None = None, level: int = 2
) -> str:
    """A Markdown section: the Mermaid diagram (GitHub renders it), the states x events
    table with its conditions (a no-op's cell: ``(no change)``; the diagram draws
    edges only), the flags and the invariants."""
    fixed = fixed or {}
    view = restrict(lc, fixed)
    grid = cells(view)
    terminal = ", ".join(f"`{s}`" for s in view.states if s in view.terminal) or "none"
    out = [f"{'#' * level} {lc.name}", ""]
    if fixed:
        out += [f"Restricted to {format_flags(fixed.items())}.", ""]
    out += [f"Initial state `{view.initial}`; terminal: {terminal}.", ""]
    for f in view.flags:
        doc = f": {f.doc}" if f.doc else ""
        out.append(f"- flag `{f.name}` ({flag_text(f)}){doc}")
    if view.flags:
        out.append("")
    out += ["```mermaid", render_mermaid(lc, fixed=fixed), "```", ""]
    out.append("| state | " + " | ".join(f"`{e}`" for e in grid.events) + " |")
    out.append("|---" * (len(grid.events) + 1) + "|")
    for s in grid.states:
        row = [_md_cell(_state_label(view, s))]
        row += [_md_cell(grid.rows[s].get(e, "")) for e in grid.events]
        out.append("| " + " | ".join(row) + " |")
    if grid.notes:
        out.append("")
        out.extend(f"[{i}] when {note}  " for i, note in enumerate(grid.notes, 1))
        out[-1] = out[-1].rstrip()
    if view.invariants:
        out += ["", "Invariants:", ""]
        out.extend(f"- `{i.name}` ({i.kind}): {i.describe()}" for i in view.invariants)
    return "\n".join(out)
