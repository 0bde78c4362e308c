"""A hypothesis state machine whose rules are the steps of concurrent workers.

Each simulated worker carries one request (a key and an event). A request runs as
the worker's real steps: ``read`` (the decision is taken from what was read, and
since deciding touches only the worker's own memory it commutes with every other
step, so it shares the read's slot) and ``write``; or a single atomic ``fire``;
or a *split* ``fire``, paused inside the adapter's own code while another worker's
``fire`` runs in the gap (a claimed-atomic ``fire`` that reads, then writes, fails
there). One rule, ``step``, chooses which worker takes its next step, so the
*schedule* is what hypothesis draws and shrinks. Generation is steered toward the
races that matter: requests go mostly to keys some worker has read, and events
mostly walk the key back to a status a pending read saw (the lifecycle knows where
its cycles are), so a status-only compare-and-set meets its ABA within the default
budget. After every step the machine checks that

* each key's committed history is a legal path of the lifecycle (every step is a
  transition under the config; every source is the previous target);
* the stored status equals the last committed target (nothing lost or invented);
* no committed write was decided from a state that was no longer current;
* whatever :meth:`LifecycleMachine.check_key` (your hook) asserts.

A failure's message carries the readable schedule.
"""

from __future__ import annotations

import functools
import sys
import sysconfig
import threading
import time
import unittest
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, ClassVar, Literal, NoReturn

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from statusguard.errors import IllegalTransition, MissingFlag
from statusguard.lifecycle._model import Lifecycle
from statusguard.lifecycle._paths import Hop, bfs, graph, walk
from statusguard.testing._adapters import Adapter, Outcome, Snapshot, call_write, close_adapter
from statusguard.testing._strategies import fact_value

__all__ = [
    "Commit",
    "LifecycleMachine",
    "RandomLifecycleMachine",
    "Request",
    "ScheduleStep",
    "lifecycle_machine",
]

Action = Literal["create", "read", "write", "fire", "pause"]
Style = Literal["fire", "move", "split"]
SplitFire = Literal["thread", "inline", "off"]


@dataclass(frozen=True, slots=True)
class Request:
    """A fixed request for one worker: ``event`` with ``facts``, by ``style``.

    ``style`` is ``"fire"`` (one atomic step), ``"move"`` (read, decide, write) or
    ``"split"`` (a fire paused inside the adapter while the next idle worker's request
    fires). ``None`` leaves the choice to hypothesis.
    """

    event: str
    facts: Mapping[str, bool] = field(default_factory=dict)
    style: Style | None = None


@dataclass(frozen=True, slots=True)
class ScheduleStep:
    """One step of the schedule, as the machine logged it.

    ``before``/``after`` are the stored status around the step; ``decided`` the
    target a read decided (``None`` if the event was not enabled) or a write wrote;
    ``committed`` whether a write or fire changed the store, ``reason`` why not (the
    adapter's ``Outcome.reason``); ``detail`` where a split fire paused.
    """

    worker: int | None
    action: Action
    key: str
    event: str | None = None
    before: str | None = None
    after: str | None = None
    decided: str | None = None
    committed: bool = False
    reason: str = ""
    detail: str = ""

    def __str__(self) -> str:
        who = "setup" if self.worker is None else f"w{self.worker}"
        if self.action == "create":
            return f"{who} create {self.key}: {self.after}"
        if self.action == "read":
            choice = "not enabled" if self.decided is None else f"decides {self.decided}"
            return f"{who} read {self.key} {self.event}: sees {self.before}, {choice}"
        if self.action == "pause":
            return f"{who} fire {self.key} {self.event}: sees {self.before}, paused {self.detail}"
        head = f"{who} {self.action} {self.key} {self.event}"
        tail = f" ({self.detail})" if self.detail else ""
        if self.committed:
            return f"{head}: {self.before} -> {self.after} (committed){tail}"
        wanted = f" {self.decided}" if self.action == "write" and self.decided else ""
        why = self.reason or "no reason given"
        return f"{head}: refused{wanted} ({why}); {self.key} stays {self.after}{tail}"


