"""``diff --format markdown``'s Mermaid diagram really renders, with the change marked.

Rendered with the mermaid CLI on Debian's chromium, as ``test_diagram_tools.py`` does
(``.ci/run`` installs both; the helpers there find them or skip, and fail instead under
STATUSGUARD_REQUIRE_DIAGRAM_TOOLS=1). The SVG is checked for the marked elements: the
labels of added, removed and changed transitions and the classes of added, removed and
newly reachable states; a PNG is rendered too.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
from pathlib import Path

import pytest

import statusguard as sg
from statusguard.consult._diff import diff_lifecycles
from statusguard.consult._reports import DiffReport
from statusguard.consult._review import diff_markdown, review_mermaid
from statusguard.results import ObligationResult, Verdict
from tests.integration.test_diagram_tools import chromium, mmdc, render_with_mermaid

OLD = sg.Lifecycle(
    "order",
    states=["new", "paid", "shipped", "refunded", "lost"],
    initial="new",
    terminal=["shipped", "refunded"],
    flags=["express"],
    transitions=[
        sg.Transition("pay", "new", "paid"),
        sg.Transition("ship", "paid", "shipped", when={"express": True}),
        sg.Transition("refund", "paid", "refunded"),
        sg.Transition("misplace", "lost", "refunded"),  # lost: not reachable in OLD
    ],
)
NEW = sg.Lifecycle(
    "order",
    states=["new", "paid", "shipped", "lost", "on-hold"],
    initial="new",
    terminal=["shipped"],
    flags=["express"],
    transitions=[
        sg.Transition("pay", "new", "paid"),
        sg.Transition("ship", "paid", "shipped"),  # condition changed: ~
        sg.Transition("hold", "paid", "on-hold"),  # added, to a state NEW added: +
        sg.Transition("misplace", "on-hold", "lost"),  # lost becomes reachable
        sg.Transition("release", "lost", "shipped"),
    ],
)


def no_proofs(lc: sg.Lifecycle[str, str]) -> list[ObligationResult]:
    return [ObligationResult("reachable", Verdict.PROVED, 0.0)]  # the diagram needs none


def diagram() -> str:
    return review_mermaid(diff_lifecycles(OLD, NEW, checker=no_proofs), OLD, NEW)


def test_the_diagram_marks_every_kind_of_change() -> None:
    text = diagram()
    assert "paid --> s4: + hold" in text  # "on-hold" is not a Mermaid id
    assert "paid --> refunded: - refund" in text  # removed, drawn from OLD
    assert "paid --> shipped: ~ ship" in text
    assert re.search(r"class s4 added_state", text)
    assert "class refunded removed_state" in text
    reachable = re.search(r"class ([\w,]+) newly_reachable", text)
    assert reachable is not None
    assert set(reachable.group(1).split(",")) == {"lost", "shipped"}  # shipped: express=false


@pytest.mark.slow  # starts chromium (about 3 s); CI runs it with --run-slow
def test_the_pull_request_diagram_renders_with_the_marks(tmp_path: Path) -> None:
    report = DiffReport("old.py", "new.py", (diff_lifecycles(OLD, NEW, checker=no_proofs),))
    markdown = diff_markdown(report)
    assert markdown.count("```mermaid") == 1
    proc = render_with_mermaid(tmp_path, markdown)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (svg_file,) = tmp_path.glob("out-*.svg")
    svg = html.unescape(svg_file.read_text())
    assert svg.lstrip().startswith("<svg")
    for label in ("+ hold", "- refund", "~ ship", "release"):
        assert label in svg, label
    for cls in ("added_state", "removed_state", "newly_reachable"):
        assert re.search(rf'class="[^"]*\b{cls}\b', svg), cls
    for state in ("on-hold", "lost", "refunded", "shipped"):
        assert state in svg
    # The same diagram as a picture, for a person to look at.
    png = tmp_path / "review.png"
    source = tmp_path / "review.mmd"
    source.write_text(diagram())
    config = tmp_path / "png.json"
    config.write_text(json.dumps({"executablePath": chromium(), "args": ["--no-sandbox"]}))
    proc = subprocess.run(
        [mmdc(), "-p", str(config), "-i", str(source), "-o", str(png), "-s", "2", "-q"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert png.read_bytes().startswith(b"\x89PNG")
    assert png.stat().st_size > 5000
