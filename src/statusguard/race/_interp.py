"""A small explicit interpreter of the race protocols (no z3).

What it owns: :class:`RaceInterpreter`, the same semantics as the z3 model run step by
step with ``Lifecycle.next`` deciding targets, and :func:`step_violations`, the
obligations one write breaks. A write is the protocol record's ``step`` (backend
``model``) or its ``guard_call`` through a real :class:`~statusguard.guard.Guard` on a
:class:`~statusguard.guard.MemoryStore`, reached only through the public ``Store`` and
``Guard`` API (backend ``guard``), so a schedule can be replayed against the runtime
itself. Used to replay BMC counterexamples and to cross-check BMC by breadth-first search.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from statusguard.errors import IllegalTransition, MissingFlag, TransitionConflict
from statusguard.lifecycle._model import Lifecycle
from statusguard.lifecycle._scenarios import SAVE
from statusguard.race._problem import absorbing_states
from statusguard.race._protocols import Decision, protocol_named
from statusguard.race._schedule import read_entry, write_entry

__all__ = ["RaceInterpreter", "World", "step_violations"]

_KEY = "race"
"""The one key the guard backend stores."""


@dataclass(frozen=True)
class World:
    """The stored status and version, and each worker's pending decision."""

    status: str
    version: int
    pending: tuple[Decision | None, ...]


def _next(
    lc: Lifecycle[Any, Any], status: str, request: str, flags: Mapping[str, bool]
) -> str | None:
    """The target of ``request`` from ``status``, or ``None`` if it writes nothing there.

    A no-op (accepted without a change) writes nothing, as the guard does not: like a
    refused event it is no write, so the race has nothing to decide about it.
    """
    if request == SAVE:
        return status
    try:
        target = str(lc.next(status, request, flags))
    except (IllegalTransition, MissingFlag):
        return None
    if target == status and lc.noops and lc.is_noop(status, request, flags):
        return None
    return target


def _is_transition(
    lc: Lifecycle[Any, Any], src: str, request: str, dst: str, flags: Mapping[str, bool]
) -> bool:
    """Some transition takes ``src`` to ``dst`` on ``request`` (a save: ``dst == src``)."""
    if request == SAVE:
        return dst == src
    return any(
        all(flags.get(n) == v for n, v in when) for when in _edges(lc).get((src, request, dst), ())
    )


Edges = dict[tuple[str, str, str], list[tuple[tuple[str, bool], ...]]]
_EDGES: dict[int, tuple[Lifecycle[Any, Any], Edges]] = {}


def _edges(lc: Lifecycle[Any, Any]) -> Edges:
    """``(source, event, target)`` to the ``when`` conditions of the transitions taking it,
    for the last few lifecycles (a search asks about one lifecycle thousands of times)."""
    held = _EDGES.get(id(lc))
    if held is not None and held[0] is lc:
        return held[1]
    edges: Edges = {}
    for t in lc.transitions:
        for s in t.sources:
            edges.setdefault((str(s), str(t.event), str(t.target)), []).append(tuple(t.when))
    if len(_EDGES) >= 8:
        _EDGES.pop(next(iter(_EDGES)))
    _EDGES[id(lc)] = (lc, edges)
    return edges


def step_violations(
    lc: Lifecycle[Any, Any],
    entry: Mapping[str, Any],
    protocol: str,
    config: Mapping[str, bool],
) -> set[str]:
    """The race obligations a schedule's write entry breaks."""
    found: set[str] = set()
    if entry["action"] == "read":
        return found
    if entry["action"] == "rejected":
        if entry["read_version"] == entry["version"]:
            found.add("progress")
        return found
    request = entry.get("request") or entry.get("event") or "save"
    request = SAVE if request == "save" else request
    src, dst = entry["from"], entry["status"]
    flags = {**config, **(entry.get("facts") or {})}
    if not _is_transition(lc, src, request, dst, flags):
        found.add("legal_steps")
    if src in absorbing_states(lc) and dst != src:
        found.add("absorbing")
    basis_is_read = not protocol_named(protocol).decides_at_write
    if basis_is_read and entry["read_version"] != entry["version"] - 1:
        found.add("fresh_decision")
    return found


