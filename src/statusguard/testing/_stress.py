"""Real concurrency: workers (threads or processes) race at a few hot keys.

Each round, all workers wait at a barrier and then fire conflicting events (or
read, decide and compare-and-set) at the same few keys. Every acknowledged
transition is recorded with its version and its real-time interval, and
:func:`check_history` checks, per key, that the acknowledgements form one legal
path that explains the final stored state (a linearizability check: the store's
versions give the order, the intervals must not contradict it).
"""

from __future__ import annotations

import multiprocessing
import random
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from statusguard.errors import IllegalTransition, MissingFlag
from statusguard.lifecycle._model import Lifecycle
from statusguard.testing._adapters import Adapter, Snapshot, call_write, close_adapter

__all__ = ["Ack", "HistoryCheck", "StressReport", "check_history", "run_stress"]


@dataclass(frozen=True, slots=True)
class Ack:
    """An acknowledged transition: ``key`` moved ``source -> target`` at ``version``.

    ``source`` and ``version`` are ``None`` when the adapter did not report them
    (``Outcome`` allows that); the check then has less to go on (see
    :func:`check_history`). ``start_ns``/``end_ns`` (``time.monotonic_ns``) bound
    the operation that made it.
    """

    key: str
    worker: int
    event: str
    facts: tuple[tuple[str, bool], ...]
    source: str | None
    target: str
    version: int | None
    start_ns: int
    end_ns: int


@dataclass(frozen=True, slots=True)
class HistoryCheck:
    """What :func:`check_history` found.

    ``illegal``: acknowledged steps that are not a transition of the lifecycle.
    ``lost``: acknowledgements the final history does not contain (two acks for
    one version, a broken chain, a final state that disagrees). ``invented``:
    commits in the store nobody acknowledged. ``reordered``: pairs whose version
    order contradicts real time (B finished before A started, yet B is later), or,
    without versions, acknowledgements that form a legal path only in an order real
    time rules out. ``undecided``: keys whose unversioned history was too large to
    search (report versions, or fewer operations per key).
    """

    keys: int
    commits: int
    illegal: int
    lost: int
    invented: int
    reordered: int
    problems: tuple[str, ...] = ()
    undecided: int = 0

    @property
    def ok(self) -> bool:
        """Whether the history is linearizable and legal."""
        return not (self.illegal or self.lost or self.invented or self.reordered or self.undecided)


Versions = Literal["consecutive", "monotone"]

_SEARCH_BUDGET = 200_000  # search nodes per unversioned key


@dataclass(slots=True)
class _Tallies:
    illegal: int = 0
    lost: int = 0
    invented: int = 0
    reordered: int = 0
    undecided: int = 0
    problems: list[str] = field(default_factory=list)

    def note(self, msg: str) -> None:
        if len(self.problems) < 20:
            self.problems.append(msg)


def check_history(
    lifecycle: Lifecycle[Any, Any],
    config: Mapping[str, bool],
    acks: Iterable[Ack],
    final: Mapping[str, Snapshot],
    *,
    initial: Mapping[str, Snapshot] | None = None,
    versions: Versions = "consecutive",
) -> HistoryCheck:
    """Check per key that the acknowledged transitions are one legal path to ``final``.

    ``initial`` holds each key's snapshot when it was created (default: the
    lifecycle's initial status at version 0). With ``versions="consecutive"`` every
    commit adds 1 to the key's version, starting from the initial one (0, 1, or
    whatever the store starts at; unknown, the first acknowledged version), so a
    gap is a commit nobody acknowledged; with ``"monotone"`` versions only grow
    (timestamps, counters that skip), so only their order is checked. Acks without a
    ``source`` are placed by their event: legal from the previous target. If any ack
    of a key has no ``version``, the check searches for an order of that key's acks
    that real time allows and that is a legal path to the final status.
    """
    by_key: dict[str, list[Ack]] = {key: [] for key in final}
    for ack in acks:
        by_key.setdefault(ack.key, []).append(ack)
    t = _Tallies()
    commits = 0
    for key, history in by_key.items():
        commits += len(history)
        start = (initial or {}).get(key)
        if initial is None:
            start = Snapshot(str(lifecycle.initial), 0)
        elif start is None:
            start = Snapshot(str(lifecycle.initial), None)
        for ack in history:  # each step on its own: a known source must allow it
            if ack.source is not None and not _legal(lifecycle, config, ack.source, ack):
                t.illegal += 1
                t.note(f"{key} v{ack.version}: illegal {ack.source} -> {ack.target} ({ack.event})")
        if all(a.version is not None for a in history):
            _check_versioned(lifecycle, config, key, history, start, final.get(key), versions, t)
        else:
            _check_unversioned(lifecycle, config, key, history, start, final.get(key), versions, t)
    return HistoryCheck(
        len(by_key),
        commits,
        t.illegal,
        t.lost,
        t.invented,
        t.reordered,
        tuple(t.problems),
        t.undecided,
    )


