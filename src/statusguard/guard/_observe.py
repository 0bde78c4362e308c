"""The ``statusguard`` logger: one record per transition outcome of ``Guard.fire``/``move``.

Levels: ``DEBUG`` for an outcome that is the normal path (``committed``, ``noop``);
``INFO`` for one the caller is told of by an exception (``refused``: an
:class:`IllegalTransition` or :class:`TransitionConflict`; ``error``: anything else, such as
:class:`StoreUnavailable` or a bad argument). Never ``WARNING``: the caller receives that
exception and decides whether it is a problem; a library logging it too would report it
twice (and print it through :data:`logging.lastResort` in a program that configured no
logging). Each record carries in ``extra``: ``lifecycle``, ``key``, ``event``, ``source``,
``target``, ``version``, ``outcome`` and ``duration`` (seconds, float).

Cost when nobody listens: :func:`quiet`'s two reads per ``fire``/``move`` (a lookup in the
logger's own cache of ``isEnabledFor`` answers and one module attribute, ~25 ns together),
and nothing else (``benchmarks/bench_observe.py``). A level change (``setLevel`` on this
logger or an ancestor, ``logging.disable``) empties that cache in place, and a tracer
provider set later is read on the next call: both take effect on the next ``fire``.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Awaitable, Callable, Mapping
from time import perf_counter
from typing import TYPE_CHECKING, Any

from statusguard.errors import IllegalTransition, TransitionConflict

if TYPE_CHECKING:
    from statusguard.guard._guard import Committed

__all__ = [
    "INFO",
    "enabled",
    "inside",
    "levels",
    "logger",
    "observe",
    "observe_async",
    "otel",
    "quiet",
    "watching",
]

#: the logger every guard reports to
logger = logging.getLogger("statusguard")

#: ``logger.isEnabledFor``
enabled = logger.isEnabledFor
INFO, _DEBUG = logging.INFO, logging.DEBUG

try:  # OpenTelemetry's API, if installed (the optional extra statusguard[otel])
    from opentelemetry import trace as _trace
except ImportError:  # pragma: no cover - exercised by the tests without the extra
    _trace = None  # type: ignore[assignment]


class _Unknown:
    """Stands in for a cache or a provider this module cannot read: always "maybe"."""

    _TRACER_PROVIDER = True  # a provider may be set: ask watching()

    def get(self, level: int) -> None:
        return None


class _NoTracing:
    _TRACER_PROVIDER = None  # OpenTelemetry's API is not installed: never a span


#: ``levels.get(INFO) is False`` only while the logger is known not to be enabled for INFO.
#: It is the logger's own cache of ``isEnabledFor`` answers (``Logger._cache``), which the
#: logging module fills on each ``isEnabledFor`` call and empties in place on every level
#: change (``Manager._clear_cache``, CPython ``Lib/logging/__init__.py``, 3.7 and later);
#: a logger without one is always "maybe", and :func:`watching` answers.
levels: Any = getattr(logger, "_cache", None)
if not isinstance(levels, dict):  # pragma: no cover - another logging implementation
    levels = _Unknown()

#: ``otel._TRACER_PROVIDER is None`` while no tracer provider is set: the global that
#: ``opentelemetry.trace.set_tracer_provider`` sets (read on every call, so a provider set
#: later takes effect on the next one); without the API, never set
otel: Any = (
    _NoTracing
    if _trace is None
    else _trace
    if hasattr(_trace, "_TRACER_PROVIDER")
    else _Unknown  # pragma: no cover - an API that keeps its provider elsewhere
)


def _tracing() -> bool:
    """Whether a span would be recorded: OpenTelemetry's API is there and the program set a
    tracer provider (without one, the API's spans are no-ops: not worth their cost)."""
    return getattr(_trace, "_TRACER_PROVIDER", True) is not None


def _watching_with_spans() -> bool:
    return getattr(_trace, "_TRACER_PROVIDER", True) is not None or enabled(INFO)


#: is anyone listening (the logger at INFO, or an OpenTelemetry tracer provider)? Without
#: the API, the logger's check alone (a C partial of ``isEnabledFor``). ``fire``/``move``
#: ask it only when :func:`quiet`'s reads cannot say no.
watching: Callable[[], bool] = (
    functools.partial(enabled, INFO) if _trace is None else _watching_with_spans
)


def quiet() -> bool:
    """Whether nobody surely listens: the two reads the guard inlines on its hot path.

    ``False`` means "maybe" (the cache was emptied, the logger is enabled, or a provider is
    set): then :func:`watching` decides, and refills the cache.
    """
    return levels.get(INFO) is False and otel._TRACER_PROVIDER is None


class _Inside(threading.local):
    on = False  # whether this thread is inside observe(): the nested call runs as is


inside = _Inside()


def observe(
    guard: Any,
    method: Callable[..., Committed],
    key: Any,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
) -> Committed:
    """Run ``method`` (``Guard.fire``/``Guard.move``: the plain guard's, never a subclass's
    override, which wraps this call already) once more, timed: log its outcome and, with
    OpenTelemetry tracing, make it one span.

    The guard calls it, when :func:`watching` and not ``inside.on``, in place of its own
    body: the nested call sees ``inside.on`` and runs unobserved.
    """
    kind = method.__name__
    if _trace is not None and _tracing():
        name = f"statusguard.{kind}"
        with _trace.get_tracer("statusguard").start_as_current_span(
            name, record_exception=False, set_status_on_exception=False
        ) as span:
            return _observe(guard, method, kind, key, args, kwargs, span)
    return _observe(guard, method, kind, key, args, kwargs, None)


def _observe(
    guard: Any,
    method: Callable[..., Committed],
    kind: str,
    key: Any,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    span: Any,
) -> Committed:
    start = perf_counter()
    inside.on = True
    try:
        done = method(guard, key, *args, **kwargs)
    except Exception as exc:
        _refused(guard, kind, key, args, kwargs, exc, perf_counter() - start, span)
        raise
    finally:
        inside.on = False
    _done(guard, key, done, perf_counter() - start, span)
    return done


async def observe_async(
    guard: Any,
    kind: str,
    step: Callable[[], Awaitable[Committed]],
    key: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Committed:
    """:func:`observe` for ``AsyncGuard``: await ``step()`` (its unobserved ``fire`` or
    ``move``, ``kind``), timed; log its outcome and, with tracing, make it one span.

    ``args`` and ``kwargs`` are the call's, as for :func:`observe`. No ``inside`` flag:
    the step never observes itself, and tasks of one thread would share the flag.
    """
    if _trace is not None and _tracing():
        with _trace.get_tracer("statusguard").start_as_current_span(
            f"statusguard.{kind}", record_exception=False, set_status_on_exception=False
        ) as span:
            return await _observe_async(guard, kind, step, key, args, kwargs, span)
    return await _observe_async(guard, kind, step, key, args, kwargs, None)


async def _observe_async(
    guard: Any,
    kind: str,
    step: Callable[[], Awaitable[Committed]],
    key: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    span: Any,
) -> Committed:
    start = perf_counter()
    try:
        done = await step()
    except Exception as exc:
        _refused(guard, kind, key, args, kwargs, exc, perf_counter() - start, span)
        raise
    _done(guard, key, done, perf_counter() - start, span)
    return done


def _done(guard: Any, key: Any, done: Committed, duration: float, span: Any) -> None:
    """Log a committed (or no-op) transition at DEBUG."""
    outcome = "noop" if done.noop else "committed"
    fields = _fields(guard, key, done.event, done.source, done.target, done.version)
    _emit(_DEBUG, fields, outcome, duration, span)


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
    kwargs: Mapping[str, Any],
    exc: Exception,
    duration: float,
    span: Any,
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
    _emit(INFO, fields, outcome, duration, span)
    if span is not None and outcome == "error":
        span.record_exception(exc)
        span.set_status(_trace.Status(_trace.StatusCode.ERROR, type(exc).__name__))


def _emit(level: int, fields: dict[str, Any], outcome: str, duration: float, span: Any) -> None:
    fields["outcome"] = outcome
    fields["duration"] = duration
    if span is not None:  # attributes statusguard.<field>; None is not an attribute value
        for name, value in fields.items():
            if value is not None:
                plain = value if isinstance(value, (str, bool, int, float)) else repr(value)
                span.set_attribute(f"statusguard.{name}", plain)
    if not enabled(level):
        return
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