@dataclass(frozen=True, slots=True)
class Commit:
    """A committed write or fire on one key, as the machine recorded it.

    ``source``/``target``: the status moved from and to (for a plain step, the
    status the machine saw before it and the target written; for a split fire, what
    the adapter reported, or the previous commit's target if it reported nothing).
    ``read_status``/``read_epoch``: for a write, the status its decision was taken
    from and how many commits the key had then; ``epoch``: how many it had just
    before this one. ``outcome`` is what the adapter returned.
    """

    worker: int
    action: Literal["write", "fire"]
    event: str
    facts: tuple[tuple[str, bool], ...]
    source: str
    target: str
    read_status: str | None
    read_epoch: int | None
    epoch: int
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class _Op:
    """One drawn step: enough to replay it. ``key=None`` is the worker's pending write."""

    worker: int
    key: str | None
    event: str = ""
    facts: tuple[tuple[str, bool], ...] = ()
    style: Style = "move"
    partner_event: str = ""
    partner_facts: tuple[tuple[str, bool], ...] = ()
    point: int = 0


@dataclass(slots=True)
class _Worker:
    index: int
    key: str | None = None
    event: str = ""
    facts: dict[str, bool] = field(default_factory=dict)
    seen: Snapshot | None = None
    decided: str | None = None
    epoch: int = 0


class _Failure(AssertionError):
    """An invariant failed; the message already carries the schedule."""

    def __init__(self, text: str, message: str) -> None:
        super().__init__(text)
        self.message = message


_REPLAYS = 300  # at most this many replays to shorten a final failure ...
_REPLAY_SECONDS = 30.0  # ... and at most this long


def _is_final() -> bool:
    """Whether this is hypothesis's final replay of the failure it reports."""
    try:
        from hypothesis.control import current_build_context

        return bool(current_build_context().is_final)
    except Exception:  # outside a hypothesis test, or a hypothesis without it
        return False


def _index(data: st.DataObject, size: int, label: str) -> int:
    # An index rather than sampled_from(list): integer strategies are cached, and the
    # draws shrink toward the first option all the same.
    return 0 if size == 1 else data.draw(st.integers(0, size - 1), label=label)


def _render(name: str, steps: Sequence[ScheduleStep], note: str = "") -> str:
    lines = [f"schedule ({name}, {len(steps)} steps{note}):"]
    lines += [f"  {step}" for step in steps]
    return "\n".join(lines)


# -- steering --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Routes:
    toward: Mapping[tuple[str, str], Hop]  # first hop of a shortest walk s -> goal (s != goal)
    around: Mapping[str, Hop]  # first hop of a shortest cycle back to s


@functools.lru_cache(maxsize=64)
def _routes(lc: Lifecycle[Any, Any], config: tuple[tuple[str, bool], ...]) -> _Routes:
    adj = graph(lc, dict(config))
    toward: dict[tuple[str, str], Hop] = {}
    around: dict[str, Hop] = {}
    for s in adj:
        parent = bfs(s, adj)
        for goal in parent:
            if goal != s:
                toward[(s, goal)] = walk(parent, s, goal)[0]
        cyclic = bfs(s, adj, strict=True)
        if s in cyclic:
            around[s] = walk(cyclic, s, s)[0]
    return _Routes(toward, around)


# -- preemption inside a fire ------------------------------------------------------

_LIBRARY_DIRS = tuple(
    {
        str(Path(p).resolve())
        for name in ("stdlib", "platstdlib", "purelib", "platlib")
        if (p := sysconfig.get_paths().get(name))
    }
    | {str(Path(__file__).resolve().parents[1])}  # statusguard itself
)


