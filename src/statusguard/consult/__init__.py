"""Consulting a lifecycle while its rules change: views, diffs and explanations.

What it owns: the table, Markdown, Mermaid and Graphviz DOT views, ``diff`` (what a
change does: transitions, reachability, verdicts), ``explain`` (why an event is or is
not allowed), the reports the commands print (``_reports``) and the one registry of
output formats the CLI reads (``_formats``: a new format is a renderer and one entry
there). It imports :mod:`statusguard.verify` and below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from statusguard._layout import load_lazily as _load_lazily
from statusguard._layout import publish as _publish
from statusguard.consult._render import render_dot as render_dot
from statusguard.consult._render import render_markdown as render_markdown
from statusguard.consult._render import render_mermaid as render_mermaid
from statusguard.consult._render import render_table as render_table
from statusguard.consult._render import restrict as restrict

if TYPE_CHECKING:
    from statusguard.consult._diff import LifecycleDiff as LifecycleDiff
    from statusguard.consult._diff import diff_lifecycles as diff_lifecycles
    from statusguard.consult._explain import EventAnswer as EventAnswer
    from statusguard.consult._explain import StateAnswer as StateAnswer
    from statusguard.consult._explain import explain_event as explain_event
    from statusguard.consult._explain import explain_state as explain_state

_LAZY = {  # loaded on first use: ``statusguard check`` renders reports, never diffs them
    "LifecycleDiff": "statusguard.consult._diff",
    "diff_lifecycles": "statusguard.consult._diff",
    "EventAnswer": "statusguard.consult._explain",
    "StateAnswer": "statusguard.consult._explain",
    "explain_event": "statusguard.consult._explain",
    "explain_state": "statusguard.consult._explain",
}


def __getattr__(name: str) -> Any:
    return _load_lazily(__name__, _LAZY, name)


__all__ = [
    "EventAnswer",
    "LifecycleDiff",
    "StateAnswer",
    "diff_lifecycles",
    "explain_event",
    "explain_state",
    "render_dot",
    "render_markdown",
    "render_mermaid",
    "render_table",
    "restrict",
]

_publish(__name__, globals(), __all__)
