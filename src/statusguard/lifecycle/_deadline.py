"""One time budget for a whole check: loading, encoding, searching and solving share it.

What it owns: :func:`budget` (a context in which work must end by ``now + seconds``;
nested budgets keep the earliest end), :func:`remaining`, :func:`expired` and
:data:`OUT_OF_TIME`, the phrase an ``unknown`` verdict carries when the budget ran out
before (or while) its work ran, and :func:`check`, which raises
:class:`~statusguard.errors.OutOfTime` from a step that cannot return an ``unknown``
(loading a model), only inside :func:`bounded` (the CLI's loading): elsewhere, a
lifecycle built after the budget ran out (a restricted copy, a definition check) is
built whole. The deadline lives in a context variable, so the
signatures of the checkers (and the callers that memoise them by their arguments) do not
change, and threads or tasks each see their own. Without a budget a check is one
context-variable read and a clock read. Imports only :mod:`statusguard.errors`.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from statusguard.errors import OutOfTime

__all__ = [
    "EVERY",
    "OUT_OF_TIME",
    "bounded",
    "budget",
    "check",
    "expired",
    "out_of_time",
    "paced",
    "remaining",
    "solver_ms",
]

OUT_OF_TIME = "out of time"
"""In the detail of every ``unknown`` the time budget caused (never ``proved``)."""

EVERY = 4096
"""A loop over a model's parts looks at the budget once every ``EVERY`` items
(``if not i % EVERY: check(...)``): a few microseconds at 10,000 states."""

_END: ContextVar[float] = ContextVar("statusguard_deadline", default=math.inf)
_BOUNDED: ContextVar[bool] = ContextVar("statusguard_bounded", default=False)


@contextmanager
def budget(seconds: float) -> Iterator[float]:
    """Work inside must end within ``seconds`` (or by an earlier enclosing deadline);
    yields the deadline (a :func:`time.monotonic` value)."""
    end = min(_END.get(), time.monotonic() + seconds)
    token = _END.set(end)
    try:
        yield end
    finally:
        _END.reset(token)


def remaining(cap: float = math.inf) -> float:
    """Seconds left in the current budget (at most ``cap``; ``inf`` with no budget)."""
    return min(cap, _END.get() - time.monotonic())


def expired() -> bool:
    """Whether the current budget has run out."""
    return time.monotonic() >= _END.get()


@contextmanager
def bounded() -> Iterator[None]:
    """Inside, :func:`check` raises :class:`OutOfTime` once the current budget (and any
    budget entered inside) has run out; outside, it never does."""
    token = _BOUNDED.set(True)
    try:
        yield
    finally:
        _BOUNDED.reset(token)


def check(doing: str) -> None:
    """:class:`OutOfTime` naming ``doing`` if, inside :func:`bounded`, the current budget
    has run out."""
    if _BOUNDED.get() and time.monotonic() >= _END.get():
        raise OutOfTime(doing)


T = TypeVar("T")


def paced(items: Iterable[T], doing: str) -> Iterator[T]:
    """``items``, looking at the budget (:func:`check`) before each ``EVERY``-th."""
    rest = iter(items)
    while True:
        check(doing)
        chunk = list(itertools.islice(rest, EVERY))
        if not chunk:
            return
        yield from chunk


def solver_ms(cap: float) -> int:
    """A z3 ``timeout`` in milliseconds: the time left, at most ``cap`` seconds (at least 1)."""
    return max(1, int(min(remaining(cap), 86_400.0) * 1000))


def out_of_time(doing: str) -> str:
    """The detail of an ``unknown``: ``doing`` did not finish within the time budget."""
    return f"{OUT_OF_TIME}: {doing} did not finish within the --timeout budget; raise --timeout"