class _Pause:
    """A trace function that stops a fire before the ``point``-th line of your code.

    "Your code" is every Python line outside the standard library, site-packages
    and statusguard, plus modules named in ``modules``. At the pause it calls
    ``gap`` (which runs the other worker's fire) and then lets the fire go on.
    """

    def __init__(self, point: int, modules: Sequence[str], gap: Callable[[], None]) -> None:
        self.point = point
        self.modules = tuple(modules)
        self.gap = gap
        self.count = 0
        self.where = ""
        self.fired = False
        self._mine: dict[object, bool] = {}

    def _is_mine(self, frame: FrameType) -> bool:
        code = frame.f_code
        mine = self._mine.get(code)
        if mine is None:
            module = str(frame.f_globals.get("__name__", ""))
            if any(module == m or module.startswith(m + ".") for m in self.modules):
                mine = True
            else:
                name = code.co_filename
                mine = not name.startswith("<") and not str(Path(name).resolve()).startswith(
                    _LIBRARY_DIRS
                )
            self._mine[code] = mine
        return mine

    def calls(self, frame: FrameType, event: str, arg: object) -> Any:
        if self.fired or not self._is_mine(frame):
            return None
        return self.lines

    def lines(self, frame: FrameType, event: str, arg: object) -> Any:
        if self.fired:
            return None
        if event == "line":
            self.count += 1
            if self.count >= self.point:
                self.fired = True
                self.where = (
                    f"before line {frame.f_lineno} of {Path(frame.f_code.co_filename).name} "
                    f"({frame.f_code.co_name}), the {_ordinal(self.count)} line of your code"
                )
                self.gap()
                return None
        return self.lines

    def run(self, call: Callable[[], Outcome]) -> Outcome:
        previous = sys.gettrace()
        sys.settrace(self.calls)
        try:
            return call()
        finally:
            sys.settrace(previous)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# -- the TestCase pytest and unittest collect -------------------------------------


class _TestCaseProperty:
    def __get__(self, obj: object, typ: type | None = None) -> type[unittest.TestCase]:
        cls = type(obj) if obj is not None else typ
        assert cls is not None
        return _test_case(cls)


