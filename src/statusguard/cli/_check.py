"""``statusguard check``, ``prove`` and ``export-smt``: the verification gate.

Exit codes (the contract): 0 every obligation proved (and, with ``--proofs``, every
manifest matches); 1 some obligation violated or unknown, or a manifest differs or is
stale or missing; 2 bad input (unreadable or malformed model, bad arguments).

Models are loaded without the constructor's ``deterministic``/``terminal_final``
checks so that those defects are reported as violated obligations with a
counterexample (exit 1) rather than as load errors.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from statusguard.cli._app import (
    EXIT_OK,
    EXIT_VIOLATED,
    TimedOut,
    annotate,
    emit,
    exit_for_defects,
    fail,
    load_targets,
    out_of_time_loading,
)
from statusguard.cli._options import (
    format_option,
    output_format,
    output_option,
    race_method_option,
    targets_argument,
    timeout_option,
)
from statusguard.consult._formats import render
from statusguard.consult._reports import CheckedModel, CheckReport, unloaded_targets
from statusguard.errors import OutOfTime, StatusGuardError
from statusguard.lifecycle._deadline import budget
from statusguard.results import ObligationResult, Verdict

__all__ = ["check", "export_smt", "prove"]

DEFAULT_TIMEOUT = 60.0


def _load(targets: Sequence[str], timed_out: TimedOut = out_of_time_loading) -> list[Any]:
    return load_targets(list(targets) or ["model/"], timed_out)


def _unloaded_report(
    targets: Sequence[str], fmt: str, output: Path | None, started: float
) -> TimedOut:
    """``check``'s :data:`TimedOut`: the report of an ``unknown`` check, every target
    ``unloaded`` (the one that ran out names the step; none is proved), then exit 1."""

    def report(target: str, exc: OutOfTime) -> NoReturn:
        seconds = time.perf_counter() - started
        unloaded = unloaded_targets(list(targets) or ["model/"], target, str(exc), seconds)
        done = CheckReport((), unloaded)
        emit(render(fmt, done), output)
        annotate(done, fmt, output)
        sys.exit(EXIT_VIOLATED)

    return report


def _prove_unloaded(targets: Sequence[str], write: bool, started: float) -> TimedOut:
    """``prove``'s :data:`TimedOut`: the stderr line every command prints, then (without
    ``--write``) the document ``prove`` prints, with no manifests and every target
    ``unloaded`` as in ``check``'s JSON report; nothing is written; exit 1."""

    def report(target: str, exc: OutOfTime) -> NoReturn:
        if not write:
            seconds = time.perf_counter() - started
            unloaded = unloaded_targets(list(targets) or ["model/"], target, str(exc), seconds)
            doc = {"manifests": [], "unloaded": [u.to_json() for u in unloaded]}
            click.echo(json.dumps(doc, indent=2))
        out_of_time_loading(target, exc)  # the stderr line every command prints; exit 1

    return report


def _progress(message: str) -> None:
    if sys.stderr.isatty():
        click.echo(message, err=True)


def _prove_all(
    lifecycles: Sequence[Any], timeout: float, *, race: bool = True, method: str | None = None
) -> list[list[ObligationResult]]:
    from statusguard.race._parametric import PARAMETRIC
    from statusguard.verify._obligations import builtin_obligations, check_lifecycle

    def prove(lc: Any) -> list[ObligationResult]:
        if not race:
            return builtin_obligations(lc, timeout=timeout)
        if method is None or method == PARAMETRIC:
            return check_lifecycle(lc, timeout=timeout)
        return check_lifecycle(lc, timeout=timeout, race_method=method)

    out = []
    for n, lc in enumerate(lifecycles, 1):
        _progress(f"[{n}/{len(lifecycles)}] proving {lc.name} ...")
        t0 = time.perf_counter()
        try:
            out.append(prove(lc))
        except StatusGuardError as exc:  # e.g. a race scenario expecting an unknown protocol
            fail(exc)
        _progress(f"[{n}/{len(lifecycles)}] {lc.name}: {time.perf_counter() - t0:.2f} s")
    return out


