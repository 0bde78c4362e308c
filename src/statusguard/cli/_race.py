"""``statusguard race``: prove the status race closed, or print the interleaving that opens it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from statusguard.cli._app import EXIT_OK, EXIT_VIOLATED, emit, fail, load_targets
from statusguard.cli._options import (
    config_option,
    format_option,
    output_format,
    output_option,
    timeout_option,
)
from statusguard.consult._formats import render
from statusguard.consult._reports import RaceReport
from statusguard.errors import StatusGuardError
from statusguard.race import OBLIGATIONS, PROTOCOLS, RaceProblem
from statusguard.race._check import check_obligation
from statusguard.race._induction import induction
from statusguard.race._scenarios import check_scenario, scenario_named, scenarios_of
from statusguard.results import ObligationResult


def _run(
    lc: Any,
    protocols: list[str],
    obligations: list[str],
    scenario: str,
    config: dict[str, bool],
    workers: int,
    depth: int,
    timeout: float,
) -> list[ObligationResult]:
    results: list[ObligationResult] = []
    for p in protocols:
        problem = RaceProblem(lc, p, None, None, config)
        ind = induction(problem, timeout=timeout) if obligations else None
        for o in obligations:
            results.append(
                check_obligation(
                    problem, o, workers=workers, depth=depth, timeout=timeout, proof=ind
                )
            )
    if scenario == "none":
        return results
    chosen = scenarios_of(lc) if scenario == "all" else (scenario_named(lc, scenario),)
    for sc in chosen:
        if any(k in config and config[k] != v for k, v in sc.config.items()):
            continue
        for p in protocols:
            results.append(
                check_scenario(
                    lc, sc, p, config=config, workers=workers, depth=depth, timeout=timeout
                )
            )
    return results


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
    type=click.Choice([*OBLIGATIONS, "all", "none"]),
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
@timeout_option(30.0, "Seconds per solver query; a timeout is 'unknown', never proved.")
@format_option(RaceReport, default="text")
@output_option()
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
) -> None:
    """Check the race obligations of TARGET's lifecycle(s) under a write protocol.

    Each obligation is first proved for any number of workers and any length (one-step
    induction); if that fails, bounded model checking with --workers and --depth finds
    the shortest interleaving that breaks it. Exit 0: all proved; 1: violated or
    unknown; 2: bad input.
    """
    if protocol not in (*PROTOCOLS, "all"):
        fail(
            f"--protocol: unknown protocol {protocol!r}; expected one of: "
            f"{', '.join(PROTOCOLS)}, all"
        )
    chosen, _ = output_format(RaceReport, fmt, output, "text")
    lifecycles = load_targets([target])
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
            )
    models = []
    for lc in lifecycles:
        try:
            known = {k: v for k, v in config.items() if k in lc.config_flags}
            results = _run(lc, protocols, obligations, scenario, known, workers, depth, timeout)
        except StatusGuardError as exc:
            fail(str(exc))
        models.append((lc, tuple(results)))
    report = RaceReport(tuple(models))
    emit(render(chosen.name, report), output)
    raise SystemExit(EXIT_OK if report.ok else EXIT_VIOLATED)
