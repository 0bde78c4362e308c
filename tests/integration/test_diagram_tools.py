"""The Mermaid and DOT output really render: with the mermaid CLI and Graphviz's dot.

The mermaid CLI (``@mermaid-js/mermaid-cli``) comes from the npm registry and uses
Debian's chromium; ``.ci/run`` installs both, the CLI into ``.ci/node_modules``.
Point ``STATUSGUARD_MMDC`` at another ``mmdc`` and ``STATUSGUARD_CHROMIUM`` at
another browser if yours live elsewhere. Each test skips, saying why, when its
tool is missing (CI sets STATUSGUARD_REQUIRE_DIAGRAM_TOOLS=1 to fail instead).
"""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import statusguard as sg
from statusguard.cli import cli
from statusguard.consult._render import render_dot, render_markdown, render_mermaid

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "model"
ODD = sg.Lifecycle(
    "odd names",
    states=["in-progress", "end", "state", "done"],
    initial="in-progress",
    terminal=["done"],
    flags=["x"],
    transitions=[
        sg.Transition("go", "in-progress", "end", when={"x": True}),
        sg.Transition("go", "end", "state"),
        sg.Transition("finish", ["end", "state"], "done"),
    ],
)


def missing(reason: str) -> None:
    """Skip, or fail where CI promised the tools (STATUSGUARD_REQUIRE_DIAGRAM_TOOLS=1)."""
    if os.environ.get("STATUSGUARD_REQUIRE_DIAGRAM_TOOLS") == "1":
        pytest.fail(f"{reason}; STATUSGUARD_REQUIRE_DIAGRAM_TOOLS=1 says it must be there")
    pytest.skip(reason)


def lifecycles() -> list[sg.Lifecycle[str, str]]:
    return [*sg.load_all(MODEL), ODD]


def mmdc() -> str:
    exe = os.environ.get("STATUSGUARD_MMDC") or str(REPO / ".ci" / "node_modules" / ".bin" / "mmdc")
    if not Path(exe).is_file():
        found = shutil.which("mmdc")
        if found is None:
            missing(
                "mermaid CLI not installed: bash .ci/run installs it into .ci/node_modules "
                "(or set STATUSGUARD_MMDC)"
            )
        exe = found
    return exe


def chromium() -> str:
    exe = os.environ.get("STATUSGUARD_CHROMIUM") or shutil.which("chromium") or ""
    if not exe or not Path(exe).is_file():
        missing("chromium not installed (apt-get install chromium, or set STATUSGUARD_CHROMIUM)")
    return exe


def render_with_mermaid(tmp_path: Path, markdown: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "puppeteer.json"
    config.write_text(
        json.dumps(
            {
                "executablePath": chromium(),
                "args": [
                    "--no-sandbox",
                    "--disable-setuid-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                ],
            }
        )
    )
    source = tmp_path / "diagrams.md"
    source.write_text(markdown)
    return subprocess.run(
        [mmdc(), "-p", str(config), "-i", str(source), "-o", str(tmp_path / "out.md"), "-q"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.mark.slow  # starts chromium (about 3 s); CI runs it with --run-slow
def test_mermaid_diagrams_render(tmp_path: Path) -> None:
    blocks = [render_mermaid(lc) for lc in lifecycles()]
    blocks.append(
        render_mermaid(sg.load(MODEL / "glance_image.py"), fixed={"delayed_delete": True})
    )
    blocks.append(render_mermaid(ODD, fixed={"x": False}))
    committed = [(MODEL / "glance_image.md").read_text(), (MODEL / "glance_task.md").read_text()]
    markdown = (
        "\n\n".join(f"```mermaid\n{b}\n```" for b in blocks) + "\n\n" + "\n\n".join(committed)
    )
    proc = render_with_mermaid(tmp_path, markdown)
    assert proc.returncode == 0, proc.stderr[-2000:]
    svgs = sorted(tmp_path.glob("out-*.svg"))
    assert len(svgs) == len(blocks) + len(committed)
    image = svgs[0].read_text()
    assert image.lstrip().startswith("<svg")
    for state in ("queued", "pending_delete", "deleted"):
        assert state in image
    assert "delayed_delete and has_locations" in image
    assert "in-progress" in svgs[len(lifecycles()) - 1].read_text()


@pytest.mark.slow
def test_mermaid_cli_rejects_a_broken_diagram(tmp_path: Path) -> None:
    """The control: a syntax error does fail the render, so the test above can fail."""
    broken = render_mermaid(sg.load(MODEL / "glance_task.py")).replace(
        "pending --> processing", "pending --> : -->"
    )
    proc = render_with_mermaid(tmp_path, f"```mermaid\n{broken}\n```\n")
    assert proc.returncode != 0


def dot() -> str:
    exe = shutil.which("dot")
    if exe is None:
        missing("Graphviz not installed (apt-get install graphviz)")
    return exe


@pytest.mark.parametrize("lc", lifecycles(), ids=lambda lc: lc.name)
def test_dot_is_accepted_by_graphviz(lc: sg.Lifecycle[str, str]) -> None:
    for fixed in [{}, *({c: True} for c in lc.config_flags)]:
        proc = subprocess.run(
            [dot(), "-Tsvg"],
            input=render_dot(lc, fixed=fixed),
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr == ""
        assert "<svg" in proc.stdout
        for s in lc.states:
            assert f">{s}</text>" in html.unescape(proc.stdout)


def test_graphviz_rejects_broken_dot() -> None:
    proc = subprocess.run(
        [dot(), "-Tsvg"],
        input=render_dot(ODD).replace("->", "-> ->", 1),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0


@pytest.mark.parametrize("suffix", ["svg", "png", "pdf"])
def test_show_output_draws_pictures(tmp_path: Path, suffix: str) -> None:
    dot()
    target = tmp_path / f"glance.{suffix}"
    result = CliRunner().invoke(
        cli, ["show", str(MODEL / "glance_image.py"), "--output", str(target)]
    )
    assert result.exit_code == 0, result.stderr
    data = target.read_bytes()
    magic = {"png": data.startswith(b"\x89PNG"), "pdf": data.startswith(b"%PDF")}
    assert magic.get(suffix, b"<svg" in data)


def test_markdown_mermaid_block_is_the_mermaid_view() -> None:
    lc = sg.load(MODEL / "glance_task.py")
    assert f"```mermaid\n{render_mermaid(lc)}\n```" in render_markdown(lc)
