"""The concurrency model: N workers racing to write one resource's status.

One resource has a stored status ``g`` and a version ``v`` (a counter of committed
writes; a ghost for the protocols that do not store it). Each worker loops: it
**reads** ``(g, v)``, **decides** a request enabled in what it read (an event with
the fact values it sees, or a metadata save), and later **writes**. Steps of
different workers interleave arbitrarily; each step is atomic. The write discipline
is the protocol:

* ``unguarded``: ``g := target`` computed from the read (Glance's plain saves);
* ``cas_status``: commit only if ``g`` still equals the status read
  (``Guard.move(key, target, expected=read)``; Glance's ``from_state``);
* ``cas_version``: commit only if ``v`` still equals the version read, bumping it
  (``Guard.move(..., expected_version=read_version)``);
* ``atomic_event``: apply the event to the *current* ``g`` in one step, rejecting it
  if it is not enabled there (``Guard.fire`` -> ``Store.apply``, a single conditional
  UPDATE).

Obligations on every committed write (``race.<name>.<protocol>``):

* ``legal_steps``: the commit ``g --event--> g'`` is a transition of the lifecycle
  under the config (a metadata save must leave ``g`` unchanged);
* ``absorbing``: a terminal or ``Absorbing`` state is never left;
* ``fresh_decision``: the committed target was computed from the latest committed
  state (no commit between the basis of the decision and the write);
* ``progress``: a rejected write implies another commit happened after its read.

Methods: an **unbounded** one-step inductive proof with workers as an uninterpreted
sort (so it holds for any number of workers and any run length), and **bounded model
checking** over N workers and depth D for the shortest counterexample. z3 is
imported lazily; ``unknown`` is never reported as proved.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from statusguard._text import format_flags
from statusguard.errors import UnknownProtocol, UnknownScenario
from statusguard.lifecycle._invariants import Absorbing
from statusguard.lifecycle._model import Lifecycle
from statusguard.lifecycle._parts import FlagKind
from statusguard.race._scenarios import SAVE, RaceScenario, scenarios_for
from statusguard.results import Counterexample, ObligationResult, TraceStep, Verdict

__all__ = [
    "OBLIGATIONS",
    "PROTOCOLS",
    "RaceCheck",
    "RaceProblem",
    "as_gate_obligation",
    "bmc",
    "induction",
    "race_checks",
    "race_obligations",
    "race_results",
    "render_schedule",
]

PROTOCOLS = ("unguarded", "cas_status", "cas_version", "atomic_event")
OBLIGATIONS = ("legal_steps", "absorbing", "fresh_decision", "progress")
GUARDED = ("cas_status", "cas_version", "atomic_event")

INDUCTION_METHOD = (
    "one-step induction, workers an uninterpreted sort (any number of workers, any length); z3"
)
BMC_METHOD = "bounded model checking, shortest interleaving; z3 QF_BV"
VACUOUS = (
    "vacuous: no worker can ever write (no request is enabled in a reachable status), "
    "so there is no race to check"
)
GAVE_UP = "z3 returned"

# For any lifecycle these follow from the protocol alone (the gate expects them proved).
_THEOREMS: dict[str, frozenset[str]] = {
    "atomic_event": frozenset(OBLIGATIONS),
    "cas_version": frozenset(OBLIGATIONS),
    "cas_status": frozenset({"legal_steps", "absorbing", "progress"}),
    "unguarded": frozenset({"progress"}),
}


def _check_protocol(protocol: str) -> str:
    if protocol not in PROTOCOLS:
        raise UnknownProtocol(protocol, PROTOCOLS)
    return protocol


@dataclass(frozen=True)
class RaceProblem:
    """What to check: a lifecycle, a protocol, where the race starts, who may do what.

    ``roles`` gives each worker's requests (an event name or ``SAVE``); ``None``
    lets every worker handle every event. ``config`` fixes config flags; the ones
    left out range over every setting. ``mutation`` plants a bug (tests only).
    """

    lifecycle: Lifecycle[Any, Any]
    protocol: str
    start: str | None = None
    roles: tuple[tuple[str, ...], ...] | None = None
    config: Mapping[str, bool] = field(default_factory=dict)
    mutation: str | None = None

    def __post_init__(self) -> None:
        _check_protocol(self.protocol)
        self.lifecycle.check_flags(self.config, kind=FlagKind.CONFIG)
        if self.start is not None:
            self.lifecycle.state(self.start)
        for role in self.roles or ():
            for r in role:
                if r != SAVE:
                    self.lifecycle.event(r)

    @property
    def start_status(self) -> str:
        return str(self.start if self.start is not None else self.lifecycle.initial)

    def requests(self) -> tuple[str, ...]:
        """Every request in play; metadata saves write no status under a guard."""
        if self.roles is None:
            reqs: Iterable[str] = (str(e) for e in self.lifecycle.events)
        else:
            seen: dict[str, None] = {}
            for role in self.roles:
                for r in role:
                    seen.setdefault(r, None)
            reqs = seen
        return tuple(r for r in reqs if not (r == SAVE and self.protocol != "unguarded"))

    def role(self, worker: int) -> tuple[str, ...]:
        """The requests worker ``worker`` (0-based) may handle."""
        allowed = self.requests()
        if self.roles is None:
            return allowed
        role = self.roles[worker % len(self.roles)]
        return tuple(r for r in role if r in allowed)


def absorbing_states(lc: Lifecycle[Any, Any]) -> frozenset[str]:
    """Terminal states and the states of ``Absorbing`` invariants."""
    out = {str(s) for s in lc.terminal}
    out.update(str(i.state) for i in lc.invariants if isinstance(i, Absorbing))
    return frozenset(out)


# --- the encoding shared by BMC and induction ------------------------------------------------


class _Enc:
    """Statuses and requests as bit-vectors; the transition relation as z3 terms."""

    def __init__(self, problem: RaceProblem, z3: Any) -> None:
        self.z3 = z3
        self.p = problem
        lc = problem.lifecycle
        self.states = [str(s) for s in lc.states]
        self.sidx = {s: i for i, s in enumerate(self.states)}
        self.reqs = list(problem.requests())
        self.ridx = {r: i for i, r in enumerate(self.reqs)}
        self.sbits = max(1, (len(self.states) - 1).bit_length())
        self.rbits = max(1, len(self.reqs).bit_length())
        self.facts = list(lc.fact_flags)
        self.cfg: dict[str, Any] = {
            f: z3.BoolVal(problem.config[f]) if f in problem.config else z3.Bool(f"config_{f}")
            for f in lc.config_flags
        }
        self.absorbing = absorbing_states(lc)
        # per request: (sources, target, fact literals, config literals)
        self.rules: dict[int, list[tuple[list[int], int, list[tuple[str, bool]], Any]]] = {}
        for t in lc.transitions:
            r = self.ridx.get(str(t.event))
            if r is None:
                continue
            flits = [(n, v) for n, v in t.when if n in self.facts]
            clits = [self.cfg[n] if v else z3.Not(self.cfg[n]) for n, v in t.when if n in self.cfg]
            self.rules.setdefault(r, []).append(
                ([self.sidx[str(s)] for s in t.sources], self.sidx[str(t.target)], flits, clits)
            )
        self.reach = self._reach()
        self.rank = self._rank()
        self._tmpl: tuple[Any, Any, list[tuple[Any, Any]]] | None = None

    # z3 sorts and values
    def S(self) -> Any:
        return self.z3.BitVecSort(self.sbits)

    def R(self) -> Any:
        return self.z3.BitVecSort(self.rbits)

    def sval(self, name: str) -> Any:
        return self.z3.BitVecVal(self.sidx[name], self.sbits)

    def rval(self, i: int) -> Any:
        return self.z3.BitVecVal(i, self.rbits)

    def _config_settings(self) -> list[dict[str, bool]]:
        free = [f for f in self.p.lifecycle.config_flags if f not in self.p.config]
        out = []
        for bits in range(1 << len(free)):
            cfg = dict(self.p.config)
            cfg.update({n: bool(bits >> i & 1) for i, n in enumerate(free)})
            out.append(cfg)
        return out

    def _edges(self) -> set[tuple[int, int]]:
        """Edges the requests in play can take, under some setting of the free config."""
        edges: set[tuple[int, int]] = set()
        for cfg in self._config_settings():
            for t in self.p.lifecycle.transitions:
                if str(t.event) not in self.ridx:
                    continue
                if any(n in cfg and cfg[n] != v for n, v in t.when):
                    continue
                for s in t.sources:
                    edges.add((self.sidx[str(s)], self.sidx[str(t.target)]))
        return edges

    def _reach(self) -> list[int]:
        edges = self._edges()
        seen = [self.sidx[self.p.start_status]]
        frontier = list(seen)
        while frontier:
            s = frontier.pop()
            for a, b in edges:
                if a == s and b not in seen:
                    seen.append(b)
                    frontier.append(b)
        return sorted(seen)

    def _rank(self) -> dict[int, int] | None:
        """A topological numbering of the reachable graph, or ``None`` if it has a cycle."""
        edges = {(a, b) for a, b in self._edges() if a in self.reach and b in self.reach}
        indeg = dict.fromkeys(self.reach, 0)
        for _, b in edges:
            indeg[b] += 1
        order: list[int] = []
        ready = [s for s, d in indeg.items() if d == 0]
        while ready:
            s = ready.pop()
            order.append(s)
            for a, b in edges:
                if a == s:
                    indeg[b] -= 1
                    if indeg[b] == 0:
                        ready.append(b)
        if len(order) != len(self.reach):
            return None
        return {s: i for i, s in enumerate(order)}

    # the transition relation
    def _rule_holds(
        self, rule: tuple[list[int], int, list[tuple[str, bool]], Any], s: Any, F: Mapping[str, Any]
    ) -> Any:
        z3 = self.z3
        sources, _, flits, clits = rule
        conj = [z3.Or([s == z3.BitVecVal(x, self.sbits) for x in sources])]
        conj += [F[n] if v else z3.Not(F[n]) for n, v in flits]
        conj += clits
        return z3.And(conj)

    def _templates(self) -> tuple[Any, Any, list[tuple[Any, Any]]]:
        """``enabled`` and ``nxt`` built once over placeholder terms (then substituted)."""
        if self._tmpl is None:
            z3 = self.z3
            s0, r0 = z3.Const("_s", self.S()), z3.Const("_r", self.R())
            F0 = {f: z3.Bool(f"_fact_{f}") for f in self.facts}
            self._tmpl = (
                self._build_enabled(s0, r0, F0),
                self._build_nxt(s0, r0, F0),
                [(s0, r0), *[(F0[f], f) for f in self.facts]],
            )
        return self._tmpl

    def _subst(self, term: Any, s: Any, r: Any, F: Mapping[str, Any]) -> Any:
        _, _, holes = self._templates()
        (s0, r0), *facts = holes
        pairs = [(s0, s), (r0, r), *[(h, F[name]) for h, name in facts]]
        return self.z3.substitute(term, *pairs)

    def enabled(self, s: Any, r: Any, F: Mapping[str, Any]) -> Any:
        return self._subst(self._templates()[0], s, r, F)

    def nxt(self, s: Any, r: Any, F: Mapping[str, Any]) -> Any:
        return self._subst(self._templates()[1], s, r, F)

    def _build_enabled(self, s: Any, r: Any, F: Mapping[str, Any]) -> Any:
        z3 = self.z3
        terms = []
        for ri, req in enumerate(self.reqs):
            if req == SAVE:
                terms.append(r == self.rval(ri))
                continue
            rules = self.rules.get(ri, [])
            if rules:
                terms.append(
                    z3.And(r == self.rval(ri), z3.Or([self._rule_holds(x, s, F) for x in rules]))
                )
        return z3.Or(terms) if terms else z3.BoolVal(False)

    def _build_nxt(self, s: Any, r: Any, F: Mapping[str, Any]) -> Any:
        z3 = self.z3
        out = s
        for ri, rules in self.rules.items():
            for rule in rules:
                out = z3.If(
                    z3.And(r == self.rval(ri), self._rule_holds(rule, s, F)),
                    z3.BitVecVal(rule[1], self.sbits),
                    out,
                )
        return out

    def legal(self, g: Any, r: Any, F: Mapping[str, Any], g2: Any) -> Any:
        """``g --r--> g2`` is a transition (a save: ``g2 == g``).

        Existential over the lifecycle's rules, so it stays right for a lifecycle that
        fails ``deterministic`` (where ``nxt`` picks one of the targets).
        """
        z3 = self.z3
        save = [r == self.rval(i) for i, q in enumerate(self.reqs) if q == SAVE]
        options = [
            z3.And(
                r == self.rval(ri),
                self._rule_holds(rule, g, F),
                g2 == z3.BitVecVal(rule[1], self.sbits),
            )
            for ri, rules in self.rules.items()
            for rule in rules
        ]
        step = z3.Or(options) if options else z3.BoolVal(False)
        if save:
            return z3.If(z3.Or(save), g2 == g, step)
        return step

    def valid_req(self, r: Any, allowed: Sequence[str] | None = None) -> Any:
        z3 = self.z3
        names = self.reqs if allowed is None else allowed
        return z3.Or([r == self.rval(self.ridx[n]) for n in names]) if names else z3.BoolVal(False)

    def in_reach(self, s: Any) -> Any:
        return self.z3.Or([s == self.z3.BitVecVal(x, self.sbits) for x in self.reach])

    def idx(self, s: Any) -> Any:
        z3 = self.z3
        assert self.rank is not None
        out: Any = z3.IntVal(0)
        for st, i in self.rank.items():
            out = z3.If(s == z3.BitVecVal(st, self.sbits), z3.IntVal(i), out)
        return out

    def is_absorbing(self, s: Any) -> Any:
        z3 = self.z3
        return z3.Or([s == self.sval(x) for x in sorted(self.absorbing)] or [z3.BoolVal(False)])

    def write(
        self, g: Any, v: Any, rs: Any, rv: Any, r: Any, F: Mapping[str, Any], tgt: Any
    ) -> tuple[Any, Any, Any]:
        """``(committed, g', basis version)`` of a write under the protocol."""
        z3 = self.z3
        proto, mut = self.p.protocol, self.p.mutation
        if proto == "unguarded":
            return z3.BoolVal(True), tgt, rv
        if proto in ("cas_status", "cas_version"):
            ok = (g == rs) if proto == "cas_status" else (v == rv)
            if mut == "skip_compare":
                ok = z3.BoolVal(True)
            return ok, z3.If(ok, tgt, g), rv
        # atomic_event: the store computes the target from the current status
        if mut == "skip_compare":
            return z3.BoolVal(True), tgt, v
        if mut == "stale_target":
            ok = self.enabled(g, r, F)
            return ok, z3.If(ok, tgt, g), v
        ok = self.enabled(g, r, F)
        return ok, z3.If(ok, self.nxt(g, r, F), g), v

    def obligation(
        self,
        name: str,
        ok: Any,
        g: Any,
        g2: Any,
        v: Any,
        basis: Any,
        rv: Any,
        r: Any,
        F: Mapping[str, Any],
    ) -> Any:
        z3 = self.z3
        if name == "legal_steps":
            return z3.Implies(ok, self.legal(g, r, F, g2))
        if name == "absorbing":
            return z3.Implies(z3.And(ok, self.is_absorbing(g)), g2 == g)
        if name == "fresh_decision":
            return z3.Implies(ok, basis == v)
        if name == "progress":
            return z3.Implies(z3.Not(ok), v != rv)
        raise ValueError(name)


def _z3() -> Any:
    import z3

    return z3


def _check(solver: Any) -> str:
    return str(solver.check())


# --- unbounded: one-step induction over an uninterpreted worker sort ---------------------------


@dataclass(frozen=True)
class InductionResult:
    """Per obligation: ``proved`` / ``violated`` (a counterexample to induction) / ``unknown``."""

    verdicts: Mapping[str, Verdict]
    details: Mapping[str, str]
    invariant: str
    seconds: float
    vacuous: bool = False


def induction(
    problem: RaceProblem,
    obligations: Sequence[str] = OBLIGATIONS,
    *,
    timeout: float = 10.0,
    quantified: bool = False,
) -> InductionResult:
    """Try to prove each obligation for any number of workers and any run length.

    ``Inv = G(g, v) and forall w. P(w)``: every pending worker's decision is a legal
    move from the status it read, its read version is at most ``v``, and if no
    commit happened since its read the stored status is still what it read (plus,
    when the reachable graph is acyclic, a topological rank that only grows, so an
    unchanged status means no commit since the read). The obligations are checked on
    one step of an arbitrary worker ``i``, with ``P`` instantiated at ``i`` and at an
    arbitrary worker ``w0`` (a weakening: unsat still proves the quantified claim).
    A ``violated`` here is a counterexample to induction, not necessarily reachable:
    run :func:`bmc` for a real interleaving. ``quantified=True`` keeps the hypothesis
    as a real ``forall`` instead (a cross-check; z3 may answer ``unknown`` there).
    """
    z3 = _z3()
    t0 = time.perf_counter()
    enc = _Enc(problem, z3)
    candidates = ["rank", "plain"] if enc.rank is not None else ["plain"]
    verdicts: dict[str, Verdict] = {}
    details: dict[str, str] = {}
    used = ""
    for kind in candidates:
        result = _induction_with(enc, kind, obligations, timeout, quantified)
        if result is None:  # invariant not inductive (or unknown): try the next
            continue
        ok_inv, per = result
        if not ok_inv:  # no write step is possible at all
            return InductionResult(
                dict.fromkeys(obligations, Verdict.UNKNOWN),
                dict.fromkeys(obligations, VACUOUS),
                kind,
                time.perf_counter() - t0,
                vacuous=True,
            )
        used = used or kind
        for name, (verdict, detail) in per.items():
            if verdicts.get(name) is Verdict.PROVED:
                continue
            if verdict is Verdict.PROVED:
                used = kind
            verdicts[name] = verdict
            details[name] = detail
        del ok_inv
        if all(verdicts.get(n) is Verdict.PROVED for n in obligations):
            break
    for name in obligations:
        if name not in verdicts:
            verdicts[name] = Verdict.UNKNOWN
            details[name] = "no candidate invariant is inductive"
    return InductionResult(verdicts, details, used, time.perf_counter() - t0)


def _induction_with(
    enc: _Enc, kind: str, obligations: Sequence[str], timeout: float, quantified: bool = False
) -> tuple[bool, dict[str, tuple[Verdict, str]]] | None:
    z3 = enc.z3
    W = z3.DeclareSort("Worker")
    S, R, Int = enc.S(), enc.R(), z3.IntSort()
    i, w0 = z3.Const("i", W), z3.Const("w0", W)

    def state(tag: str) -> dict[str, Any]:
        return {
            "g": z3.Const(f"g{tag}", S),
            "v": z3.Int(f"v{tag}"),
            "pend": z3.Array(f"pend{tag}", W, z3.BoolSort()),
            "rs": z3.Array(f"rs{tag}", W, S),
            "rv": z3.Array(f"rv{tag}", W, Int),
            "rq": z3.Array(f"rq{tag}", W, R),
            "tgt": z3.Array(f"tgt{tag}", W, S),
            "F": {f: z3.Array(f"fact_{f}{tag}", W, z3.BoolSort()) for f in enc.facts},
        }

    def G(st: dict[str, Any]) -> Any:
        return z3.And(st["v"] >= 0, enc.in_reach(st["g"]))

    def P(st: dict[str, Any], w: Any) -> Any:
        rs, rv, rq = st["rs"][w], st["rv"][w], st["rq"][w]
        F = {f: a[w] for f, a in st["F"].items()}
        conj = [
            enc.valid_req(rq),
            enc.enabled(rs, rq, F),
            st["tgt"][w] == enc.nxt(rs, rq, F),
            rv >= 0,
            rv <= st["v"],
            z3.Implies(rv == st["v"], rs == st["g"]),
            enc.in_reach(rs),
        ]
        if kind == "rank":
            conj += [enc.idx(rs) <= enc.idx(st["g"]), z3.Implies(rs == st["g"], rv == st["v"])]
        return z3.Implies(st["pend"][w], z3.And(conj))

    s, s2 = state(""), state("'")
    same = [s2[k] == s[k] for k in ("rs", "rv", "rq", "tgt")] + [
        s2["F"][f] == s["F"][f] for f in enc.facts
    ]
    init = z3.And(
        s["g"] == enc.sval(enc.p.start_status),
        s["v"] == 0,
        s["pend"] == z3.K(W, z3.BoolVal(False)),
    )
    c_r = z3.Const("choice_request", R)
    c_F = {f: z3.Bool(f"choice_{f}") for f in enc.facts}
    read = z3.And(
        z3.Not(s["pend"][i]),
        enc.valid_req(c_r),
        enc.enabled(s["g"], c_r, c_F),
        s2["g"] == s["g"],
        s2["v"] == s["v"],
        s2["pend"] == z3.Store(s["pend"], i, True),
        s2["rs"] == z3.Store(s["rs"], i, s["g"]),
        s2["rv"] == z3.Store(s["rv"], i, s["v"]),
        s2["rq"] == z3.Store(s["rq"], i, c_r),
        s2["tgt"] == z3.Store(s["tgt"], i, enc.nxt(s["g"], c_r, c_F)),
        *[s2["F"][f] == z3.Store(s["F"][f], i, c_F[f]) for f in enc.facts],
    )
    Fi = {f: a[i] for f, a in s["F"].items()}
    ok, g2, basis = enc.write(s["g"], s["v"], s["rs"][i], s["rv"][i], s["rq"][i], Fi, s["tgt"][i])
    write = z3.And(
        s["pend"][i],
        s2["g"] == g2,
        s2["v"] == z3.If(ok, s["v"] + 1, s["v"]),
        s2["pend"] == z3.Store(s["pend"], i, False),
        *same,
    )
    hyp = _hypothesis(z3, W, G, P, s, (i, w0), quantified)
    solver = z3.Solver()
    solver.set("timeout", max(1, int(timeout * 1000)))

    def unsat(*fs: Any) -> str:
        solver.push()
        solver.add(*fs)
        r = _check(solver)
        model = solver.model() if r == "sat" else None
        solver.pop()
        unsat.model = model  # type: ignore[attr-defined]
        return r

    # the hypotheses must be satisfiable, or the proof is vacuous
    vac = unsat(hyp, write)
    if vac == "unsat":
        return False, {}
    if vac != "sat":
        return None
    for f in (z3.And(init, z3.Not(z3.And(G(s), P(s, w0)))),):
        if unsat(f) != "unsat":
            return None
    for step in (read, write):
        if unsat(hyp, step, z3.Not(z3.And(G(s2), P(s2, w0)))) != "unsat":
            return None
    per: dict[str, tuple[Verdict, str]] = {}
    obls = {
        name: enc.obligation(name, ok, s["g"], g2, s["v"], basis, s["rv"][i], s["rq"][i], Fi)
        for name in obligations
    }
    # one query for all; only if it fails, one per obligation (to name which)
    if unsat(hyp, write, z3.Not(z3.And(list(obls.values())))) == "unsat":
        return True, dict.fromkeys(obligations, (Verdict.PROVED, f"invariant: {kind}"))
    for name, obl in obls.items():
        r = unsat(hyp, write, z3.Not(obl))
        if r == "unsat":
            per[name] = (Verdict.PROVED, f"invariant: {kind}")
        elif r == "sat":
            m = unsat.model  # type: ignore[attr-defined]
            per[name] = (Verdict.VIOLATED, _cti(enc, m, s, i, ok, g2))
        else:
            per[name] = (Verdict.UNKNOWN, "z3 returned unknown (timeout?)")
    return True, per


def _hypothesis(
    z3: Any, W: Any, G: Any, P: Any, s: Any, instances: tuple[Any, Any], quantified: bool
) -> Any:
    """``G and forall w. P(w)``: as a real forall, or instantiated at the acting worker
    and an arbitrary one (a weakening, so unsat still proves the quantified claim)."""
    if quantified:
        w = z3.Const("w", W)
        return z3.And(G(s), z3.ForAll([w], P(s, w)))
    return z3.And(G(s), *(P(s, x) for x in instances))


def _cti(enc: _Enc, m: Any, s: dict[str, Any], i: Any, ok: Any, g2: Any) -> str:
    z3 = enc.z3

    def st(x: Any) -> str:
        n = m.eval(x, model_completion=True).as_long()
        return enc.states[n] if n < len(enc.states) else f"#{n}"

    rq = m.eval(s["rq"][i], model_completion=True).as_long()
    req = enc.reqs[rq] if rq < len(enc.reqs) else f"#{rq}"
    committed = z3.is_true(m.eval(ok, model_completion=True))
    return (
        f"counterexample to induction: stored {st(s['g'])}, worker read {st(s['rs'][i])} and "
        f"decided {req} -> {st(s['tgt'][i])}; "
        + (f"commit makes it {st(g2)}" if committed else "write rejected")
    )


# --- bounded model checking -----------------------------------------------------------------


@dataclass(frozen=True)
class BmcResult:
    """``status`` violated (with the shortest schedule), proved-to-bound, or unknown."""

    status: Verdict
    depth: int
    workers: int
    seconds: float
    counterexample: Counterexample | None = None
    obligation: str | None = None
    detail: str = ""


def bmc(
    problem: RaceProblem,
    obligations: Sequence[str],
    *,
    workers: int = 2,
    depth: int = 12,
    timeout: float = 30.0,
    symmetry: bool = False,
    budget: float | None = None,
    on_depth: Callable[[int, float], None] | None = None,
    canonical: bool = True,
) -> BmcResult:
    """Search for the shortest run (at most ``depth`` steps) breaking one of ``obligations``.

    Returns ``violated`` with the schedule, or ``proved`` meaning only "no violation
    within ``workers`` workers and ``depth`` steps" (bounded), or ``unknown``.
    """
    z3 = _z3()
    t0 = time.perf_counter()
    enc = _Enc(problem, z3)
    N = workers
    vbits = max(8, (depth + 1).bit_length() + 1)
    S, R = enc.S(), enc.R()
    solver = z3.SolverFor("QF_BV")
    solver.set("timeout", max(1, int(timeout * 1000)))
    roles = [problem.role(w) for w in range(N)]

    def frame(k: int) -> dict[str, Any]:
        return {
            "g": z3.Const(f"g_{k}", S),
            "v": z3.BitVec(f"v_{k}", vbits),
            "pend": [z3.Bool(f"pend_{k}_{w}") for w in range(N)],
            "rs": [z3.Const(f"rs_{k}_{w}", S) for w in range(N)],
            "rv": [z3.BitVec(f"rv_{k}_{w}", vbits) for w in range(N)],
            "rq": [z3.Const(f"rq_{k}_{w}", R) for w in range(N)],
            "tgt": [z3.Const(f"tgt_{k}_{w}", S) for w in range(N)],
            "F": [{f: z3.Bool(f"fact_{f}_{k}_{w}") for f in enc.facts} for w in range(N)],
        }

    frames = [frame(0)]
    f0 = frames[0]
    solver.add(f0["g"] == enc.sval(problem.start_status), f0["v"] == 0)
    solver.add(*[z3.Not(p) for p in f0["pend"]])
    steps: list[dict[str, Any]] = []
    # Symmetry: workers with the same role are interchangeable, so only runs in which
    # such a worker first acts after the previous one (in numbering) are explored.
    started = [z3.BoolVal(False)] * N
    for k in range(depth):
        frames.append(frame(k + 1))
        step, violation = _unroll(enc, solver, frames[k], frames[k + 1], k, roles, obligations)
        steps.append(step)
        if symmetry:
            for w in range(1, N):
                if set(roles[w]) == set(roles[w - 1]):
                    solver.add(z3.Implies(step["who"] == w, started[w - 1]))
            started = [z3.Or(started[w], step["who"] == w) for w in range(N)]
        solver.push()
        solver.add(violation)
        r = _check(solver)
        if r == "sat":
            m = solver.model()
            cex, which = _decode(enc, m, frames, steps, obligations)
            solver.pop()
            found = _canonical(enc, obligations, N, k + 1) if canonical else None
            if found is not None:
                cex, which = found
            return BmcResult(
                Verdict.VIOLATED,
                k + 1,
                N,
                time.perf_counter() - t0,
                cex,
                which,
                f"shortest counterexample: {k + 1} steps, {N} workers",
            )
        solver.pop()
        if r != "unsat":
            return BmcResult(
                Verdict.UNKNOWN,
                k + 1,
                N,
                time.perf_counter() - t0,
                detail=f"z3 returned {r} at depth {k + 1}",
            )
        solver.add(z3.Not(violation))  # proved at this depth: keep it as a lemma
        elapsed = time.perf_counter() - t0
        if on_depth is not None:
            on_depth(k + 1, elapsed)
        if budget is not None and elapsed > budget and k + 1 < depth:
            return BmcResult(
                Verdict.UNKNOWN,
                k + 1,
                N,
                elapsed,
                detail=f"stopped after depth {k + 1}: over the {budget:g} s budget",
            )
    return BmcResult(
        Verdict.PROVED,
        depth,
        N,
        time.perf_counter() - t0,
        detail=f"no counterexample with {N} workers up to depth {depth} (bounded)",
    )


def _unroll(
    enc: _Enc,
    solver: Any,
    a: dict[str, Any],
    b: dict[str, Any],
    k: int,
    roles: Sequence[Sequence[str]],
    obligations: Sequence[str],
) -> tuple[dict[str, Any], Any]:
    """Add step ``k`` (frame ``a`` to ``b``); return its choices and "it violates" term."""
    z3 = enc.z3
    N = len(roles)
    R = enc.R()
    one = z3.BitVecVal(1, a["v"].size())
    who = z3.BitVec(f"who_{k}", 8)
    is_read = z3.Bool(f"isread_{k}")
    c_r = z3.Const(f"creq_{k}", R)
    c_F = {f: z3.Bool(f"cfact_{f}_{k}") for f in enc.facts}
    solver.add(z3.ULT(who, N))
    # the acting worker's read or write
    g_cases: list[tuple[Any, Any]] = []
    v_cases: list[tuple[Any, Any]] = []
    step_ok, step_g2, step_basis = [], [], []
    for w in range(N):
        act = who == w
        rd, wr = z3.And(act, is_read), z3.And(act, z3.Not(is_read))
        Fw = a["F"][w]
        ok, g2, basis = enc.write(
            a["g"], a["v"], a["rs"][w], a["rv"][w], a["rq"][w], Fw, a["tgt"][w]
        )
        step_ok.append(ok)
        step_g2.append(g2)
        step_basis.append(basis)
        solver.add(
            z3.Implies(
                rd,
                z3.And(
                    z3.Not(a["pend"][w]),
                    enc.valid_req(c_r, roles[w]),
                    enc.enabled(a["g"], c_r, c_F),
                    b["pend"][w],
                    b["rs"][w] == a["g"],
                    b["rv"][w] == a["v"],
                    b["rq"][w] == c_r,
                    b["tgt"][w] == enc.nxt(a["g"], c_r, c_F),
                    *[b["F"][w][f] == c_F[f] for f in enc.facts],
                ),
            )
        )
        keep = z3.And(
            b["rs"][w] == a["rs"][w],
            b["rv"][w] == a["rv"][w],
            b["rq"][w] == a["rq"][w],
            b["tgt"][w] == a["tgt"][w],
            *[b["F"][w][f] == a["F"][w][f] for f in enc.facts],
        )
        solver.add(z3.Implies(wr, z3.And(a["pend"][w], z3.Not(b["pend"][w]), keep)))
        solver.add(z3.Implies(z3.Not(act), z3.And(b["pend"][w] == a["pend"][w], keep)))
        g_cases.append((wr, g2))
        v_cases.append((wr, z3.If(ok, a["v"] + one, a["v"])))
    g_next, v_next = a["g"], a["v"]
    for cond, val in g_cases:
        g_next = z3.If(cond, val, g_next)
    for cond, val in v_cases:
        v_next = z3.If(cond, val, v_next)
    solver.add(b["g"] == g_next, b["v"] == v_next)
    step = {"who": who, "read": is_read, "creq": c_r, "cF": c_F}
    # violation at step k: some worker's write breaks an obligation
    bad = []
    for w in range(N):
        wr = z3.And(who == w, z3.Not(is_read))
        for name in obligations:
            obl = enc.obligation(
                name,
                step_ok[w],
                a["g"],
                step_g2[w],
                a["v"],
                step_basis[w],
                a["rv"][w],
                a["rq"][w],
                a["F"][w],
            )
            bad.append(z3.And(wr, z3.Not(obl)))
    violation = z3.Or(bad)
    return step, violation


def _decode(
    enc: _Enc,
    m: Any,
    frames: list[dict[str, Any]],
    steps: list[dict[str, Any]],
    obligations: Sequence[str],
) -> tuple[Counterexample, str]:
    z3 = enc.z3

    def ev(x: Any) -> Any:
        return m.eval(x, model_completion=True)

    def st(x: Any) -> str:
        n = ev(x).as_long()
        return enc.states[n] if n < len(enc.states) else f"#{n}"

    def req(x: Any) -> str | None:
        n = ev(x).as_long()
        name = enc.reqs[n] if n < len(enc.reqs) else f"#{n}"
        return None if name == SAVE else name

    config = {f: z3.is_true(ev(c)) for f, c in enc.cfg.items()}
    lc = enc.p.lifecycle
    relevant: dict[str | None, set[str]] = {}
    for t in lc.transitions:
        relevant.setdefault(str(t.event), set()).update(n for n, _ in t.when if n in enc.facts)
    schedule: list[dict[str, Any]] = []
    trace: list[TraceStep] = []
    for k, step in enumerate(steps):
        a, b = frames[k], frames[k + 1]
        w = ev(step["who"]).as_long()
        if z3.is_true(ev(step["read"])):
            r = req(b["rq"][w])
            facts = {f: z3.is_true(ev(b["F"][w][f])) for f in enc.facts if f in relevant.get(r, ())}
            schedule.append(
                {
                    "worker": w + 1,
                    "action": "read",
                    "status": st(a["g"]),
                    "version": ev(a["v"]).as_long(),
                    "event": r,
                    "request": r if r is not None else "save",
                    "target": st(b["tgt"][w]),
                    "facts": facts,
                }
            )
            continue
        g, g2 = st(a["g"]), st(b["g"])
        committed = ev(b["v"]).as_long() != ev(a["v"]).as_long()
        r = req(a["rq"][w])
        facts = {f: z3.is_true(ev(a["F"][w][f])) for f in enc.facts if f in relevant.get(r, ())}
        entry: dict[str, Any] = {
            "worker": w + 1,
            "action": "write" if committed else "rejected",
            "facts": facts,
            "from": g,
            "status": g2,
            "event": r,
            "request": r if r is not None else "save",
            "version": ev(b["v"]).as_long(),
            "read_status": st(a["rs"][w]),
            "read_version": ev(a["rv"][w]).as_long(),
        }
        if committed:
            trace.append(TraceStep(g, r if r is not None else "save", facts))
        schedule.append(entry)
    final = st(frames[len(steps)]["g"])
    trace.append(TraceStep(final))
    which = _classify(enc, schedule, obligations, config)
    if schedule and schedule[-1]["action"] in ("write", "rejected"):
        schedule[-1]["violates"] = which
    return Counterexample(config, tuple(trace), tuple(schedule)), which


CANONICAL_BUDGET = 20_000
"""States the explicit search may visit to canonicalise a counterexample."""


def _canonical(
    enc: _Enc, obligations: Sequence[str], workers: int, depth: int
) -> tuple[Counterexample, str] | None:
    """The first shortest counterexample in the explicit interpreter's fixed search order.

    z3's model depends on what the process solved before, so recorded counterexamples
    are taken from a deterministic breadth-first search of the same depth instead (config
    settings in order, then workers, requests, fact values). ``None`` if the search
    would exceed :data:`CANONICAL_BUDGET` states or the problem carries a planted bug.
    """
    from statusguard.race._interp import RaceInterpreter

    p = enc.p
    if p.mutation is not None:
        return None
    for cfg in enc._config_settings():
        interp = RaceInterpreter(
            p.lifecycle, p.protocol, cfg, start=p.start_status, workers=workers, roles=p.roles
        )
        try:
            schedule = interp.first_violation(obligations, depth, budget=CANONICAL_BUDGET)
        except OverflowError:
            return None
        if schedule is not None:
            trace = [
                TraceStep(s["from"], s["event"] or "save", s["facts"])
                for s in schedule
                if s["action"] == "write"
            ]
            trace.append(TraceStep(schedule[-1]["status"]))
            which = str(schedule[-1]["violates"])
            return Counterexample(dict(cfg), tuple(trace), tuple(schedule)), which
    return None


def _classify(
    enc: _Enc,
    schedule: list[dict[str, Any]],
    obligations: Sequence[str],
    config: Mapping[str, bool],
) -> str:
    """Name the obligation the last step breaks (re-checked by the explicit interpreter)."""
    from statusguard.race._interp import step_violations

    found = step_violations(enc.p.lifecycle, schedule[-1], enc.p.protocol, config)
    for name in obligations:
        if name in found:
            return name
    raise AssertionError(
        f"BMC and the explicit interpreter disagree on step {schedule[-1]!r}: "
        f"the interpreter finds {sorted(found)}, BMC searched {list(obligations)}"
    )


# --- rendering --------------------------------------------------------------------------------


def render_schedule(cex: Counterexample) -> str:
    """The interleaving as numbered lines: who read what, who committed what."""
    cfg = format_flags(cex.config)
    lines = [f"config: {cfg or '(no config flags)'}"]
    for n, s in enumerate(cex.schedule, 1):
        w = s["worker"]
        what = s.get("event") or "a metadata save"
        facts = s.get("facts") or {}
        fx = format_flags(facts)
        fx = f" [{fx}]" if fx else ""
        if s["action"] == "read":
            lines.append(
                f"  {n:>2}. worker {w} reads {s['status']} (version {s['version']}), "
                f"decides {what}{fx} -> {s['target']}"
            )
        elif s["action"] == "write":
            lines.append(
                f"  {n:>2}. worker {w} commits {s['from']} -> {s['status']} ({what}, decided on "
                f"{s['read_status']} v{s['read_version']}), version {s['version']}"
            )
        else:
            lines.append(
                f"  {n:>2}. worker {w}'s write is rejected ({what}, decided on "
                f"{s['read_status']} v{s['read_version']}; stored {s['from']} "
                f"v{s['version']})"
            )
        if "violates" in s:
            lines[-1] += f"   <-- violates race.{s['violates']}"
    return "\n".join(lines)


# --- the gate -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RaceCheck:
    """A race obligation's result and the verdict the gate expects (``None``: not gated)."""

    result: ObligationResult
    expected: Verdict | None
    protocol: str
    scenario: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the gate passes this check."""
        return self.expected is None or self.result.status is self.expected


def check_obligation(
    problem: RaceProblem,
    obligation: str,
    *,
    workers: int = 2,
    depth: int = 12,
    timeout: float = 10.0,
    proof: InductionResult | None = None,
) -> ObligationResult:
    """One obligation: the unbounded proof, else the shortest BMC counterexample.

    ``proof`` reuses an :func:`induction` run of the same problem (it times the share).
    """
    name = f"race.{obligation}.{problem.protocol}"
    return _combined(problem, name, [[obligation]], workers, depth, timeout, proof)


def _combined(
    problem: RaceProblem,
    name: str,
    groups: Sequence[Sequence[str]],
    workers: int,
    depth: int,
    timeout: float,
    proof: InductionResult | None = None,
) -> ObligationResult:
    t0 = time.perf_counter()
    all_obl = [o for g in groups for o in g]
    if proof is not None and all(o in proof.verdicts for o in all_obl):
        ind = proof
        t0 -= proof.seconds / max(1, len(proof.verdicts))
    else:
        ind = induction(problem, all_obl, timeout=timeout)
    if ind.vacuous:
        return ObligationResult(
            name, Verdict.UNKNOWN, time.perf_counter() - t0, INDUCTION_METHOD, VACUOUS
        )
    if all(ind.verdicts[o] is Verdict.PROVED for o in all_obl):
        return ObligationResult(
            name,
            Verdict.PROVED,
            time.perf_counter() - t0,
            INDUCTION_METHOD,
            f"proved for any number of workers and any length ({ind.invariant} invariant; "
            f"{', '.join(all_obl)})",
        )
    notes = []
    for group in groups:
        open_ = [o for o in group if ind.verdicts[o] is not Verdict.PROVED]
        if not open_:
            continue
        res = bmc(problem, open_, workers=workers, depth=depth, timeout=timeout)
        if res.status is Verdict.VIOLATED:
            return ObligationResult(
                name,
                Verdict.VIOLATED,
                time.perf_counter() - t0,
                BMC_METHOD,
                f"race.{res.obligation} violated: {res.detail}",
                res.counterexample,
            )
        notes.append(
            f"{', '.join(open_)}: induction failed ({ind.details[open_[0]]}); {res.detail}"
        )
    return ObligationResult(
        name,
        Verdict.UNKNOWN,
        time.perf_counter() - t0,
        f"{INDUCTION_METHOD} + {BMC_METHOD}",
        "; ".join(notes),
    )


def check_scenario(
    lc: Lifecycle[Any, Any],
    scenario: RaceScenario,
    protocol: str,
    *,
    config: Mapping[str, bool] | None = None,
    workers: int | None = None,
    depth: int = 12,
    timeout: float = 10.0,
) -> ObligationResult:
    """A scenario's harm (illegal step, absorbing state left, stale decision) under a protocol.

    Illegal steps are searched first, so a counterexample shows the illegal
    transition when there is one; stale decisions after.
    """
    problem = RaceProblem(
        lc,
        protocol,
        scenario.start,
        scenario.roles,
        {**scenario.config, **(config or {})},
    )
    res = _combined(
        problem,
        f"race.scenario.{scenario.name}.{protocol}",
        [["legal_steps", "absorbing"], ["fresh_decision"]],
        workers or len(scenario.roles),
        depth,
        timeout,
    )
    idle = idle_roles(problem)
    if idle:
        names = "; ".join(f"role {i + 1} ({', '.join(problem.roles[i])})" for i in idle)  # type: ignore[index]
        note = (
            f"scenario no longer applies to this lifecycle: {names} can never act from "
            f"{problem.start_status}; update or drop the scenario"
        )
        res = replace(res, detail=f"{note}. {res.detail}" if res.detail else note)
    return res


def idle_roles(problem: RaceProblem) -> list[int]:
    """Roles (0-based) none of whose requests is ever enabled in a status reachable
    from the start through the problem's requests, under any allowed config."""
    if problem.roles is None:
        return []
    lc = problem.lifecycle
    reqs = set(problem.requests())
    cfg = problem.config

    def usable(t: Any) -> bool:
        return str(t.event) in reqs and all(cfg.get(n, v) == v for n, v in t.when)

    reach, frontier = {problem.start_status}, [problem.start_status]
    while frontier:
        s = frontier.pop()
        for t in lc.transitions:
            if usable(t) and s in {str(x) for x in t.sources} and str(t.target) not in reach:
                reach.add(str(t.target))
                frontier.append(str(t.target))
    out = []
    for i, role in enumerate(problem.roles):
        acts = SAVE in role  # a save acts unguarded, and by design writes no status under a guard
        acts = acts or any(
            usable(t) and str(t.event) in role and reach & {str(x) for x in t.sources}
            for t in lc.transitions
        )
        if not acts:
            out.append(i)
    return out


def race_checks(
    lc: Lifecycle[Any, Any],
    *,
    config: Mapping[str, bool] | None = None,
    protocols: Sequence[str] = PROTOCOLS,
    scenarios: bool = True,
    workers: int = 2,
    depth: int = 12,
    timeout: float = 10.0,
    gated_only: bool = False,
) -> list[RaceCheck]:
    """Every race obligation of ``lc`` with the verdict the gate expects.

    The four obligations per protocol, then (for lifecycles that define them) the
    named scenarios per protocol. ``config`` fixes config flags; the rest range
    over every setting. ``gated_only`` skips the checks with no expected verdict
    (they depend on the lifecycle, e.g. ``unguarded`` legal_steps).
    """
    for p in protocols:
        _check_protocol(p)
    cfg = dict(config or {})
    out: list[RaceCheck] = []
    for p in protocols:
        problem = RaceProblem(lc, p, None, None, cfg)
        ind = induction(problem, timeout=timeout)
        for o in OBLIGATIONS:
            expected = Verdict.PROVED if o in _THEOREMS[p] else None
            if gated_only and expected is None:
                continue
            res = check_obligation(
                problem, o, workers=workers, depth=depth, timeout=timeout, proof=ind
            )
            out.append(RaceCheck(res, expected, p))
    if scenarios:
        for sc in scenarios_for(lc):
            if any(k in cfg and cfg[k] != v for k, v in sc.config.items()):
                continue
            for p in protocols:
                res = check_scenario(lc, sc, p, config=cfg, depth=depth, timeout=timeout)
                out.append(RaceCheck(res, sc.expected.get(p), p, sc.name))
    return out


def race_results(
    lc: Lifecycle[Any, Any],
    *,
    config: Mapping[str, bool] | None = None,
    timeout: float = 10.0,
) -> list[ObligationResult]:
    """The race obligations' results (see :func:`race_checks` for the expected verdicts)."""
    return [c.result for c in race_checks(lc, config=config, timeout=timeout)]


def scenario_named(lc: Lifecycle[Any, Any], name: str) -> RaceScenario:
    """The scenario ``name`` of ``lc``; :class:`UnknownScenario` otherwise."""
    for sc in scenarios_for(lc):
        if sc.name == name:
            return sc
    raise UnknownScenario(name, [s.name for s in scenarios_for(lc)], lifecycle=lc.name)


# --- the gate: check_lifecycle's race provider ----------------------------------------------


def as_gate_obligation(check: RaceCheck) -> ObligationResult:
    """``check`` as an obligation that is ``proved`` exactly when the gate passes.

    A check expected to be *violated* (the unguarded negative controls, cas_status's
    known ABA) becomes ``<name>.race_found``: proved by its counterexample (kept as the
    witness), violated if the race is no longer found.
    """
    res = check.result
    if check.expected is not Verdict.VIOLATED:
        return res
    name = f"{res.obligation}.race_found"
    if res.status is Verdict.VIOLATED:
        return ObligationResult(
            name,
            Verdict.PROVED,
            res.seconds,
            res.method,
            f"expected race found (negative control): {res.detail}",
            res.counterexample,
        )
    if res.status is Verdict.UNKNOWN and GAVE_UP in res.detail:
        return ObligationResult(name, Verdict.UNKNOWN, res.seconds, res.method, res.detail)
    return ObligationResult(
        name,
        Verdict.VIOLATED,
        res.seconds,
        res.method,
        "expected race NOT found, so the negative control is lost (did the protocol model, "
        f"the scenario or the lifecycle change?): {res.detail}",
    )


def race_obligations(lc: Lifecycle[Any, Any], *, timeout: float = 30.0) -> list[ObligationResult]:
    """The gated race obligations of ``lc`` for ``check_lifecycle``: all proved = gate passes."""
    return [as_gate_obligation(c) for c in race_checks(lc, timeout=timeout, gated_only=True)]
