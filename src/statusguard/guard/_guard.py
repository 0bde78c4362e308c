"""The runtime guard: every status change is one atomic step of the lifecycle.

:class:`Guard` validates the caller's input, caches the plans of :mod:`._plan` and
writes through the :class:`Store` protocol only. With a :class:`SwapStore` it takes
the fast path: read lock-free, decide, compare-and-swap.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from queue import SimpleQueue
from typing import Any, Generic, NamedTuple, TypedDict, Unpack

from statusguard.errors import TransitionConflict, _illegal_event
from statusguard.guard._hooks import (
    Hook,
    check_hook_store,
    check_hooks,
    run_after,
    run_within,
)
from statusguard.guard._memory import writers_lock
from statusguard.guard._observe import INFO, inside, levels, observe, otel, quiet, watching
from statusguard.guard._plan import Plan, check_move, known_status, plan_event
from statusguard.guard._store import (
    Applied,
    Record,
    Rejected,
    Store,
    aliased_key,
    check_store,
    check_version,
    swaps,
    takes_keyword,
)
from statusguard.lifecycle._model import E, Lifecycle, S
from statusguard.lifecycle._parts import FlagKind

__all__ = ["Committed", "FireOptions", "Guard", "HookedGuard"]


class Committed(NamedTuple):
    """A transition the store committed: ``key`` moved ``source -> target`` (immutable).

    ``event`` is ``None`` for a target-based :meth:`Guard.move`. ``version`` is the
    key's version after the write; ``token`` the per-attempt token, if any.
    ``noop`` is true for an event accepted *without a change* (a :class:`NoOp` of the
    lifecycle, such as Glance's deactivate of a deactivated image): nothing was written,
    ``source == target``, ``version`` is the stored one (not bumped) and ``token`` is None.
    """

    key: Hashable
    source: str
    event: str | None
    target: str
    version: int
    token: str | None = None
    noop: bool = False


def _no_swap(key: Hashable, old: Record, new: Record, event: str | None) -> bool:
    return False


# Tokens: a random per-process prefix (80 bits, drawn again in a forked child) above a
# 48-bit counter, in hex: unique across processes and hosts, with no system call per
# token. ``next(_tokens)`` is one call through C iterators only, atomic under the GIL.
_tokens: Iterator[str] = iter(())


def _reseed() -> None:
    global _tokens  # noqa: PLW0603 - per-process state, drawn again after fork
    prefix = int.from_bytes(os.urandom(10), "big") | 1 << 79  # the top bit: a fixed length
    _tokens = map(hex, itertools.count(prefix << 48))


_reseed()
os.register_at_fork(after_in_child=_reseed)


def new_token() -> str:
    """A fresh per-attempt token: ``0x``, this process's prefix, a counter (32 hex digits)."""
    return next(_tokens)


# The hot path builds its named tuples with tuple.__new__: NamedTuple's own __new__ is a
# Python function, which doubles the cost of building one.
_tuple_new = tuple.__new__
_NO_LOCK = writers_lock()  # the lock of a guard whose store offers no swap_inline (never taken)


_CANNOT = {
    "values": "write other columns with the status",
    "actor": "record who made a transition",
    "reason": "record why a transition was made",
}


def _with_keywords(
    store: Store, name: str, keywords: Mapping[str, Any]
) -> Callable[..., Applied | Rejected]:
    """``store``'s ``name`` write, if it takes every one of ``keywords``; else a ``TypeError``
    saying which it lacks."""
    method: Callable[..., Applied | Rejected] = getattr(store, name)
    for keyword in keywords:
        if not takes_keyword(method, keyword):
            raise TypeError(
                f"{type(store).__name__}.{name}() takes no {keyword}=, so it cannot "
                f"{_CANNOT[keyword]}; use MemoryStore or SQLStore, or add the keyword "
                "(see the Store protocol)"
            )
    return method


def _keywords(
    values: Mapping[str, Any] | None, actor: str | None, reason: str | None
) -> dict[str, Any]:
    """The optional keywords of a store write that the caller gave."""
    given = {"values": values, "actor": actor, "reason": reason}
    return {k: v for k, v in given.items() if v is not None}


def fired(
    guard: Any,
    key: Hashable,
    plan: Plan,
    facts: Mapping[str, bool] | None,
    token: str | None,
    outcome: Applied | Rejected,
) -> Committed:
    """What a store's ``apply`` of ``plan`` means for ``fire`` (``guard``: its lifecycle and
    config): the :class:`Committed`, a no-op's, or the refusal raised. Shared with the
    async guard."""
    if isinstance(outcome, Applied):
        source, target, version = outcome
        return Committed(key, source, plan.event, target, version, token)
    stored = outcome.current
    if stored.status in plan.noops:  # accepted, no change: values are not written either
        return Committed(key, stored.status, plan.event, stored.status, stored.version, None, True)
    raise plan.refusal(guard.lifecycle, guard.config, key, facts, stored.status)


def check_move_input(
    lc: Lifecycle[Any, Any],
    target: Any,
    expected_version: object,
    facts: Mapping[str, bool] | None,
) -> None:
    """``move``'s checks before the store is touched: the version, the target, the facts."""
    check_version(expected_version)
    lc.state(target)
    if facts:
        lc.check_flags(facts, kind=FlagKind.FACT)


def moved(
    lc: Lifecycle[Any, Any],
    key: Hashable,
    expected: object,
    expected_version: int | None,
    token: str | None,
    outcome: Applied | Rejected,
) -> Committed:
    """What a store's ``compare_and_set`` means for ``move``: the :class:`Committed`, or the
    :class:`TransitionConflict` raised (naming what the store held). Shared with the async
    guard."""
    if isinstance(outcome, Applied):
        return Committed(key, outcome.source, None, outcome.target, outcome.version, token)
    current = outcome.current
    known_status(lc, key, current.status)
    raise TransitionConflict(
        key,
        str(expected),
        current.status,
        expected_version=expected_version,
        actual_version=current.version if expected_version is not None else None,
    )


class FireOptions(TypedDict, total=False):
    """The keywords :meth:`Guard.fire` takes besides its arguments (each ``None``: not given)."""

    values: Mapping[str, Any] | None
    actor: str | None
    reason: str | None


def _options(options: Mapping[str, Any]) -> dict[str, Any]:
    """``fire``'s keywords that were given (not ``None``); the ``TypeError`` Python raises for
    any other keyword."""
    for name in options:
        if name not in _CANNOT:
            raise TypeError(f"Guard.fire() got an unexpected keyword argument {name!r}")
    return {k: v for k, v in options.items() if v is not None}


_levels_get = levels.get  # the hot path's half of quiet(): the logger's cached answer


class Guard(Generic[S, E]):
    """Apply a lifecycle's transitions to a store, atomically.

    ``store`` implements the :class:`Store` protocol (``TypeError`` naming what it
    lacks otherwise). ``config`` fixes every config flag of the lifecycle for this
    deployment.
    With ``tokens=True`` every write carries a fresh per-attempt token, so an
    ambiguous outcome (connection lost after COMMIT) can be settled by re-reading.
    """

    __slots__ = (
        "_bare",
        "_lock",
        "_peek",
        "_plans",
        "_rows",
        "_swap",
        "config",
        "lifecycle",
        "store",
        "tokens",
    )

    def __new__(cls, *args: Any, hooks: Iterable[Hook] = (), **kwargs: Any) -> Any:
        # a guard with hooks is a HookedGuard: the plain guard's fire/move stay hook-free
        return object.__new__(HookedGuard if hooks and cls is Guard else cls)

    def __init__(
        self,
        lifecycle: Lifecycle[S, E],
        store: Store,
        config: Mapping[str, bool] | None = None,
        *,
        tokens: bool = False,
        hooks: Iterable[Hook] = (),
    ) -> None:
        if hooks and not isinstance(self, HookedGuard):
            raise TypeError(
                f"{type(self).__name__} takes no hooks=; subclass HookedGuard to have them"
            )
        config = lifecycle.check_config(config)
        check_store(store)
        self.lifecycle = lifecycle
        self.store = store
        self.config: Mapping[str, bool] = config
        self.tokens = tokens
        self._bare: dict[str, Plan] = {}  # plans of events fired without facts
        self._plans: dict[tuple[str, frozenset[tuple[str, bool]]], Plan] = {}
        self._attach(store)

    def _attach(self, store: Store) -> None:
        """Take the SwapStore fast path if ``store`` offers it (``_peek`` is None when not)."""
        self._peek: Callable[[Hashable], Record | None] | None = None
        self._swap: Callable[[Hashable, Record, Record, str | None], bool] = _no_swap
        self._rows: dict[Hashable, tuple[str, int, str | None]] | None = None
        self._lock: SimpleQueue[None] = _NO_LOCK
        if swaps(store):
            self._peek, self._swap = store.peek, store.swap
            # MemoryStore's records and lock, when its own peek and swap are the ones
            # in use (a wrapper or subclass that replaces either keeps its own)
            inline = getattr(store, "swap_inline", None)
            if inline is not None and inline[2] is self._swap and inline[3] == self._peek:
                self._rows, self._lock = inline[0], inline[1]

    def _plan(self, event: str, facts: Mapping[str, bool] | None) -> Plan:
        """The cached plan of ``event`` with ``facts``, made (and checked) on first use."""
        if not facts:
            try:
                return self._bare[event]
            except (KeyError, TypeError):
                plan = self._bare[event] = plan_event(self.lifecycle, self.config, event, None)
                return plan
        try:
            plan = self._plans[(event, frozenset(facts.items()))]
        except (KeyError, TypeError, AttributeError):  # a miss, or facts to check
            pass
        else:
            # 1 == True and hash(1) == hash(True): the cache key alone would accept 1, 0
            # or 1.0 where a bool was checked once
            values: Iterable[object] = facts.values()
            for value in values:
                if value.__class__ is not bool:
                    break
            else:
                return plan
        plan = plan_event(self.lifecycle, self.config, event, facts)  # checks the facts
        return self._plans.setdefault((event, frozenset(facts.items())), plan)

    def _token(self) -> str | None:
        return new_token() if self.tokens else None

    def create(self, key: Hashable) -> S:
        """Insert ``key`` in the initial state; :class:`DuplicateKey` if it exists."""
        self.store.create(key, str(self.lifecycle.initial), self._token())
        return self.lifecycle.initial

    def status(self, key: Hashable) -> S:
        """The stored status of ``key``; :class:`UnknownStatus` if the lifecycle lacks it."""
        return self.lifecycle.state(known_status(self.lifecycle, key, self.store.get(key).status))

    def version(self, key: Hashable) -> int:
        """How many transitions ``key`` has committed."""
        return self.store.get(key).version

    def bind(self, target: Any) -> Guard[S, E]:
        """This guard, writing inside the caller's transaction on ``target``.

        ``target`` is what the store's ``bind`` takes (:meth:`SQLStore.bind`: a
        SQLAlchemy ``Connection`` or ORM ``Session``). The bound guard shares this
        one's lifecycle, config and plans, and never commits nor rolls back.
        ``TypeError`` if the store cannot join a caller's transaction.
        """
        bind = getattr(self.store, "bind", None)
        if not callable(bind):
            raise TypeError(
                f"{type(self.store).__name__} cannot join a caller's transaction (it has "
                "no bind()); use a SQLStore, or call the guard without bind()"
            )
        bound: Guard[S, E] = object.__new__(type(self))
        bound.lifecycle, bound.config, bound.tokens = self.lifecycle, self.config, self.tokens
        bound._bare, bound._plans = self._bare, self._plans
        bound.store = store = bind(target)
        check_store(store)
        bound._attach(store)
        return bound

    def fire(
        self,
        key: Hashable,
        event: E | str,
        facts: Mapping[str, bool] | None = None,
        **options: Unpack[FireOptions],
    ) -> Committed:
        """Apply ``event`` to whatever status ``key`` holds now, in one atomic step.

        Raises :class:`IllegalTransition` (naming the stored state and the allowed
        events) when the event is not enabled there; nothing is written then. An event
        the lifecycle accepts without a change there (a :class:`NoOp`) writes nothing
        either (``values`` included) and returns a :class:`Committed` with ``noop=True``
        and the stored version.

        Keywords (:class:`FireOptions`; any other is a ``TypeError``):
        ``values`` sets other columns of the row in the same step (all or nothing):
        :class:`UnknownColumn` / :class:`ReservedColumn` for a name the store cannot
        write, before anything is written. ``actor`` (who, at most 255 characters) and
        ``reason`` (why) are recorded with the transition in the store's audit history.
        (They are taken as ``**options`` rather than keyword-only parameters: CPython 3.11
        calls a function with keyword-only parameters by its generic path, about 30 ns
        more per call, with or without them.)
        """
        # quiet() inlined (the logger's cached "not enabled for INFO", no tracer provider);
        # when it cannot say no, watching() decides (guard._observe)
        if (
            (_levels_get(INFO) is not False or otel._TRACER_PROVIDER is not None)
            and watching()
            and not inside.on
        ):
            return observe(self, Guard.fire, key, (event, facts), options)
        if facts:
            plan = self._plan(event, facts)
        else:
            try:
                plan = self._bare[event]
            except (KeyError, TypeError):
                plan = self._plan(event, None)
        if options:
            keywords = _options(options)
            if keywords:
                return self._fire_with(key, plan, facts, keywords)
        # With a SwapStore, decide here and commit by compare-and-swap. The record read is
        # the stored one at that instant: if the event is not enabled in its status,
        # rejecting is linearizable at the read and nothing is written. Otherwise the
        # swap commits only if nothing was written since; if something was, apply().
        rows = self._rows
        if key.__class__ is not str and key.__class__ is not int and aliased_key(key):
            pass  # True or 1.0 would find key 1's record in a dict: the store refuses it
        elif rows is not None:  # MemoryStore's own records and lock (swap_inline)
            try:
                current = rows[key]
            except KeyError:  # the store says so (UnknownKey) below
                current = None
            if current is not None:
                source = current[0]
                target = plan.moves.get(source)
                if target is not None:
                    version = current[1] + 1
                    token = next(_tokens) if self.tokens else None
                    new = (target, version, token)  # a plain tuple: MemoryStore's rows take one
                    lock = self._lock
                    lock.get()  # takes the store's writers_lock
                    try:
                        won = rows[key] is current  # a MemoryStore never drops a key
                        if won:
                            rows[key] = new
                    finally:
                        lock.put_nowait(None)
                    if won:
                        return _tuple_new(
                            Committed, (key, source, plan.event, target, version, token, False)
                        )
                elif source in plan.noops:  # accepted, no change: linearizable at the read
                    return _tuple_new(
                        Committed, (key, source, plan.event, source, current[1], None, True)
                    )
                else:
                    allowed = plan.allowed.get(source)
                    if allowed is not None:
                        raise _illegal_event(source, plan.event, allowed, None, key, plan.lifecycle)
        elif self._peek is not None:
            done = self._fire_by_swap(key, plan)
            if done is not None:
                return done
        return self._fire_by_apply(key, plan, facts)

    def _fire_by_apply(
        self, key: Hashable, plan: Plan, facts: Mapping[str, bool] | None
    ) -> Committed:
        """``fire`` through the store's ``apply`` (any store; a swap that lost, or a key the
        inline path did not find, ends here too)."""
        token = next(_tokens) if self.tokens else None
        outcome = self.store.apply(key, plan.moves, token, plan.event)
        if outcome.__class__ is Applied or isinstance(outcome, Applied):
            source, target, version = outcome
            return _tuple_new(Committed, (key, source, plan.event, target, version, token, False))
        assert isinstance(outcome, Rejected)
        stored = outcome.current
        if stored.status in plan.noops:  # the store wrote nothing; what it held is a no-op
            return Committed(
                key, stored.status, plan.event, stored.status, stored.version, None, True
            )
        raise plan.refusal(self.lifecycle, self.config, key, facts, outcome.current.status)

    def _fire_by_swap(self, key: Hashable, plan: Plan) -> Committed | None:
        """``fire`` through a :class:`SwapStore`'s ``peek`` and ``swap``; None: apply instead."""
        current = self._peek(key)  # type: ignore[misc]
        if current is None:
            return None
        source = current[0]
        target = plan.moves.get(source)
        if target is None:
            if source in plan.noops:  # accepted, no change: linearizable at the peek
                return _tuple_new(
                    Committed, (key, source, plan.event, source, current[1], None, True)
                )
            allowed = plan.allowed.get(source)
            if allowed is not None:
                raise _illegal_event(source, plan.event, allowed, None, key, plan.lifecycle)
            return None
        version = current[1] + 1
        token = next(_tokens) if self.tokens else None
        new = _tuple_new(Record, (target, version, token))
        if not self._swap(key, current, new, plan.event):
            return None
        return _tuple_new(Committed, (key, source, plan.event, target, version, token, False))

    def _fire_with(
        self,
        key: Hashable,
        plan: Plan,
        facts: Mapping[str, bool] | None,
        keywords: Mapping[str, Any],
    ) -> Committed:
        """``fire`` with ``values``/``actor``/``reason``: always through the store's ``apply``."""
        apply = _with_keywords(self.store, "apply", keywords)
        token = self._token()
        outcome = apply(key, plan.moves, token, plan.event, **keywords)
        return fired(self, key, plan, facts, token, outcome)

    def move(
        self,
        key: Hashable,
        target: S | str,
        expected: S | str | None = None,
        *,
        expected_version: int | None = None,
        facts: Mapping[str, bool] | None = None,
        values: Mapping[str, Any] | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> Committed:
        """Set ``target`` directly, compare-and-set style (Glance's ``from_state``).

        The edge ``expected -> target`` must be in the lifecycle. The write happens
        only if the stored status still equals ``expected`` (and the version
        ``expected_version``, when given); if ``expected`` is omitted, the status is
        read first and that read is what the write compares against.
        Raises :class:`TransitionConflict` when another writer got there first.
        ``values``, ``actor`` and ``reason`` as for :meth:`fire`.
        """
        if not quiet() and watching() and not inside.on:  # someone listens (guard._observe)
            kw = {"expected_version": expected_version, "facts": facts, "values": values}
            return observe(
                self, Guard.move, key, (target, expected), dict(kw, actor=actor, reason=reason)
            )
        lc = self.lifecycle
        check_move_input(lc, target, expected_version, facts)
        if expected is None:
            record = self.store.get(key)
            expected = known_status(lc, key, record.status)
            if expected_version is None and self.store.versioned:
                expected_version = record.version
        else:
            lc.state(expected)
        check_move(lc, self.config, facts, key, expected, target)
        token = self._token()
        if values is None and actor is None and reason is None:
            outcome = self.store.compare_and_set(
                key, str(expected), str(target), expected_version, token
            )
        else:
            keywords = _keywords(values, actor, reason)
            outcome = _with_keywords(self.store, "compare_and_set", keywords)(
                key, str(expected), str(target), expected_version, token, **keywords
            )
        return moved(lc, key, expected, expected_version, token, outcome)


class HookedGuard(Guard[S, E]):
    """A :class:`Guard` with transition hooks (``Guard(..., hooks=[...])`` makes one).

    ``fire`` and ``move`` run the plain guard's step, then the hooks of
    :mod:`statusguard.guard._hooks`: in-transaction hooks inside a transaction the
    store opens (``store.transaction()``), after-commit hooks once it committed (for a
    bound store, when the caller's transaction commits: ``store.after_commit``).
    """

    __slots__ = ("_after", "_within", "hooks")

    def __init__(
        self,
        lifecycle: Lifecycle[S, E],
        store: Store,
        config: Mapping[str, bool] | None = None,
        *,
        tokens: bool = False,
        hooks: Iterable[Hook] = (),
    ) -> None:
        super().__init__(lifecycle, store, config, tokens=tokens)
        self.hooks: tuple[Hook, ...]
        self.hooks, self._after, self._within = check_hooks(lifecycle, hooks)
        self._check_store(store)

    def _check_store(self, store: Store) -> None:
        check_hook_store(store, self._within, "SQLStore")

    def bind(self, target: Any) -> Guard[S, E]:
        """As :meth:`Guard.bind`; after-commit hooks wait for the caller's commit."""
        bound = Guard.bind(self, target)
        assert isinstance(bound, HookedGuard)
        bound.hooks, bound._after, bound._within = self.hooks, self._after, self._within
        bound._check_store(bound.store)
        return bound

    def _on(self, store: Store) -> Guard[S, E]:
        """A plain guard sharing this one's plans, writing through ``store``."""
        plain: Guard[S, E] = object.__new__(Guard)
        plain.lifecycle, plain.config, plain.tokens = self.lifecycle, self.config, self.tokens
        plain._bare, plain._plans = self._bare, self._plans
        plain.store = store
        plain._attach(store)
        return plain

    def _hooked(self, step: Callable[..., Committed], *args: Any, **options: Any) -> Committed:
        store = self.store
        if self._within:
            with store.transaction() as (inside, connection):  # type: ignore[attr-defined]
                committed = step(self if inside is store else self._on(inside), *args, **options)
                if not committed.noop:
                    run_within(self._within, connection, committed)  # raises: rolled back
        else:
            committed = step(self, *args, **options)
        if self._after and not committed.noop:
            if getattr(store, "bound", False):
                store.after_commit(  # type: ignore[attr-defined]
                    lambda: run_after(self._after, committed)
                )
            else:
                run_after(self._after, committed)
        return committed

    def fire(
        self,
        key: Hashable,
        event: E | str,
        facts: Mapping[str, bool] | None = None,
        **options: Any,
    ) -> Committed:
        """:meth:`Guard.fire`, then the hooks matching the committed transition."""
        return self._hooked(Guard.fire, key, event, facts, **options)

    def move(
        self,
        key: Hashable,
        target: S | str,
        expected: S | str | None = None,
        **options: Any,
    ) -> Committed:
        """:meth:`Guard.move`, then the hooks matching the committed transition."""
        return self._hooked(Guard.move, key, target, expected, **options)
