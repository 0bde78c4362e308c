"""The lifecycle-parametric race proof: each protocol's theorems proved once, for every lifecycle.

What it owns: :class:`ParametricEncoding` (the race over *any* lifecycle: statuses and
requests are uninterpreted sorts, ``enabled``/``next``, the absorbing states and the
reachable statuses uninterpreted symbols), :func:`parametric_proof` (the same one-step
induction as :func:`~statusguard.race._induction.induction`, workers an uninterpreted
sort, run once per protocol and cached: its cost does not depend on any model),
:func:`theorems_proof` (the same, of a protocol's theorems only: what the gate asks),
:func:`premises` (what a lifecycle must satisfy to inherit those verdicts, checked in
linear time on the explicit graph) and the method names (:data:`METHODS`).

Why it is sound: a request here stands for a request together with the fact values its
worker saw, so ``enabled(s, r)`` and ``next(s, r)`` range over every transition relation,
with any config fixed for the run. A lifecycle's own encoding
(:class:`~statusguard.race._encoding.Encoding`) is one interpretation of these symbols,
provided two premises hold on it, which :func:`premises` checks:

* ``reachable`` is closed under the enabled requests and holds at the start (true of the
  set of statuses reachable from the start under the allowed config, by construction),
  and every request enabled in a *reachable absorbing* status leads back to it (checked:
  no transition leaves a reachable terminal or ``absorbing`` state);
* some write is possible at all (checked: a request is enabled at the start), else the
  per-model proof is vacuous and the gate reports ``unknown``, as it always has.

So a theorem proved here holds for every lifecycle meeting the premises, and a planted
protocol bug (:attr:`RaceProtocol.mutants`) still breaks it. Where a premise fails, the
gate falls back to the per-model induction (:mod:`statusguard.race._induction`), whose
verdicts and counterexamples are unchanged.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from statusguard.race._encoding import Encoding, z3_module
from statusguard.race._induction import forget_frames, induction_on
from statusguard.race._problem import RaceProblem, absorbing_states
from statusguard.race._protocols import OBLIGATIONS, protocol_named
from statusguard.results import Verdict

__all__ = [
    "METHODS",
    "PARAMETRIC",
    "PARAMETRIC_METHOD",
    "PER_MODEL",
    "ParametricEncoding",
    "ParametricProof",
    "clear_cache",
    "parametric_proof",
    "premises",
    "theorems_proof",
]

PARAMETRIC = "lifecycle-parametric"
"""The default race method: a protocol's theorems proved once for every lifecycle."""
PER_MODEL = "per-model"
"""The race method that unrolls the model's own transition relation into every proof."""
METHODS = (PARAMETRIC, PER_MODEL)
"""The ``--method`` choices of ``statusguard check`` and ``statusguard race``."""

PARAMETRIC_METHOD = (
    "lifecycle-parametric: one-step induction over every lifecycle, workers an uninterpreted "
    "sort (any number of workers, any length); z3"
)
"""The ``method`` recorded for a verdict inherited from the lifecycle-parametric proof."""


class ParametricEncoding(Encoding):
    """The race over any lifecycle: the :class:`Encoding` interface with every model
    detail an uninterpreted symbol (so :func:`induction_on` runs on it unchanged). Its
    symbols are the same for every protocol, so the protocols share the induction's frame."""

    frame_key = ("lifecycle-parametric",)

    def __init__(self, protocol: str, z3: Any, mutation: str | None = None) -> None:
        self.z3 = z3
        self.proto = protocol_named(protocol)
        self.rule = self.proto.z3_rule(mutation)
        self.states, self.reqs, self.facts = [], [], []
        self.rank = None
        status, request = z3.DeclareSort("Status"), z3.DeclareSort("Request")
        self._sorts = (status, request)
        self._enabled = z3.Function("enabled", status, request, z3.BoolSort())
        self._next = z3.Function("next", status, request, status)
        self._valid = z3.Function("valid_request", request, z3.BoolSort())
        self._absorbing = z3.Function("absorbing", status, z3.BoolSort())
        self._reachable = z3.Function("reachable", status, z3.BoolSort())
        self._start = z3.Const("start", status)

    def S(self) -> Any:
        return self._sorts[0]

    def R(self) -> Any:
        return self._sorts[1]

    def start(self) -> Any:
        return self._start

    def sval(self, name: str) -> Any:
        raise TypeError("the lifecycle-parametric encoding names no status")

    def enabled(self, s: Any, r: Any, F: Mapping[str, Any]) -> Any:
        return self._enabled(s, r)

    def nxt(self, s: Any, r: Any, F: Mapping[str, Any]) -> Any:
        return self._next(s, r)

    def legal(self, g: Any, r: Any, F: Mapping[str, Any], g2: Any) -> Any:
        # A step of the relation itself (for a nondeterministic lifecycle, next() is one of
        # the targets, so this implies the lifecycle's own, existential, legal()).
        return self.z3.And(self._enabled(g, r), g2 == self._next(g, r))

    def valid_req(self, r: Any, allowed: Sequence[str] | None = None) -> Any:
        return self._valid(r)

    def in_reach(self, s: Any) -> Any:
        return self._reachable(s)

    def idx(self, s: Any) -> Any:
        raise TypeError("the lifecycle-parametric encoding has no rank")

    def is_absorbing(self, s: Any) -> Any:
        return self._absorbing(s)

    def axioms(self) -> list[Any]:
        """``reachable`` holds at the start and is closed under enabled requests; a request
        enabled in a reachable absorbing status leads back to it (:func:`premises`)."""
        z3 = self.z3
        s, r = z3.Const("s", self.S()), z3.Const("r", self.R())
        step = z3.And(self._reachable(s), self._valid(r), self._enabled(s, r))
        after = self._next(s, r)
        return [
            self._reachable(self._start),
            z3.ForAll([s, r], z3.Implies(step, self._reachable(after)), patterns=[after]),
            z3.ForAll(
                [s, r], z3.Implies(z3.And(step, self._absorbing(s)), after == s), patterns=[after]
            ),
        ]


