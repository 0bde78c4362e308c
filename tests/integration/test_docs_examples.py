"""Every shell and Python example in docs/*.md runs as written (issue 17 item 15).

Shell examples are the ```console blocks (``$ command`` lines, each followed by the
output it prints) and the ```sh blocks (one command a line; ``# exit N`` at the end of a
line names its exit code, else 0). They run in a scratch copy of the repository's
``model/`` and ``proofs/`` committed to a fresh git repository (so ``git:HEAD:...``
targets work). Output is compared line by line in order: ``...`` stands for any lines,
timings (``87.9 ms``) for any timing, and ``$ echo $?`` checks the previous exit code.

Python examples are the ```python blocks, run in order with one namespace per document,
from the repository root.

A block that cannot run here is marked in the doc, on the line before it:
``<!-- doc-test: skip REASON -->`` (a server, a long run; the test reports REASON), or
``<!-- doc-test: setup NAME -->`` to edit the scratch model first (NAME is one of
:data:`SETUPS`: the edits the doc describes in prose).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted((ROOT / "docs").glob("*.md"))
BLOCK = re.compile(r"(?:<!-- doc-test: (\w+) ?(.*?) -->\n)?```(\w*)\n(.*?)```", re.S)
SHELL = {"console", "sh", "bash", "shell"}
TIMING = re.compile(r"\d+(?:\.\d+)? ms\b")
SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Example:
    doc: Path
    line: int
    lang: str
    text: str
    mark: str  # "", "skip" or "setup"
    arg: str

    @property
    def id(self) -> str:
        return f"{self.doc.name}:{self.line}"


def examples(langs: set[str]) -> list[Example]:
    out = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for m in BLOCK.finditer(text):
            if m.group(3) in langs:
                line = text.count("\n", 0, m.start(3)) + 1
                out.append(Example(doc, line, m.group(3), m.group(4), m.group(1) or "", m.group(2)))
    return out


# -- the edits the docs describe in prose --------------------------------------------------


def _undelete(model: Path) -> None:
    """docs/changing-rules.md step 2: operators may undelete images (DELETED not terminal)."""
    path = model / "glance_image.py"
    text = path.read_text()
    text = text.replace('    KILL = "kill"\n', '    KILL = "kill"\n    UNDELETE = "undelete"\n', 1)
    text = re.sub(r"terminal=\[S\.DELETED\]", "terminal=[]", text, count=1)
    path.write_text(_append_transition(text, "Transition(E.UNDELETE, S.DELETED, S.QUEUED)"))


def _append_transition(text: str, transition: str) -> str:
    """``text`` with ``transition`` last in GLANCE_IMAGE's transitions (as the doc shows)."""
    start = text.index("    transitions=[\n")
    end = text.index("\n    ],\n", start)
    return text[:end] + f"\n        {transition}," + text[end:]


def _deactivate_pending(model: Path) -> None:
    """docs/changing-rules.md: `deactivate` may also leave `pending_delete`."""
    path = model / "glance_image.py"
    text = path.read_text()
    path.write_text(
        _append_transition(text, "Transition(E.DEACTIVATE, S.PENDING_DELETE, S.DEACTIVATED)")
    )


SETUPS: dict[str, Callable[[Path], None]] = {
    "undelete": _undelete,
    "deactivate-pending": _deactivate_pending,
}


# -- running shell examples --------------------------------------------------------------


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    for part in ("model", "proofs"):
        shutil.copytree(ROOT / part, tmp_path / part)
    git = shutil.which("git")
    if git is None:
        pytest.skip("the docs' git:HEAD examples need git")
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "scratch"]):
        subprocess.run([git, *args], cwd=tmp_path, check=True, env=_env(), capture_output=True)
    return tmp_path


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(
        GIT_AUTHOR_NAME="docs", GIT_AUTHOR_EMAIL="docs@example.invalid",
        GIT_COMMITTER_NAME="docs", GIT_COMMITTER_EMAIL="docs@example.invalid",
        COLUMNS="200", GITHUB_ACTIONS="",
    )  # fmt: skip
    return env


def _run(command: str, cwd: Path) -> tuple[int, list[str]]:
    proc = subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return proc.returncode, (proc.stdout + proc.stderr).splitlines()


def _norm(line: str) -> str:
    return SPACES.sub(" ", TIMING.sub("<ms>", line)).strip()


def _matches(expected: list[str], actual: list[str]) -> str | None:
    """``None`` when ``actual`` holds the expected lines in order (``...`` = any lines)."""
    got = [_norm(a) for a in actual]
    i = 0
    for want in expected:
        w = _norm(want)
        if w in ("", "..."):
            continue
        while i < len(got) and got[i] != w:
            i += 1
        if i == len(got):
            return f"expected line not found in order: {want!r}"
        i += 1
    return None


def _console(block: str) -> list[tuple[str, list[str]]]:
    steps: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
    return steps


