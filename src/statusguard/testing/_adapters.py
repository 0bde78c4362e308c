"""The adapter protocol the stateful tests drive, and the adapters statusguard ships.

An adapter is the thin layer between the tests and a service's persistence code:
create a key, read its status, write a decided target with the service's protocol,
and (optionally) fire an event atomically. Point the tests at your own code by
writing one.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from statusguard.errors import IllegalTransition, MissingFlag, TransitionConflict
from statusguard.guard._async import AsyncGuard
from statusguard.guard._guard import Guard
from statusguard.guard._store import Applied, Store
from statusguard.lifecycle._model import Lifecycle
from statusguard.race._protocols import REGISTRY, Decision
from statusguard.testing._async import Blocking, blocking

__all__ = [
    "WRITE_PROTOCOLS",
    "Adapter",
    "GuardAdapter",
    "Outcome",
    "Snapshot",
    "UnguardedAdapter",
    "call_write",
    "close_adapter",
]

WRITE_PROTOCOLS = tuple(p.name for p in REGISTRY.values() if p.guarded and not p.decides_at_write)
"""The race protocols that write a target decided at read time through the guard
(``cas_status``, ``cas_version``): the ones :meth:`GuardAdapter.write` can use."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a read saw: the status and, if the adapter has one, the version.

    ``handle`` is yours: whatever :meth:`Adapter.read` puts there (the loaded ORM
    object, its session, an open transaction) comes back unchanged in the ``seen``
    that :meth:`Adapter.write` receives for the same request. It takes no part in
    equality and is not printed. A read whose write never comes (the run ended
    first) is not told; release such handles in the adapter's ``close()``.
    """

    status: str
    version: int | None = None
    handle: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a write or a fire did.

    ``committed`` says whether the store changed. For a commit, ``source`` and
    ``target`` are the status moved from and to (``source`` may be ``None`` if the
    adapter cannot tell) and ``version`` the key's version after it, if known.
    For a refusal, ``reason`` says why (``"conflict"``, ``"illegal"``); an event the
    lifecycle accepts without a change (a no-op) commits nothing either: ``"noop"``.
    """

    committed: bool
    source: str | None = None
    target: str | None = None
    version: int | None = None
    reason: str = ""


@runtime_checkable
class Adapter(Protocol):
    """How the tests reach a service's status storage.

    ``supports_fire`` says whether :meth:`fire` exists and claims to apply an event
    in one atomic step; adapters without one only get the read, decide, write
    operation. The claim is not taken on trust: :class:`LifecycleMachine` pauses a
    ``fire`` inside your code and runs another worker's ``fire`` in the gap (see
    ``split_fire``), and :func:`run_stress` races real threads or processes.

    :meth:`write` may also take keyword arguments ``event`` and ``facts``: when its
    signature names them (or takes ``**kwargs``) the machine and :func:`run_stress`
    pass the request's event and facts, for libraries whose writes are named by the
    event rather than the target. An optional ``close()`` is called once when the
    adapter's run ends (after every machine run; after a stress run, in every
    process): dispose connections and release read handles there.
    """

    @property
    def supports_fire(self) -> bool:
        """Whether :meth:`fire` applies an event in one atomic step."""
        ...

    def create(self, key: str) -> Snapshot:
        """Create ``key`` in the lifecycle's initial state."""
        ...

    def read(self, key: str) -> Snapshot:
        """The current status (and version) of ``key``."""
        ...

    def write(self, key: str, seen: Snapshot, target: str) -> Outcome:
        """Write ``target``, decided from ``seen``, with the service's protocol.

        ``seen`` is the very :class:`Snapshot` this request's :meth:`read` returned
        (with its ``handle``). Add keyword parameters ``event`` and/or ``facts`` to
        receive the request's event and facts too.
        """
        ...

    def fire(self, key: str, event: str, facts: Mapping[str, bool]) -> Outcome:
        """Apply ``event`` to whatever ``key`` holds now, atomically."""
        ...


