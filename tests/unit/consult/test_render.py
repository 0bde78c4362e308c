"""The views of a lifecycle: table, Markdown, Mermaid, DOT, JSON, and ``statusguard show``."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import statusguard as sg
from statusguard.cli import cli
from statusguard.consult._render import (
    cells,
    describe_condition,
    edges,
    render_dot,
    render_markdown,
    render_mermaid,
    render_table,
    restrict,
)

MODEL = Path(__file__).resolve().parents[3] / "model"
IMAGE = str(MODEL / "glance_image.py")


# The facts with defaults fixed at their defaults: the views of delete and upload then read
# as before the Glance model gained protected/formats_set/import_locked.
DEFAULTS = {"formats_set": True, "import_locked": False, "protected": False}


@pytest.fixture(scope="module")
def full() -> sg.Lifecycle[str, str]:
    return sg.load(IMAGE)


@pytest.fixture(scope="module")
def glance(full: sg.Lifecycle[str, str]) -> sg.Lifecycle[str, str]:
    return restrict(full, DEFAULTS)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_grid_has_one_cell_per_enabled_state_event(glance: sg.Lifecycle[str, str]) -> None:
    grid = cells(glance)
    filled = {(s, e) for s in grid.states for e in grid.rows[s]}
    noops = {(str(s), str(n.event)) for n in glance.noops for s in n.sources}
    assert filled == {(str(s), str(e)) for s, e, _ in glance} | noops
    # A no-op's cell: accepted without a change (glance/domain/__init__.py:260-262).
    assert grid.rows["deactivated"]["deactivate"] == "(no change)"
    assert grid.rows["queued"]["upload_started"] == "saving"
    # active --delete--> has two conditional targets, each with a footnote.
    cell = grid.rows["active"]["delete"]
    assert re.fullmatch(r"pending_delete \[(\d)\], deleted \[(\d)\]", cell)
    notes = dict(enumerate(grid.notes, 1))
    first, second = (int(n) for n in re.findall(r"\[(\d)\]", cell))
    assert notes[first] == "delayed_delete and has_locations"
    assert notes[second] == "not delayed_delete or not has_locations"


def test_table_marks_initial_and_terminal(glance: sg.Lifecycle[str, str]) -> None:
    text = render_table(glance)
    assert "queued (initial)" in text
    assert "deleted (terminal)" in text
    assert "[1] when delayed_delete and has_locations" in text
    # Every event is a column header.
    header = next(line for line in text.splitlines() if line.startswith("state "))
    assert header.split()[1:] == [str(e) for e in glance.events]


@pytest.mark.parametrize("which", ["full", "glance"])
def test_table_wraps_columns_at_width(which: str, request: pytest.FixtureRequest) -> None:
    glance: sg.Lifecycle[str, str] = request.getfixturevalue(which)
    text = render_table(glance, width=80)
    assert max(len(line) for line in text.splitlines() if not line.startswith("[")) <= 80
    headers = [line for line in text.splitlines() if line.startswith("state ")]
    assert len(headers) > 1
    assert sum(len(h.split()) - 1 for h in headers) == len(glance.events)


def test_restrict_drops_disabled_and_satisfied_literals(glance: sg.Lifecycle[str, str]) -> None:
    view = restrict(glance, {"delayed_delete": False})
    delete = [e for e in edges(view) if e.event == "delete"]
    assert {(e.source, e.target) for e in delete} == {
        (s, "deleted")
        for s in (
            "active",
            "queued",
            "saving",
            "uploading",
            "importing",
            "killed",
            "deactivated",
            "pending_delete",  # Image.delete at the domain layer (glance/domain/__init__.py:255)
        )
    }
    assert all(describe_condition(e.conditions) == "" for e in delete)
    assert "delayed_delete" not in {f.name for f in view.flags}
    on = restrict(glance, {"delayed_delete": True})
    labels = {(e.source, e.target): e.label for e in edges(on) if e.event == "delete"}
    assert labels[("active", "pending_delete")] == "delete [has_locations]"
    assert labels[("queued", "deleted")] == "delete [not has_locations]"
    with pytest.raises(sg.errors.UnknownFlag):
        restrict(glance, {"nope": True})


def test_mermaid_lists_every_edge_with_its_condition(glance: sg.Lifecycle[str, str]) -> None:
    text = render_mermaid(glance)
    lines = text.splitlines()
    assert "stateDiagram-v2" in lines
    assert "    [*] --> queued" in lines
    assert "    deleted --> [*]" in lines
    arrows = {
        (m[1], m[2]) for m in (re.match(r"\s+(\w+) --> (\w+): ", line) for line in lines) if m
    }
    assert arrows == {(str(s), str(t)) for s, t in glance.edges()}
    assert "    active --> pending_delete: delete [delayed_delete and has_locations]" in lines


def test_mermaid_quotes_awkward_state_names() -> None:
    lc = sg.Lifecycle(
        "odd",
        states=["in-progress", "end", "done"],
        initial="in-progress",
        terminal=["done"],
        transitions=[sg.Transition("go", "in-progress", "end"), sg.Transition("go", "end", "done")],
    )
    text = render_mermaid(lc)
    assert 'state "in-progress" as s0' in text
    assert 'state "end" as s1' in text
    assert "s0 --> s1: go" in text


def test_dot_marks_terminal_and_dashes_conditions(glance: sg.Lifecycle[str, str]) -> None:
    text = render_dot(glance)
    assert '"deleted" [label="deleted", shape=doublecircle];' in text
    assert '"__start__" -> "queued";' in text
    assert '"saving" -> "active" [label="upload_succeeded"];' in text
    assert (
        '"active" -> "pending_delete" [label="delete [delayed_delete and has_locations]", '
        "style=dashed];" in text
    )
    # One DOT edge per (source, event, target), plus the start marker's.
    assert text.count(" -> ") == len(glance) + 1


def test_markdown_holds_diagram_table_and_invariants(glance: sg.Lifecycle[str, str]) -> None:
    text = render_markdown(glance)
    assert text.startswith("## glance-image")
    assert "```mermaid\n" + render_mermaid(glance) + "\n```" in text
    assert "| `queued` (initial) |" not in text  # state labels are plain text
    assert "| queued (initial) | saving |" in text
    for inv in glance.invariants:
        assert f"- `{inv.name}` ({inv.kind}): {inv.describe()}" in text


@pytest.mark.parametrize("fmt", ["table", "markdown", "mermaid", "dot", "json"])
def test_show_formats(fmt: str, full: sg.Lifecycle[str, str]) -> None:
    glance = full
    code, out, _ = run("show", IMAGE, "--format", fmt)
    assert code == 0
    expected = {
        "table": render_table(glance),
        "markdown": render_markdown(glance),
        "mermaid": render_mermaid(glance),
        "dot": render_dot(glance),
        "json": json.dumps(glance.to_json(), indent=2),
    }[fmt]
    assert out == expected + "\n"


def test_show_default_is_the_table_of_every_model() -> None:
    code, out, _ = run("show", str(MODEL))
    assert code == 0
    assert "glance-image: initial queued" in out
    assert "glance-task: initial pending" in out


def test_show_config_restricts_json_and_mermaid(glance: sg.Lifecycle[str, str]) -> None:
    code, out, _ = run("show", IMAGE, "--format", "json", "--config", "delayed_delete=false")
    assert code == 0
    doc = json.loads(out)
    assert all("delayed_delete" not in t.get("when", {}) for t in doc["transitions"])
    assert not any(t["target"] == "pending_delete" for t in doc["transitions"])
    assert sg.Lifecycle.from_json(doc).name == "glance-image"
    code, out, _ = run("show", IMAGE, "--format", "mermaid", "--config", "delayed_delete=true")
    assert code == 0
    assert "title: glance-image (delayed_delete=true)" in out
    assert "active --> pending_delete: delete [has_locations and not protected]" in out
    code, out, _ = run(
        "show", IMAGE, "--format", "mermaid", "--config", "delayed_delete=true,protected=false"
    )
    assert code == 0
    assert "active --> pending_delete: delete [has_locations]" in out


@pytest.mark.parametrize(
    "args",
    [
        ("show", IMAGE, "--config", "nope=true"),
        ("show", IMAGE, "--config", "delayed_delete=maybe"),
        ("show", str(MODEL), "--format", "mermaid"),
        ("show", "no/such/model.py"),
    ],
)
def test_show_bad_input_exits_2_with_one_line(args: tuple[str, ...]) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("statusguard: error: ")


def test_show_output_writes_text_file(tmp_path: Path, full: sg.Lifecycle[str, str]) -> None:
    glance = full
    target = tmp_path / "image.mmd"
    code, out, _ = run("show", IMAGE, "--format", "mermaid", "--output", str(target))
    assert code == 0
    assert out == ""
    assert target.read_text() == render_mermaid(glance) + "\n"


def test_show_picture_without_graphviz_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import statusguard.cli._consult as consult

    monkeypatch.setattr(consult.shutil, "which", lambda name: None)
    code, _, err = run("show", IMAGE, "--output", str(tmp_path / "g.svg"))
    assert code == 2
    assert "needs Graphviz's 'dot'" in err
    assert not (tmp_path / "g.svg").exists()


ADVERSARIAL = ["bad name", "s0", "s1", "s1_2", "__start__", "__start___2", "end", "s5"]


def adversarial() -> sg.Lifecycle[str, str]:
    """State names chosen to collide with generated Mermaid ids and the DOT start node."""
    chain = list(itertools.pairwise(ADVERSARIAL))
    return sg.Lifecycle(
        "adversarial",
        states=ADVERSARIAL,
        initial=ADVERSARIAL[0],
        terminal=[ADVERSARIAL[-1]],
        transitions=[sg.Transition("go", a, b) for a, b in chain],
    )


def test_mermaid_generated_ids_never_collide_with_state_names() -> None:
    lc = adversarial()
    text = render_mermaid(lc)
    aliases = dict(re.findall(r'^\s+state "([^"]*)" as (\S+)$', text, re.MULTILINE))
    ids = {s: aliases.get(s, s) for s in ADVERSARIAL}
    assert len(set(ids.values())) == len(ADVERSARIAL), ids
    assert f"    [*] --> {ids['bad name']}" in text
    arrows = re.findall(r"^\s+(\S+) --> (\S+): go$", text, re.MULTILINE)
    chain = list(itertools.pairwise(ADVERSARIAL))
    assert arrows == [(ids[a], ids[b]) for a, b in chain]


def test_dot_start_node_never_collides_with_a_state() -> None:
    lc = adversarial()
    text = render_dot(lc)
    start = re.search(r'^\s+("[^"]*") \[shape=point', text, re.MULTILINE)
    assert start is not None
    assert start[1].strip('"') not in ADVERSARIAL
    assert f'  {start[1]} -> "bad name";' in text
    if shutil.which("dot") is not None:
        plain = subprocess.run(
            ["dot", "-Tplain"], input=text.encode(), capture_output=True, check=True
        ).stdout.decode()
        nodes = [line for line in plain.splitlines() if line.startswith("node ")]
        assert len(nodes) == len(ADVERSARIAL) + 1


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("x.pdf", None), ("x.doc", None), ("x.md", "json"), ("x.svg", "mermaid")],
)
def test_show_refuses_outputs_it_cannot_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, fmt: str | None
) -> None:
    import statusguard.cli._consult as consult

    if name.endswith(".pdf"):  # a picture: without Graphviz it must refuse, not write text
        monkeypatch.setattr(consult.shutil, "which", lambda name: None)
    args = ["show", IMAGE, "-o", str(tmp_path / name), *(["--format", fmt] if fmt else [])]
    code, out, err = run(*args)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize(
    ("name", "view"), [("x.md", "markdown"), ("x.mmd", "mermaid"), ("x.gv", "dot")]
)
def test_show_output_suffix_picks_the_format(
    tmp_path: Path, full: sg.Lifecycle[str, str], name: str, view: str
) -> None:
    glance = full
    code, _, err = run("show", IMAGE, "-o", str(tmp_path / name))
    assert code == 0, err
    render = {"markdown": render_markdown, "mermaid": render_mermaid, "dot": render_dot}[view]
    assert (tmp_path / name).read_text() == render(glance) + "\n"


@pytest.mark.parametrize("width", ["0", "-5", "19"])
def test_show_width_is_at_least_20(width: str) -> None:
    code, out, err = run("show", IMAGE, "--width", width)
    assert code == 2
    assert out == ""
    assert "--width" in err