def _legal(
    lifecycle: Lifecycle[Any, Any], config: Mapping[str, bool], source: str, ack: Ack
) -> bool:
    try:
        return str(lifecycle.next(source, ack.event, {**config, **dict(ack.facts)})) == ack.target
    except (IllegalTransition, MissingFlag):
        return False


def _check_versioned(
    lifecycle: Lifecycle[Any, Any],
    config: Mapping[str, bool],
    key: str,
    history: list[Ack],
    start: Snapshot,
    stored: Snapshot | None,
    versions: Versions,
    t: _Tallies,
) -> None:
    history.sort(key=lambda a: (a.version or 0, a.end_ns))
    previous = start.status
    last = start.version  # the version of the last commit placed (None: not known yet)
    order: list[Ack] = []
    for ack in history:
        assert ack.version is not None
        if last is not None and ack.version <= last:
            t.lost += 1
            t.note(f"{key} v{ack.version}: acknowledged twice (w{ack.worker}, {ack.event})")
            continue
        if versions == "consecutive" and last is not None and ack.version > last + 1:
            t.invented += ack.version - last - 1
            t.note(f"{key}: versions {last + 1}..{ack.version - 1} acknowledged by no one")
        elif ack.source is not None and ack.source != previous:
            t.lost += 1
            t.note(f"{key} v{ack.version}: moved from {ack.source}, but {previous} was last")
        elif ack.source is None and not _legal(lifecycle, config, previous, ack):
            t.illegal += 1
            t.note(
                f"{key} v{ack.version}: {ack.event} -> {ack.target} is no transition "
                f"from {previous}, the previous target"
            )
        previous, last = ack.target, ack.version
        order.append(ack)
    if stored is not None:
        if stored.status != previous:
            t.lost += 1
            t.note(f"{key}: store holds {stored.status}, the acknowledged path ends at {previous}")
        if stored.version is not None and last is not None and stored.version != last:
            if stored.version > last:
                t.invented += stored.version - last if versions == "consecutive" else 1
            else:
                t.lost += last - stored.version if versions == "consecutive" else 1
            t.note(f"{key}: store at version {stored.version}, acks end at {last}")
    latest_start = -1
    for ack in order:  # real time: no later version may end before an earlier one starts
        if ack.end_ns < latest_start:
            t.reordered += 1
            t.note(f"{key} v{ack.version}: ended before an earlier version's operation began")
        latest_start = max(latest_start, ack.start_ns)


def _check_unversioned(
    lifecycle: Lifecycle[Any, Any],
    config: Mapping[str, bool],
    key: str,
    history: list[Ack],
    start: Snapshot,
    stored: Snapshot | None,
    versions: Versions,
    t: _Tallies,
) -> None:
    goal = stored.status if stored is not None else None
    found = _linear_order(lifecycle, config, history, start.status, goal, real_time=True)
    if found is None:
        t.undecided += 1
        t.note(
            f"{key}: {len(history)} acknowledgements without versions are too many to "
            "order; report versions, or use fewer ops per round"
        )
        return
    if found:
        if (
            versions == "consecutive"
            and stored is not None
            and stored.version is not None
            and start.version is not None
        ):
            moved = stored.version - start.version
            if moved > len(history):
                t.invented += moved - len(history)
                t.note(f"{key}: the version moved {moved} times for {len(history)} acks")
        return
    end = goal if goal is not None else "any status"
    if _linear_order(lifecycle, config, history, start.status, goal, real_time=False):
        t.reordered += 1
        t.note(
            f"{key}: the {len(history)} acknowledgements form a legal path from "
            f"{start.status} to {end} only in an order real time rules out"
        )
    else:
        t.lost += 1
        t.note(
            f"{key}: no order of the {len(history)} acknowledgements is a legal path "
            f"from {start.status} to {end}"
        )


