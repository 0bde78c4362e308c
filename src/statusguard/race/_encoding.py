"""The z3 encoding of the race, shared by the inductive proof and bounded model checking.

What it owns: :class:`Encoding` (statuses and requests as bit-vectors, the lifecycle's
transition relation as z3 terms, the reachable statuses and their topological rank, a
write under the problem's protocol, and the four obligations on one write), and the lazy
z3 import. The write itself is the protocol record's rule (:mod:`statusguard.race._protocols`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from statusguard.lifecycle._scenarios import SAVE
from statusguard.race._problem import RaceProblem, absorbing_states
from statusguard.race._protocols import WriteTerms

__all__ = ["Encoding", "solve", "z3_module"]


class Encoding:
    """Statuses and requests as bit-vectors; the transition relation as z3 terms."""

    frame_key: tuple[str, ...] | None = None
    """Set where every encoding of the kind has the same symbols, whatever the protocol (the
    induction then builds and checks the protocol-independent part of its frame once)."""

    def __init__(self, problem: RaceProblem, z3: Any) -> None:
        self.z3 = z3
        self.p = problem
        self.proto = problem.proto
        self.rule = self.proto.z3_rule(problem.mutation)
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

    def start(self) -> Any:
        """The status every run starts from."""
        return self.sval(self.p.start_status)

    def axioms(self) -> list[Any]:
        """Background facts every query assumes (none: the relation is spelled out)."""
        return []

    def _edges(self) -> set[tuple[int, int]]:
        """Edges the requests in play can take, under some setting of the free config."""
        edges: set[tuple[int, int]] = set()
        for cfg in self.p.config_settings():
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
        """``(committed, g', basis version)`` of a write under the protocol (or its planted bug)."""
        ok, g2 = self.rule(self, WriteTerms(g, v, rs, rv, r, F, tgt))
        return ok, g2, (v if self.proto.decides_at_write else rv)

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


def z3_module() -> Any:
    """z3, imported on first use (``import statusguard.race`` loads no z3)."""
    import z3

    return z3


def solve(solver: Any) -> str:
    """``sat``, ``unsat`` or ``unknown``."""
    return str(solver.check())
