"""``statusguard race``: verdicts, schedules, JSON and exit codes."""

from __future__ import annotations

import json

from click.testing import CliRunner

from statusguard.cli import cli

GLANCE = "model/glance_image.py"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["race", *args])
    return result.exit_code, result.stdout, result.stderr


def test_unguarded_prints_the_resurrection_schedule_and_exits_0_as_expected() -> None:
    code, out, _ = run(
        GLANCE, "--protocol", "unguarded", "--obligation", "none",
        "--scenario", "delete_during_upload", "--workers", "2", "--depth", "8",
    )  # fmt: skip
    assert code == 0, out  # the scenario declares unguarded violated: no surprise
    assert "violated (expected)" in out
    assert "race.scenario.delete_during_upload.unguarded" in out
    assert "reads saving" in out
    assert "commits deleted -> active" in out


def test_guarded_protocol_is_proved_and_exits_0() -> None:
    code, out, _ = run(GLANCE, "--protocol", "atomic_event", "--workers", "3", "--depth", "6")
    assert code == 0, out
    assert "FAIL" not in out
    assert "any number of workers" in out


def test_json_has_the_check_shape_and_the_schedule() -> None:
    code, out, _ = run(
        GLANCE, "--protocol", "cas_status", "--obligation", "fresh_decision",
        "--scenario", "none", "--format", "json", "--config", "delayed_delete=false",
    )  # fmt: skip
    assert code == 0  # fresh_decision is not a theorem of cas_status: not gated
    doc = json.loads(out)
    assert doc["surprises"] == 0
    (model,) = doc["models"]
    assert model["name"] == "glance-image"
    assert model["fingerprint"].startswith("sha256:")
    (res,) = model["results"]
    assert res["obligation"] == "race.fresh_decision.cas_status"
    assert res["status"] == "violated"
    assert res["expected"] is None
    assert res["surprise"] is False
    schedule = res["counterexample"]["schedule"]
    assert [s["action"] for s in schedule].count("write") == 3
    assert schedule[-1]["violates"] == "fresh_decision"
    assert res["counterexample"]["config"] == {"delayed_delete": False}


def test_bad_input_exits_2_with_one_line() -> None:
    for args in (
        [GLANCE, "--protocol", "optimistic"],
        [GLANCE, "--scenario", "nope"],
        [GLANCE, "--config", "nosuch=true"],
        ["model/missing.py"],
    ):
        code, out, err = run(*args)
        assert code == 2, (args, out, err)
        assert len(err.strip().splitlines()) == 1, err
        assert "Traceback" not in err
