"""Driving async persistence code from the (synchronous) stateful and stress tooling.

:class:`EventLoopThread` is an asyncio event loop in a thread of its own; :func:`blocking`
turns an object with coroutine methods (an :class:`AsyncGuard`, an :class:`AsyncStore`,
your own async adapter) into one whose methods block until the coroutine finished on
that loop. Calls made from several threads at once run as concurrent tasks of the one
loop, so :func:`run_stress`'s threads race the way an async service's requests do. In a
process forked after the loop started, the loop is started afresh (the thread does not
survive a fork).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import os
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

__all__ = ["EventLoopThread", "blocking"]

T = TypeVar("T")


class EventLoopThread:
    """An asyncio event loop running in a daemon thread, started on first use.

    :meth:`run` submits an awaitable from any thread (not the loop's own) and waits for
    its result; :meth:`close` stops the loop and joins the thread.
    """

    __slots__ = ("_lock", "_loop", "_pid", "_thread")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The running loop (started now if it was not yet, or not in this process)."""
        with self._lock:
            if self._loop is None or self._pid != os.getpid():
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def main() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                thread = threading.Thread(target=main, name="statusguard-loop", daemon=True)
                thread.start()
                ready.wait()
                self._loop, self._thread, self._pid = loop, thread, os.getpid()
            return self._loop

    def run(self, awaitable: Awaitable[T]) -> T:
        """Run ``awaitable`` on the loop; its result (or its exception, raised here)."""
        loop = self.loop
        if self._thread is threading.current_thread():
            if inspect.iscoroutine(awaitable):
                awaitable.close()  # never to run: no "never awaited" warning later
            raise RuntimeError("EventLoopThread.run() called on its own loop: await instead")

        async def call() -> T:
            return await awaitable

        return asyncio.run_coroutine_threadsafe(call(), loop).result()

    def close(self) -> None:
        """Stop the loop (after what is running now) and join its thread."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None or self._pid != os.getpid():
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()


def _has_coroutines(value: object) -> bool:
    """Whether ``value`` is an object offering coroutine methods (a store, a guard)."""
    kind = type(value)
    if kind.__module__ == "builtins":
        return False
    return any(
        inspect.iscoroutinefunction(getattr(kind, name, None))
        for name in dir(kind)
        if not name.startswith("_")
    )


class Blocking:
    """What :func:`blocking` returns: ``target``'s attributes, its coroutines run to the end.

    :meth:`close` closes ``target`` (its ``close()``, if it has one) and then the loop, if
    :func:`blocking` made it.
    """

    __slots__ = ("_sg_loop", "_sg_owns", "_sg_target")
    _sg_loop: EventLoopThread
    _sg_owns: bool
    _sg_target: Any

    def __init__(self, target: object, loop: EventLoopThread, *, owns: bool = False) -> None:
        object.__setattr__(self, "_sg_target", target)
        object.__setattr__(self, "_sg_loop", loop)
        object.__setattr__(self, "_sg_owns", owns)

    def close(self) -> None:
        """Close the target (awaited if a coroutine), then the loop if it is this one's."""
        close = getattr(self._sg_target, "close", None)
        try:
            if callable(close):
                result = close()
                if inspect.iscoroutine(result):
                    self._sg_loop.run(result)
        finally:
            if self._sg_owns:
                self._sg_loop.close()

    @property
    def wrapped(self) -> Any:
        """The async object itself."""
        return self._sg_target

    @property
    def event_loop(self) -> EventLoopThread:
        """The loop its coroutines run on."""
        return self._sg_loop

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._sg_target, name)
        loop = self._sg_loop
        if callable(value) and not isinstance(value, type):
            method: Callable[..., Any] = value

            @functools.wraps(method)
            def call(*args: Any, **kwargs: Any) -> Any:
                result = method(*args, **kwargs)
                if inspect.iscoroutine(result):
                    return loop.run(result)
                return result

            return call
        if _has_coroutines(value):
            return Blocking(value, loop)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._sg_target, name, value)

    def __repr__(self) -> str:
        return f"blocking({self._sg_target!r})"


def blocking(target: object, loop: EventLoopThread | None = None) -> Any:
    """``target`` with every coroutine method made blocking, run on ``loop``.

    ``loop`` defaults to a new :class:`EventLoopThread`, which the result's ``close()``
    stops (after closing ``target``, if it has a ``close()``). An attribute that is
    itself an object with coroutine methods (``guard.store``) comes back blocking too,
    on the same loop. Use it to hand an
    :class:`AsyncGuard` to :class:`GuardAdapter` (which does so itself), or your own
    async adapter (``create``/``read``/``write``/``fire`` as coroutines) to
    :class:`LifecycleMachine` and :func:`run_stress`.
    """
    if loop is None:
        return Blocking(target, EventLoopThread(), owns=True)
    return Blocking(target, loop)
