"""The time budget (tests/_budget.py) fires on planted slow tests and spares the exempt ones."""

from __future__ import annotations

import textwrap

import pytest

PLANTED = """
import time

import pytest

from tests._budget import uses_server


def burn(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_quick():
    pass


def test_burns_cpu():
    burn(0.3)


def test_sleeps():
    time.sleep(0.5)


@pytest.mark.slow
def test_marked_slow_burns_cpu():
    burn(0.3)


def test_on_a_server_burns_cpu():
    uses_server("postgresql")
    burn(0.3)


def test_child_process_burns_cpu():
    import subprocess, sys

    code = "import time\\nend = time.process_time() + 0.3\\nwhile time.process_time() < end: pass"
    subprocess.run([sys.executable, "-c", code], check=True)
"""

MISMARKED = """
import pytest


@pytest.mark.slow
def helper():
    return 1


def test_long():
    assert helper() == 1
"""


def run_planted(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makeini("[pytest]\nmarkers =\n    slow: planted\n")
    pytester.makepyfile(test_planted=textwrap.dedent(source))
    return pytester.runpytest("-p", "tests._budget", "-p", "no:cacheprovider", "-q", *args)


def over_budget(result: pytest.RunResult) -> set[str]:
    _, _, section = result.stdout.str().partition("time budget exceeded")
    return {
        line.split("::")[1].split(":")[0]
        for line in section.splitlines()
        if line.startswith("  ") and "::" in line
    }


def test_the_budget_names_every_unmarked_test_over_it(pytester: pytest.Pytester) -> None:
    result = run_planted(pytester, PLANTED, "--budget-cpu=0.15", "--budget-wall=0.4")
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    result.assert_outcomes(passed=6)
    assert over_budget(result) == {
        "test_burns_cpu",
        "test_sleeps",
        "test_child_process_burns_cpu",
    }, result.stdout.str()
    # test_quick, the slow-marked and the server test are within budget or exempt:
    # with the defaults the same tests pass.
    assert run_planted(pytester, PLANTED).ret == pytest.ExitCode.OK


def test_a_mark_on_a_helper_is_a_collection_error(pytester: pytest.Pytester) -> None:
    result = run_planted(pytester, MISMARKED)
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    assert "test_planted.helper is not a test but carries @pytest.mark.slow" in result.stderr.str()
    fixed = MISMARKED.replace("@pytest.mark.slow\ndef helper", "def helper").replace(
        "def test_long", "@pytest.mark.slow\ndef test_long"
    )
    assert run_planted(pytester, fixed).ret == pytest.ExitCode.OK