@functools.cache
def _test_case(cls: type[RuleBasedStateMachine]) -> type[unittest.TestCase]:
    # As hypothesis's own, but without the explain phase: it replays the failing
    # schedule hundreds of times to annotate lines, which the schedule in the
    # message already does (it took 217 of 248 s on a real adapter).
    default = settings.default
    assert default is not None  # a profile is always loaded
    phases = tuple(p for p in default.phases if p is not Phase.explain)

    class StateMachineTestCase(unittest.TestCase):
        settings = settings(deadline=None, suppress_health_check=list(HealthCheck), phases=phases)

        def runTest(self) -> None:
            run_state_machine_as_test(cls, settings=self.settings)

        runTest.is_hypothesis_test = True  # type: ignore[attr-defined]
        runTest._hypothesis_state_machine_class = cls  # type: ignore[attr-defined]

    StateMachineTestCase.__name__ = cls.__name__ + ".TestCase"
    StateMachineTestCase.__qualname__ = cls.__qualname__ + ".TestCase"
    return StateMachineTestCase


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

    ``split_fire`` says how a claimed-atomic ``fire`` is checked: ``"thread"``
    (default) pauses it before a drawn line of your code and runs another worker's
    ``fire`` in a second thread meanwhile, waiting at most ``split_wait`` seconds
    for it (a fire that holds a lock makes the other wait; that is atomicity, not a
    failure); ``"inline"`` runs the other fire in the same thread, for adapters that
    cannot be used from two threads (SQLite ``:memory:``, thread-bound sessions),
    provided ``fire`` holds no lock across the pause; ``"off"`` trusts
    ``supports_fire``. ``preempt_modules`` names installed modules (e.g. your
    service's package, an ORM helper) whose lines count as your code too.

    Override :meth:`check_key` for your own invariants (side effects, other
    columns). Use ``Machine.TestCase`` as a test (no explain phase: the failure
    message carries the readable schedule). After a run,
    ``type(machine).last_schedule`` holds its logged steps.
    """

    lifecycle: Lifecycle[Any, Any]
    config: Mapping[str, bool] = {}
    workers: ClassVar[int] = 3
    max_keys: ClassVar[int] = 4
    requests: ClassVar[Sequence[Request] | None] = None
    fresh: ClassVar[Literal["version", "status", "off"]] = "version"
    split_fire: ClassVar[SplitFire] = "thread"
    split_wait: ClassVar[float] = 0.1
    preempt_modules: ClassVar[tuple[str, ...]] = ()
    last_schedule: ClassVar[list[ScheduleStep]] = []

    TestCase = _TestCaseProperty()  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self._prefix = uuid.uuid4().hex[:10]
        size = len(self.requests) if self.requests is not None else self.workers
        self._workers = [_Worker(i) for i in range(size)]
        self._history: dict[str, list[Commit]] = {}
        self._adapter: Adapter | None = None
        self._ops: list[_Op] = []
        self._replaying = False
        self.schedule: list[ScheduleStep] = []
        type(self).last_schedule = self.schedule
        if getattr(self, "lifecycle", None) is not None:
            self.start(self.lifecycle, self.config)

    def start(self, lifecycle: Lifecycle[Any, Any], config: Mapping[str, bool]) -> None:
        """Fix the lifecycle and config of this run and make its adapter."""
        self.config = lifecycle.check_config(config)
        self.lifecycle = lifecycle
        self._routes = _routes(lifecycle, tuple(sorted(self.config.items())))
        self._adapter = self.make_adapter()

    @property
    def adapter(self) -> Adapter:
        """This run's adapter."""
        if self._adapter is None:
            raise RuntimeError("the machine has no lifecycle yet: set `lifecycle` or start()")
        return self._adapter

    @property
    def history(self) -> Mapping[str, Sequence[Commit]]:
        """Each key's commits so far, oldest first (keys as the schedule names them)."""
        return self._history

    def real_key(self, key: str) -> str:
        """The key the adapter sees for the schedule's ``key`` (unique per run)."""
        return f"{self._prefix}:{key}"

    def make_adapter(self) -> Adapter:
        """A fresh adapter for one run over ``self.lifecycle`` under ``self.config``."""
        raise NotImplementedError("subclass LifecycleMachine and implement make_adapter()")

    def check_key(self, key: str, commits: Sequence[Commit]) -> None:
        """Your invariants for ``key``, checked after every step (default: none).

        ``commits`` is the key's committed history; reach your storage through
        ``self.adapter`` at ``self.real_key(key)`` (a side table, a file, an outbox
        row). Fail with ``assert`` or :meth:`fail`; the schedule is added to the
        message either way.
        """

    def fail(self, message: str) -> NoReturn:
        """Fail the run with ``message`` and the schedule so far.

        On hypothesis's final replay of a shrunk failure, the machine first replays
        shorter copies of the schedule (steps left out) against fresh adapters and
        reports the shortest that still fails.
        """
        steps, note = self.schedule, ""
        if not self._replaying and _is_final():
            shorter = self._shortest_failure()
            if shorter is not None and len(shorter[1]) < len(self.schedule):
                message, steps = shorter
                note = f"; replaying dropped {len(self.schedule) - len(steps)} redundant steps"
            type(self).last_schedule = steps  # the replays made machines of their own
        # Every built-in invariant fails from this one line, so hypothesis sees one
        # bug, not one per invariant, and shrinks to the smallest schedule that
        # breaks any of them.
        raise _Failure(f"{message}\n{_render(type(self).__name__, steps, note)}", message)

    def render_schedule(self) -> str:
        """The schedule so far, one step a line."""
        return _render(type(self).__name__, self.schedule)

    def _replay(self, ops: Sequence[_Op]) -> tuple[str, list[ScheduleStep], int] | None:
        """Run ``ops`` on a fresh machine: the failure, its schedule, the ops it ran."""
        machine = type(self)()
        machine._replaying = True
        try:
            if machine._adapter is None:
                machine.start(self.lifecycle, self.config)
            for i, op in enumerate(ops):
                try:
                    machine._apply(op)
                    machine.invariants_hold()
                except _Failure as exc:
                    return exc.message, machine.schedule, i + 1
            return None
        except Exception:
            return None  # not this failure: keep the longer schedule
        finally:
            machine.teardown()

    def _shortest_failure(self) -> tuple[str, list[ScheduleStep]] | None:
        ops = list(self._ops)
        found = self._replay(ops)
        if found is None:
            return None  # the adapter does not replay deterministically
        message, steps, ran = found
        ops = ops[:ran]
        began, tries = time.monotonic(), 0
        chunk = max(1, len(ops) // 2)
        while chunk >= 1:
            i = 0
            while i < len(ops):
                if tries >= _REPLAYS or time.monotonic() - began > _REPLAY_SECONDS:
                    return message, steps
                tries += 1
                again = self._replay(ops[:i] + ops[i + chunk :])
                if again is not None:
                    message, steps, ran = again
                    ops = (ops[:i] + ops[i + chunk :])[:ran]
                else:
                    i += chunk
            chunk //= 2
        return message, steps

    def teardown(self) -> None:
        close_adapter(self._adapter)

    # -- helpers -----------------------------------------------------------------

    def _stored(self, key: str) -> str:
        return self.adapter.read(self.real_key(key)).status

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

    def _commit(
        self,
        w: _Worker,
        key: str,
        action: Literal["write", "fire"],
        source: str,
        target: str,
        outcome: Outcome,
        *,
        read: bool = False,
    ) -> None:
        history = self._history[key]
        history.append(
            Commit(
                w.index,
                action,
                w.event,
                tuple(sorted(w.facts.items())),
                source,
                target,
                w.seen.status if read and w.seen else None,
                w.epoch if read else None,
                len(history),
                outcome,
            )
        )

    def _note(self, exc: BaseException) -> None:
        if not isinstance(exc, _Failure):
            exc.add_note(self.render_schedule())

    # -- the rule ----------------------------------------------------------------

    @rule(data=st.data())
    def step(self, data: st.DataObject) -> None:
        """A worker takes its next step.

        An idle worker takes a request (a key, mostly one some worker has read; an
        event, mostly one that walks the key back to a status a pending read saw)
        and reads, fires or split-fires; a worker with a pending decision writes it.
        Drawing the worker by number keeps each schedule step's meaning when the
        shrinker deletes others.
        """
        if self._adapter is None:
            return  # RandomLifecycleMachine before its lifecycle is drawn
        try:
            # Workers whose key left the status they read and came back (an ABA is
            # ripe) are offered twice: their write is the step that matters now.
            options = [*self._ripe(), *range(len(self._workers))]
            w = self._workers[options[_index(data, len(options), "worker")]]
            if w.key is not None:
                self._apply(_Op(w.index, None))
            else:
                self._begin(w, self._draw_key(data), data)
        except Exception as exc:
            self._note(exc)
            raise

    def _ripe(self) -> list[int]:
        ripe = []
        for p in self._workers:
            if p.key is None or p.seen is None:
                continue
            history = self._history[p.key]
            if len(history) > p.epoch and history[-1].target == p.seen.status:
                ripe.append(p.index)
        return ripe

    def _draw_key(self, data: st.DataObject) -> str:
        created = list(self._history)
        if not created:
            return "k0"
        pending = [w.key for w in self._workers if w.key is not None]
        options = list(dict.fromkeys([*pending, *created]))
        if len(created) < self.max_keys:
            options.append(f"k{len(created)}")
        return options[_index(data, len(options), "key")]

    def _create(self, key: str) -> str:
        snap = self.adapter.create(self.real_key(key))
        self._history[key] = []
        self.schedule.append(ScheduleStep(None, "create", key, after=snap.status))
        return key

    def _steer(self, key: str, status: str) -> list[Hop]:
        """Hops that walk ``key`` back to a status some pending read of it saw."""
        epoch = len(self._history[key])
        hops: list[Hop] = []
        for p in self._workers:
            if p.key != key or p.seen is None:
                continue
            if p.seen.status != status:
                hop = self._routes.toward.get((status, p.seen.status))
            elif p.epoch == epoch:
                hop = self._routes.around.get(status)  # nothing moved yet: leave and return
            else:
                continue  # the status came back: now the pending write matters
            if hop is not None and hop not in hops:
                hops.append(hop)
        return hops

    def _draw_request(self, key: str, data: st.DataObject) -> tuple[str, dict[str, bool]]:
        lc = self.lifecycle
        if key not in self._history:
            status, steer = str(lc.initial), []
        else:
            status = self._stored(key)
            steer = self._steer(key, status)
        enabled = [str(e) for e in lc.allowed_events(status, self.config)]
        # 0-4: a hop back toward a pending read's status; 5-6: an enabled event;
        # 7: any event (requests that must be refused). Shrinks toward steering.
        choice = data.draw(st.integers(0, 7), label="choice")
        hop: Hop | None = None
        if steer and choice <= 4:
            hop = steer[_index(data, len(steer), "hop")]
            event = hop.event
        elif enabled and choice <= 6:
            event = data.draw(st.sampled_from(tuple(enabled)), label="enabled event")
        else:
            event = str(data.draw(st.sampled_from(lc.events), label="any event"))
        facts = {f: data.draw(fact_value(lc, f), label=f) for f in lc.fact_flags}
        if hop is not None:
            facts.update(hop.facts)
        return event, facts

    def _partner(self, w: _Worker) -> _Worker | None:
        return next((v for v in self._workers if v is not w and v.key is None), None)

    def _begin(self, w: _Worker, key: str, data: st.DataObject) -> None:
        style: Style | None
        if self.requests is not None:
            request = self.requests[w.index]
            event, facts, style = request.event, dict(request.facts), request.style
        else:
            event, facts = self._draw_request(key, data)
            style = None
        partner = self._partner(w)
        can_split = self.split_fire != "off" and partner is not None
        chosen: Style = "move"
        if style is not None:
            chosen = style
        elif self.adapter.supports_fire:
            styles: list[Style] = ["fire", "move", "split"] if can_split else ["fire", "move"]
            chosen = data.draw(st.sampled_from(tuple(styles)), label="style")
        style = chosen
        op = _Op(w.index, key, event, tuple(sorted(facts.items())), chosen)
        if style == "split" and can_split and self.adapter.supports_fire:
            assert partner is not None
            if self.requests is not None:
                other = self.requests[partner.index]
                p_event, p_facts = other.event, dict(other.facts)
            else:
                p_event, p_facts = self._draw_request(key, data)
            point = data.draw(st.integers(1, 24), label="pause before line")
            op = _Op(
                w.index,
                key,
                event,
                op.facts,
                chosen,
                p_event,
                tuple(sorted(p_facts.items())),
                point,
            )
        self._apply(op)

    def _apply(self, op: _Op) -> None:
        """Run one step of the schedule (also what a replay runs)."""
        w = self._workers[op.worker]
        if op.key is None:
            if w.key is None:
                return  # a replay dropped this worker's read: nothing to write
            self._ops.append(op)
            self._write(w)
            return
        if w.key is not None:
            return  # a replay dropped this worker's write: it is still busy
        if op.key not in self._history:
            self._create(op.key)
        self._ops.append(op)
        w.event, w.facts = op.event, dict(op.facts)
        style = op.style
        if style in ("fire", "split") and not self.adapter.supports_fire:
            style = "move"
        partner = self._partner(w) if style == "split" and self.split_fire != "off" else None
        if style == "split" and partner is not None:
            partner.event, partner.facts = op.partner_event, dict(op.partner_facts)
            self._split(w, partner, op.key, op.point)
        elif style in ("fire", "split"):
            self._fire(w, op.key)
        else:
            self._read(w, op.key)

    def _fire(self, w: _Worker, key: str) -> None:
        before = self._stored(key)
        self._record_fire(w, key, before, self.adapter.fire(self.real_key(key), w.event, w.facts))

    def _read(self, w: _Worker, key: str) -> None:
        seen = self.adapter.read(self.real_key(key))
        w.seen, w.epoch = seen, len(self._history[key])
        w.decided = self._decide(seen.status, w.event, w.facts)
        self.schedule.append(
            ScheduleStep(w.index, "read", key, w.event, seen.status, seen.status, w.decided)
        )
        if w.decided is not None:
            w.key = key  # pending: its write is a later step of the schedule

    def _write(self, w: _Worker) -> None:
        key, seen, decided = w.key, w.seen, w.decided
        assert key is not None
        assert seen is not None
        assert decided is not None
        before = self._stored(key)
        outcome = call_write(self.adapter, self.real_key(key), seen, decided, w.event, w.facts)
        after = self._stored(key)
        if outcome.committed:
            self._commit(w, key, "write", before, decided, outcome, read=True)
        self.schedule.append(
            ScheduleStep(
                w.index, "write", key, w.event, before, after, decided,
                outcome.committed, outcome.reason,
            )
        )  # fmt: skip
        w.key, w.seen, w.decided = None, None, None

    def _split(self, a: _Worker, b: _Worker, key: str, point: int) -> None:
        """``a`` fires, paused before the ``point``-th line of your code; ``b`` fires then."""
        real = self.real_key(key)
        before = self._stored(key)
        box: dict[str, Any] = {}

        def other() -> None:
            try:
                box["mid"] = self.adapter.read(real).status
                box["out"] = self.adapter.fire(real, b.event, b.facts)
            except BaseException as exc:  # re-raised in the machine's thread
                box["exc"] = exc

        thread: threading.Thread | None = None

        def gap() -> None:
            nonlocal thread
            if self.split_fire == "inline":
                other()
                box["first"] = True
                return
            thread = threading.Thread(target=other, name="statusguard-split-fire", daemon=True)
            thread.start()
            thread.join(self.split_wait)
            box["first"] = not thread.is_alive()

        pause = _Pause(point, self.preempt_modules, gap)
        out_a = pause.run(lambda: self.adapter.fire(real, a.event, a.facts))
        if thread is not None:
            thread.join(60)
            if thread.is_alive():
                self.fail(
                    f"{key}: w{b.index}'s fire ({b.event}) did not return within 60 s of "
                    f"w{a.index}'s ({a.event}) finishing"
                )
        if "exc" in box:
            raise box["exc"]
        if not pause.fired:  # the fire ended before the pause point: two fires in a row
            if self._ops and self._ops[-1].style == "split":  # replay it as what it was
                split = self._ops.pop()
                self._ops.append(_Op(a.index, key, split.event, split.facts, "fire"))
                self._ops.append(
                    _Op(b.index, key, split.partner_event, split.partner_facts, "fire")
                )
            self._record_fire(a, key, before, out_a)
            self._fire(b, key)
            return
        self._record_split(a, b, key, before, box, out_a, pause.where)

    def _record_split(
        self,
        a: _Worker,
        b: _Worker,
        key: str,
        before: str,
        box: Mapping[str, Any],
        out_a: Outcome,
        where: str,
    ) -> None:
        """Log a split fire and commit both outcomes in the order they landed."""
        mid: str = box["mid"]
        out_b: Outcome = box["out"]
        after = self._stored(key)
        self.schedule.append(ScheduleStep(a.index, "pause", key, a.event, before, detail=where))
        b_first = bool(box.get("first")) and not (
            out_a.committed and mid != before and mid == out_a.target  # a had landed already
        )
        order = [(b, out_b, mid, f"inside w{a.index}'s fire"), (a, out_a, before, "resumed")]
        if not b_first:
            waited = "inside" if box.get("first") else "waited for"
            order = [(a, out_a, before, "resumed"), (b, out_b, mid, f"{waited} w{a.index}'s fire")]
        previous: str | None = None
        for w, out, seen, detail in order:
            source = out.source if out.source is not None else previous or seen
            target = out.target if out.target is not None else after
            if out.committed:
                self._commit(w, key, "fire", source, target, out)
                previous = target
            self.schedule.append(
                ScheduleStep(
                    w.index, "fire", key, w.event, source, target if out.committed else after,
                    target, out.committed, out.reason, detail,
                )
            )  # fmt: skip

    def _record_fire(self, w: _Worker, key: str, before: str, outcome: Outcome) -> None:
        after = self._stored(key)
        target = outcome.target if outcome.target is not None else after
        if outcome.committed:
            self._commit(w, key, "fire", before, target, outcome)
        self.schedule.append(
            ScheduleStep(
                w.index, "fire", key, w.event, before, after, target,
                outcome.committed, outcome.reason,
            )
        )  # fmt: skip

    # -- invariants --------------------------------------------------------------

    @invariant()
    def invariants_hold(self) -> None:
        """The built-in invariants, then :meth:`check_key` for every key."""
        if self._adapter is None:
            return
        self.history_is_a_legal_path()
        self.stored_status_is_last_committed()
        self.writes_were_fresh()
        for key, commits in self._history.items():
            try:
                self.check_key(key, commits)
            except _Failure:
                raise
            except AssertionError as exc:  # your invariant: one bug with the built-in ones
                self.fail(f"{key}: check_key: {exc}")
            except Exception as exc:
                self._note(exc)
                raise

    def history_is_a_legal_path(self) -> None:
        """Every committed step is a transition and starts where the last one ended."""
        lc = self.lifecycle
        for key, history in self._history.items():
            previous = str(lc.initial)
            for c in history:
                if c.source != previous:
                    self.fail(
                        f"{key}: a commit by w{c.worker} ({c.event}) moved from {c.source}, "
                        f"but the previous commit left {previous}"
                    )
                expected = self._decide(c.source, c.event, dict(c.facts))
                if expected != c.target:
                    self.fail(
                        f"{key}: illegal step {c.source} -> {c.target} by w{c.worker} "
                        f"({c.event}); {lc.name} allows "
                        + (f"{c.source} -> {expected}" if expected else "no such event there")
                    )
                previous = c.target

    def stored_status_is_last_committed(self) -> None:
        """The store holds what the last commit wrote: nothing lost, nothing invented."""
        for key, history in self._history.items():
            expected = history[-1].target if history else str(self.lifecycle.initial)
            stored = self._stored(key)
            if stored != expected:
                self.fail(
                    f"{key}: store holds {stored}, but the last committed target is {expected}"
                )

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
                    self.fail(
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
    split_fire: SplitFire = "thread",
    check: Callable[[LifecycleMachine, str, Sequence[Commit]], None] | None = None,
    name: str | None = None,
) -> type[LifecycleMachine]:
    """A :class:`LifecycleMachine` subclass.

    ``make_adapter(lifecycle, config)`` returns a fresh adapter for each run;
    ``check(machine, key, commits)``, if given, is its :meth:`~LifecycleMachine.check_key`.
    """
    namespace: dict[str, Any] = {
        "lifecycle": lifecycle,
        "config": dict(config or {}),
        "workers": workers,
        "max_keys": max_keys,
        "requests": None if requests is None else tuple(requests),
        "fresh": fresh,
        "split_fire": split_fire,
        "make_adapter": lambda self: make_adapter(self.lifecycle, self.config),
        "last_schedule": [],
    }
    if check is not None:
        namespace["check_key"] = check
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
