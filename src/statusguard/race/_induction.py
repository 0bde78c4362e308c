"""The unbounded proof: one-step induction with workers an uninterpreted sort.

What it owns: :func:`induction` (each obligation proved for any number of workers and
any run length, or a counterexample to induction, or unknown), the candidate invariants
(``plain``, and ``rank`` when the reachable graph is acyclic), :class:`InductionResult`,
and the frames (the terms no write takes part in) that encodings with the same symbols
share, the lifecycle-parametric proof's protocols (:func:`forget_frames`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from statusguard.lifecycle._deadline import solver_ms
from statusguard.race._encoding import Encoding, solve, z3_module
from statusguard.race._problem import RaceProblem
from statusguard.race._protocols import OBLIGATIONS
from statusguard.results import Verdict

__all__ = ["VACUOUS", "InductionResult", "forget_frames", "induction", "induction_on"]

VACUOUS = (
    "vacuous: no worker can ever write (no request is enabled in a reachable status), "
    "so there is no race to check"
)


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
    t0 = time.perf_counter()
    enc = Encoding(problem, z3_module())
    return induction_on(enc, obligations, timeout=timeout, quantified=quantified, started=t0)


def induction_on(
    enc: Encoding,
    obligations: Sequence[str] = OBLIGATIONS,
    *,
    timeout: float = 10.0,
    quantified: bool = False,
    started: float | None = None,
) -> InductionResult:
    """:func:`induction` over an encoding already built (the lifecycle's own, or the
    lifecycle-parametric one of :mod:`statusguard.race._parametric`)."""
    t0 = time.perf_counter() if started is None else started
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


@dataclass(frozen=True)
class _Frame:
    """The terms of one induction that do not depend on the write: the acting worker ``i``,
    the state before and after a step (``s``, ``s2``), what a write leaves alone (``same``),
    the read step, the hypothesis ``Inv(s)``, and the invariant broken at the start
    (``init_bad``) or after a step (``after_bad``)."""

    i: Any
    s: dict[str, Any]
    s2: dict[str, Any]
    same: list[Any]
    read: Any
    hyp: Any
    init_bad: Any
    after_bad: Any


_FRAMES: dict[tuple[Any, ...], tuple[_Frame, bool]] = {}
"""Frames shared between encodings with the same symbols (``Encoding.frame_key``: the
lifecycle-parametric proof's four protocols), with whether the start and the read step
keep the invariant (a settled answer only)."""


def forget_frames() -> None:
    """Drop the shared frames (with the parametric proofs they serve)."""
    _FRAMES.clear()


def _frame(enc: Encoding, kind: str, quantified: bool) -> _Frame:
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
        s["g"] == enc.start(),
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
    return _Frame(
        i,
        s,
        s2,
        same,
        read,
        _hypothesis(z3, W, G, P, s, (i, w0), quantified),
        z3.And(init, z3.Not(z3.And(G(s), P(s, w0)))),
        z3.Not(z3.And(G(s2), P(s2, w0))),
    )


def _induction_with(
    enc: Encoding, kind: str, obligations: Sequence[str], timeout: float, quantified: bool = False
) -> tuple[bool, dict[str, tuple[Verdict, str]]] | None:
    z3 = enc.z3
    key = None if enc.frame_key is None else (enc.frame_key, kind, quantified)
    shared = _FRAMES.get(key) if key is not None else None
    fr = shared[0] if shared is not None else _frame(enc, kind, quantified)
    s, s2, i, hyp = fr.s, fr.s2, fr.i, fr.hyp
    Fi = {f: a[i] for f, a in s["F"].items()}
    ok, g2, basis = enc.write(s["g"], s["v"], s["rs"][i], s["rv"][i], s["rq"][i], Fi, s["tgt"][i])
    write = z3.And(
        s["pend"][i],
        s2["g"] == g2,
        s2["v"] == z3.If(ok, s["v"] + 1, s["v"]),
        s2["pend"] == z3.Store(s["pend"], i, False),
        *fr.same,
    )
    solver = z3.Solver()
    solver.set("timeout", solver_ms(timeout))
    solver.add(*enc.axioms())

    def unsat(*fs: Any) -> str:
        solver.push()
        solver.add(*fs)
        r = solve(solver)
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
    if shared is not None:
        kept = shared[1]
    else:  # the start and the read step, which no write takes part in
        answers = [unsat(fr.init_bad), unsat(hyp, fr.read, fr.after_bad)]
        kept = answers == ["unsat", "unsat"]
        if key is not None and all(a in ("sat", "unsat") for a in answers):
            _FRAMES[key] = (fr, kept)
    if not kept or unsat(hyp, write, fr.after_bad) != "unsat":
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


def _cti(enc: Encoding, m: Any, s: dict[str, Any], i: Any, ok: Any, g2: Any) -> str:
    z3 = enc.z3

    def name(x: Any, names: list[str]) -> str:
        val = m.eval(x, model_completion=True)
        if not z3.is_bv_value(val):  # an uninterpreted sort (the lifecycle-parametric proof)
            return str(val)
        n = val.as_long()
        return names[n] if n < len(names) else f"#{n}"

    def st(x: Any) -> str:
        return name(x, enc.states)

    req = name(s["rq"][i], enc.reqs)
    committed = z3.is_true(m.eval(ok, model_completion=True))
    return (
        f"counterexample to induction: stored {st(s['g'])}, worker read {st(s['rs'][i])} and "
        f"decided {req} -> {st(s['tgt'][i])}; "
        + (f"commit makes it {st(g2)}" if committed else "write rejected")
    )