def _linear_order(
    lifecycle: Lifecycle[Any, Any],
    config: Mapping[str, bool],
    history: list[Ack],
    start: str,
    goal: str | None,
    *,
    real_time: bool,
) -> bool | None:
    """Whether some order of ``history`` is a legal path ``start -> goal`` (real time
    respected if asked): a depth-first search over (acks placed, status), memoised.
    ``None`` if the search ran out of budget."""
    n = len(history)
    full = (1 << n) - 1
    # before[i]: the acks that ended before ack i began (they must come first)
    before = [0] * n
    if real_time:
        for i, a in enumerate(history):
            for j, b in enumerate(history):
                if b.end_ns < a.start_ns:
                    before[i] |= 1 << j
    fits = [
        [
            (a.source is None or a.source == s) and _legal(lifecycle, config, s, a)
            for s in map(str, lifecycle.states)
        ]
        for a in history
    ]
    index = {str(s): k for k, s in enumerate(lifecycle.states)}
    dead: set[tuple[int, str]] = set()
    budget = _SEARCH_BUDGET
    stack: list[tuple[int, str]] = [(0, start)]
    while stack:
        placed, status = stack.pop()
        if placed == full:
            if goal is None or status == goal:
                return True
            continue
        if (placed, status) in dead:
            continue
        dead.add((placed, status))
        budget -= 1
        if budget < 0:
            return None
        k = index.get(status)
        for i in range(n):
            bit = 1 << i
            if placed & bit or before[i] & ~placed or k is None or not fits[i][k]:
                continue
            stack.append((placed | bit, history[i].target))
    return False


@dataclass(frozen=True, slots=True)
class StressReport:
    """Counts from :func:`run_stress` and the verdict of :func:`check_history`."""

    mode: str
    workers: int
    rounds: int
    hot_keys: int
    attempts: int
    commits: int
    conflicts: int
    refused: int
    errors: int
    seconds: float
    check: HistoryCheck
    error_samples: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """No errors, and the history is legal and linearizable."""
        return self.errors == 0 and self.check.ok

    def __str__(self) -> str:
        c = self.check
        return (
            f"{self.mode}: {self.workers} workers x {self.rounds} rounds on {self.hot_keys} hot "
            f"keys: {self.attempts} attempts, {self.commits} commits, {self.conflicts} conflicts, "
            f"{self.refused} refused, {self.errors} errors, illegal {c.illegal}, lost {c.lost}, "
            f"invented {c.invented}, reordered {c.reordered}"
            + (f", undecided {c.undecided}" if c.undecided else "")
            + f" ({self.seconds:.1f} s)"
        )


@dataclass(slots=True)
class _Tally:
    attempts: int = 0
    commits: int = 0
    conflicts: int = 0
    refused: int = 0
    errors: int = 0
    acks: list[Ack] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Plan:
    lifecycle: Lifecycle[Any, Any]
    config: Mapping[str, bool]
    keys: tuple[tuple[str, ...], ...]  # per round
    ops: int
    weights: Mapping[str, float]
    move_share: float
    pause: float
    seed: int


def _work(index: int, adapter: Adapter, plan: _Plan, barrier: Any) -> _Tally:
    lc, tally = plan.lifecycle, _Tally()
    rng = random.Random(plan.seed * 7919 + index)  # noqa: S311 (a reproducible workload)
    facts = lc.fact_flags
    for keys in plan.keys:
        barrier.wait()
        for _ in range(plan.ops):
            key = rng.choice(keys)
            try:
                _one(index, adapter, plan, rng, key, facts, tally)
            except Exception as exc:  # counted and reported: a stress run must not stop
                tally.errors += 1
                if len(tally.samples) < 5:
                    tally.samples.append(f"w{index} {key}: {type(exc).__name__}: {exc}")
    return tally


def _one(
    index: int,
    adapter: Adapter,
    plan: _Plan,
    rng: random.Random,
    key: str,
    fact_names: tuple[str, ...],
    tally: _Tally,
) -> None:
    lc = plan.lifecycle
    start = time.monotonic_ns()
    seen = adapter.read(key)
    enabled = [str(e) for e in lc.allowed_events(seen.status, plan.config)]
    if not enabled:
        return  # terminal: nothing to race for on this key
    event = rng.choices(enabled, [plan.weights.get(e, 1.0) for e in enabled])[0]
    facts = {f: rng.random() < 0.5 for f in fact_names}
    tally.attempts += 1
    if adapter.supports_fire and rng.random() >= plan.move_share:
        start = time.monotonic_ns()
        outcome = adapter.fire(key, event, facts)
    else:
        flags = {**plan.config, **facts}
        try:
            target = str(lc.next(seen.status, event, flags))
        except (IllegalTransition, MissingFlag):
            tally.refused += 1  # these facts disable the event here
            return
        if target == seen.status and lc.is_noop(seen.status, event, flags):
            tally.refused += 1  # accepted without a change: nothing to write (counted here)
            return
        if plan.pause:
            time.sleep(plan.pause)
        outcome = call_write(adapter, key, seen, target, event, facts)
        if outcome.committed and outcome.target is None:
            outcome = replace(outcome, target=target)
    end = time.monotonic_ns()
    if not outcome.committed:
        if outcome.reason == "conflict":
            tally.conflicts += 1
        else:
            tally.refused += 1
        return
    if outcome.target is None:
        raise ValueError(
            f"the adapter acknowledged a fire of {event!r} on {key!r} without its target; "
            "return Outcome(True, source, target, version) with the status it moved to "
            "(source and version may be None)"
        )
    tally.commits += 1
    tally.acks.append(
        Ack(
            key,
            index,
            event,
            tuple(sorted(facts.items())),
            outcome.source,
            outcome.target,
            outcome.version,
            start,
            end,
        )
    )