@dataclass(frozen=True)
class ParametricProof:
    """Each obligation's verdict for every lifecycle under ``protocol`` (or its planted bug)."""

    protocol: str
    mutation: str | None
    verdicts: Mapping[str, Verdict]
    details: Mapping[str, str]
    seconds: float

    def proved(self, obligation: str) -> bool:
        return self.verdicts.get(obligation) is Verdict.PROVED


_CACHE: dict[tuple[str, str | None, tuple[str, ...]], ParametricProof] = {}


def clear_cache() -> None:
    """Forget the proofs run so far (tests and benchmarks measure a cold proof)."""
    _CACHE.clear()
    forget_frames()


def parametric_proof(
    protocol: str,
    obligations: Sequence[str] = OBLIGATIONS,
    *,
    mutation: str | None = None,
    timeout: float = 10.0,
) -> ParametricProof:
    """Prove ``obligations`` of ``protocol`` for every lifecycle (once per process).

    Takes no lifecycle: its cost is the same for every model. A verdict z3 settles is
    kept for the process; an ``unknown`` (timeout) is not, so a later call tries again.
    A ``violated`` is a counterexample to induction over *some* lifecycle, not a run of a
    given one: the gate then asks the per-model proof.
    """
    key = (protocol, mutation, tuple(obligations))
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    t0 = time.perf_counter()
    enc = ParametricEncoding(protocol, z3_module(), mutation)
    ind = induction_on(enc, obligations, timeout=timeout, started=t0)
    proof = ParametricProof(
        protocol, mutation, dict(ind.verdicts), dict(ind.details), time.perf_counter() - t0
    )
    if Verdict.UNKNOWN not in proof.verdicts.values():
        _CACHE[key] = proof
    return proof


def theorems_proof(protocol: str, *, timeout: float = 10.0) -> ParametricProof:
    """:func:`parametric_proof` of ``protocol``'s theorems only: what a lifecycle can
    inherit. The obligations that are no theorem need no solver work here (their
    counterexamples to induction are over *some* lifecycle, never inherited); they are
    settled on the model."""
    theorems = protocol_named(protocol).theorems
    return parametric_proof(
        protocol, tuple(o for o in OBLIGATIONS if o in theorems), timeout=timeout
    )


def premises(problem: RaceProblem) -> list[str]:
    """What keeps ``problem``'s lifecycle from inheriting the parametric verdicts (empty:
    nothing). Linear in the lifecycle: one pass over the transitions, and a search from the
    start only when an absorbing state can be left."""
    lc = problem.lifecycle
    requests = set(problem.requests())
    fixed = problem.config
    events = {str(e) for e in lc.events}
    every = requests >= events  # the gate's case: skip the request test
    out: defaultdict[str, list[str]] = defaultdict(list)  # the graph: status -> targets
    for tr in lc.transitions:
        if not every and str(tr.event) not in requests:
            continue
        if fixed and tr.when and any(n in fixed and fixed[n] != v for n, v in tr.when):
            continue
        target = str(tr.target)
        for src in tr.sources:
            out[str(src)].append(target)
    start = problem.start_status
    failed = []
    if not out.get(start) and not (requests - events):
        failed.append(f"no request is enabled at {start}, so no write can happen (vacuous)")
    leaving = {}  # absorbing state -> the first state it can be left to
    for s in absorbing_states(lc):
        leaves = sorted({x for x in out.get(s, ()) if x != s})
        if leaves:
            leaving[s] = leaves[0]
    if not leaving:  # the usual case: nothing to search for
        return failed
    seen = {start}
    frontier = [start]
    while frontier:
        s = frontier.pop()
        for nxt in out.get(s, ()):
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    for s in sorted(leaving.keys() & seen):
        failed.append(f"the absorbing state {s} is reachable and can be left (to {leaving[s]})")
    return failed
