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
from dataclasses import dataclass, field
from typing import Any, Literal

from statusguard.errors import IllegalTransition, MissingFlag
from statusguard.lifecycle._model import Lifecycle
from statusguard.testing._adapters import Adapter, Snapshot

__all__ = ["Ack", "HistoryCheck", "StressReport", "check_history", "run_stress"]


@dataclass(frozen=True, slots=True)
class Ack:
    """An acknowledged transition: ``key`` moved ``source -> target`` at ``version``.

    ``start_ns``/``end_ns`` (``time.monotonic_ns``) bound the operation that made it.
    """

    key: str
    worker: int
    event: str
    facts: tuple[tuple[str, bool], ...]
    source: str
    target: str
    version: int
    start_ns: int
    end_ns: int


@dataclass(frozen=True, slots=True)
class HistoryCheck:
    """What :func:`check_history` found.

    ``illegal``: acknowledged steps that are not a transition of the lifecycle.
    ``lost``: acknowledgements the final history does not contain (two acks for
    one version, a broken chain, a final state that disagrees). ``invented``:
    commits in the store nobody acknowledged. ``reordered``: pairs whose version
    order contradicts real time (B finished before A started, yet B is later).
    """

    keys: int
    commits: int
    illegal: int
    lost: int
    invented: int
    reordered: int
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the history is linearizable and legal."""
        return not (self.illegal or self.lost or self.invented or self.reordered)


def check_history(
    lifecycle: Lifecycle[Any, Any],
    config: Mapping[str, bool],
    acks: Iterable[Ack],
    final: Mapping[str, Snapshot],
) -> HistoryCheck:
    """Check per key that the acknowledged transitions are one legal path to ``final``."""
    by_key: dict[str, list[Ack]] = {key: [] for key in final}
    for ack in acks:
        by_key.setdefault(ack.key, []).append(ack)
    illegal = lost = invented = reordered = commits = 0
    problems: list[str] = []

    def note(msg: str) -> None:
        if len(problems) < 20:
            problems.append(msg)

    for key, history in by_key.items():
        history.sort(key=lambda a: (a.version, a.end_ns))
        commits += len(history)
        previous, expected_version = str(lifecycle.initial), 1
        order: list[Ack] = []
        for ack in history:
            flags = {**config, **dict(ack.facts)}
            try:
                legal = str(lifecycle.next(ack.source, ack.event, flags)) == ack.target
            except (IllegalTransition, MissingFlag):
                legal = False
            if not legal:
                illegal += 1
                note(f"{key} v{ack.version}: illegal {ack.source} -> {ack.target} ({ack.event})")
            if ack.version < expected_version:
                lost += 1
                note(f"{key} v{ack.version}: acknowledged twice (w{ack.worker}, {ack.event})")
                continue
            if ack.version > expected_version:
                invented += ack.version - expected_version
                note(
                    f"{key}: versions {expected_version}..{ack.version - 1} acknowledged by no one"
                )
            elif ack.source != previous:
                lost += 1
                note(f"{key} v{ack.version}: moved from {ack.source}, but {previous} was last")
            previous, expected_version = ack.target, ack.version + 1
            order.append(ack)
        stored = final.get(key)
        if stored is not None:
            if stored.status != previous:
                lost += 1
                note(
                    f"{key}: store holds {stored.status}, the acknowledged path ends at {previous}"
                )
            if stored.version is not None and stored.version != expected_version - 1:
                if stored.version > expected_version - 1:
                    invented += stored.version - (expected_version - 1)
                else:
                    lost += expected_version - 1 - stored.version
                note(
                    f"{key}: store at version {stored.version}, acks end at {expected_version - 1}"
                )
        latest_start = -1
        for ack in order:  # real time: no later version may end before an earlier one starts
            if ack.end_ns < latest_start:
                reordered += 1
                note(f"{key} v{ack.version}: ended before an earlier version's operation began")
            latest_start = max(latest_start, ack.start_ns)
    return HistoryCheck(len(by_key), commits, illegal, lost, invented, reordered, tuple(problems))


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
            f"invented {c.invented}, reordered {c.reordered} ({self.seconds:.1f} s)"
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
        outcome = adapter.write(key, seen, target)
    end = time.monotonic_ns()
    if not outcome.committed:
        if outcome.reason == "conflict":
            tally.conflicts += 1
        else:
            tally.refused += 1
        return
    if outcome.version is None or outcome.target is None or outcome.source is None:
        raise ValueError(
            "the adapter acknowledged a commit without source, target and version; "
            "the linearizability check needs all three"
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
        _close(adapter)
    queue.put(tally)


def _close(adapter: Adapter) -> None:
    close = getattr(adapter, "close", None)
    if callable(close):
        close()


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
) -> StressReport:
    """Race ``workers`` at ``hot_keys`` fresh keys per round; check the history.

    Threads share one adapter from ``make_adapter()``; each process makes its own
    (after the fork), so the adapter must reach shared storage (a file, a server).
    A worker reads a key, picks an event enabled there (``weights`` biases the
    choice), and either fires it (atomic) or, with probability ``move_share``,
    decides the target and writes it, sleeping ``pause`` seconds in between.
    """
    config = dict(config or {})
    prefix = uuid.uuid4().hex[:8]
    keys = tuple(tuple(f"{prefix}-r{r}-k{i}" for i in range(hot_keys)) for r in range(rounds))
    plan = _Plan(lifecycle, config, keys, ops, dict(weights or {}), move_share, pause, seed)
    setup = make_adapter()
    for round_keys in keys:
        for key in round_keys:
            setup.create(key)
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
        _close(setup)
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
    _close(setup)
    acks = [a for t in tallies for a in t.acks]
    check = check_history(lifecycle, config, acks, final)
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
