"""The options the commands share, defined once: targets, --config, --timeout, --format, -o.

Every command that takes one of these takes it from here, so it is spelled, parsed,
validated and explained the same way everywhere:

* ``--config NAME=BOOL``: repeatable, and each value may be a comma-separated list
  (``--config a=true,b=false``); BOOL is true/false, 1/0, yes/no or on/off.
* ``--timeout S``: a positive, finite number of seconds, at most a day.
* ``--format NAME``: the choices are the formats of :mod:`statusguard.consult._formats`
  that apply to the command's report.
* ``-o/--output PATH``: write there instead of stdout; its suffix may imply the format.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from statusguard._text import did_you_mean
from statusguard.cli._app import fail
from statusguard.consult._formats import Format, formats_for

__all__ = [
    "MAX_SECONDS",
    "Choice",
    "Seconds",
    "config_option",
    "format_option",
    "output_format",
    "output_option",
    "parse_config",
    "race_method_option",
    "targets_argument",
    "timeout_option",
]

F = TypeVar("F", bound=Callable[..., Any])
Decorator = Callable[[F], F]

MAX_SECONDS = 86400.0
ANY_TEXT = "txt"  # a .txt file holds any of the text formats

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def targets_argument() -> Decorator[Any]:
    """``TARGETS...`` (the parameter ``targets``): model files, FILE.py:NAME, modules, JSON
    documents or folders; a command given none reads ``model/``."""
    return click.argument("targets", nargs=-1)


# -- --config --------------------------------------------------------------------------


def parse_config(values: Sequence[str]) -> dict[str, bool]:
    """``NAME=BOOL`` items, each value possibly a comma-separated list, as a flag mapping."""
    out: dict[str, bool] = {}
    for value in values:
        for pair in value.split(","):
            name, sep, given = pair.partition("=")
            name = name.strip()
            if not sep or not name:
                fail(f"--config expects NAME=true|false, got {pair!r}")
            lowered = given.strip().lower()
            if lowered in _TRUE:
                out[name] = True
            elif lowered in _FALSE:
                out[name] = False
            else:
                fail(f"--config {name}: expected true or false, got {given!r}")
    return out


def config_option(
    help: str = "Fix a config flag; repeatable, or comma-separated: a=true,b=false.",
) -> Decorator[Any]:
    """``--config NAME=BOOL`` (the parameter ``config``: a ``dict[str, bool]``)."""

    def parse(ctx: click.Context, param: click.Parameter, value: Sequence[str]) -> dict[str, bool]:
        return parse_config(value)

    return click.option(
        "--config", "config", multiple=True, metavar="NAME=BOOL", callback=parse, help=help
    )


# -- --timeout -------------------------------------------------------------------------


class Seconds(click.types.FloatParamType):
    """A positive, finite number of seconds, at most a day: ``nan``, ``inf``, 0 and less fail."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            seconds = math.nan
        if not 0 < seconds <= MAX_SECONDS:  # NaN fails every comparison
            self.fail(
                f"{value!r} is not a number of seconds; give a positive number, at most "
                f"{MAX_SECONDS:g} (a day)",
                param,
                ctx,
            )
        return seconds


SECONDS = Seconds()


def timeout_option(
    default: float,
    help: str = "Seconds for the whole check (loading, encoding, searches, solving); what does "
    "not finish in time is 'unknown', never proved.",
) -> Decorator[Any]:
    """``--timeout S`` (the parameter ``timeout``: a float)."""
    return click.option("--timeout", type=SECONDS, default=default, show_default=True, help=help)


def race_method_option() -> Decorator[Any]:
    """``--method`` (the parameter ``method``): how the race obligations are proved."""
    from statusguard.race._parametric import METHODS, PARAMETRIC

    return click.option(
        "--method",
        "method",
        type=Choice(METHODS),
        default=PARAMETRIC,
        show_default=True,
        help="How the race obligations are proved: lifecycle-parametric (each protocol's "
        "theorems once for every lifecycle; the model only checked against the premises) "
        "or per-model (the model's own transition relation unrolled into every proof).",
    )


# -- choices ---------------------------------------------------------------------------


class Choice(click.Choice[str]):
    """``click.Choice`` whose refusal ends with a did-you-mean from the choices."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter as exc:
            hint = did_you_mean(value, [str(c) for c in self.choices])
            if not hint:
                raise
            self.fail(f"{exc.message.rstrip('.')}{hint}", param, ctx)


# -- --format and -o/--output ----------------------------------------------------------


def format_option(report: type[Any], default: str) -> Decorator[Any]:
    """``--format`` with the registry's formats for ``report`` (the parameter ``fmt``).

    Its value is ``None`` when not given, so an ``-o`` suffix can choose; resolve it with
    :func:`output_format`.
    """
    formats = formats_for(report)
    listed = "; ".join(f"{f.name}: {f.summary}" for f in formats)
    return click.option(
        "--format",
        "fmt",
        type=Choice([f.name for f in formats]),
        default=None,
        help=f"{listed}. [default: {default}, or what the --output suffix names]",
    )


def output_option(
    help: str = "Write to this file instead of stdout; a .json/.txt suffix names the format.",
    *,
    directory: bool = False,
    default: Path | None = None,
) -> Decorator[Any]:
    """``-o/--output PATH`` (the parameter ``output``): a file, or with ``directory`` a folder."""
    return click.option(
        "--output",
        "-o",
        "output",
        type=click.Path(file_okay=not directory, dir_okay=directory, path_type=Path),
        default=default,
        show_default=default is not None,
        help=help,
    )


def output_format(
    report: type[Any], fmt: str | None, output: Path | None, default: str
) -> tuple[Format, bool]:
    """The format to write and whether Graphviz draws it, checked against ``-o``'s suffix."""
    formats = formats_for(report)
    by_name = {f.name: f for f in formats}
    if output is None:
        return by_name[fmt or default], False
    suffix = output.suffix.lower().lstrip(".")
    for f in formats:
        if suffix in f.pictures:
            if fmt not in (None, f.name):
                fail(
                    f"--output {output.name} is drawn from {f.name.upper()}; "
                    f"drop --format {fmt} or use .{fmt}"
                )
            return f, True
    if not suffix:
        return by_name[fmt or default], False
    implied = next((f for f in formats if suffix in f.suffixes), None)
    if implied is None:
        known = ", ".join(f".{s}" for f in formats for s in f.pictures)
        known += (", " if known else "") + ", ".join(f".{s}" for f in formats for s in f.suffixes)
        fail(f"--output {output.name}: unknown suffix .{suffix}; expected one of {known}")
    if suffix == ANY_TEXT:
        return by_name[fmt or implied.name], False
    if fmt is not None and fmt != implied.name:
        fail(f"--output {output.name} holds {implied.name}, not --format {fmt}; change one of them")
    return implied, False