class RaceInterpreter:
    """Explicit semantics of one protocol on one lifecycle under a complete config."""

    def __init__(
        self,
        lc: Lifecycle[Any, Any],
        protocol: str,
        config: Mapping[str, bool],
        *,
        start: str | None = None,
        workers: int = 2,
        roles: Sequence[Sequence[str]] | None = None,
        backend: str = "model",
    ) -> None:
        self.lc = lc
        self.protocol = protocol
        self.proto = protocol_named(protocol)
        self.config = dict(config)
        self.start = str(start if start is not None else lc.initial)
        self.workers = workers
        reqs = [str(e) for e in lc.events]
        if roles is None:
            self.roles = [tuple(reqs)] * workers
        else:
            self.roles = [tuple(roles[w % len(roles)]) for w in range(workers)]
        if self.proto.guarded:
            self.roles = [tuple(r for r in role if r != SAVE) for role in self.roles]
        if backend not in ("model", "guard"):
            raise ValueError(f"backend must be 'model' or 'guard', got {backend!r}")
        if backend == "guard" and not self.proto.guarded:
            raise ValueError("the guard backend runs guarded protocols only")
        self.backend = backend
        facts = set(lc.fact_flags)
        # _next's answers, by (status, request, the facts as sorted items): the search asks
        # the same few again and again, and a refused one costs an IllegalTransition
        self._targets: dict[tuple[str, str, tuple[tuple[str, bool], ...]], str | None] = {}
        self._relevant: dict[str, list[str]] = {}
        for t in lc.transitions:
            rel = self._relevant.setdefault(str(t.event), [])
            rel.extend(n for n, _ in t.when if n in facts and n not in rel)

    def _target(self, status: str, request: str, facts: tuple[tuple[str, bool], ...]) -> str | None:
        """:func:`_next` under this config and ``facts`` (sorted items), answered once."""
        key = (status, request, facts)
        try:
            return self._targets[key]
        except KeyError:
            found = self._targets[key] = _next(
                self.lc, status, request, {**self.config, **dict(facts)}
            )
            return found

    def initial(self) -> World:
        return World(self.start, 0, (None,) * self.workers)

    def choices(self, world: World, w: int) -> list[tuple[str, dict[str, bool]]]:
        """Every (request, facts) worker ``w`` may decide on reading ``world``."""
        if world.pending[w] is not None:
            return []
        out = []
        for request in self.roles[w]:
            names = self._relevant.get(request, [])
            for bits in itertools.product((False, True), repeat=len(names)):
                facts = dict(zip(names, bits, strict=True))
                if self._target(world.status, request, tuple(sorted(facts.items()))) is not None:
                    out.append((request, facts))
        return out

    def read(
        self, world: World, w: int, request: str, facts: Mapping[str, bool]
    ) -> tuple[World, dict[str, Any]]:
        target = self._target(world.status, request, tuple(sorted(facts.items())))
        if world.pending[w] is not None or target is None or request not in self.roles[w]:
            raise ValueError(f"worker {w + 1} cannot read and decide {request} in {world}")
        d = Decision(request, world.status, world.version, tuple(sorted(facts.items())), target)
        pending = list(world.pending)
        pending[w] = d
        entry = read_entry(w + 1, world.status, world.version, request, target, facts)
        return World(world.status, world.version, tuple(pending)), entry

    def write(self, world: World, w: int) -> tuple[World, dict[str, Any]]:
        d = world.pending[w]
        if d is None:
            raise ValueError(f"worker {w + 1} has nothing to write in {world}")
        if self.backend == "guard":
            committed = self._guard_write(world, d)
        else:
            committed = self.proto.step(
                d,
                world.status,
                world.version,
                lambda status: self._target(status, d.request, d.facts),
            )
        new = world.status if committed is None else committed
        version = world.version if committed is None else world.version + 1
        pending = list(world.pending)
        pending[w] = None
        assert d.version is not None  # the interpreter's reads always see a version
        entry = write_entry(
            w + 1,
            committed is not None,
            dict(d.facts),
            world.status,
            new,
            d.request,
            version,
            d.status,
            d.version,
        )
        return World(new, version, tuple(pending)), entry

    def _guard_write(self, world: World, d: Decision) -> str | None:
        """The write through a real Guard on a store holding ``world``; ``None`` if rejected.

        The store reaches the world's version by committed self-writes, so it is built with
        the public :class:`~statusguard.guard.Store` API only.
        """
        from statusguard.guard import Guard, MemoryStore  # the runtime, only when replayed on it

        call = self.proto.guard_call
        assert call is not None  # checked in __init__
        store = MemoryStore()
        store.create(_KEY, world.status)
        for _ in range(world.version):
            store.compare_and_set(_KEY, world.status, world.status)
        guard: Guard[Any, Any] = Guard(self.lc, store, self.config)
        try:
            done = call(guard, _KEY, d)
        except (IllegalTransition, TransitionConflict):
            return None
        return None if done.noop else done.target  # a no-op wrote nothing

    def replay(self, schedule: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Run a schedule's reads (with their decisions) and writes; return what happened.

        Each returned write entry carries ``"violates"``: the obligations it breaks.
        """
        world = self.initial()
        out = []
        for s in schedule:
            w = int(s["worker"]) - 1
            if s["action"] == "read":
                req = s.get("request") or s.get("event") or "save"
                world, entry = self.read(
                    world, w, SAVE if req == "save" else req, dict(s.get("facts") or {})
                )
            else:
                world, entry = self.write(world, w)
                entry["violates"] = sorted(
                    step_violations(self.lc, entry, self.protocol, self.config)
                )
            out.append(entry)
        return out

    def shortest_violation(self, obligations: Sequence[str], depth: int) -> int | None:
        """Breadth-first search: the fewest steps to a write breaking an obligation."""
        found = self.first_violation(obligations, depth)
        return None if found is None else len(found)

    def first_violation(
        self, obligations: Sequence[str], depth: int, *, budget: int | None = None
    ) -> list[dict[str, Any]] | None:
        """The first shortest schedule (in a fixed search order) whose last write breaks one
        of ``obligations``; ``None`` if there is none within ``depth`` steps.

        The order is deterministic (workers, then requests, then fact values), so the
        schedule is a canonical counterexample. Raises :class:`OverflowError` after
        ``budget`` states.
        """
        start = self.initial()
        parent: dict[World, tuple[World, dict[str, Any]] | None] = {start: None}
        frontier: deque[tuple[World, int]] = deque([(start, 0)])
        wanted = list(obligations)

        def path(world: World, last: dict[str, Any]) -> list[dict[str, Any]]:
            out = [last]
            link = parent[world]
            while link is not None:
                world, entry = link
                out.append(entry)
                link = parent[world]
            return out[::-1]

        while frontier:
            world, d = frontier.popleft()
            if d >= depth:
                continue
            for w in range(self.workers):
                succ: list[tuple[World, dict[str, Any]]] = []
                if world.pending[w] is None:
                    for req, facts in self.choices(world, w):
                        succ.append(self.read(world, w, req, facts))
                else:
                    nxt, entry = self.write(world, w)
                    broken = step_violations(self.lc, entry, self.protocol, self.config)
                    hit = [o for o in wanted if o in broken]
                    if hit:
                        entry["violates"] = hit[0]
                        return path(world, entry)
                    succ.append((nxt, entry))
                for n, entry in succ:
                    if n not in parent:
                        parent[n] = (world, entry)
                        frontier.append((n, d + 1))
                        if budget is not None and len(parent) > budget:
                            raise OverflowError(f"more than {budget} states")
        return None
