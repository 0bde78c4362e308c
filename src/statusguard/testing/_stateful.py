"""A hypothesis state machine whose rules are the steps of concurrent workers.

Each simulated worker carries one request (a key and an event). A request runs as
the worker's real steps: ``read`` (the decision is taken from what was read, and
since deciding touches only the worker's own memory it commutes with every other
step, so it shares the read's slot) and ``write``; or a single atomic ``fire``.
The rules choose which worker takes its next step, so the *schedule* is what
hypothesis draws and shrinks. After every step the machine checks that

* each key's committed history is a legal path of the lifecycle (every step is a
  transition under the config; every source is the previous target);
* the stored status equals the last committed target (nothing lost or invented);
* no committed write was decided from a state that was no longer current.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, NoReturn

from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from statusguard.errors import IllegalTransition, MissingFlag
from statusguard.lifecycle._model import Lifecycle
from statusguard.testing._adapters import Adapter, Snapshot
from statusguard.testing._strategies import fact_value

__all__ = [
    "LifecycleMachine",
    "RandomLifecycleMachine",
    "Request",
    "ScheduleStep",
    "lifecycle_machine",
]

Action = Literal["create", "read", "write", "fire"]


@dataclass(frozen=True, slots=True)
class Request:
    """A fixed request for one worker: ``event`` with ``facts``, by ``style``.

    ``style`` is ``"fire"`` (one atomic step) or ``"move"`` (read, decide, write).
    ``None`` leaves the choice to hypothesis.
    """

    event: str
    facts: Mapping[str, bool] = field(default_factory=dict)
    style: Literal["fire", "move"] | None = None


@dataclass(frozen=True, slots=True)
class ScheduleStep:
    """One step of the schedule, as the machine logged it.

    ``before``/``after`` are the stored status around the step; ``decided`` the
    target a read decided (``None`` if the event was not enabled); ``committed``
    whether a write or fire changed the store.
    """

    worker: int | None
    action: Action
    key: str
    event: str | None = None
    before: str | None = None
    after: str | None = None
    decided: str | None = None
    committed: bool = False

    def __str__(self) -> str:
        who = "setup" if self.worker is None else f"w{self.worker}"
        if self.action == "create":
            return f"{who} create {self.key}: {self.after}"
        if self.action == "read":
            choice = "not enabled" if self.decided is None else f"decides {self.decided}"
            return f"{who} read {self.key} {self.event}: sees {self.before}, {choice}"
        verb = "committed" if self.committed else "refused"
        return (
            f"{who} {self.action} {self.key} {self.event}: {self.before} -> {self.after} ({verb})"
        )


@dataclass(frozen=True, slots=True)
class _Commit:
    worker: int
    event: str
    facts: tuple[tuple[str, bool], ...]
    source: str
    target: str
    stored_after: str
    read_status: str | None  # for writes: the status the decision was taken from
    read_epoch: int | None  # for writes: how many commits the key had when read
    epoch: int  # how many commits the key had just before this one


@dataclass(slots=True)
class _Worker:
    index: int
    key: str | None = None
    event: str = ""
    facts: dict[str, bool] = field(default_factory=dict)
    seen: Snapshot | None = None
    decided: str | None = None
    epoch: int = 0


def _fail(message: str) -> NoReturn:
    # Every invariant fails from this one line, so hypothesis sees one bug, not one
    # per invariant, and shrinks to the smallest schedule that breaks any of them.
    raise AssertionError(message)


class LifecycleMachine(RuleBasedStateMachine):
    """The interleaving state machine; subclass it for your lifecycle and storage.

    Set ``lifecycle`` (and ``config`` if it has config flags) and implement
    :meth:`make_adapter` to return a fresh :class:`Adapter` for each run;
    ``workers`` is how many requests may be in flight at once. ``requests`` pins
    worker ``i`` to ``requests[i]`` (then ``workers`` is its length); by default
    each request's event, facts and style are drawn. At most ``max_keys`` keys are
    created per run (few keys, more collisions). ``fresh`` picks what "the
    decision was current" means: ``"version"`` (no commit since the read) or
    ``"status"`` (the same status, so ABA passes); ``"off"`` checks only legality.
    Use ``Machine.TestCase`` as a test.
    After a run, ``type(machine).last_schedule`` holds its logged steps.
    """

    lifecycle: Lifecycle[Any, Any]
    config: Mapping[str, bool] = {}
    workers: ClassVar[int] = 3
    max_keys: ClassVar[int] = 4
    requests: ClassVar[Sequence[Request] | None] = None
    fresh: ClassVar[Literal["version", "status", "off"]] = "version"
    last_schedule: ClassVar[list[ScheduleStep]] = []

    keys = Bundle("keys")

    def __init__(self) -> None:
        super().__init__()
        self._prefix = uuid.uuid4().hex[:10]
        self._count = 0
        size = len(self.requests) if self.requests is not None else self.workers
        self._workers = [_Worker(i) for i in range(size)]
        self._history: dict[str, list[_Commit]] = {}
        self._adapter: Adapter | None = None
        self.schedule: list[ScheduleStep] = []
        type(self).last_schedule = self.schedule
        if getattr(self, "lifecycle", None) is not None:
            self.start(self.lifecycle, self.config)

    def start(self, lifecycle: Lifecycle[Any, Any], config: Mapping[str, bool]) -> None:
        """Fix the lifecycle and config of this run and make its adapter."""
        self.config = lifecycle.check_config(config)
        self.lifecycle = lifecycle
        self._adapter = self.make_adapter()

    @property
    def adapter(self) -> Adapter:
        """This run's adapter."""
        if self._adapter is None:
            raise RuntimeError("the machine has no lifecycle yet: set `lifecycle` or start()")
        return self._adapter

    def make_adapter(self) -> Adapter:
        """A fresh adapter for one run over ``self.lifecycle`` under ``self.config``."""
        raise NotImplementedError("subclass LifecycleMachine and implement make_adapter()")

    def teardown(self) -> None:
        close = getattr(self._adapter, "close", None)
        if callable(close):
            close()

    # -- helpers -----------------------------------------------------------------

    def _real(self, key: str) -> str:
        return f"{self._prefix}:{key}"

    def _stored(self, key: str) -> str:
        return self.adapter.read(self._real(key)).status

    def _flags(self, facts: Mapping[str, bool]) -> dict[str, bool]:
        return {**self.config, **facts}

    def _decide(self, status: str, event: str, facts: Mapping[str, bool]) -> str | None:
        """The status to write, or ``None``: the event is refused, or a no-op (no write)."""
        flags = self._flags(facts)
        try:
            target = str(self.lifecycle.next(status, event, flags))
        except (IllegalTransition, MissingFlag):
            return None
        if target == status and self.lifecycle.is_noop(status, event, flags):
            return None
        return target

    def _record(
        self,
        w: _Worker,
        key: str,
        action: Action,
        before: str,
        committed: bool,
        target: str | None,
    ) -> None:
        after = self._stored(key)
        history = self._history[key]
        if committed:
            history.append(
                _Commit(
                    w.index,
                    w.event,
                    tuple(sorted(w.facts.items())),
                    before,
                    target if target is not None else after,
                    after,
                    w.seen.status if action == "write" and w.seen else None,
                    w.epoch if action == "write" else None,
                    len(history),
                )
            )
        self.schedule.append(
            ScheduleStep(w.index, action, key, w.event, before, after, target, committed)
        )

    # -- rules -------------------------------------------------------------------

    @precondition(lambda self: self._adapter is not None and self._count < self.max_keys)
    @rule(target=keys)
    def create_key(self) -> str:
        """A new resource in the initial state."""
        key = f"k{self._count}"
        self._count += 1
        snap = self.adapter.create(self._real(key))
        self._history[key] = []
        self.schedule.append(ScheduleStep(None, "create", key, after=snap.status))
        return key

    @rule(key=keys, data=st.data())
    def step(self, key: str, data: st.DataObject) -> None:
        """A worker takes its next step.

        An idle worker takes a request for ``key`` and reads (or fires); a worker
        with a pending decision writes it (``key`` is then unused). Drawing the
        worker by number keeps each schedule step's meaning when the shrinker
        deletes others.
        """
        w = self._workers[data.draw(st.integers(0, len(self._workers) - 1), label="worker")]
        if w.key is None:
            self._begin(w, key, data)
        else:
            self._write(w)

    def _begin(self, w: _Worker, key: str, data: st.DataObject) -> None:
        lc = self.lifecycle
        if self.requests is not None:
            request = self.requests[w.index]
            event, facts, style = request.event, dict(request.facts), request.style
        else:
            # Mostly events enabled in the stored status (the races worth having),
            # sometimes any event (requests that must be refused).
            enabled = lc.allowed_events(self._stored(key), self.config)
            events = st.sampled_from(lc.events)
            if enabled:
                events = st.one_of(st.sampled_from(enabled), events)
            event = str(data.draw(events, label="event"))
            facts = {f: data.draw(fact_value(lc, f), label=f) for f in lc.fact_flags}
            style = None
        if style is None:
            style = (
                data.draw(st.sampled_from(("fire", "move")), label="style")
                if self.adapter.supports_fire
                else "move"
            )
        w.event, w.facts = event, facts
        real = self._real(key)
        if style == "fire":
            before = self._stored(key)
            outcome = self.adapter.fire(real, event, facts)
            self._record(w, key, "fire", before, outcome.committed, outcome.target)
            return
        seen = self.adapter.read(real)
        w.seen, w.epoch = seen, len(self._history[key])
        w.decided = self._decide(seen.status, event, facts)
        self.schedule.append(
            ScheduleStep(w.index, "read", key, event, seen.status, seen.status, w.decided)
        )
        if w.decided is not None:
            w.key = key  # pending: its write is a later step of the schedule

    def _write(self, w: _Worker) -> None:
        key, seen, decided = w.key, w.seen, w.decided
        assert key is not None
        assert seen is not None
        assert decided is not None
        before = self._stored(key)
        outcome = self.adapter.write(self._real(key), seen, decided)
        self._record(w, key, "write", before, outcome.committed, decided)
        w.key, w.seen, w.decided = None, None, None

    # -- invariants --------------------------------------------------------------

    @invariant()
    def history_is_a_legal_path(self) -> None:
        """Every committed step is a transition and starts where the last one ended."""
        lc = self.lifecycle
        for key, history in self._history.items():
            previous = str(lc.initial)
            for c in history:
                if c.source != previous:
                    _fail(
                        f"{key}: a commit by w{c.worker} ({c.event}) moved from {c.source}, "
                        f"but the previous commit left {previous}"
                    )
                expected = self._decide(c.source, c.event, dict(c.facts))
                if expected != c.target:
                    _fail(
                        f"{key}: illegal step {c.source} -> {c.target} by w{c.worker} "
                        f"({c.event}); {lc.name} allows "
                        + (f"{c.source} -> {expected}" if expected else "no such event there")
                    )
                previous = c.target

    @invariant()
    def stored_status_is_last_committed(self) -> None:
        """The store holds what the last commit wrote: nothing lost, nothing invented."""
        for key, history in self._history.items():
            expected = history[-1].target if history else str(self.lifecycle.initial)
            stored = self._stored(key)
            if stored != expected:
                _fail(f"{key}: store holds {stored}, but the last committed target is {expected}")

    @invariant()
    def writes_were_fresh(self) -> None:
        """No write committed a decision taken from a state that was no longer current."""
        if self.fresh == "off":
            return
        for key, history in self._history.items():
            for c in history:
                if c.read_epoch is None:
                    continue
                if self.fresh == "version":
                    stale = c.read_epoch != c.epoch
                else:
                    stale = c.read_status != c.source
                if stale:
                    _fail(
                        f"{key}: w{c.worker} wrote {c.target} decided from {c.read_status} "
                        f"(after {c.read_epoch} commits), but {c.epoch - c.read_epoch} commit(s) "
                        f"had landed since and the status was {c.source}"
                    )