def _sh(block: str) -> list[tuple[str, int]]:
    joined = block.replace("\\\n", " ")
    out = []
    for line in joined.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        code = re.search(r"#\s*exit (\d+)", line)
        out.append((line.split("#", 1)[0].strip(), int(code.group(1)) if code else 0))
    return out


SHELL_EXAMPLES = examples(SHELL)


def test_the_docs_have_shell_and_python_examples() -> None:
    assert len(SHELL_EXAMPLES) >= 5
    assert len(examples({"python"})) >= 8
    for ex in examples(SHELL | {"python"}):
        if ex.mark == "setup":
            assert ex.arg in SETUPS, f"{ex.id}: unknown setup {ex.arg!r}"
        if ex.mark == "skip":
            assert ex.arg, f"{ex.id}: a skip needs a reason"


@pytest.mark.parametrize("ex", SHELL_EXAMPLES, ids=lambda e: e.id)
def test_shell_example_runs_as_written(ex: Example, scratch: Path) -> None:
    if ex.mark == "skip":
        pytest.skip(f"{ex.id}: {ex.arg}")
    if ex.mark == "setup":
        SETUPS[ex.arg](scratch / "model")
    if ex.lang == "console":
        last = 0
        for command, expected in _console(ex.text):
            if command.strip() == "echo $?":
                assert [str(last)] == [e for e in expected if e.strip()], (ex.id, "exit code")
                continue
            last, actual = _run(command, scratch)
            problem = _matches(expected, actual)
            assert problem is None, f"{ex.id}: $ {command}\n{problem}\n--- got:\n" + "\n".join(
                actual
            )
            if not any(e.strip() == "$ echo $?" for e in ex.text.splitlines()):
                assert last in (0, 1), f"{ex.id}: $ {command} exited {last}:\n" + "\n".join(actual)
        return
    for command, code in _sh(ex.text):
        got, actual = _run(command, scratch)
        assert got == code, f"{ex.id}: {command} exited {got}, the doc says {code}:\n" + "\n".join(
            actual[-20:]
        )


def _python_docs() -> list[Path]:
    return sorted({ex.doc for ex in examples({"python"})})


@pytest.mark.parametrize("doc", _python_docs(), ids=lambda d: d.name)
def test_python_examples_run_as_written(
    doc: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pytest.importorskip("sqlalchemy", reason="the guard examples need statusguard[sql]")
    monkeypatch.chdir(ROOT)
    # The models import as statusguard_models, as the wheel installs them.
    (tmp_path / "statusguard_models").symlink_to(ROOT / "model", target_is_directory=True)
    monkeypatch.syspath_prepend(str(tmp_path))
    # A module of its own: dataclasses and enums defined in the examples look it up.
    module = types.ModuleType(f"docs_{doc.stem.replace('-', '_')}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    namespace = module.__dict__
    ran = 0
    for ex in examples({"python"}):
        if ex.doc != doc:
            continue
        if ex.mark == "skip":
            continue
        code = compile(ex.text, ex.id, "exec", dont_inherit=True)  # as a reader runs it
        exec(code, namespace)
        ran += 1
    if not ran:
        pytest.skip(f"{doc.name}: every Python block is marked skip")


LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
MENTION = re.compile(r"`([\w./-]+\.md)`")


@pytest.mark.parametrize("doc", [*DOCS, ROOT / "README.md"], ids=lambda d: d.name)
def test_relative_links_resolve(doc: Path) -> None:
    """A doc links only files that exist (docs/race.md once linked a missing db-guard.md)."""
    text = doc.read_text(encoding="utf-8")
    missing = [
        target
        for target in LINK.findall(text)
        if "://" not in target
        and not target.startswith("mailto:")
        and not (doc.parent / target).exists()
    ]
    # A file named in code font (`db-guard.md`) must exist too, beside the doc or from the root.
    missing += [
        name
        for name in MENTION.findall(text)
        if not (doc.parent / name).exists() and not (ROOT / name).exists()
    ]
    assert not missing, f"{doc.name} links or names missing files: {missing}"


def test_the_link_check_can_fail(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text("see [the guard](guard.md) and [a site](https://example.org/x.md)\n")
    assert LINK.findall(doc.read_text()) == ["guard.md", "https://example.org/x.md"]
    assert not (doc.parent / "guard.md").exists()


def test_pinned_hook_revisions_are_not_made_up_tags() -> None:
    """The pre-commit snippet once pinned ``rev: v0.1.0``, a tag that never existed."""
    for doc in DOCS:
        for rev in re.findall(r"^\s*rev:\s*(\S+)", doc.read_text(encoding="utf-8"), re.M):
            git = shutil.which("git")
            if git is None or not re.fullmatch(r"v?\d+(\.\d+)+", rev):
                continue  # a placeholder commit, not a release tag
            tags = subprocess.run(
                [git, "tag", "--list", rev], cwd=ROOT, capture_output=True, text=True, check=False
            ).stdout.split()
            assert rev in tags, f"{doc.name} pins rev {rev}, which is not a tag of this repository"