def _process_main(
    index: int, make_adapter: Callable[[], Adapter], plan: _Plan, barrier: Any, queue: Any
) -> None:
    adapter = make_adapter()
    try:
        tally = _work(index, adapter, plan, barrier)
    except BaseException as exc:
        tally = _Tally(errors=1, samples=[f"w{index}: {type(exc).__name__}: {exc}"])
        barrier.abort()
    finally:
        close_adapter(adapter)
    queue.put(tally)


def run_stress(
    make_adapter: Callable[[], Adapter],
    lifecycle: Lifecycle[Any, Any],
    config: Mapping[str, bool] | None = None,
    *,
    mode: Literal["thread", "process"] = "thread",
    workers: int = 8,
    rounds: int = 20,
    hot_keys: int = 3,
    ops: int = 20,
    weights: Mapping[str, float] | None = None,
    move_share: float = 0.5,
    pause: float = 0.0,
    seed: int = 0,
    versions: Versions = "consecutive",
) -> StressReport:
    """Race ``workers`` at ``hot_keys`` fresh keys per round; check the history.

    Threads share one adapter from ``make_adapter()``; each process makes its own
    (after the fork), so the adapter must reach shared storage (a file, a server).
    A worker reads a key, picks an event enabled there (``weights`` biases the
    choice), and either fires it (atomic) or, with probability ``move_share``,
    decides the target and writes it, sleeping ``pause`` seconds in between.

    Each key's starting version is what ``create`` returned (or, if that has none,
    a ``read`` right after); ``versions`` says how versions grow (``"consecutive"``:
    by 1 per commit; ``"monotone"``: any increase), as for :func:`check_history`.
    Commits may leave ``source`` and ``version`` as ``None``; ``target`` is needed.
    """
    config = dict(config or {})
    prefix = uuid.uuid4().hex[:8]
    keys = tuple(tuple(f"{prefix}-r{r}-k{i}" for i in range(hot_keys)) for r in range(rounds))
    plan = _Plan(lifecycle, config, keys, ops, dict(weights or {}), move_share, pause, seed)
    setup = make_adapter()
    initial: dict[str, Snapshot] = {}
    for round_keys in keys:
        for key in round_keys:
            snap = setup.create(key)
            initial[key] = snap if snap.version is not None else setup.read(key)
    tallies: list[_Tally] = []
    began = time.perf_counter()
    if mode == "thread":
        barrier = threading.Barrier(workers, timeout=120)
        results: list[_Tally | None] = [None] * workers

        def run(i: int) -> None:
            try:
                results[i] = _work(i, setup, plan, barrier)
            except BaseException as exc:
                results[i] = _Tally(errors=1, samples=[f"w{i}: {type(exc).__name__}: {exc}"])
                barrier.abort()

        threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        tallies = [r for r in results if r is not None]
    elif mode == "process":
        close_adapter(setup)
        ctx = multiprocessing.get_context("fork")
        pbarrier = ctx.Barrier(workers, timeout=120)
        queue = ctx.Queue()
        with warnings.catch_warnings():  # Python 3.12+: fork of a threaded parent (pytest)
            warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
            procs = [
                ctx.Process(target=_process_main, args=(i, make_adapter, plan, pbarrier, queue))
                for i in range(workers)
            ]
            for p in procs:
                p.start()
        tallies = [queue.get(timeout=600) for _ in procs]
        for p in procs:
            p.join(timeout=60)
        setup = make_adapter()
    else:
        raise ValueError(f"unknown mode {mode!r}; expected 'thread' or 'process'")
    seconds = time.perf_counter() - began
    final = {key: setup.read(key) for round_keys in keys for key in round_keys}
    close_adapter(setup)
    acks = [a for t in tallies for a in t.acks]
    check = check_history(lifecycle, config, acks, final, initial=initial, versions=versions)
    samples = tuple(s for t in tallies for s in t.samples)[:10]
    return StressReport(
        mode,
        workers,
        rounds,
        hot_keys,
        sum(t.attempts for t in tallies),
        sum(t.commits for t in tallies),
        sum(t.conflicts for t in tallies),
        sum(t.refused for t in tallies),
        sum(t.errors for t in tallies) + (workers - len(tallies)),
        seconds,
        check,
        samples,
    )
