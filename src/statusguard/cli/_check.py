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
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from statusguard.cli._app import EXIT_OK, EXIT_VIOLATED, fail, load_targets
from statusguard.errors import StatusGuardError
from statusguard.results import ObligationResult, Verdict

__all__ = ["check", "export_smt", "prove"]

MARKS = {Verdict.PROVED: "ok  ", Verdict.VIOLATED: "FAIL", Verdict.UNKNOWN: "??  "}
DEFAULT_TIMEOUT = 60.0


def _load(targets: Sequence[str]) -> list[Any]:
    """Load without the constructor's obligation checks, then forget the modules imported.

    Forgetting them keeps an unvalidated lifecycle from being reused from the module
    cache by later, strict loads in the same process.
    """
    from statusguard.lifecycle._model import Lifecycle, _lenient

    before = set(sys.modules)
    try:
        with _lenient():
            return load_targets(list(targets) or ["model/"])
    finally:
        for name in set(sys.modules) - before:
            module = sys.modules[name]
            if name.startswith("_statusguard_model_") or any(
                isinstance(v, Lifecycle) for v in vars(module).values()
            ):
                del sys.modules[name]


class _Timeout(click.FloatRange):
    """Seconds per obligation: positive, at most a day (``inf`` and ``nan`` are refused)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        seconds = super().convert(value, param, ctx)
        if math.isnan(seconds):  # NaN passes every range comparison
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        return seconds


TIMEOUT = _Timeout(min=0, min_open=True, max=86400)


def _progress(message: str) -> None:
    if sys.stderr.isatty():
        click.echo(message, err=True)


def _prove_all(
    lifecycles: Sequence[Any], timeout: float, *, race: bool = True
) -> list[list[ObligationResult]]:
    from statusguard.verify._obligations import builtin_obligations, check_lifecycle

    prove = check_lifecycle if race else builtin_obligations

    out = []
    for n, lc in enumerate(lifecycles, 1):
        _progress(f"[{n}/{len(lifecycles)}] proving {lc.name} ...")
        t0 = time.perf_counter()
        try:
            out.append(prove(lc, timeout=timeout))
        except StatusGuardError as exc:  # e.g. a race scenario expecting an unknown protocol
            fail(str(exc))
        _progress(f"[{n}/{len(lifecycles)}] {lc.name}: {time.perf_counter() - t0:.2f} s")
    return out


def render_text(lc: Any, results: Sequence[ObligationResult], differences: Sequence[str]) -> str:
    """One line per obligation (mark, name, time), then traces and manifest differences."""
    lines = [f"{lc.name}  {lc.fingerprint}"]
    width = max((len(r.obligation) for r in results), default=0)
    for r in results:
        line = f"  {MARKS[r.status]} {r.obligation.ljust(width)}  {r.seconds * 1000:8.1f} ms"
        if r.status is not Verdict.PROVED:
            line += f"  {r.status}"
            if r.detail:
                line += f": {r.detail}"
        lines.append(line)
        if r.counterexample is not None:
            lines += ["        " + x for x in r.counterexample.render().splitlines()]
        if r.reached_under is not None:
            lines.append("        " + _render_reached(lc, r.reached_under))
    for d in differences:
        lines.append(f"  FAIL proofs manifest: {d}")
    return "\n".join(lines)


def _render_reached(lc: Any, reached: Any) -> str:
    """One line: which states some settings miss (the full map is in the JSON)."""
    from statusguard._text import format_flags

    n = sum(1 for _ in lc.config_settings())
    partial = [
        f"{state} [{' | '.join(format_flags(c) for c in cfgs)}]"
        for state, cfgs in reached.items()
        if 0 < len(cfgs) < n
    ]
    never = [state for state, cfgs in reached.items() if not cfgs]
    full = len(reached) - len(partial) - len(never)
    out = f"reached under every setting: {full}/{len(reached)} states"
    if partial:
        out += f"; only under some: {', '.join(partial)}"
    if never:
        out += f"; under none: {', '.join(never)}"
    return out


@click.command()
@click.argument("targets", nargs=-1)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--proofs",
    "proofs",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Compare with the recorded manifests in DIR (fails on any difference).",
)
@click.option(
    "--timeout",
    type=TIMEOUT,
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds per obligation; a timeout is 'unknown', never proved.",
)
@click.option(
    "--race/--no-race",
    default=True,
    show_default=True,
    help="Include the race obligations (their proofs grow fast with the number of states).",
)
def check(
    targets: tuple[str, ...], fmt: str, proofs: Path | None, timeout: float, race: bool
) -> None:
    """Prove every obligation of the models TARGETS name (default: model/).

    Exit 0 all proved, 1 a violation/unknown/stale manifest, 2 bad input.
    """
    from statusguard.verify._manifests import compare, manifest_path, read_manifest

    if proofs is not None and not race:
        fail("--no-race cannot be compared with --proofs: the manifests record the race proofs")
    if proofs is not None and not proofs.is_dir():
        fail(
            f"--proofs {str(proofs)!r}: no such directory; "
            "record one with statusguard prove --write"
        )
    lifecycles = _load(targets)
    all_results = _prove_all(lifecycles, timeout, race=race)
    ok = True
    docs = []
    texts = []
    for lc, results in zip(lifecycles, all_results, strict=True):
        differences: list[str] = []
        if proofs is not None:
            try:
                differences = compare(lc, results, read_manifest(manifest_path(proofs, lc)))
            except StatusGuardError as exc:
                fail(str(exc))
        ok = ok and all(r.ok for r in results) and not differences
        doc: dict[str, Any] = {
            "name": lc.name,
            "fingerprint": lc.fingerprint,
            "results": [r.to_json() for r in results],
        }
        if proofs is not None:
            doc["manifest"] = {
                "path": str(manifest_path(proofs, lc)),
                "differences": differences,
            }
        docs.append(doc)
        texts.append(render_text(lc, results, differences))
    if fmt == "json":
        click.echo(json.dumps({"models": docs}, indent=2))
    else:
        click.echo("\n\n".join(texts))
        total = sum(len(r) for r in all_results)
        bad = sum(1 for rs in all_results for r in rs if not r.ok)
        click.echo(
            f"\n{len(lifecycles)} model(s), {total} obligation(s): "
            + (
                "all proved"
                if ok
                else (f"{bad} not proved" if bad else "all proved, but a proofs manifest differs")
            )
        )
    sys.exit(EXIT_OK if ok else EXIT_VIOLATED)


@click.command()
@click.argument("targets", nargs=-1)
@click.option("--write", is_flag=True, help="Write the manifests (otherwise print them).")
@click.option(
    "--proofs",
    "proofs",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("proofs"),
    show_default=True,
)
@click.option("--timeout", type=TIMEOUT, default=DEFAULT_TIMEOUT, show_default=True)
def prove(targets: tuple[str, ...], write: bool, proofs: Path, timeout: float) -> None:
    """Record proofs/<model>/manifest.json for the models TARGETS name (default: model/).

    Without --write, print {"manifests": [...]}. Exit 1 if z3 gave up on an obligation
    (that model is not recorded), 2 on bad input.
    """
    from statusguard.verify._manifests import manifest, manifest_path
    from statusguard.verify._smt import z3_version

    lifecycles = _load(targets)
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
    if gave_up:
        for line in gave_up:
            click.echo(f"statusguard: {line}; raise --timeout and re-run", err=True)
        sys.exit(EXIT_VIOLATED)


@click.command("export-smt")
@click.argument("targets", nargs=-1)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("smt"),
    show_default=True,
    help="Directory for <model>/<obligation>.smt2.",
)
def export_smt(targets: tuple[str, ...], out: Path) -> None:
    """Write each obligation as a self-contained SMT-LIB2 program (run it with: z3 FILE)."""
    from statusguard.verify._manifests import safe_file_name
    from statusguard.verify._obligations import export_programs

    for lc in _load(targets):
        folder = out / safe_file_name(lc.name)
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in export_programs(lc).items():
            path = folder / (safe_file_name(name) + ".smt2")
            path.write_text(text, encoding="utf-8")
            click.echo(str(path))
