"""The ``statusguard`` logger: one record per transition outcome of ``Guard.fire``/``move``.

Levels: ``DEBUG`` for an outcome that is the normal path (``committed``, ``noop``);
``INFO`` for one the caller is told of by an exception (``refused``: an
:class:`IllegalTransition` or :class:`TransitionConflict`; ``error``: anything else, such as
:class:`StoreUnavailable` or a bad argument). Never ``WARNING``: the caller receives that
exception and decides whether it is a problem; a library logging it too would report it
twice (and print it through :data:`logging.lastResort` in a program that configured no
logging). Each record carries in ``extra``: ``lifecycle``, ``key``, ``event``, ``source``,
``target``, ``version``, ``outcome`` and ``duration`` (seconds, float).

Cost when the logger is not enabled for ``INFO``: one ``isEnabledFor`` call (a dict lookup
in the logging module's cache, ~40 ns) per ``fire``/``move``, and nothing else
(``benchmarks/bench_observe.py``).
"""

from __future__ import annotations

import logging
import threading
from time import perf_counter
from typing import TYPE_CHECKING, Any

from statusguard.errors import IllegalTransition, TransitionConflict

if TYPE_CHECKING:
    from statusguard.guard._guard import Committed

__all__ = ["enabled", "inside", "logger", "observe"]

#: the logger every guard reports to
logger = logging.getLogger("statusguard")

#: ``logger.isEnabledFor``, the one call the guard makes when the logger is off
enabled = logger.isEnabledFor
INFO, _DEBUG = logging.INFO, logging.DEBUG


class _Inside(threading.local):
    on = False  # whether this thread is inside observe(): the nested call runs as is


inside = _Inside()


def observe(
    guard: Any, kind: str, key: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Committed:
    """Run ``guard.fire``/``guard.move`` (``kind``) once more, timed, and log its outcome.

    The guard calls it, when ``enabled(INFO)`` and not ``inside.on``, in place of its own
    body: the nested call sees ``inside.on`` and runs unobserved.
    """
    method = getattr(guard, kind)
    start = perf_counter()
    inside.on = True
    try:
        done: Committed = method(key, *args, **kwargs)
    except Exception as exc:
        _refused(guard, kind, key, args, kwargs, exc, perf_counter() - start)
        raise
    finally:
        inside.on = False
    if enabled(_DEBUG):
        outcome = "noop" if done.noop else "committed"
        fields = _fields(guard, key, done.event, done.source, done.target, done.version)
        _emit(_DEBUG, fields, outcome, perf_counter() - start)
    return done


def _fields(
    guard: Any, key: Any, event: Any, source: Any, target: Any, version: Any
) -> dict[str, Any]:
    return {
        "lifecycle": guard.lifecycle.name,
        "key": key,
        "event": None if event is None else str(event),
        "source": None if source is None else str(source),
        "target": None if target is None else str(target),
        "version": version,
    }


def _refused(
    guard: Any,
    kind: str,
    key: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    exc: Exception,
    duration: float,
) -> None:
    """Log the exception ``fire``/``move`` raised (at INFO), with what is known of it."""
    if kind == "fire":
        event, target, source, version = args[0], None, None, None
    else:
        event, (target, source), version = None, args, kwargs["expected_version"]
    outcome = "error"
    if isinstance(exc, IllegalTransition):
        outcome, source = "refused", exc.state
    elif isinstance(exc, TransitionConflict):
        outcome, source, version = "refused", exc.actual, exc.actual_version
    fields = _fields(guard, key, event, source, target, version)
    fields["error"] = type(exc).__name__
    _emit(INFO, fields, outcome, duration)


def _emit(level: int, fields: dict[str, Any], outcome: str, duration: float) -> None:
    fields["outcome"] = outcome
    fields["duration"] = duration
    event = fields["event"]
    what = f"{fields['lifecycle']} {fields['key']!r}: " + (
        f"{event} " if event is not None else "move "
    )
    path = f"{fields['source']} -> {fields['target']}"
    error = f" ({fields['error']})" if "error" in fields else ""
    logger.log(
        level,
        "%s%s %s%s in %.3f ms",
        what,
        path,
        outcome,
        error,
        duration * 1000,
        extra=fields,
    )