@click.command()
@targets_argument()
@format_option(CheckReport, default="text")
@output_option()
@click.option(
    "--proofs",
    "proofs",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Compare with the recorded manifests in DIR (fails on any difference).",
)
@timeout_option(DEFAULT_TIMEOUT)
@click.option(
    "--race/--no-race",
    default=True,
    show_default=True,
    help="Include the race obligations.",
)
@race_method_option()
def check(
    targets: tuple[str, ...],
    fmt: str | None,
    output: Path | None,
    proofs: Path | None,
    timeout: float,
    race: bool,
    method: str,
) -> None:
    """Prove every obligation of the models TARGETS name (default: model/).

    Exit 0 all proved, 1 a violation/unknown/stale manifest, 2 bad input.
    """
    from statusguard.verify._manifests import compare, manifest_path, read_manifest

    chosen, _ = output_format(CheckReport, fmt, output, "text")
    if proofs is not None and not race:
        fail("--no-race cannot be compared with --proofs: the manifests record the race proofs")
    if proofs is not None and not proofs.is_dir():
        fail(
            f"--proofs {str(proofs)!r}: no such directory; "
            "record one with statusguard prove --write"
        )
    started = time.perf_counter()
    click.get_current_context().with_resource(budget(timeout))  # loading counts too
    lifecycles = _load(targets, _unloaded_report(targets, chosen.name, output, started))
    models = []
    proved = _prove_all(lifecycles, timeout, race=race, method=method)
    for lc, results in zip(lifecycles, proved, strict=True):
        if proofs is None:
            models.append(CheckedModel(lc, tuple(results)))
            continue
        path = manifest_path(proofs, lc)
        try:
            differences = compare(lc, results, read_manifest(path))
        except StatusGuardError as exc:
            fail(exc)
        models.append(CheckedModel(lc, tuple(results), str(path), tuple(differences)))
    report = CheckReport(tuple(models))
    emit(render(chosen.name, report), output)
    annotate(report, chosen.name, output)
    sys.exit(EXIT_OK if report.ok else EXIT_VIOLATED)


@click.command()
@targets_argument()
@click.option("--write", is_flag=True, help="Write the manifests (otherwise print them).")
@click.option(
    "--proofs",
    "proofs",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("proofs"),
    show_default=True,
    help="The folder --write records the manifests in (DIR/<model>/manifest.json).",
)
@timeout_option(DEFAULT_TIMEOUT)
def prove(targets: tuple[str, ...], write: bool, proofs: Path, timeout: float) -> None:
    """Record proofs/<model>/manifest.json for the models TARGETS name (default: model/).

    Without --write, print {"manifests": [...]} (and "unloaded", as check's JSON, when
    --timeout ran out while loading). A violated obligation is recorded (the manifest is a
    record; check --proofs fails on it). Exit 1 if z3 gave up on an obligation (that model
    is not recorded), the budget ran out while loading (nothing is recorded), or a model
    breaks an obligation its constructor enforces (the one rule of every command), 2 on
    bad input.
    """
    from statusguard.verify._manifests import manifest, manifest_path
    from statusguard.verify._smt import z3_version

    started = time.perf_counter()
    click.get_current_context().with_resource(budget(timeout))  # loading counts too
    lifecycles = _load(targets, _prove_unloaded(targets, write, started))
    version = z3_version()
    docs = []
    gave_up = []
    for lc, results in zip(lifecycles, _prove_all(lifecycles, timeout), strict=True):
        if any(r.status is Verdict.UNKNOWN and "vacuous" not in r.detail for r in results):
            names = ", ".join(r.obligation for r in results if r.status is Verdict.UNKNOWN)
            gave_up.append(f"{lc.name}: not recorded: the solver gave up on {names}")
            continue
        doc = manifest(lc, results, version)
        docs.append(doc)
        if write:
            path = manifest_path(proofs, lc)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
            bad = sum(1 for r in results if not r.ok)
            click.echo(
                f"wrote {path} ({len(results)} obligations"
                + (f", {bad} not proved" if bad else ", all proved")
                + ")"
            )
    if not write:
        click.echo(json.dumps({"manifests": docs}, indent=2))
    for line in gave_up:
        click.echo(f"statusguard: {line}; raise --timeout and re-run", err=True)
    if gave_up:
        sys.exit(EXIT_VIOLATED)
    exit_for_defects(lifecycles)


@click.command("export-smt")
@targets_argument()
@output_option("The folder for <model>/<obligation>.smt2.", directory=True, default=Path("smt"))
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    hidden=True,
    help="Deprecated spelling of -o/--output, kept for scripts.",
)
def export_smt(targets: tuple[str, ...], output: Path, out: Path | None) -> None:
    """Write each built-in and invariant obligation as a self-contained SMT-LIB2 program
    (run it with: z3 FILE). The race obligations are not exported: statusguard race checks them.
    """
    from statusguard.verify._manifests import safe_file_name
    from statusguard.verify._obligations import export_programs

    folder_root = output
    if out is not None:
        ctx = click.get_current_context()
        if ctx.get_parameter_source("output") is not click.core.ParameterSource.DEFAULT:
            fail("--out is the old spelling of -o/--output; give one of them")
        folder_root = out
    lifecycles = _load(targets)
    for lc in lifecycles:
        folder = folder_root / safe_file_name(lc.name)
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in export_programs(lc).items():
            path = folder / (safe_file_name(name) + ".smt2")
            path.write_text(text, encoding="utf-8")
            click.echo(str(path))
    exit_for_defects(lifecycles)
