"""The SMT model of a :class:`Lifecycle`: the Datalog program every verdict comes from.

What it owns: :class:`Encoding` (numbering, the base relations, the built-in obligations'
queries, SMT-LIB2 program text) and :class:`InvariantQueries`, which implements the
vocabulary invariant kinds write their queries in
(:class:`statusguard.lifecycle._kind.Queries`). It imports the lifecycle layer; z3 only
in :func:`z3_version` (solving is :mod:`statusguard.verify._solve`).

Encoding (read from the same ``Lifecycle`` object the runtime uses):

* states and events are bit-vectors of the smallest width that numbers them
  (``state i`` is ``(_ bv{i} W)``; the file header of an exported program maps
  numbers to names);
* every config flag is a Boolean column ``c_i`` that every relation carries
  unchanged, so one run covers every config setting and each derived fact
  belongs to exactly one setting;
* fact flags are Boolean columns ``f_j`` of ``edge``, chosen freely at every step;
* ``tr(s, e, t, k)``: one ground fact per (transition, source), ``k`` numbering the
  distinct ``when`` conditions; ``cond(k, c, f)``: one rule per condition, its literals
  over ``c`` and ``f``; ``edge(c, s, e, f, t)`` is ``tr`` joined with ``cond``, and
  ``step(c, s, t)`` joins ``tr`` with ``condc(k, c)``, the conditions' config projection
  (the solver loads the ``tr`` facts as numbers: :mod:`statusguard.verify._solve`);
* ``noop(c, s, e, f)``: one rule per (no-op, source): the event is accepted there
  without a change (not an edge: no step, no reach);
* the ground relations ``state``, ``term``, ``tr`` and ``trpair`` (two ``tr`` facts of one
  state and event) are facts or a rule in the program text and go into the solver as
  numbers (:meth:`Encoding.tables`); tests compare the two ways relation by relation.

Verdicts come from z3's Datalog engine (``engine=datalog``,
``xform.inline_linear=false``): bottom-up least-fixpoint evaluation with
stratified negation over finite domains, which is complete for every path
length. ``sat`` on an obligation's query means violated, ``unsat`` proved, and
anything else unknown. A violation's shortest counterexample is then built
from the explicit graph by breadth-first search (:mod:`statusguard.verify._witness`):
linear in the edges, so a violation z3 found is never lost to a slow trace search.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from statusguard.lifecycle._invariants import Invariant
from statusguard.lifecycle._model import Lifecycle

__all__ = [
    "TRPAIR",
    "UNREACHED",
    "Encoding",
    "InvariantQueries",
    "InvariantQuery",
    "Query",
    "Walk",
    "z3_version",
]

_SOURCE_EVENT = itemgetter(0, 1)

UNREACHED = "unreach"
"""The relation of the states no config setting reaches (``reachable``'s query)."""

TRPAIR = "trpair"
"""The relation of two transition facts of one (state, event) (``deterministic``'s)."""


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
    #: asked in the one fixpoint run all obligations share; ``False`` for a relation only a
    #: violation needs (its reachable witnesses), asked on its own when it is needed
    shared: bool = True
    #: a shared relation that holds every tuple of this one (as ``trap`` holds each dead
    #: end): when it is empty, so is this one, and z3 is not asked again
    within: str = ""


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
        # Transitions as a table of ground facts tr(s, e, t, k), k numbering their distinct
        # ``when`` conditions (a model has few): z3 loads a fact far faster than a rule, and
        # one rule per condition joins them (edge :- tr, cond), the same relation as one
        # rule per transition.
        self._snum = [f"(_ bv{i} {self.ws})" for i in range(len(self.states))]
        self.conds: dict[tuple[tuple[str, bool], ...], int] = {}
        self._edges: list[tuple[int, int, int, int]] = []
        sidx, eidx, conds, edges = self.sidx, self.eidx, self.conds, self._edges
        for t in lc.transitions:  # a part's ``when`` is already sorted literals
            ev, tgt = eidx[str(t.event)], sidx[str(t.target)]
            k = conds.setdefault(t.when, len(conds))
            if len(t.sources) == 1:
                edges.append((sidx[str(t.sources[0])], ev, tgt, k))
            else:
                edges.extend((sidx[str(src)], ev, tgt, k) for src in t.sources)
        self.wk = max(1, (len(conds) - 1).bit_length())
        self._noops: list[tuple[int, int, Mapping[str, bool]]] = [
            (self.sidx[str(src)], self.eidx[str(n.event)], dict(n.when))
            for n in lc.noops
            for src in n.sources
        ]
        # Relations besides ``tr`` that the solver loads as facts (relation -> the rule
        # that derives them in the program text, which the loaded program leaves out).
        self._loaded: dict[str, str] = {}

    # -- text ---------------------------------------------------------------------------------

    def s(self, name_or_index: str | int) -> str:
        i = name_or_index if isinstance(name_or_index, int) else self.sidx[name_or_index]
        return self._snum[i]

    def e(self, i: int) -> str:
        return f"(_ bv{i} {self.we})"

    @property
    def S(self) -> str:
        return f"(_ BitVec {self.ws})"

    @property
    def E(self) -> str:
        return f"(_ BitVec {self.we})"

    @property
    def K(self) -> str:
        return f"(_ BitVec {self.wk})"

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

    def base_rules(self, *, transitions: bool = True) -> list[str]:
        """Facts and rules shared by every obligation (without the ``state``, ``term`` and
        ``tr`` facts when not ``transitions``: :meth:`tables` gives them as numbers)."""
        c, f = self._cols_c(), self._cols_f()
        self._rel("cfg", *c)
        self._rel("fv", "Bool")
        self._rel("state", self.S)
        self._rel("term", self.S)
        self._rel("tr", self.S, self.E, self.S, self.K)
        self._rel("cond", self.K, *c, *f)
        self._rel("condc", self.K, *c)
        self._rel("edge", *c, self.S, self.E, *f, self.S)
        if self._noops:  # declared only when used: other programs stay as they were
            self._rel("noop", *c, self.S, self.E, *f)
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
        snum = self._snum
        if transitions:  # else the solver loads them as facts (:meth:`tables`)
            rules += [f"(rule (state {x}))" for x in snum]
            rules += [f"(rule (term {snum[t]}))" for (t,) in self._terminal_facts()]
        free = [self._app("cfg", cv)] + [f"(fv f{j})" for j in range(len(self.facts))]
        for when, k in self.conds.items():
            body = free + [self._lit(n, v) for n, v in when]
            rules.append(self._rule(body, self._app("cond", f"(_ bv{k} {self.wk})", cv, fv)))
        enum = [self.e(i) for i in range(len(self.events))]
        knum = [f"(_ bv{k} {self.wk})" for k in range(len(self.conds))]
        if transitions:
            rules += [
                f"(rule (tr {snum[src]} {enum[ev]} {snum[tgt]} {knum[k]}))"
                for src, ev, tgt, k in self._edges
            ]
        rules.append(self._rule(self.edge_body(), self._app("edge", cv, "s", "e", fv, "t")))
        # step and en need no fact columns: from the conditions' config projection.
        rules.append(self._rule([self._app("cond", "k", cv, fv)], self._app("condc", "k", cv)))
        for src, ev, noop_when in self._noops:
            body = [self._app("cfg", cv)] + [f"(fv f{j})" for j in range(len(self.facts))]
            body += [self._lit(n, v) for n, v in sorted(noop_when.items())]
            rules.append(self._rule(body, self._app("noop", cv, self.s(src), self.e(ev), fv)))
        on = ["(tr s e t k)", self._app("condc", "k", cv)]
        rules.append(self._rule(on, self._app("step", cv, "s", "t")))
        rules.append(self._rule([self._app("step", cv, "s", "t")], self._app("en", cv, "s")))
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

    def edge_body(self, target: str = "t", cond: str = "k") -> list[str]:
        """The literals of ``edge(c, s, e, f, target)``: the transition fact, then its
        condition (a query that filters ``s`` or ``e`` puts its literals between them, so
        that z3 joins the condition only with the transitions that pass)."""
        return [f"(tr s e {target} {cond})", self._app("cond", cond, self.cv, self.fv)]

    def edge_cols(self) -> list[str]:
        return [*self._cols_c(), self.S, self.E, *self._cols_f(), self.S]

    def q_reachable(self) -> Query:
        self._rel(UNREACHED, self.S)
        body = ["(state s)", "(not (anyreach s))"]
        return Query(UNREACHED, (self._rule(body, f"({UNREACHED} s)"),))

    def q_partial(self) -> Query:
        cv = self.cv
        self._rel("partial", *self._cols_c(), self.S)
        body = [self._app("cfg", cv), "(anyreach s)", f"(not {self._app('reach', cv, 's')})"]
        # Without config flags there is one setting, so no state is reached only under some.
        rule = self._rule(body, self._app("partial", cv, "s"))
        return Query("partial", (rule,), shared=bool(self.config))

    def q_dead(self) -> Query:
        cv = self.cv
        self._rel("dead", *self._cols_c(), self.S)
        body = [self._app("reach", cv, "s"), "(not (term s))", f"(not {self._app('en', cv, 's')})"]
        # A dead end reaches no terminal state, so it is a trap: a proved can_terminate
        # proves no_dead_ends, and only a trap makes z3 look for dead ends.
        rule = self._rule(body, self._app("dead", cv, "s"))
        return Query("dead", (rule,), shared=False, within="trap")

    def q_trap(self) -> Query:
        cv = self.cv
        self._rel("trap", *self._cols_c(), self.S)
        body = [self._app("reach", cv, "s"), f"(not {self._app('coreach', cv, 's')})"]
        return Query("trap", (self._rule(body, self._app("trap", cv, "s")),))

    def q_nondet(self) -> Query:
        cv, fv = self.cv, self.fv
        self._rel("nondet", *self._cols_c(), self.S, self.E, *self._cols_f(), self.S, self.S)
        # The pairs of transition facts of one (state, event) first (a relation of their
        # own: z3 then joins the conditions only with those few pairs), then both conditions.
        # The solver loads the pairs as facts (:meth:`pair_facts`): z3 would test
        # ``bvult`` on every transition fact joined with itself, about 9,000 instructions
        # each.
        K = self.K
        self._rel(TRPAIR, self.S, self.E, self.S, K, self.S, K)
        pair = self._rule(["(tr s e t k)", "(tr s e u k2)", "(bvult t u)"], "(trpair s e t k u k2)")
        self._loaded[TRPAIR] = pair
        body = ["(trpair s e t k u k2)"]
        body += [self._app("cond", "k", cv, fv), self._app("cond", "k2", cv, fv)]
        return Query(
            "nondet", (pair, self._rule(body, self._app("nondet", cv, "s", "e", fv, "t", "u")))
        )

    def _bad_edge(self, rel: str, extra: Sequence[str], pre: Sequence[str] = ()) -> Query:
        cv, fv = self.cv, self.fv
        self._rel(rel, *self.edge_cols())
        tr, cond = self.edge_body()
        body = [tr, *extra, cond]
        return Query(rel, (*pre, self._rule(body, self._app(rel, cv, "s", "e", fv, "t"))))

    def q_terminal_exit(self) -> Query:
        return self._bad_edge("texit", ["(term s)"])

    def q_noop_change(self) -> Query:
        """An edge whose (state, event, facts) a no-op accepts: the "no change" would write."""
        return self._bad_edge("noopw", [self._app("noop", self.cv, "s", "e", self.fv)])

    def reached_variant(self, q: Query) -> Query:
        """``q`` (edge- or nondet-shaped) restricted to witnesses reachable under their setting."""
        cols = self.sorts[q.relation]
        rel = q.relation + "_r"
        self._rel(rel, *cols)
        extra = ["u"] if len(cols) > len(self.edge_cols()) else []
        args = [self.cv, "s", "e", self.fv, "t", *extra]
        body = [self._app(q.relation, *args), self._app("reach", self.cv, "s")]
        return Query(rel, (self._rule(body, self._app(rel, *args)),), shared=False)

    def var_decls(self) -> list[str]:
        out = [f"(declare-var c{i} Bool)" for i in range(self.ncfg)]
        out += [f"(declare-var f{j} Bool)" for j in range(len(self.facts))]
        out += [f"(declare-var {v} {self.S})" for v in ("s", "t", "u")]
        out += [f"(declare-var e {self.E})", f"(declare-var k {self.K})"]
        out += [f"(declare-var k2 {self.K})"]
        return out

    def q_premise(self, i: int, states: Iterable[int]) -> Query:
        """Non-empty iff some premise state is reachable under some setting (not vacuous).

        Not shared: a check that asks ``unreach`` (``reachable``'s query) reads the answer
        off it (:meth:`statusguard.verify._witness.Run.any_reached`), so the shared run
        does not compute ``reach`` again for it; an exported program asks it itself."""
        rel = f"prem{i}"
        self._rel(rel, self.S)
        rules = tuple(
            self._rule([f"(anyreach {self.s(x)})"], f"({rel} {self.s(x)})") for x in states
        )
        return Query(rel, rules, shared=False)

    # -- programs -----------------------------------------------------------------------------

    def transition_facts(self) -> list[tuple[int, int, int, int]]:
        """The ``tr(s, e, t, k)`` facts as numbers (state, event, state, condition)."""
        return self._edges

    def pair_facts(self) -> list[tuple[int, int, int, int, int, int]]:
        """The ``trpair(s, e, t, k, u, k2)`` facts as numbers: every two transition facts of
        one (state, event) with targets ``t < u``, as the program text's rule derives them."""
        facts = self.transition_facts()
        # Counted in C first: when no (state, event) has two facts (the common case), no
        # fact is walked in Python.
        counts = Counter(map(_SOURCE_EVENT, facts))
        if len(counts) == len(facts):
            return []
        repeated = {key for key, n in counts.items() if n > 1}
        groups: dict[tuple[int, int], list[tuple[int, int]]] = {}
        for s, e, t, k in facts:
            if (s, e) in repeated:
                groups.setdefault((s, e), []).append((t, k))
        return [
            (s, e, t, k, u, k2)
            for (s, e), outs in groups.items()
            for t, k in outs
            for u, k2 in outs
            if t < u
        ]

    def _terminal_facts(self) -> list[tuple[int]]:
        return sorted((self.sidx[str(t)],) for t in self.lc.terminal)

    def tables(self) -> list[tuple[str, Sequence[tuple[int, ...]]]]:
        """The relations the solver loads as facts, each with its rows: ``state``, ``term``
        and ``tr`` always, and ``trpair`` once ``deterministic``'s query is written."""
        out: list[tuple[str, Sequence[tuple[int, ...]]]] = [
            ("state", [(i,) for i in range(len(self.states))]),
            ("term", self._terminal_facts()),
            ("tr", self.transition_facts()),
        ]
        if TRPAIR in self._loaded:
            out.append((TRPAIR, self.pair_facts()))
        return out

    def body(self, queries: Sequence[Query], *, transitions: bool = True) -> list[str]:
        """Declarations, the base rules and every query's rules (no ``(query ...)``). Not
        ``transitions``: without what :meth:`tables` holds (the ``state``, ``term`` and
        ``tr`` facts and the rules of the relations loaded as facts)."""
        base = self.base_rules(transitions=transitions)
        extra = [r for q in queries for r in q.rules]
        if not transitions:
            skip = set(self._loaded.values())
            extra = [r for r in extra if r not in skip]
        decls = [f"(declare-rel {rel} ({' '.join(cols)}))" for rel, cols in self.sorts.items()]
        return [*decls, *self.var_decls(), *base, *extra]

    def program(self, queries: Sequence[Query], *, comment: Sequence[str] = ()) -> str:
        """A self-contained SMT-LIB2 fixedpoint program: one ``(query ...)`` per entry."""
        lines = [f"; {c}" for c in comment]
        lines.append("(set-option :fp.engine datalog)")
        lines.append("(set-option :fp.xform.inline_linear false)")
        lines += [f"; state {i} = {_safe(n)}" for i, n in enumerate(self.states)]
        lines += [f"; event {i} = {_safe(n)}" for i, n in enumerate(self.events)]
        lines += [f"; config column c{i} = {_safe(n)}" for i, n in enumerate(self.config)]
        lines += [f"; fact column f{j} = {_safe(n)}" for j, n in enumerate(self.facts)]
        lines += [f"; condition {k} = {_safe(_when_text(when))}" for when, k in self.conds.items()]
        lines += self.body(queries)
        for q in queries:
            if q.note:
                lines.append(f"; {q.note}")
            lines.append(f"(query {q.relation})")
        return "\n".join(lines) + "\n"


def _when_text(when: Sequence[tuple[str, bool]]) -> str:
    return " and ".join(n if v else f"not {n}" for n, v in when) or "always"


def _safe(name: str) -> str:
    return repr(name).replace("\n", " ")


@dataclass(frozen=True)
class Walk:
    """A walk-shaped violation: ``start -> goal`` (``min_steps`` 0 or 1) entering no ``avoid``
    state; ``says`` words a found one."""

    start: str
    goal: str
    avoid: tuple[str, ...]
    min_steps: int
    says: str


@dataclass(frozen=True)
class InvariantQuery:
    """An invariant's queries: its violation, the violation restricted to witnesses reachable
    under their setting (``None``: every witness is), and its premise (not vacuous) with the
    numbers of the states it is about.

    ``walk`` is ``None`` for a step-shaped violation (the witness is a transition).
    """

    query: Query
    reached: Query | None
    premise: Query
    walk: Walk | None = None
    premise_states: tuple[int, ...] = ()


class InvariantQueries:
    """The Datalog text of invariant ``index``'s violation (a :class:`Queries` of a kind)."""

    def __init__(self, enc: Encoding, index: int) -> None:
        self.enc = enc
        self.index = index
        self.rel = f"inv{index}"
        self._sets: dict[tuple[int, ...], str] = {}
        self._facts: list[str] = []

    @property
    def initial(self) -> str:
        return str(self.enc.lc.initial)

    def source_is(self, state: str) -> str:
        return f"(= s {self.enc.s(str(state))})"

    def target_is(self, state: str) -> str:
        return f"(= t {self.enc.s(str(state))})"

    def source_in(self, states: Sequence[str]) -> str:
        return f"({self._set(states)} s)"

    def target_in(self, states: Sequence[str]) -> str:
        return f"({self._set(states)} t)"

    def negate(self, condition: str) -> str:
        return f"(not {condition})"

    def _set(self, states: Sequence[str]) -> str:
        """A unary relation holding exactly ``states`` (one per distinct set)."""
        enc = self.enc
        members = tuple(sorted({enc.sidx[str(m)] for m in states}))
        if members not in self._sets:
            name = f"in{self.index}" + (f"_{len(self._sets)}" if self._sets else "")
            enc._rel(name, enc.S)
            self._facts += [f"(rule ({name} {enc.s(m)}))" for m in members]
            self._sets[members] = name
        return self._sets[members]

    def bad_step(self, *conditions: str) -> tuple[Query, Query | None, Walk | None]:
        q = self.enc._bad_edge(self.rel, conditions, tuple(self._facts))
        return q, self.enc.reached_variant(q), None

    def bad_walk(
        self, start: str, goal: str, *, avoid: Sequence[str] = (), min_steps: int = 0, says: str
    ) -> tuple[Query, Query | None, Walk | None]:
        enc, rel, cv = self.enc, self.rel, self.enc.cv
        walk = Walk(str(start), str(goal), tuple(str(v) for v in avoid), min_steps, says)
        cols = enc._cols_c()
        a, b = enc.s(walk.start), enc.s(walk.goal)
        blocked = sorted({enc.sidx[v] for v in walk.avoid})
        keep_out = [f"(not (= t {enc.s(v)}))" for v in blocked]
        on = f"fr{self.index}" if min_steps else f"pv{self.index}"  # the states the walk visits
        # A walk from the initial state is reached under its setting by construction.
        check_reached = bool(min_steps) or walk.start != self.initial
        enc._rel(on, *cols, enc.S)
        enc._rel(rel, *cols)
        if check_reached:
            enc._rel(rel + "_r", *cols)
        step = [enc._app(on, cv, "s"), enc._app("step", cv, "s", "t"), *keep_out]
        rules: list[str] = []
        if min_steps:  # one step or more: fr(c, t) for each t a step from start leads to
            rules.append(
                enc._rule([enc._app("step", cv, a, "t"), *keep_out], enc._app(on, cv, "t"))
            )
            rules.append(enc._rule(step, enc._app(on, cv, "t")))
            rules.append(enc._rule([enc._app(on, cv, b)], enc._app(rel, cv)))
        else:  # zero steps or more: pv(c, s) for each s on a walk from start
            if enc.sidx[walk.start] not in blocked:
                rules.append(enc._rule([enc._app("cfg", cv)], enc._app(on, cv, a)))
                if walk.start == walk.goal:
                    rules.append(enc._rule([enc._app("cfg", cv)], enc._app(rel, cv)))
            rules.append(enc._rule(step, enc._app(on, cv, "t")))
            last = [enc._app(on, cv, "s"), enc._app("step", cv, "s", b)]
            rules.append(enc._rule(last, enc._app(rel, cv)))
        reached = None
        if check_reached:
            body = [enc._app(rel, cv), enc._app("reach", cv, a)]
            reached = Query(rel + "_r", (enc._rule(body, enc._app(rel + "_r", cv)),), shared=False)
        return Query(rel, tuple(rules)), reached, walk


def invariant_query(enc: Encoding, index: int, inv: Invariant) -> InvariantQuery:
    """Invariant ``index``'s queries, written by its kind (:meth:`Invariant.query`).

    :class:`NotImplementedError` when the kind has no query.
    """
    query, reached, walk = inv.query(InvariantQueries(enc, index))
    premise = tuple(sorted({enc.sidx[str(s)] for s in inv.premise()}))
    return InvariantQuery(query, reached, enc.q_premise(index, premise), walk, premise)
