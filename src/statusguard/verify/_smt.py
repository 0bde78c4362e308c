"""The SMT model of a :class:`Lifecycle`: z3's Datalog engine gives every verdict.

Only this module (and :mod:`statusguard.verify._obligations` through it) imports z3, lazily.

Encoding (read from the same ``Lifecycle`` object the runtime uses):

* states and events are bit-vectors of the smallest width that numbers them
  (``state i`` is ``(_ bv{i} W)``; the file header of an exported program maps
  numbers to names);
* every config flag is a Boolean column ``c_i`` that every relation carries
  unchanged, so one run covers every config setting and each derived fact
  belongs to exactly one setting;
* fact flags are Boolean columns ``f_j`` of ``edge``, chosen freely at every step;
* ``edge(c, s, e, f, t)``: one rule per (transition, source), its ``when`` as
  literals over ``c`` and ``f``.

Verdicts come from z3's Datalog engine (``engine=datalog``,
``xform.inline_linear=false``): bottom-up least-fixpoint evaluation with
stratified negation over finite domains, which is complete for every path
length. ``sat`` on an obligation's query means violated, ``unsat`` proved, and
anything else unknown. A violation's shortest counterexample is then built
from the explicit graph by breadth-first search (:mod:`statusguard.lifecycle._paths`,
in :mod:`statusguard.verify._obligations`): linear in the edges, so a violation z3
found is never lost to a slow trace search.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from statusguard.lifecycle._invariants import (
    Absorbing,
    Closed,
    Invariant,
    Never,
    OnlyThrough,
    Unreachable,
)
from statusguard.lifecycle._model import Lifecycle

__all__ = ["Encoding", "Query", "SolverUnknown", "z3_version"]

Tuple = tuple[Any, ...]


class SolverUnknown(Exception):
    """z3 answered neither sat nor unsat (timeout, resource limit, or an answer we cannot read)."""


def z3_version() -> str:
    """The z3 version string (imports z3)."""
    import z3

    return str(z3.get_full_version())


@dataclass(frozen=True)
class Query:
    """One Datalog query: the relation whose non-emptiness means a violation."""

    relation: str
    rules: tuple[str, ...]
    note: str = ""


@dataclass
class Encoding:
    """The Datalog program of one lifecycle."""

    lc: Lifecycle[Any, Any]
    states: list[str] = field(init=False)
    events: list[str] = field(init=False)
    config: list[str] = field(init=False)
    facts: list[str] = field(init=False)

    def __post_init__(self) -> None:
        lc = self.lc
        self.states = [str(s) for s in lc.states]
        self.events = [str(e) for e in lc.events] or ["(none)"]
        self.config = list(lc.config_flags)
        self.facts = list(lc.fact_flags)
        self.sidx = {s: i for i, s in enumerate(self.states)}
        self.eidx = {e: i for i, e in enumerate(self.events)}
        self.ws = max(1, (len(self.states) - 1).bit_length())
        self.we = max(1, (len(self.events) - 1).bit_length())
        # At least one config column keeps every relation non-nullary.
        self.ncfg = max(1, len(self.config))
        self.settings: list[dict[str, bool]] = list(lc.config_settings())
        self.cv = " ".join(f"c{i}" for i in range(self.ncfg))
        self.fv = " ".join(f"f{j}" for j in range(len(self.facts)))
        self.sorts: dict[str, list[str]] = {}
        self._fp: Any = None
        self._edges: list[tuple[int, int, int, Mapping[str, bool]]] = []
        for t in lc.transitions:
            for src in t.sources:
                self._edges.append(
                    (
                        self.sidx[str(src)],
                        self.eidx[str(t.event)],
                        self.sidx[str(t.target)],
                        dict(t.when),
                    )
                )

    # -- text ---------------------------------------------------------------------------------

    def s(self, name_or_index: str | int) -> str:
        i = name_or_index if isinstance(name_or_index, int) else self.sidx[name_or_index]
        return f"(_ bv{i} {self.ws})"

    def e(self, i: int) -> str:
        return f"(_ bv{i} {self.we})"

    @property
    def S(self) -> str:
        return f"(_ BitVec {self.ws})"

    @property
    def E(self) -> str:
        return f"(_ BitVec {self.we})"

    def _rel(self, name: str, *cols: str) -> None:
        self.sorts[name] = list(cols)

    def _cols_c(self) -> list[str]:
        return ["Bool"] * self.ncfg

    def _cols_f(self) -> list[str]:
        return ["Bool"] * len(self.facts)

    def setting_tuple(self, setting: Mapping[str, bool]) -> tuple[bool, ...]:
        if not self.config:
            return (False,)
        return tuple(bool(setting[n]) for n in self.config)

    def setting_of(self, values: Sequence[bool]) -> dict[str, bool]:
        return {n: bool(values[i]) for i, n in enumerate(self.config)}

    @staticmethod
    def _rule(body: Sequence[str], head: str) -> str:
        if not body:
            return f"(rule {head})"
        conj = body[0] if len(body) == 1 else f"(and {' '.join(body)})"
        return f"(rule (=> {conj} {head}))"

    def _lit(self, name: str, value: bool) -> str:
        in_cfg = name in self.config
        var = f"c{self.config.index(name)}" if in_cfg else f"f{self.facts.index(name)}"
        return var if value else f"(not {var})"

    def _app(self, rel: str, *args: str) -> str:
        parts = " ".join(a for a in args if a)
        return f"({rel} {parts})" if parts else rel

    def base_rules(self) -> list[str]:
        """Facts and rules shared by every obligation."""
        c, f = self._cols_c(), self._cols_f()
        self._rel("cfg", *c)
        self._rel("fv", "Bool")
        self._rel("state", self.S)
        self._rel("term", self.S)
        self._rel("edge", *c, self.S, self.E, *f, self.S)
        self._rel("step", *c, self.S, self.S)
        self._rel("en", *c, self.S)
        self._rel("reach", *c, self.S)
        self._rel("coreach", *c, self.S)
        self._rel("anyreach", self.S)
        cv, fv = self.cv, self.fv
        rules: list[str] = []
        for setting in self.settings:
            vals = " ".join("true" if v else "false" for v in self.setting_tuple(setting))
            rules.append(f"(rule (cfg {vals}))")
        rules += ["(rule (fv true))", "(rule (fv false))"]
        for i in range(len(self.states)):
            rules.append(f"(rule (state {self.s(i)}))")
        for t in sorted(self.lc.terminal, key=lambda x: self.sidx[str(x)]):
            rules.append(f"(rule (term {self.s(str(t))}))")
        for src, ev, tgt, when in self._edges:
            body = [self._app("cfg", cv)] + [f"(fv f{j})" for j in range(len(self.facts))]
            body += [self._lit(n, v) for n, v in sorted(when.items())]
            head = self._app("edge", cv, self.s(src), self.e(ev), fv, self.s(tgt))
            rules.append(self._rule(body, head))
        edge = self._app("edge", cv, "s", "e", fv, "t")
        rules.append(self._rule([edge], self._app("step", cv, "s", "t")))
        rules.append(self._rule([edge], self._app("en", cv, "s")))
        rules.append(
            self._rule([self._app("cfg", cv)], self._app("reach", cv, self.s(self.lc.initial)))
        )
        rules.append(
            self._rule(
                [self._app("reach", cv, "s"), self._app("step", cv, "s", "t")],
                self._app("reach", cv, "t"),
            )
        )
        rules.append(self._rule([self._app("cfg", cv), "(term s)"], self._app("coreach", cv, "s")))
        rules.append(
            self._rule(
                [self._app("step", cv, "s", "t"), self._app("coreach", cv, "t")],
                self._app("coreach", cv, "s"),
            )
        )
        rules.append(self._rule([self._app("reach", cv, "s")], "(anyreach s)"))
        return rules

    # -- obligation queries -------------------------------------------------------------------

    def edge_cols(self) -> list[str]:
        return [*self._cols_c(), self.S, self.E, *self._cols_f(), self.S]

    def q_reachable(self) -> Query:
        self._rel("unreach", self.S)
        return Query("unreach", (self._rule(["(state s)", "(not (anyreach s))"], "(unreach s)"),))

    def q_partial(self) -> Query:
        cv = self.cv
        self._rel("partial", *self._cols_c(), self.S)
        body = [self._app("cfg", cv), "(anyreach s)", f"(not {self._app('reach', cv, 's')})"]
        return Query("partial", (self._rule(body, self._app("partial", cv, "s")),))

    def q_dead(self) -> Query:
        cv = self.cv
        self._rel("dead", *self._cols_c(), self.S)
        body = [self._app("reach", cv, "s"), "(not (term s))", f"(not {self._app('en', cv, 's')})"]
        return Query("dead", (self._rule(body, self._app("dead", cv, "s")),))

    def q_trap(self) -> Query:
        cv = self.cv
        self._rel("trap", *self._cols_c(), self.S)
        body = [self._app("reach", cv, "s"), f"(not {self._app('coreach', cv, 's')})"]
        return Query("trap", (self._rule(body, self._app("trap", cv, "s")),))

    def q_nondet(self) -> Query:
        cv, fv = self.cv, self.fv
        self._rel("nondet", *self._cols_c(), self.S, self.E, *self._cols_f(), self.S, self.S)
        body = [
            self._app("edge", cv, "s", "e", fv, "t"),
            self._app("edge", cv, "s", "e", fv, "u"),
            "(bvult t u)",
        ]
        return Query("nondet", (self._rule(body, self._app("nondet", cv, "s", "e", fv, "t", "u")),))

    def _bad_edge(self, rel: str, extra: Sequence[str], pre: Sequence[str] = ()) -> Query:
        cv, fv = self.cv, self.fv
        self._rel(rel, *self.edge_cols())
        body = [self._app("edge", cv, "s", "e", fv, "t"), *extra]
        return Query(rel, (*pre, self._rule(body, self._app(rel, cv, "s", "e", fv, "t"))))

    def q_terminal_exit(self) -> Query:
        return self._bad_edge("texit", ["(term s)"])

    def reached_variant(self, q: Query) -> Query:
        """``q`` (edge- or nondet-shaped) restricted to witnesses reachable under their setting."""
        cols = self.sorts[q.relation]
        rel = q.relation + "_r"
        self._rel(rel, *cols)
        extra = ["u"] if len(cols) > len(self.edge_cols()) else []
        args = [self.cv, "s", "e", self.fv, "t", *extra]
        body = [self._app(q.relation, *args), self._app("reach", self.cv, "s")]
        return Query(rel, (self._rule(body, self._app(rel, *args)),))

    def var_decls(self) -> list[str]:
        out = [f"(declare-var c{i} Bool)" for i in range(self.ncfg)]
        out += [f"(declare-var f{j} Bool)" for j in range(len(self.facts))]
        out += [f"(declare-var {v} {self.S})" for v in ("s", "t", "u")]
        out += [f"(declare-var e {self.E})"]
        return out

    def q_invariant(self, i: int, inv: Invariant) -> tuple[Query, Query | None, list[int]]:
        """The violation query of invariant ``i``, its reachable-witness query and premise states.

        Step invariants (absorbing, never, closed) yield edge witnesses; path invariants
        (unreachable, only_through) yield per-setting witnesses.
        """
        rel = f"inv{i}"
        cv = self.cv
        if isinstance(inv, Absorbing):
            x = self.s(str(inv.state))
            q = self._bad_edge(rel, [f"(= s {x})", f"(not (= t {x}))"])
            return q, self.reached_variant(q), [self.sidx[str(inv.state)]]
        if isinstance(inv, Never):
            q = self._bad_edge(
                rel, [f"(= s {self.s(str(inv.source))})", f"(= t {self.s(str(inv.target))})"]
            )
            return q, self.reached_variant(q), [self.sidx[str(inv.source)]]
        if isinstance(inv, Closed):
            members = [self.sidx[str(m)] for m in inv.states]
            self._rel(f"in{i}", self.S)
            pre = tuple(f"(rule (in{i} {self.s(m)}))" for m in sorted(set(members)))
            q = self._bad_edge(rel, [f"(in{i} s)", f"(not (in{i} t))"], pre)
            return q, self.reached_variant(q), sorted(set(members))
        if isinstance(inv, Unreachable):
            a, b = self.s(str(inv.source)), self.s(str(inv.target))
            fr = f"fr{i}"
            self._rel(fr, *self._cols_c(), self.S)
            self._rel(rel, *self._cols_c())
            self._rel(rel + "_r", *self._cols_c())
            path_rules = (
                self._rule([self._app("step", cv, a, "t")], self._app(fr, cv, "t")),
                self._rule(
                    [self._app(fr, cv, "s"), self._app("step", cv, "s", "t")],
                    self._app(fr, cv, "t"),
                ),
                self._rule([self._app(fr, cv, b)], self._app(rel, cv)),
            )
            reached = Query(
                rel + "_r",
                (
                    self._rule(
                        [self._app(rel, cv), self._app("reach", cv, a)], self._app(rel + "_r", cv)
                    ),
                ),
            )
            return Query(rel, path_rules), reached, [self.sidx[str(inv.source)]]
        if isinstance(inv, OnlyThrough):
            x = str(inv.target)
            via = {self.sidx[str(v)] for v in inv.via}
            pv = f"pv{i}"
            self._rel(pv, *self._cols_c(), self.S)
            self._rel(rel, *self._cols_c())
            init = self.sidx[str(self.lc.initial)]
            rules: list[str] = []
            if init not in via:
                rules.append(self._rule([self._app("cfg", cv)], self._app(pv, cv, self.s(init))))
                if init == self.sidx[x]:
                    rules.append(self._rule([self._app("cfg", cv)], self._app(rel, cv)))
            avoid = [f"(not (= t {self.s(v)}))" for v in sorted(via)]
            rules.append(
                self._rule(
                    [self._app(pv, cv, "s"), self._app("step", cv, "s", "t"), *avoid],
                    self._app(pv, cv, "t"),
                )
            )
            rules.append(
                self._rule(
                    [self._app(pv, cv, "s"), self._app("step", cv, "s", self.s(x))],
                    self._app(rel, cv),
                )
            )
            # Every witness of this relation is a path from the initial state: already reached.
            return Query(rel, tuple(rules)), None, [self.sidx[x]]
        raise SolverUnknown(f"invariant kind {inv.kind!r} has no SMT encoding")

    def q_premise(self, i: int, states: Iterable[int]) -> Query:
        """Non-empty iff some premise state is reachable under some setting (not vacuous)."""
        rel = f"prem{i}"
        self._rel(rel, self.S)
        rules = tuple(
            self._rule([f"(anyreach {self.s(x)})"], f"({rel} {self.s(x)})") for x in states
        )
        return Query(rel, rules)

    # -- programs -----------------------------------------------------------------------------

    def program(self, queries: Sequence[Query], *, comment: Sequence[str] = ()) -> str:
        """A self-contained SMT-LIB2 fixedpoint program: one ``(query ...)`` per entry."""
        base = self.base_rules()
        extra = [r for q in queries for r in q.rules]
        lines = [f"; {c}" for c in comment]
        lines.append("(set-option :fp.engine datalog)")
        lines.append("(set-option :fp.xform.inline_linear false)")
        lines += [f"; state {i} = {_safe(n)}" for i, n in enumerate(self.states)]
        lines += [f"; event {i} = {_safe(n)}" for i, n in enumerate(self.events)]
        lines += [f"; config column c{i} = {_safe(n)}" for i, n in enumerate(self.config)]
        lines += [f"; fact column f{j} = {_safe(n)}" for j, n in enumerate(self.facts)]
        for rel, cols in self.sorts.items():
            lines.append(f"(declare-rel {rel} ({' '.join(cols)}))")
        lines += self.var_decls()
        lines += base
        lines += extra
        for q in queries:
            if q.note:
                lines.append(f"; {q.note}")
            lines.append(f"(query {q.relation})")
        return "\n".join(lines) + "\n"

    # -- solving ------------------------------------------------------------------------------

    def solver(self, queries: Sequence[Query], timeout: float) -> Any:
        """A z3 Fixedpoint holding the base program and every query's rules."""
        import z3

        base = self.base_rules()
        extra = [r for q in queries for r in q.rules]
        decls = [f"(declare-rel {rel} ({' '.join(cols)}))" for rel, cols in self.sorts.items()]
        text = "\n".join([*decls, *self.var_decls(), *base, *extra])
        fp = z3.Fixedpoint()
        fp.set(engine="datalog")
        fp.set("xform.inline_linear", False)
        fp.set("timeout", max(1, int(timeout * 1000)))
        fp.parse_string(text)
        self._fp = fp
        return fp

    def _decl(self, rel: str) -> Any:
        import z3

        sorts = [self._sort(c) for c in self.sorts[rel]]
        return z3.Function(rel, *sorts, z3.BoolSort())

    def _sort(self, col: str) -> Any:
        import z3

        if col == "Bool":
            return z3.BoolSort()
        width = int(col.rsplit(" ", 1)[1].rstrip(")"))
        return z3.BitVecSort(width)

    def ask(self, rel: str, timeout: float) -> list[Tuple] | None:
        """Tuples of ``rel`` (``None`` if empty); :class:`SolverUnknown` if z3 cannot say."""
        import z3

        fp = self._fp
        fp.set("timeout", max(1, int(timeout * 1000)))
        decl = self._decl(rel)
        try:
            answer = fp.query(decl()) if decl.arity() == 0 else fp.query(decl)
        except z3.Z3Exception as exc:  # a timeout cancels the query
            raise SolverUnknown(f"z3 gave up on {rel}: {exc}") from None
        if answer == z3.unsat:
            return None
        if answer != z3.sat:
            raise SolverUnknown(f"z3 answered {answer} ({fp.reason_unknown()})")
        return _tuples(fp.get_answer(), self.sorts[rel])


