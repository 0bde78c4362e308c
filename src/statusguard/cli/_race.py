"""``statusguard race``: prove the status race closed, or print the interleaving that opens it."""

from __future__ import annotations

import json
from typing import Any

import click

from statusguard.cli._app import EXIT_OK, EXIT_VIOLATED, fail, load_targets, parse_config
from statusguard.errors import StatusGuardError
from statusguard.race import OBLIGATIONS, PROTOCOLS, RaceProblem, render_schedule
from statusguard.race._check import check_obligation
from statusguard.race._induction import induction
from statusguard.race._scenarios import check_scenario, scenario_named, scenarios_of
from statusguard.results import ObligationResult, Verdict

_MARK = {Verdict.PROVED: "ok", Verdict.VIOLATED: "FAIL", Verdict.UNKNOWN: "??"}


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


def _text(lc: Any, results: list[ObligationResult]) -> str:
    lines = [f"{lc.name} ({lc.fingerprint})"]
    width = max((len(r.obligation) for r in results), default=0)
    for r in results:
        lines.append(
            f"  {_MARK[r.status]:<4} {r.obligation:<{width}}  {r.status!s:<8} "
            f"{r.seconds * 1000:7.1f} ms  {r.method}"
        )
        if r.detail:
            lines.append(f"       {r.detail}")
        if r.counterexample is not None:
            lines.extend("     " + ln for ln in render_schedule(r.counterexample).splitlines())
    return "\n".join(lines)


@click.command()
@click.argument("target", default="model/")
@click.option(
    "--protocol",
    "protocol",
    default="all",
    show_default=True,
    help=f"The write discipline: {', '.join(PROTOCOLS)} or all.",
)
@click.option("--workers", type=click.IntRange(1, 16), default=2, show_default=True)
@click.option("--depth", type=click.IntRange(1, 200), default=12, show_default=True)
@click.option(
    "--obligation",
    type=click.Choice([*OBLIGATIONS, "all", "none"]),
    default="all",
    show_default=True,
)
@click.option(
    "--scenario",
    default="all",
    show_default=True,
    help="A named race scenario of the model, 'all' or 'none'.",
)
@click.option("--config", "config_pairs", multiple=True, metavar="NAME=BOOL")
@click.option("--timeout", type=click.FloatRange(0.1, 3600), default=30.0, show_default=True)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def race(
    target: str,
    protocol: str,
    workers: int,
    depth: int,
    obligation: str,
    scenario: str,
    config_pairs: tuple[str, ...],
    timeout: float,
    fmt: str,
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
    config = parse_config(config_pairs)
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
    worst = EXIT_OK
    for lc in lifecycles:
        try:
            known = {k: v for k, v in config.items() if k in lc.config_flags}
            results = _run(lc, protocols, obligations, scenario, known, workers, depth, timeout)
        except StatusGuardError as exc:
            fail(str(exc))
        if any(r.status is not Verdict.PROVED for r in results):
            worst = EXIT_VIOLATED
        models.append((lc, results))
    if fmt == "json":
        doc = {
            "models": [
                {
                    "name": lc.name,
                    "fingerprint": lc.fingerprint,
                    "results": [r.to_json() for r in results],
                }
                for lc, results in models
            ]
        }
        click.echo(json.dumps(doc, indent=2))
    else:
        click.echo("\n\n".join(_text(lc, results) for lc, results in models))
    raise SystemExit(worst)
