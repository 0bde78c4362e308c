"""The default run's time budget: a test that needs more is marked ``slow``.

Every test the default run executes (neither marked ``slow`` nor talking to a database
server) must stay within a generous budget, measured over its setup, call and teardown
(a module- or session-scoped fixture is charged to the first test that needs it):

- CPU seconds of the test process plus the child processes it waited for. These hardly
  grow when the shared machine is busy, so a loaded machine does not trip the check;
- wall seconds, far more generous, for tests that wait (sleeps, lock timeouts).

A test over either budget fails the session, which names it with its figures: mark it
``@pytest.mark.slow`` (keeping a smaller version of its check in the default run) or make it
cheaper. ``tests/conftest.py`` loads this plugin; ``-p tests._budget`` loads it elsewhere.
Tests that reach a database server call :func:`uses_server` (the helper that reads
the server URLs does): the default run skips them, so the budget does not apply to them.

A ``pytest.mark.*`` decorator on a module-level function that pytest does not collect (a
helper slid between the mark and its test) is a collection error: the mark was meant for a
test and would be silently lost.
"""

from __future__ import annotations

import dataclasses
import inspect
import resource
import time
from collections.abc import Generator

import pytest

#: Per test, outside the slow tier. The slowest default-tier test uses about 3.5 CPU s on
#: the 2-core machine, so the ``ci`` profile's four times as many examples stay inside;
#: the wall budget leaves room for a busy machine and for tests that wait.
CPU_BUDGET_S = 30.0
WALL_BUDGET_S = 120.0

_EXEMPT = pytest.StashKey[str]()
_running: list[pytest.Item] = []


def uses_server(reason: str) -> None:
    """Declare that the running test talks to a database server (a tier outside the default)."""
    if _running:
        _running[-1].stash[_EXEMPT] = reason


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclasses.dataclass(frozen=True)
class Overrun:
    """One test over budget, with what it used."""

    nodeid: str
    cpu: float
    wall: float


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ``--budget-cpu`` / ``--budget-wall`` options (seconds per test; 0 turns one off)."""
    group = parser.getgroup("statusguard time budget")
    group.addoption(
        "--budget-cpu",
        type=float,
        default=CPU_BUDGET_S,
        metavar="SECONDS",
        help=f"CPU seconds a test outside the slow tier may use (default {CPU_BUDGET_S:g}; 0: off)",
    )
    group.addoption(
        "--budget-wall",
        type=float,
        default=WALL_BUDGET_S,
        metavar="SECONDS",
        help=f"wall seconds a test outside the slow tier may take (default {WALL_BUDGET_S:g}; "
        "0: off)",
    )


def pytest_configure(config: pytest.Config) -> None:
    budget = TimeBudget(config.getoption("--budget-cpu"), config.getoption("--budget-wall"))
    config.pluginmanager.register(budget, "statusguard-time-budget")


class TimeBudget:
    """The plugin: measures every test, then fails the session if one was over budget."""

    def __init__(self, cpu: float, wall: float) -> None:
        self.cpu = cpu
        self.wall = wall
        self.overruns: list[Overrun] = []

    def _over(self, cpu: float, wall: float) -> bool:
        return (self.cpu > 0 and cpu > self.cpu) or (self.wall > 0 and wall > self.wall)

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        modules = {item.module for item in items if isinstance(item, pytest.Function)}
        for module in modules:
            for name, obj in vars(module).items():
                if (
                    inspect.isfunction(obj)
                    and obj.__module__ == module.__name__
                    and not name.startswith("test")
                    and getattr(obj, "pytestmark", None)
                ):
                    marks = ", ".join(m.name for m in obj.pytestmark)
                    raise pytest.UsageError(
                        f"{module.__name__}.{name} is not a test but carries "
                        f"@pytest.mark.{marks}: move the mark onto the test it was meant for"
                    )

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, None, None]:
        _running.append(item)
        cpu, wall = _cpu_seconds(), time.perf_counter()
        try:
            yield
        finally:
            _running.pop()
        cpu, wall = _cpu_seconds() - cpu, time.perf_counter() - wall
        if "slow" in item.keywords or _EXEMPT in item.stash:
            return
        if self._over(cpu, wall):
            self.overruns.append(Overrun(item.nodeid, cpu, wall))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.overruns and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.overruns:
            return
        terminalreporter.section("time budget exceeded", red=True)
        terminalreporter.write_line(
            f"{len(self.overruns)} test(s) outside the slow tier went over the budget of "
            f"{self.cpu:g} CPU s / {self.wall:g} wall s per test:"
        )
        for o in self.overruns:
            terminalreporter.write_line(f"  {o.nodeid}: {o.cpu:.1f} CPU s, {o.wall:.1f} wall s")
        terminalreporter.write_line(
            "Mark each @pytest.mark.slow (keep a smaller check in the default run) or make it "
            "cheaper; see tests/README.md."
        )
