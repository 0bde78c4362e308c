"""Transition hooks: code the guard runs for a committed transition, declared once.

Two kinds, both records made by :func:`after_commit` / :func:`in_transaction` and
passed to ``Guard(..., hooks=[...])``:

* an **after-commit** hook ``fn(committed)`` runs once the transition is committed:
  at once for a store that commits each write itself, and, for a guard bound to a
  caller's transaction (``guard.bind(...)``), only when that transaction commits
  (never if it rolls back). Never for a refused transition, a no-op or a rolled-back
  one; once per transition. Every matching hook runs even if an earlier one raised;
  then :class:`HookFailed` (``rolled_back=False``) reports what each raised.
* an **in-transaction** hook ``fn(connection, committed)`` runs inside the
  transaction of the status change, before it commits (the transactional outbox):
  what it writes commits or rolls back with the status. If it raises, the transition
  is rolled back and :class:`HookFailed` (``rolled_back=True``) says so. Needs a store
  with ``transaction()`` (:class:`SQLStore`).

Pure: no I/O here; the guard calls :func:`run_after` and :func:`run_within` (``AsyncGuard``
the ``_async`` twins, which await a hook that is a coroutine function).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from statusguard.errors import HookFailed

__all__ = [
    "Hook",
    "HookKind",
    "after_commit",
    "check_hook_store",
    "check_hooks",
    "in_transaction",
    "run_after",
    "run_after_async",
    "run_within",
    "run_within_async",
]


class HookKind(Enum):
    """When a hook runs: after the commit, or inside the transaction."""

    AFTER_COMMIT = "after_commit"
    IN_TRANSACTION = "in_transaction"


Names = frozenset[str] | None


@dataclass(frozen=True, slots=True)
class Hook:
    """One declared hook: ``fn``, its kind, and its filters (``None``: any).

    ``event`` never matches a :meth:`Guard.move` (its event is ``None``) unless it is
    ``None`` itself.
    """

    fn: Callable[..., object]
    kind: HookKind
    event: Names = None
    source: Names = None
    target: Names = None

    def matches(self, committed: Any) -> bool:
        """Whether this hook runs for ``committed`` (a :class:`Committed`)."""
        return (
            (self.event is None or committed.event in self.event)
            and (self.source is None or committed.source in self.source)
            and (self.target is None or committed.target in self.target)
        )


Filter = object | Iterable[object] | None


def _names(value: Filter) -> Names:
    if value is None:
        return None
    if isinstance(value, str | Enum) or not isinstance(value, Iterable):
        value = (value,)
    return frozenset(v.value if isinstance(v, Enum) else str(v) for v in value)


def _hook(
    fn: Callable[..., object], kind: HookKind, event: Filter, source: Filter, target: Filter
) -> Hook:
    if not callable(fn):
        raise TypeError(f"a hook takes a callable, not {type(fn).__name__}")
    return Hook(fn, kind, _names(event), _names(source), _names(target))


def after_commit(
    fn: Callable[[Any], object],
    *,
    event: Filter = None,
    source: Filter = None,
    target: Filter = None,
) -> Hook:
    """A hook ``fn(committed)`` run once the transition is committed.

    ``event``, ``source`` and ``target`` each take a name or several (any, if omitted).
    """
    return _hook(fn, HookKind.AFTER_COMMIT, event, source, target)


def in_transaction(
    fn: Callable[[Any, Any], object],
    *,
    event: Filter = None,
    source: Filter = None,
    target: Filter = None,
) -> Hook:
    """A hook ``fn(connection, committed)`` run inside the transition's transaction.

    ``connection`` is the SQLAlchemy ``Connection`` the status change was written on:
    write the outbox row there. Filters as for :func:`after_commit`.
    """
    return _hook(fn, HookKind.IN_TRANSACTION, event, source, target)


def check_hooks(
    lifecycle: Any, hooks: Iterable[Hook]
) -> tuple[tuple[Hook, ...], tuple[Hook, ...], tuple[Hook, ...]]:
    """``hooks`` checked against ``lifecycle`` (``TypeError`` for what is not a hook,
    ``UnknownEvent``/``UnknownState`` for a filter naming what the lifecycle lacks): all of
    them, the after-commit ones and the in-transaction ones."""
    declared = tuple(hooks)
    for hook in declared:
        if not isinstance(hook, Hook):
            raise TypeError(
                f"hooks= takes hooks made by after_commit() or in_transaction(), "
                f"not {type(hook).__name__}"
            )
        for name in hook.event or ():
            lifecycle.event(name)  # UnknownEvent, with the closest name
        for name in (hook.source or frozenset()) | (hook.target or frozenset()):
            lifecycle.state(name)  # UnknownState, with the closest name
    after = tuple(h for h in declared if h.kind is HookKind.AFTER_COMMIT)
    within = tuple(h for h in declared if h.kind is HookKind.IN_TRANSACTION)
    return declared, after, within


def check_hook_store(store: object, within: Sequence[Hook], sql_store: str) -> None:
    """``TypeError`` unless ``store`` can run the hooks: a ``transaction()`` for
    in-transaction hooks, an ``after_commit()`` when bound to a caller's transaction.
    ``sql_store`` names the store that can (``SQLStore``, ``AsyncSQLStore``)."""
    if within and not callable(getattr(store, "transaction", None)):
        raise TypeError(
            f"{type(store).__name__} has no transaction(), so in-transaction hooks "
            f"cannot write with the status change; use a {sql_store}, or after_commit hooks"
        )
    if getattr(store, "bound", False) and not callable(getattr(store, "after_commit", None)):
        raise TypeError(
            f"{type(store).__name__} is bound to a caller's transaction but has no "
            "after_commit(), so hooks cannot wait for that transaction's commit"
        )


def run_after(hooks: Sequence[Hook], committed: Any) -> None:
    """Call every after-commit hook matching ``committed``, then raise :class:`HookFailed`
    if any of them raised (every one runs: one failing never skips the others)."""
    errors: list[Exception] = []
    for hook in hooks:
        if hook.matches(committed):
            try:
                hook.fn(committed)
            except Exception as exc:  # reported below, after every hook ran
                errors.append(exc)
    if errors:
        raise HookFailed(committed, errors, rolled_back=False) from errors[0]


async def run_after_async(hooks: Sequence[Hook], committed: Any) -> None:
    """:func:`run_after` for ``AsyncGuard``: a hook may be a coroutine function (awaited)."""
    errors: list[Exception] = []
    for hook in hooks:
        if hook.matches(committed):
            try:
                result = hook.fn(committed)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:  # reported below, after every hook ran
                errors.append(exc)
    if errors:
        raise HookFailed(committed, errors, rolled_back=False) from errors[0]


async def run_within_async(hooks: Sequence[Hook], connection: Any, committed: Any) -> None:
    """:func:`run_within` for ``AsyncGuard``: ``connection`` is the transaction's
    ``AsyncConnection``; a hook may be a coroutine function (awaited)."""
    for hook in hooks:
        if hook.matches(committed):
            try:
                result = hook.fn(connection, committed)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                raise HookFailed(committed, [exc], rolled_back=True) from exc


def run_within(hooks: Sequence[Hook], connection: Any, committed: Any) -> None:
    """Call the in-transaction hooks matching ``committed``; the first that raises stops
    them, as :class:`HookFailed` (the caller rolls the transaction back)."""
    for hook in hooks:
        if hook.matches(committed):
            try:
                hook.fn(connection, committed)
            except Exception as exc:
                raise HookFailed(committed, [exc], rolled_back=True) from exc
