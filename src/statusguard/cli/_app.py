"""What every ``statusguard`` command shares: exit codes, one-line errors, loading, writing.

Exit codes are a contract, the same for every command (docs/verification.md, "Exit
codes"): 0 success; 1 a property was violated (or a result is unknown or stale);
2 bad input. Bad input prints one line on stderr naming the problem, never a traceback.

The one rule for a model that reads but breaks an obligation its constructor enforces
(nondeterminism, an exit from a terminal state): it is a *violation*, exit 1, from every
command. Every command loads models the same way (:func:`load_targets`, without those two
checks); the commands that prove (``check``, ``prove``, ``race``, ``diff``) report the
defect among their verdicts, and the others (``show``, ``explain``, ``docs``,
``export-smt``, ``sql trigger``) do their work, then name it on stderr and exit 1
(:func:`exit_for_defects`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import click

from statusguard._text import quoted_names
from statusguard.errors import MissingFlag, OutOfTime, StatusGuardError, UnknownFlag

EXIT_OK = 0
EXIT_VIOLATED = 1
EXIT_BAD_INPUT = 2


class BadInput(click.ClickException):
    """A usage or model error: one line on stderr, exit 2."""

    exit_code = EXIT_BAD_INPUT

    def show(self, file: Any = None) -> None:
        click.echo(f"statusguard: error: {self.format_message()}", err=True)


def fail(problem: str | StatusGuardError) -> NoReturn:
    """Stop the command with exit 2 and a one-line message (an error's in CLI terms)."""
    raise BadInput(problem if isinstance(problem, str) else cli_message(problem))


def cli_message(exc: StatusGuardError) -> str:
    """``exc``'s message, spelled as the command line spells it where the library's
    message speaks Python (``config={...}`` is ``--config NAME=BOOL`` here)."""
    if isinstance(exc, MissingFlag) and exc.event is None:
        example = ",".join(f"{n}=false" for n in exc.missing)
        return (
            f"config flag(s) {quoted_names(exc.missing)} not set; every config flag needs a "
            f"value: --config {example} (or =true)"
        )
    if isinstance(exc, UnknownFlag) and exc.declared_as == "fact":
        owner = f" of lifecycle {exc.lifecycle!r}" if exc.lifecycle else ""
        return (
            f"--config {exc.name}: {str(exc.name)!r} is a fact flag{owner} (true or false "
            f"per event), not a config flag; --config takes: {quoted_names(exc.allowed)}"
        )
    return str(exc)


@contextmanager
def lenient_models() -> Iterator[None]:
    """Build lifecycles without the checks that are also obligations, then forget the
    model modules imported, so a lenient lifecycle is never reused from the module cache
    by a later, strict load in the same process."""
    from statusguard.lifecycle._model import Lifecycle, _lenient

    before = set(sys.modules)
    try:
        with _lenient():
            yield
    finally:
        for name in set(sys.modules) - before:
            module = sys.modules[name]
            if name.startswith("_statusguard_model_") or any(
                isinstance(v, Lifecycle) for v in vars(module).values()
            ):
                del sys.modules[name]


TimedOut = Callable[[str, OutOfTime], NoReturn]
"""What a command does when its ``--timeout`` runs out while ``target`` loads."""


def out_of_time_loading(target: str, exc: OutOfTime) -> NoReturn:
    """The default :data:`TimedOut`: one ``unknown`` line on stderr, exit 1 (what does
    not finish within ``--timeout`` is unknown, never bad input)."""
    click.echo(f"statusguard: unknown: loading {target!r}: {exc}", err=True)
    sys.exit(EXIT_VIOLATED)


def load_targets(targets: Sequence[str], timed_out: TimedOut = out_of_time_loading) -> list[Any]:
    """Load every lifecycle the targets name (leniently, see the module docstring), each
    with its fingerprint, within the time budget (``_deadline``) if one is set.

    Load errors and two different lifecycles with one name are exit 2; notes (helper
    modules skipped) go to stderr; the budget running out calls ``timed_out`` with the
    target being loaded.
    """
    from statusguard.lifecycle._deadline import bounded
    from statusguard.lifecycle._loading import scan, unique_names

    found: list[tuple[Any, str]] = []
    target = ""
    try:
        with lenient_models(), bounded():
            for target in targets:
                loaded = scan(target)
                for note in loaded.notes:
                    click.echo(f"statusguard: note: {note}", err=True)
                for lc, _ in loaded.found:
                    lc.fingerprint  # noqa: B018  # computed once, here, within the budget
                found.extend(loaded.found)
        if len(targets) > 1:
            unique_names(found, " ".join(targets))
    except OutOfTime as exc:
        timed_out(target, exc)
    except StatusGuardError as exc:
        fail(exc)
    return [lc for lc, _ in found]


def load_one(target: str) -> Any:
    """The one lifecycle ``target`` names (exit 2 if it holds none or several)."""
    found = load_targets([target])
    if len(found) != 1:
        names = ", ".join(lc.name for lc in found) or "none"
        fail(f"{target!r} holds {len(found)} lifecycles ({names}); pick one with FILE.py:NAME")
    return found[0]


def defects(lifecycles: Sequence[Any]) -> list[Any]:
    """The constructor-enforced defect of each lifecycle that has one (InvalidLifecycle)."""
    from statusguard.lifecycle._model import definition_defect

    return [d for d in map(definition_defect, lifecycles) if d is not None]


def exit_for_defects(lifecycles: Sequence[Any]) -> None:
    """Name each lifecycle's defect on stderr and exit 1 if there is one (the one rule)."""
    found = defects(lifecycles)
    for d in found:
        click.echo(f"statusguard: violated: {defect_line(d)}", err=True)
    if found:
        sys.exit(EXIT_VIOLATED)


def defect_line(defect: Any) -> str:
    """``door: terminal_final violated at bad.json:3 ($.transitions[3].source[0]): ...``."""
    where = [str(defect.origin)] if defect.origin is not None else []
    if defect.location:
        where.append(defect.path)
    at = f" at {where[0]}" + (f" ({where[1]})" if len(where) > 1 else "") if where else ""
    return (
        f"{defect.lifecycle}: {defect.obligation} violated{at}: {defect.problem}; "
        "statusguard check shows the counterexample"
    )


def emit(text: str, output: Path | None) -> None:
    """``text`` on stdout, or written to ``output`` (a failure to write is bad input)."""
    if output is None:
        click.echo(text)
        return
    try:
        output.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {str(output)!r}: {exc.strerror or exc}")


MACHINE_FORMATS = frozenset({"json", "junit", "sarif"})
"""Formats a program parses: with one on stdout, annotations go to stderr instead."""


def annotate(report: Any, fmt: str, output: Path | None) -> None:
    """Under GitHub Actions (``GITHUB_ACTIONS=true``), one ``::error file=...,line=...::``
    workflow command per finding, on stdout (where the runner reads them), after the
    report; on stderr when a machine-readable report is on stdout."""
    from statusguard.consult._ci import github_annotations, under_github_actions

    if not under_github_actions():
        return
    err = output is None and fmt in MACHINE_FORMATS
    for line in github_annotations(report):
        click.echo(line, err=err)


class OneLineErrors(click.Group):
    """A group whose usage errors are one line on stderr (click prints usage and a hint)."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        if args is not None and any("\x00" in str(a) for a in args):
            # A real argv cannot hold NUL; an in-process caller's can, and paths choke on it.
            click.echo("statusguard: error: an argument contains a NUL byte; remove it", err=True)
            sys.exit(EXIT_BAD_INPUT)
        try:
            rv = super().main(args, prog_name, complete_var, False, **extra)
        except click.ClickException as exc:
            message = " ".join(exc.format_message().split())
            if isinstance(exc, click.UsageError) and exc.ctx is not None:
                message += f" (see '{exc.ctx.command_path} --help')"
            click.echo(f"statusguard: error: {message}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("statusguard: error: aborted", err=True)
            sys.exit(EXIT_VIOLATED)
        sys.exit(rv if isinstance(rv, int) else EXIT_OK)
