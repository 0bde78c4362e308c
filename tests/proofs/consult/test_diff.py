"""``statusguard diff``: what a rule change does, on Glance and edited copies of it."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import statusguard as sg
from statusguard.cli import cli
from statusguard.consult._diff import diff_lifecycles, obligation_results
from statusguard.lifecycle._paths import Path as Walk
from statusguard.results import Verdict

MODEL = Path(__file__).resolve().parents[3] / "model"
IMAGE = MODEL / "glance_image.py"
# Glance and each edited copy are proved once, however many diffs (API, text, JSON) use them.
pytestmark = pytest.mark.usefixtures("shared_proofs")

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def glance() -> sg.Lifecycle[str, str]:
    return sg.load(IMAGE)


def edited(glance: sg.Lifecycle[str, str], change: Callable[[Doc], None]) -> sg.Lifecycle[str, str]:
    doc = glance.to_json()
    change(doc)
    return sg.Lifecycle.from_json(doc)


def undelete(doc: Doc) -> None:
    """Add deleted -> queued. The core refuses an exit from a terminal state, so the
    edited copy no longer marks ``deleted`` terminal (as a real edit would have to)."""
    doc["terminal"] = [s for s in doc["terminal"] if s != "deleted"]
    doc["events"].append("undelete")
    doc["transitions"].append({"event": "undelete", "source": ["deleted"], "target": "queued"})


def write(tmp_path: Path, lc: sg.Lifecycle[str, str], name: str = "glance_image.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(lc.to_json()))
    return str(path)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def replays(lc: sg.Lifecycle[str, str], walk: Walk) -> bool:
    state = walk.start
    for hop in walk.hops:
        state = lc.next(state, hop.event, {**walk.config, **hop.facts})
        assert state == hop.target
    return state == walk.end


def test_same_model_has_no_change(glance: sg.Lifecycle[str, str]) -> None:
    d = diff_lifecycles(glance, glance)
    assert d.identical
    assert (d.transitions, d.pairs, d.reachability, d.events, d.obligations) == ((),) * 5
    code, out, _ = run("diff", str(IMAGE), str(IMAGE))
    assert code == 0
    assert "no change" in out


def test_undelete_is_a_new_reachable_pair_and_a_lost_invariant(
    glance: sg.Lifecycle[str, str],
) -> None:
    new = edited(glance, undelete)
    d = diff_lifecycles(glance, new)
    assert [t.render() for t in d.transitions] == ["+ deleted --undelete--> queued"]
    assert "terminal states removed: deleted" in d.header
    gained = {(p.source, p.target): p for p in d.pairs if p.gained}
    assert ("deleted", "queued") in gained
    assert gained[("deleted", "active")].witness.events == ["undelete", "location_added"]
    assert not [p for p in d.pairs if not p.gained]
    for p in d.pairs:
        assert replays(new, p.witness)
    # Reachability from the initial state does not change: deleted was reachable already.
    assert d.reachability == ()
    assert [(e.state, e.event, e.enabled) for e in d.events] == [("deleted", "undelete", True)]
    regressed = {o.obligation for o in d.regressions}
    assert {"deleted-is-final", "no-resurrection"} <= regressed
    for o in d.regressions:
        assert o.before is Verdict.PROVED
        assert o.after is not Verdict.PROVED
    lost = {o.obligation: o for o in d.regressions}
    for name in ("deleted-is-final", "no-resurrection"):
        assert lost[name].after is Verdict.VIOLATED
        cex = lost[name].result.counterexample if lost[name].result else None
        assert cex is not None
        assert "undelete" in cex.events()


def test_undelete_cli_exit_1_text_and_json(tmp_path: Path, glance: sg.Lifecycle[str, str]) -> None:
    new = write(tmp_path, edited(glance, undelete))
    code, out, _ = run("diff", str(IMAGE), new)
    assert code == 1
    assert "+ deleted --undelete--> queued" in out
    assert "deleted can now reach active (any config): deleted --undelete--> queued" in out
    assert "no-resurrection: proved -> violated [REGRESSED]" in out
    code, out, _ = run("diff", str(IMAGE), new, "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert doc["regressed"] is True
    (report,) = doc["lifecycles"]
    assert {"deleted-is-final", "no-resurrection"} <= set(report["regressed"])
    pair = next(p for p in report["pairs"] if (p["from"], p["to"]) == ("deleted", "active"))
    assert pair["change"] == "gained"
    assert pair["witness"]["events"] == ["undelete", "location_added"]
    assert pair["witness"]["trace"][-1] == {"state": "active", "event": None, "facts": {}}


def test_reverting_the_edit_is_no_regression(
    tmp_path: Path, glance: sg.Lifecycle[str, str]
) -> None:
    old = write(tmp_path, edited(glance, undelete))
    code, out, _ = run("diff", old, str(IMAGE))
    assert code == 0, out
    assert "- deleted --undelete--> queued" in out
    assert "deleted can no longer reach active" in out
    assert "no-resurrection: violated -> proved [ok]" in out


def test_removed_transition_changes_reachability_and_events(
    glance: sg.Lifecycle[str, str],
) -> None:
    def no_restore(doc: Doc) -> None:
        doc["transitions"] = [t for t in doc["transitions"] if t["event"] != "restore"]

    d = diff_lifecycles(glance, edited(glance, no_restore))
    assert [t.render() for t in d.transitions] == ["- pending_delete --restore--> active"]
    lost = {(p.source, p.target) for p in d.pairs if not p.gained}
    assert lost == {("pending_delete", "active"), ("pending_delete", "deactivated")}
    for p in d.pairs:
        assert replays(glance, p.witness)  # a lost pair's witness lives in OLD
    assert [(e.state, e.event, e.enabled) for e in d.events] == [
        ("pending_delete", "restore", False)
    ]
    # restore is unconditional: the pairs change under every config setting.
    assert all(len(p.configs) == 2 for p in d.pairs)
    assert "pending_delete can no longer reach active (any config)" in d.render()
    # Without restore the scrubber-vs-restore race cannot happen: its negative control is
    # lost (the race obligations say the scenario no longer applies); nothing else regresses.
    assert [o.obligation for o in d.regressions] == [
        "race.scenario.scrubber_racing_restore.unguarded.race_found"
    ]


def test_state_reachability_change_per_config(glance: sg.Lifecycle[str, str]) -> None:
    def no_delayed_pending(doc: Doc) -> None:
        doc["transitions"] = [t for t in doc["transitions"] if t["target"] != "pending_delete"]

    d = diff_lifecycles(glance, edited(glance, no_delayed_pending))
    (change,) = d.reachability
    assert change.state == "pending_delete"
    assert change.reachable is False
    assert change.configs == ({"delayed_delete": True},)
    assert change.witness is not None
    assert replays(glance, change.witness)
    regressed = {o.obligation: o.after for o in d.regressions}
    # The only_through invariant about pending_delete now holds vacuously: not a proof.
    assert regressed == {
        "reachable": Verdict.VIOLATED,
        "pending-delete-only-from-active": Verdict.UNKNOWN,
    }


def test_condition_change_is_reported(glance: sg.Lifecycle[str, str]) -> None:
    def kill_needs_locations(doc: Doc) -> None:
        for t in doc["transitions"]:
            if t["event"] == "kill":
                t["when"] = {"has_locations": False}

    # Only the transition changes are asserted on: no obligations are proved.
    d = diff_lifecycles(glance, edited(glance, kill_needs_locations), checker=lambda lc: [])
    assert [t.render() for t in d.transitions] == [
        "~ saving --kill--> killed: when always -> when not has_locations"
    ]


def test_dropping_an_invariant_counts_unless_allowed(
    tmp_path: Path, glance: sg.Lifecycle[str, str]
) -> None:
    def drop(doc: Doc) -> None:
        doc["invariants"] = [i for i in doc["invariants"] if i["name"] != "no-resurrection"]

    new = write(tmp_path, edited(glance, drop))
    code, out, _ = run("diff", str(IMAGE), new)
    assert code == 1
    assert "no-resurrection: proved -> absent [REGRESSED]" in out
    code, out, _ = run("diff", str(IMAGE), new, "--allow-removed")
    assert code == 0
    assert "no-resurrection: proved -> absent [ok]" in out


def test_diff_catches_mutants_with_the_right_obligation(
    glance: sg.Lifecycle[str, str],
) -> None:
    def dead_end(doc: Doc) -> None:
        doc["transitions"] = [t for t in doc["transitions"] if t["event"] != "reactivate"]
        for t in doc["transitions"]:
            if t["event"] == "delete":
                t["source"] = [s for s in t["source"] if s != "deactivated"]

    def killed_to_active(doc: Doc) -> None:
        doc["transitions"].append({"event": "kill", "source": ["killed"], "target": "active"})

    def trap(doc: Doc) -> None:
        doc["events"].append("loop")
        doc["transitions"].append({"event": "loop", "source": ["killed"], "target": "killed"})
        for t in doc["transitions"]:
            if t["event"] == "delete":
                t["source"] = [s for s in t["source"] if s != "killed"]

    cases = [
        (dead_end, {"no_dead_ends", "can_terminate"}),
        (killed_to_active, {"killed-never-active", "killed-only-to-deleted"}),
        (trap, {"can_terminate"}),
    ]

    def builtin(lc: sg.Lifecycle[str, str]) -> list[Any]:
        from statusguard.verify._obligations import builtin_obligations

        return builtin_obligations(lc, timeout=60.0)

    # The expected regressions are built-in obligations: the race ones are not proved.
    for change, expected in cases:
        new = edited(glance, change)
        d = diff_lifecycles(glance, new, checker=builtin)
        regressed = {o.obligation: o for o in d.regressions}
        assert expected <= set(regressed), (change.__name__, sorted(regressed))
        for o in regressed.values():
            assert o.result is not None
            cex = o.result.counterexample
            if cex is None:
                continue
            state = cex.trace[0].state
            assert state == "queued"
            for step in cex.trace[:-1]:
                assert step.event is not None
                state = new.next(state, step.event, {**cex.config, **step.facts})
            assert state == cex.trace[-1].state


def test_diff_uses_the_engine_it_is_given(glance: sg.Lifecycle[str, str]) -> None:
    calls: list[str] = []

    def checker(lc: sg.Lifecycle[str, str]) -> list[Any]:
        calls.append(lc.fingerprint)
        return obligation_results(lc)

    new = edited(glance, undelete)
    diff_lifecycles(glance, new, checker=checker)
    assert calls == [glance.fingerprint, new.fingerprint]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_revision_targets(tmp_path: Path, glance: sg.Lifecycle[str, str]) -> None:
    repo = tmp_path / "repo"
    (repo / "model").mkdir(parents=True)
    shutil.copy(IMAGE, repo / "model" / "glance_image.py")

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
            cwd=repo,
            check=True,
            capture_output=True,
        )

    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "base")
    text = (repo / "model" / "glance_image.py").read_text()
    text = text.replace("terminal=[S.DELETED]", "terminal=[]")
    text = text.replace(
        "Transition(E.KILL, S.SAVING, S.KILLED),",
        "Transition(E.KILL, S.SAVING, S.KILLED),\n"
        "        Transition(E.RESTORE, S.DELETED, S.QUEUED),",
    )
    (repo / "model" / "glance_image.py").write_text(text)

    monkeypatch_chdir = pytest.MonkeyPatch()
    monkeypatch_chdir.chdir(repo)
    try:
        code, out, err = run("diff", "git:HEAD:model/glance_image.py", "model/glance_image.py")
        assert code == 1, err
        assert "+ deleted --restore--> queued" in out
        assert "deleted can now reach active (any config): deleted --restore--> queued" in out
        code, out, err = run("diff", "git:HEAD:model", "model/")
        assert code == 1, err
        assert "no-resurrection: proved -> violated [REGRESSED]" in out
        code, out, err = run("diff", "git:HEAD:model/glance_image.py", "git:HEAD:model/")
        assert code == 0, err
        code, _, err = run("diff", "git:NOPE:model/glance_image.py", "model/glance_image.py")
        assert code == 2
        assert "git:NOPE:model/glance_image.py" in err
    finally:
        monkeypatch_chdir.undo()


@pytest.mark.parametrize(
    "args",
    [
        ("diff", str(IMAGE), "no/such.py"),
        ("diff", str(IMAGE), "git:HEAD"),
        ("diff", str(IMAGE), str(MODEL / "glance_task.py") + ":NOPE"),
    ],
)
def test_diff_bad_input_exits_2(args: tuple[str, ...]) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1


def test_removed_lifecycle_counts_as_regression_unless_allowed(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    for name in ("glance_image.py", "glance_task.py"):
        shutil.copy(MODEL / name, old / name)
    shutil.copy(MODEL / "glance_image.py", new / "glance_image.py")
    code, out, err = run("diff", str(old), str(new))
    assert code == 1, err
    assert "lifecycle glance-task removed [REGRESSED]" in out
    code, out, err = run("diff", str(old), str(new), "--format", "json")
    assert code == 1, err
    doc = json.loads(out)
    assert doc["regressed"] is True
    assert doc["removed_lifecycles"] == ["glance-task"]
    code, out, err = run("diff", str(old), str(new), "--allow-removed")
    assert code == 0, err
    assert "lifecycle glance-task removed (allowed by --allow-removed)" in out


def test_identical_models_skip_the_checker(glance: sg.Lifecycle[str, str]) -> None:
    def flaky(lc: sg.Lifecycle[str, str]) -> list[Any]:
        raise AssertionError("an identical model must not be re-checked")

    d = diff_lifecycles(glance, sg.Lifecycle.from_json(glance.to_json()), checker=flaky)
    assert d.identical
    assert d.regressions == ()
    code, out, err = run("diff", str(IMAGE), str(IMAGE), "--timeout", "0.001")
    assert (code, err) == (0, "")
    assert "no change" in out


@pytest.mark.parametrize("timeout", ["0", "-1", "nan-ish"])
def test_diff_timeout_must_be_positive(timeout: str) -> None:
    code, out, err = run("diff", str(IMAGE), str(IMAGE), "--timeout", timeout)
    assert code == 2
    assert out == ""
    assert "--timeout" in err


def test_added_states_report_their_reachability(glance: sg.Lifecycle[str, str]) -> None:
    def add_states(doc: Doc) -> None:
        doc["states"] += ["quarantined", "orphan"]
        doc["terminal"] += ["quarantined", "orphan"]
        doc["events"].append("quarantine")
        doc["transitions"].append(
            {"event": "quarantine", "source": ["active"], "target": "quarantined"}
        )

    new = edited(glance, add_states)
    d = diff_lifecycles(glance, new, checker=lambda lc: [])
    found = {(r.state, r.reachable): r for r in d.reachability if r.added}
    assert set(found) == {("quarantined", True), ("orphan", False)}
    walk = found[("quarantined", True)].witness
    assert walk is not None
    assert walk.end == "quarantined"
    assert replays(new, walk)
    assert found[("orphan", False)].witness is None
    assert len(found[("quarantined", True)].configs) == len(d.settings)
    gained = {(p.source, p.target) for p in d.pairs if p.gained}
    assert ("queued", "quarantined") in gained
    assert ("active", "quarantined") in gained
    assert all(p.target != "orphan" for p in d.pairs)
    text = d.render()
    assert "added state quarantined is reachable (any config): queued" in text
    assert "added state orphan is not reachable (any config)" in text
    assert d.to_json()["reachability"][0]["added_state"] is True


@pytest.mark.parametrize("rev", ["--output=x", "-p", "--end-of-options"])
def test_git_revision_starting_with_dash_is_refused(rev: str) -> None:
    code, out, err = run("diff", f"git:{rev}:model/glance_image.py", str(IMAGE))
    assert code == 2
    assert out == ""
    assert "starts with '-'" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_load_errors_name_the_git_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    (repo / "model").mkdir(parents=True)
    (repo / "model" / "broken.json").write_text('{"name": "broken"')
    (repo / "model" / "broken.py").write_text("raise RuntimeError('boom')\n")
    for args in (["init", "-q"], ["add", "."], ["commit", "-qm", "base"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
            cwd=repo,
            check=True,
            capture_output=True,
        )
    monkeypatch.chdir(repo)
    for target in ("git:HEAD:model/broken.json", "git:HEAD:model/broken.py"):
        code, out, err = run("diff", target, str(IMAGE))
        assert code == 2
        assert out == ""
        assert target in err
        assert "statusguard-diff-" not in err
        assert len(err.strip().splitlines()) == 1