def _safe(name: str) -> str:
    return repr(name).replace("\n", " ")


def _tuples(answer: Any, cols: Sequence[str]) -> list[Tuple]:
    """The tuples a Datalog answer (a disjunction of conjunctions of ``Var(i) == v``) lists."""
    import z3

    if z3.is_true(answer):
        if not cols:
            return [()]
        disjuncts = [z3.BoolVal(True)]
    elif z3.is_or(answer):
        disjuncts = list(answer.children())
    else:
        disjuncts = [answer]
    out: list[Tuple] = []
    for d in disjuncts:
        conj = list(d.children()) if z3.is_and(d) else ([] if z3.is_true(d) else [d])
        fixed: dict[int, Any] = {}
        for lit in conj:
            if z3.is_eq(lit) and z3.is_var(lit.arg(0)):
                var, val = lit.arg(0), lit.arg(1)
            elif z3.is_eq(lit) and z3.is_var(lit.arg(1)):
                var, val = lit.arg(1), lit.arg(0)
            elif z3.is_var(lit):
                var, val = lit, z3.BoolVal(True)
            elif z3.is_not(lit) and z3.is_var(lit.arg(0)):
                var, val = lit.arg(0), z3.BoolVal(False)
            else:
                raise SolverUnknown(f"cannot read the Datalog answer literal {lit}")
            idx = z3.get_var_index(var)
            if z3.is_true(val) or z3.is_false(val):
                fixed[idx] = z3.is_true(val)
            elif z3.is_bv_value(val):
                fixed[idx] = val.as_long()
            else:
                raise SolverUnknown(f"cannot read the Datalog answer value {val}")
        choices: list[list[Any]] = []
        for i, col in enumerate(cols):
            if i in fixed:
                choices.append([fixed[i]])
            elif col == "Bool":
                choices.append([False, True])
            else:
                raise SolverUnknown("the Datalog answer leaves a state column open")
        out.extend(tuple(c) for c in itertools.product(*choices))
    return out