def lifecycle_machine(
    lifecycle: Lifecycle[Any, Any],
    make_adapter: Callable[[Lifecycle[Any, Any], Mapping[str, bool]], Adapter],
    *,
    config: Mapping[str, bool] | None = None,
    workers: int = 3,
    max_keys: int = 4,
    requests: Sequence[Request] | None = None,
    fresh: Literal["version", "status", "off"] = "version",
    name: str | None = None,
) -> type[LifecycleMachine]:
    """A :class:`LifecycleMachine` subclass.

    ``make_adapter(lifecycle, config)`` returns a fresh adapter for each run.
    """
    namespace: dict[str, Any] = {
        "lifecycle": lifecycle,
        "config": dict(config or {}),
        "workers": workers,
        "max_keys": max_keys,
        "requests": None if requests is None else tuple(requests),
        "fresh": fresh,
        "make_adapter": lambda self: make_adapter(self.lifecycle, self.config),
        "last_schedule": [],
    }
    cls_name = name or "Machine_" + "".join(c if c.isalnum() else "_" for c in lifecycle.name)
    return type(cls_name, (LifecycleMachine,), namespace)


class RandomLifecycleMachine(LifecycleMachine):
    """:class:`LifecycleMachine` over a lifecycle and config hypothesis draws.

    The first step draws them from ``lifecycle_strategy`` (default:
    :func:`~statusguard.testing.lifecycles`), so a failure shrinks the lifecycle
    too. Implement :meth:`make_adapter` as for :class:`LifecycleMachine`.
    """

    lifecycle_strategy: ClassVar[st.SearchStrategy[Lifecycle[Any, Any]] | None] = None

    @initialize(data=st.data())
    def draw_lifecycle(self, data: st.DataObject) -> None:
        """Draw the lifecycle and a complete config for this run."""
        from statusguard.testing._strategies import configs, lifecycles

        strategy = self.lifecycle_strategy or lifecycles()
        lc = data.draw(strategy, label="lifecycle")
        self.start(lc, data.draw(configs(lc), label="config"))
