"""``statusguard race``: prove the status race closed, or print the interleaving that opens it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, NoReturn

import click

from statusguard._text import did_you_mean
from statusguard.cli._app import EXIT_OK, EXIT_VIOLATED, emit, fail, load_targets
from statusguard.cli._options import (
    Choice,
    config_option,
    format_option,
    output_format,
    output_option,
    race_method_option,
    timeout_option,
)
from statusguard.consult._formats import render
from statusguard.consult._reports import RaceReport, unloaded_targets
from statusguard.errors import OutOfTime, StatusGuardError
from statusguard.lifecycle._deadline import budget
from statusguard.lifecycle._model import definition_defect
from statusguard.race import OBLIGATIONS, PROTOCOLS, RaceCheck, race_checks
from statusguard.race._scenarios import scenario_named
from statusguard.results import ObligationResult, Verdict


def _definition_check(defect: Any) -> RaceCheck:
    """A defect the constructor enforces (``terminal_final``, ``deterministic``), as a
    violated check expected to be proved: a surprise, exit 1, as in ``check``."""
    where = f" ({defect.origin})" if defect.origin is not None else ""
    result = ObligationResult(
        str(defect.obligation),
        Verdict.VIOLATED,
        0.0,
        "definition check (no solver)",
        f"{defect.problem}{where}; statusguard check shows the counterexample",
    )
    return RaceCheck(result, Verdict.PROVED, "")


@click.command(context_settings={"show_default": True})
@click.argument("target", default="model/")
@click.option(
    "--protocol",
    "protocol",
    default="all",
    show_default=True,
    help=f"The write discipline: {', '.join(PROTOCOLS)} or all.",
)
@click.option(
    "--workers", type=click.IntRange(1, 16), default=2, help="Workers in the bounded search."
)
@click.option(
    "--depth", type=click.IntRange(1, 200), default=12, help="Steps of the bounded search."
)
@click.option(
    "--obligation",
    type=Choice([*OBLIGATIONS, "all", "none"]),
    default="all",
    show_default=True,
    help="The race obligation to check; 'none' runs only the scenarios.",
)
@click.option(
    "--scenario",
    default="all",
    show_default=True,
    help="A named race scenario of the model, 'all' or 'none'.",
)
@config_option()
@timeout_option(
    30.0,
    "Seconds for the whole check (loading, encoding, searches, solving); what does not "
    "finish in time is 'unknown', never proved.",
)
@format_option(RaceReport, default="text")
@output_option()
@race_method_option()
def race(
    target: str,
    protocol: str,
    workers: int,
    depth: int,
    obligation: str,
    scenario: str,
    config: dict[str, bool],
    timeout: float,
    fmt: str | None,
    output: Path | None,
    method: str,
) -> None:
    """Check the race obligations of TARGET's lifecycle(s) under a write protocol.

    Each obligation is first proved for any number of workers and any length (one-step
    induction); if that fails, bounded model checking with --workers and --depth finds
    the shortest interleaving that breaks it. Exit 0: every verdict is the expected one
    (a protocol's theorems proved, each scenario as it declares: unguarded losing is
    expected); 1: a surprise (or the model breaks an obligation its constructor enforces);
    2: bad input.
    """
    if protocol not in (*PROTOCOLS, "all"):
        fail(
            f"--protocol: unknown protocol {protocol!r}; expected one of: "
            f"{', '.join(PROTOCOLS)}, all{did_you_mean(protocol, (*PROTOCOLS, 'all'))}"
        )
    chosen, _ = output_format(RaceReport, fmt, output, "text")
    started = time.perf_counter()
    click.get_current_context().with_resource(budget(timeout))  # loading counts too

    def unloaded(loading: str, exc: OutOfTime) -> NoReturn:
        """The budget ran out while loading: a report of the unloaded target, exit 1."""
        gone = unloaded_targets([target], loading, str(exc), time.perf_counter() - started)
        emit(render(chosen.name, RaceReport((), gone)), output)
        raise SystemExit(EXIT_VIOLATED)

    lifecycles = load_targets([target], unloaded)
    protocols = list(PROTOCOLS) if protocol == "all" else [protocol]
    obligations = (
        list(OBLIGATIONS) if obligation == "all" else [] if obligation == "none" else [obligation]
    )
    declared = {f for lc in lifecycles for f in lc.config_flags}
    for name in config:
        if name not in declared:
            fail(
                f"--config {name}: no loaded lifecycle declares this config flag; "
                f"expected one of: {', '.join(sorted(declared)) or '(none)'}"
                + did_you_mean(name, declared)
            )
    scenarios: bool | list[str] = (
        True if scenario == "all" else False if scenario == "none" else [scenario]
    )
    if isinstance(scenarios, list):  # an unknown name is bad input before any proof runs
        for lc in lifecycles:
            try:
                scenario_named(lc, scenario)
            except StatusGuardError as exc:
                fail(exc)
    models = []
    for lc in lifecycles:
        defect = definition_defect(lc)
        checks = [] if defect is None else [_definition_check(defect)]
        try:
            checks += race_checks(
                lc,
                config={k: v for k, v in config.items() if k in lc.config_flags},
                protocols=protocols,
                obligations=obligations,
                scenarios=scenarios,
                workers=workers,
                depth=depth,
                timeout=timeout,
                scenario_workers=workers,
                method=method,
            )
        except StatusGuardError as exc:
            fail(exc)
        models.append((lc, tuple(checks)))
    report = RaceReport(tuple(models))
    emit(render(chosen.name, report), output)
    raise SystemExit(EXIT_OK if report.ok else EXIT_VIOLATED)