class GuardAdapter:
    """The statusguard :class:`~statusguard.Guard` as an adapter.

    ``fire`` is the guard's ``atomic_event`` protocol. ``write`` is the guard call
    of the race protocol ``protocol`` (one of :data:`WRITE_PROTOCOLS`, from
    :data:`statusguard.race.REGISTRY`): ``Guard.move`` with ``expected`` set to the
    status read; with ``"cas_version"`` (the default) it also passes the version read,
    with ``"cas_status"`` it compares the status only (so a status that left and came
    back, ABA, does not stop a stale write). With ``owns_store=True``, :meth:`close`
    disposes the store (for adapters made per process). ``guard`` may be an
    :class:`AsyncGuard`: its calls then run on an event loop thread of the adapter's own
    (:func:`blocking`), which :meth:`close` ends; threads racing through the adapter are
    concurrent tasks on that loop.
    """

    __slots__ = ("_call", "guard", "owns_store", "protocol")

    supports_fire = True

    def __init__(
        self,
        guard: Guard[Any, Any] | AsyncGuard[Any, Any],
        protocol: str = "cas_version",
        *,
        owns_store: bool = False,
    ) -> None:
        if protocol not in WRITE_PROTOCOLS:
            raise ValueError(
                f"unknown write protocol {protocol!r}; expected one of: "
                + ", ".join(repr(p) for p in WRITE_PROTOCOLS)
            )
        call = REGISTRY[protocol].guard_call
        assert call is not None  # by WRITE_PROTOCOLS
        self._call = call
        if not isinstance(guard, Guard) and inspect.iscoroutinefunction(
            getattr(guard, "fire", None)
        ):  # an AsyncGuard: its calls run on an event loop thread of this adapter's
            guard = blocking(guard)
        #: the guard (an AsyncGuard behind :func:`blocking`: its calls block)
        self.guard: Any = guard
        self.protocol = protocol
        self.owns_store = owns_store

    def create(self, key: str) -> Snapshot:
        self.guard.create(key)
        return self.read(key)  # the store's own first version (0, 1, ...)

    def read(self, key: str) -> Snapshot:
        record = self.guard.store.get(key)
        return Snapshot(record.status, record.version)

    def write(self, key: str, seen: Snapshot, target: str) -> Outcome:
        decision = Decision("", seen.status, seen.version, (), target)
        try:
            done = self._call(self.guard, key, decision)
        except TransitionConflict:
            return Outcome(False, reason="conflict")
        except IllegalTransition:
            return Outcome(False, reason="illegal")
        return Outcome(True, done.source, done.target, done.version)

    def fire(self, key: str, event: str, facts: Mapping[str, bool]) -> Outcome:
        try:
            done = self.guard.fire(key, event, facts)
        except (IllegalTransition, MissingFlag):
            return Outcome(False, reason="illegal")
        if done.noop:
            return Outcome(False, done.source, done.target, done.version, reason="noop")
        return Outcome(True, done.source, done.target, done.version)

    def close(self) -> None:
        """Dispose the store if this adapter owns it (and end an AsyncGuard's event loop)."""
        try:
            if self.owns_store:
                _dispose(self.guard.store)
        finally:
            if isinstance(self.guard, Blocking):
                self.guard.close()


class UnguardedAdapter:
    """A read-then-write adapter with no guard: the negative control.

    ``write`` overwrites whatever the store holds with ``target``, like an ORM's
    ``obj.status = target; session.commit()``; it never refuses. There is no
    atomic ``fire``. Tests over this adapter must fail.
    """

    __slots__ = ("lifecycle", "owns_store", "store")

    supports_fire = False

    def __init__(
        self, lifecycle: Lifecycle[Any, Any], store: Store, *, owns_store: bool = False
    ) -> None:
        self.lifecycle = lifecycle
        self.store = store
        self.owns_store = owns_store

    def create(self, key: str) -> Snapshot:
        record = self.store.create(key, str(self.lifecycle.initial))
        return Snapshot(record.status, record.version)

    def read(self, key: str) -> Snapshot:
        record = self.store.get(key)
        return Snapshot(record.status, record.version)

    def write(self, key: str, seen: Snapshot, target: str) -> Outcome:
        del seen  # the point of the negative control: the write ignores what was read
        while True:  # a blind overwrite, built from the store's own primitives
            current = self.store.get(key)
            outcome = self.store.compare_and_set(key, current.status, target)
            if isinstance(outcome, Applied):
                return Outcome(True, outcome.source, outcome.target, outcome.version)

    def fire(self, key: str, event: str, facts: Mapping[str, bool]) -> Outcome:
        raise NotImplementedError("the unguarded adapter has no atomic fire")

    def close(self) -> None:
        """Dispose the store if this adapter owns it."""
        if self.owns_store:
            _dispose(self.store)


_WRITE_KWARGS: dict[type, tuple[bool, bool]] = {}


def _write_kwargs(adapter: object) -> tuple[bool, bool]:
    """Whether ``adapter.write`` takes ``event`` and ``facts`` keywords (cached per type; for
    an adapter behind :func:`blocking`, per type of the async adapter it wraps)."""
    kind = type(adapter.wrapped) if isinstance(adapter, Blocking) else type(adapter)
    known = _WRITE_KWARGS.get(kind)
    if known is None:
        params: Mapping[str, inspect.Parameter]
        try:
            params = inspect.signature(adapter.write).parameters  # type: ignore[attr-defined]
        except (TypeError, ValueError):  # a builtin or a callable without a signature
            params = {}
        varkw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())

        def takes(name: str) -> bool:
            p = params.get(name)
            if p is None:
                return varkw
            return p.kind in (
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                inspect.Parameter.KEYWORD_ONLY,
            )

        known = (takes("event"), takes("facts"))
        _WRITE_KWARGS[kind] = known
    return known


def call_write(
    adapter: Adapter,
    key: str,
    seen: Snapshot,
    target: str,
    event: str,
    facts: Mapping[str, bool],
) -> Outcome:
    """``adapter.write(key, seen, target)``, plus ``event=``/``facts=`` if it takes them."""
    takes_event, takes_facts = _write_kwargs(adapter)
    extra: dict[str, Any] = {}
    if takes_event:
        extra["event"] = event
    if takes_facts:
        extra["facts"] = dict(facts)
    return adapter.write(key, seen, target, **extra)


def close_adapter(adapter: object) -> None:
    """Call the adapter's ``close()``, if it has one."""
    close = getattr(adapter, "close", None)
    if callable(close):
        close()


def _dispose(store: object) -> None:
    for name in ("dispose", "close"):
        method = getattr(store, name, None)
        if callable(method):
            method()
            return
