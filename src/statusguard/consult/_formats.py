"""Every output format, in one registry: its name, what it applies to, how it renders.

A :class:`Format` maps each report type it applies to (the records in
:mod:`statusguard.consult._reports`) to a renderer returning text. The CLI takes each
command's ``--format`` choices, its ``-o`` suffixes and its help text from here, so a new
format (JUnit, SARIF, ...) is one renderer module and one entry in :data:`FORMATS`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from statusguard.consult._render import render_dot, render_markdown, render_mermaid, render_table
from statusguard.consult._reports import (
    CheckReport,
    DiffReport,
    ExplainReport,
    RaceReport,
    ShowReport,
)

__all__ = ["FORMATS", "Format", "format_named", "formats_for", "render"]

Renderer = Callable[[Any], str]


@dataclass(frozen=True)
class Format:
    """One output format: ``renderers[type(report)](report)`` is the text it writes."""

    name: str
    summary: str  # a few words for --help
    renderers: Mapping[type[Any], Renderer]
    suffixes: tuple[str, ...] = ()  # -o file suffixes that hold this format
    pictures: tuple[str, ...] = ()  # -o suffixes Graphviz draws from this format's text
    one_lifecycle: bool = False  # it draws a single lifecycle

    def applies_to(self, report: type[Any]) -> bool:
        return report in self.renderers


def _text(report: Any) -> str:
    return str(report.render())


def _json(report: Any) -> str:
    return json.dumps(report.to_json(), indent=2)


def _table(report: ShowReport) -> str:
    return "\n\n".join(
        render_table(lc, fixed=report.fixed, width=report.width) for lc in report.lifecycles
    )


def _markdown(report: ShowReport) -> str:
    return "\n\n".join(render_markdown(lc, fixed=report.fixed) for lc in report.lifecycles)


def _mermaid(report: ShowReport) -> str:
    return render_mermaid(report.lifecycles[0], fixed=report.fixed)


def _dot(report: ShowReport) -> str:
    return render_dot(report.lifecycles[0], fixed=report.fixed)


def _junit(report: CheckReport | DiffReport) -> str:
    from statusguard.consult._ci import junit

    return junit(report)


def _sarif(report: CheckReport | DiffReport) -> str:
    from statusguard.consult._ci import sarif

    return sarif(report)


def _review(report: DiffReport) -> str:
    from statusguard.consult._review import diff_markdown

    return diff_markdown(report)


_REPORTS = (CheckReport, RaceReport, DiffReport, ExplainReport)
_CI = (CheckReport, DiffReport)

FORMATS: tuple[Format, ...] = (
    Format("text", "readable text", dict.fromkeys(_REPORTS, _text), ("txt",)),
    Format("table", "a states x events table", {ShowReport: _table}, ("txt",)),
    Format(
        "markdown",
        "Markdown with a Mermaid diagram (diff: a pull-request report)",
        {ShowReport: _markdown, DiffReport: _review},
        ("md",),
    ),
    Format(
        "mermaid",
        "a stateDiagram-v2",
        {ShowReport: _mermaid},
        ("mmd", "mermaid"),
        one_lifecycle=True,
    ),
    Format(
        "dot",
        "a Graphviz digraph",
        {ShowReport: _dot},
        ("dot", "gv"),
        pictures=("svg", "png", "pdf"),
        one_lifecycle=True,
    ),
    Format("json", "the JSON document", dict.fromkeys((ShowReport, *_REPORTS), _json), ("json",)),
    Format("junit", "JUnit XML for CI test reports", dict.fromkeys(_CI, _junit), ("xml",)),
    Format("sarif", "SARIF 2.1.0 for code scanning", dict.fromkeys(_CI, _sarif), ("sarif",)),
)
"""Every format, in the order ``--help`` lists them."""


def formats_for(report: type[Any]) -> tuple[Format, ...]:
    """The formats that apply to ``report`` (a report type), in registry order."""
    return tuple(f for f in FORMATS if f.applies_to(report))


def format_named(name: str) -> Format:
    """The format called ``name`` (a ``KeyError`` names an unknown one)."""
    for f in FORMATS:
        if f.name == name:
            return f
    raise KeyError(name)


def render(name: str, report: Any) -> str:
    """``report`` in the format called ``name``."""
    return format_named(name).renderers[type(report)](report)
