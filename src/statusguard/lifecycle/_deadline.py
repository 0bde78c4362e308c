"""One time budget for a whole check: loading, encoding, searching and solving share it.

What it owns: :func:`budget` (a context in which work must end by ``now + seconds``;
nested budgets keep the earliest end), :func:`remaining`, :func:`expired` and
:data:`OUT_OF_TIME`, the phrase an ``unknown`` verdict carries when the budget ran out
before (or while) its work ran. The deadline lives in a context variable, so the
signatures of the checkers (and the callers that memoise them by their arguments) do not
change, and threads or tasks each see their own. Imports nothing of ours.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["OUT_OF_TIME", "budget", "expired", "out_of_time", "remaining", "solver_ms"]

OUT_OF_TIME = "out of time"
"""In the detail of every ``unknown`` the time budget caused (never ``proved``)."""

_END: ContextVar[float] = ContextVar("statusguard_deadline", default=math.inf)


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


def solver_ms(cap: float) -> int:
    """A z3 ``timeout`` in milliseconds: the time left, at most ``cap`` seconds (at least 1)."""
    return max(1, int(min(remaining(cap), 86_400.0) * 1000))


def out_of_time(doing: str) -> str:
    """The detail of an ``unknown``: ``doing`` did not finish within the time budget."""
    return f"{OUT_OF_TIME}: {doing} did not finish within the --timeout budget; raise --timeout"
