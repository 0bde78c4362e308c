"""``AsyncGuard``: the runtime guard for asyncio code, over an :class:`AsyncStore`.

The same steps as :class:`Guard`, awaited: the plans (:mod:`._plan`, cached as the
sync guard caches them, by :meth:`Guard._plan` itself), the reading of a store's
outcome (:func:`._guard.fired`, :func:`._guard.moved`), the tokens, the hooks
(:mod:`._hooks`, whose ``_async`` runners await a coroutine hook) and the logger and
spans (:func:`._observe.observe_async`). Nothing is decided here that the sync guard
decides differently: the errors, their messages and the :class:`Committed` results
are the same.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from typing import Any, Generic

from statusguard.guard._async_store import AsyncStore, check_async_store
from statusguard.guard._guard import (
    Committed,
    Guard,
    _keywords,
    _with_keywords,
    check_move_input,
    fired,
    moved,
    new_token,
)
from statusguard.guard._hooks import (
    Hook,
    check_hook_store,
    check_hooks,
    run_after_async,
    run_within_async,
)
from statusguard.guard._observe import observe_async, watching
from statusguard.guard._plan import Plan, check_move, known_status
from statusguard.lifecycle._model import E, Lifecycle, S

__all__ = ["AsyncGuard"]

Step = Callable[["AsyncGuard[Any, Any]"], Awaitable[Committed]]


class AsyncGuard(Generic[S, E]):
    """Apply a lifecycle's transitions to an :class:`AsyncStore`, atomically; every call
    is a coroutine.

    Arguments, results and errors as for :class:`Guard`: ``store`` an
    :class:`AsyncStore` (:class:`AsyncMemoryStore`, :class:`statusguard.sql.AsyncSQLStore`;
    ``TypeError`` naming what it lacks, or that it is a synchronous store), ``config``
    fixing the lifecycle's config flags, ``tokens=True`` for a fresh per-attempt token
    on every write, ``hooks`` made by :func:`after_commit` / :func:`in_transaction`
    (their ``fn`` may be a coroutine function; in-transaction hooks receive the
    ``AsyncConnection``).
    """

    __slots__ = (
        "_after",
        "_bare",
        "_plans",
        "_within",
        "config",
        "hooks",
        "lifecycle",
        "store",
        "tokens",
    )

    def __init__(
        self,
        lifecycle: Lifecycle[S, E],
        store: AsyncStore,
        config: Mapping[str, bool] | None = None,
        *,
        tokens: bool = False,
        hooks: Iterable[Hook] = (),
    ) -> None:
        config = lifecycle.check_config(config)
        check_async_store(store)
        self.lifecycle = lifecycle
        self.store = store
        self.config: Mapping[str, bool] = config
        self.tokens = tokens
        self._bare: dict[str, Plan] = {}
        self._plans: dict[tuple[str, frozenset[tuple[str, bool]]], Plan] = {}
        self.hooks: tuple[Hook, ...]
        self.hooks, self._after, self._within = check_hooks(lifecycle, hooks)
        self._check_store(store)

    def _check_store(self, store: AsyncStore) -> None:
        check_hook_store(store, self._within, "AsyncSQLStore")

    def _plan(self, event: str, facts: Mapping[str, bool] | None) -> Plan:
        """The cached plan: :meth:`Guard._plan`, on this guard's caches."""
        return Guard._plan(self, event, facts)  # type: ignore[arg-type]

    def _token(self) -> str | None:
        return new_token() if self.tokens else None

    async def create(self, key: Hashable) -> S:
        """Insert ``key`` in the initial state; :class:`DuplicateKey` if it exists."""
        await self.store.create(key, str(self.lifecycle.initial), self._token())
        return self.lifecycle.initial

    async def status(self, key: Hashable) -> S:
        """The stored status of ``key``; :class:`UnknownStatus` if the lifecycle lacks it."""
        record = await self.store.get(key)
        return self.lifecycle.state(known_status(self.lifecycle, key, record.status))

    async def version(self, key: Hashable) -> int:
        """How many transitions ``key`` has committed."""
        return (await self.store.get(key)).version

    def bind(self, target: Any) -> AsyncGuard[S, E]:
        """This guard, writing inside the caller's transaction on ``target``.

        ``target`` is what the store's ``bind`` takes (:meth:`AsyncSQLStore.bind`: an
        ``AsyncConnection`` or ``AsyncSession``); as :meth:`Guard.bind`.
        """
        bind = getattr(self.store, "bind", None)
        if not callable(bind):
            raise TypeError(
                f"{type(self.store).__name__} cannot join a caller's transaction (it has "
                "no bind()); use an AsyncSQLStore, or call the guard without bind()"
            )
        store = bind(target)
        check_async_store(store)
        return self._on(store)

    def _on(self, store: AsyncStore) -> AsyncGuard[S, E]:
        """A guard sharing this one's lifecycle, plans and hooks, writing through ``store``."""
        other: AsyncGuard[S, E] = object.__new__(type(self))
        other.lifecycle, other.config, other.tokens = self.lifecycle, self.config, self.tokens
        other._bare, other._plans = self._bare, self._plans
        other.hooks, other._after, other._within = self.hooks, self._after, self._within
        other.store = store
        other._check_store(store)
        return other

    async def fire(
        self,
        key: Hashable,
        event: E | str,
        facts: Mapping[str, bool] | None = None,
        *,
        values: Mapping[str, Any] | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> Committed:
        """Apply ``event`` to whatever status ``key`` holds now, in one atomic step.

        As :meth:`Guard.fire`: :class:`IllegalTransition` when the event is not enabled
        there (nothing written), a :class:`Committed` with ``noop=True`` for an event
        accepted without a change, ``values``/``actor``/``reason`` as there.
        """
        options = {"values": values, "actor": actor, "reason": reason}

        def step(guard: AsyncGuard[Any, Any]) -> Awaitable[Committed]:
            body = guard._fire(key, event, facts, values, actor, reason)
            if watching():
                return observe_async(guard, "fire", lambda: body, key, (event, facts), options)
            return body

        return await self._hooked(step)

    async def _fire(
        self,
        key: Hashable,
        event: E | str,
        facts: Mapping[str, bool] | None,
        values: Mapping[str, Any] | None,
        actor: str | None,
        reason: str | None,
    ) -> Committed:
        plan = self._plan(event, facts)
        token = self._token()
        if values is None and actor is None and reason is None:
            outcome = await self.store.apply(key, plan.moves, token, plan.event)
        else:
            keywords = _keywords(values, actor, reason)
            apply: Any = _with_keywords(self.store, "apply", keywords)  # type: ignore[arg-type]
            outcome = await apply(key, plan.moves, token, plan.event, **keywords)
        return fired(self, key, plan, facts, token, outcome)

    async def move(
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
        """Set ``target`` directly, compare-and-set style: as :meth:`Guard.move`
        (:class:`TransitionConflict` when another writer got there first)."""
        options: dict[str, Any] = {
            "expected_version": expected_version,
            "facts": facts,
            "values": values,
            "actor": actor,
            "reason": reason,
        }

        def step(guard: AsyncGuard[Any, Any]) -> Awaitable[Committed]:
            body = guard._move(key, target, expected, **options)
            if watching():
                return observe_async(guard, "move", lambda: body, key, (target, expected), options)
            return body

        return await self._hooked(step)

    async def _move(
        self,
        key: Hashable,
        target: S | str,
        expected: S | str | None,
        *,
        expected_version: int | None,
        facts: Mapping[str, bool] | None,
        values: Mapping[str, Any] | None,
        actor: str | None,
        reason: str | None,
    ) -> Committed:
        lc, store = self.lifecycle, self.store
        check_move_input(lc, target, expected_version, facts)
        if expected is None:
            record = await store.get(key)
            expected = known_status(lc, key, record.status)
            if expected_version is None and store.versioned:
                expected_version = record.version
        else:
            lc.state(expected)
        check_move(lc, self.config, facts, key, expected, target)
        token = self._token()
        if values is None and actor is None and reason is None:
            outcome = await store.compare_and_set(
                key, str(expected), str(target), expected_version, token
            )
        else:
            keywords = _keywords(values, actor, reason)
            cas: Any = _with_keywords(store, "compare_and_set", keywords)  # type: ignore[arg-type]
            outcome = await cas(
                key, str(expected), str(target), expected_version, token, **keywords
            )
        return moved(lc, key, expected, expected_version, token, outcome)

    async def _hooked(self, step: Step) -> Committed:
        """Run ``step`` with the hooks: in-transaction ones inside the store's transaction,
        after-commit ones once it committed (for a bound store: the caller's commit)."""
        if not self._within and not self._after:
            return await step(self)
        store: Any = self.store
        if self._within:
            async with store.transaction() as (inside, connection):
                committed = await step(self if inside is store else self._on(inside))
                if not committed.noop:
                    await run_within_async(self._within, connection, committed)  # raises: undone
        else:
            committed = await step(self)
        if self._after and not committed.noop:
            after = self._after
            if getattr(store, "bound", False):
                await store.after_commit(lambda: run_after_async(after, committed))
            else:
                await run_after_async(after, committed)
        return committed
