"""Running an encoded program: a z3 Datalog fixpoint, its queries, and reading its answers.

What it owns: :class:`Fixpoint` (one z3 ``Fixedpoint`` loaded with an
:class:`~statusguard.verify._smt.Encoding`'s rules) and :class:`SolverUnknown`. It imports
z3 (lazily, on first use) and :mod:`statusguard.verify._smt`.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from typing import Any

from statusguard.lifecycle._deadline import expired, out_of_time
from statusguard.verify._smt import Encoding, Query

__all__ = ["LOAD_CHUNK", "SHARE_AT_MOST", "Fixpoint", "SolverUnknown"]

Tuple = tuple[Any, ...]

SHARE_AT_MOST = 4
"""Relations per shared fixpoint run. One run of all ten or more relations was as fast in
most runs but, from one run to the next, 10x slower at 1,000 states and over 25x at
10,000 (z3's evaluation order follows the addresses of the program's terms); runs of six
did it too, runs of at most four measured stable (five too, but one below six: not taken;
docs/performance.md)."""

LOAD_CHUNK = 4096
"""Facts loaded into z3 between two looks at the time budget."""


class SolverUnknown(Exception):
    """z3 answered neither sat nor unsat (timeout, resource limit, or an answer we cannot read)."""


class Fixpoint:
    """A z3 Fixedpoint holding ``enc``'s base program and every query's rules."""

    def __init__(self, enc: Encoding, queries: Sequence[Query], timeout: float) -> None:
        import z3

        self.enc = enc
        fp = z3.Fixedpoint()
        fp.set(engine="datalog")
        fp.set("xform.inline_linear", False)
        fp.set("xform.inline_eager", False)  # the same answers; 40 % less time at 10,000 states
        fp.set("timeout", max(1, int(timeout * 1000)))
        fp.parse_string("\n".join(enc.body(queries, transitions=False)))
        _add_transitions(fp, enc)
        self._fp = fp
        # The relations one shared run answers; the others (needed only by a violation's
        # witness) are asked on their own, so a proof does not compute them.
        self._relations = list(dict.fromkeys(q.relation for q in queries if q.shared))
        self._within = {q.relation: q.within for q in queries if q.within in self._relations}
        self._shared: dict[str, Any] | None = None

    def _decl(self, rel: str) -> Any:
        import z3

        sorts = [_sort(c) for c in self.enc.sorts[rel]]
        return z3.Function(rel, *sorts, z3.BoolSort())

    def _share(self, timeout: float) -> dict[str, Any]:
        """Every shared query relation's answer from a few fixpoint runs of at most
        :data:`SHARE_AT_MOST` relations each (the base relations, such as ``reach``,
        computed once per run, not once per relation); a relation z3 cannot answer so is
        left out (then it is asked on its own)."""
        import time

        end = time.monotonic() + timeout
        out: dict[str, Any] = {}
        for i in range(0, len(self._relations), SHARE_AT_MOST):
            chunk = self._relations[i : i + SHARE_AT_MOST]
            got = self._run(chunk, end - time.monotonic())
            if got is None:
                break
            out.update(got)
        return out

    def _run(self, rels: Sequence[str], timeout: float) -> dict[str, Any] | None:
        """The answers for ``rels`` from one query of them all; ``None`` if z3 gave up."""
        import z3

        if timeout <= 0:
            return None
        decls = [self._decl(rel) for rel in rels]
        self._fp.set("timeout", max(1, int(timeout * 1000)))
        try:
            if len(decls) > 1:
                answer = self._fp.query(*decls)
            else:
                answer = self._fp.query(decls[0]() if decls[0].arity() == 0 else decls[0])
        except z3.Z3Exception:
            return None
        if answer == z3.unsat:  # every relation is empty
            return dict.fromkeys(rels, z3.BoolVal(False))
        if answer != z3.sat:
            return None
        got = self._fp.get_answer()
        if len(decls) == 1:
            return {rels[0]: got}
        if not (z3.is_and(got) and got.num_args() == len(decls)):
            return None
        return dict(zip(rels, got.children(), strict=True))

    def ask(self, rel: str, timeout: float) -> list[Tuple] | None:
        """Tuples of ``rel`` (``None`` if empty); :class:`SolverUnknown` if z3 cannot say.

        The first call asks z3 for every shared query relation at once (one fixpoint run for
        all obligations); later calls read that answer. A relation whose ``within`` relation
        that run found empty is empty too.
        """
        import z3

        if self._shared is None:
            self._shared = self._share(timeout)
        shared = self._shared.get(rel)
        if shared is not None:
            return None if z3.is_false(shared) else _tuples(shared, self.enc.sorts[rel])
        holder = self._shared.get(self._within.get(rel, ""))
        if holder is not None and z3.is_false(holder):
            return None
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
        return _tuples(fp.get_answer(), self.enc.sorts[rel])


def _add_transitions(fp: Any, enc: Encoding) -> None:
    """Load ``enc``'s tables (the ``state``, ``term`` and ``tr`` facts, and ``trpair``'s
    when it is asked) into ``fp`` through z3's C API (``Z3_fixedpoint_add_fact``: a fact's
    columns as unsigned numbers), the same facts the program text writes as rules and
    derives by ``trpair``'s rule: z3 then neither parses them nor passes them through its
    rule transformations (a third less time at 10,000 states).
    :class:`SolverUnknown` when the time budget runs out meanwhile."""
    import array
    import ctypes

    import z3
    from z3 import z3core

    ctx, handle = fp.ctx.ref(), fp.fixedpoint
    checked = z3core.Z3_fixedpoint_add_fact  # z3py's: converts each argument, then checks
    direct = _direct_add_fact()
    raw_ctx, raw_fp = ctx.value, handle.value  # the addresses the direct calls take
    for relation, rows in enc.tables():
        if not rows:
            continue
        cols = enc.sorts[relation]
        decl = z3.Function(relation, *[_sort(c) for c in cols], z3.BoolSort())
        rel, width = decl.ast, len(cols)
        raw_rel = rel.value
        table = array.array("I", itertools.chain.from_iterable(rows))  # C unsigned ints
        if len(table) != width * len(rows):  # the direct calls read the table by address
            raise ValueError(f"a {relation} fact does not have {width} columns")
        base, stride = table.buffer_info()[0], width * table.itemsize
        for start in range(0, len(rows), LOAD_CHUNK):
            if expired():
                raise SolverUnknown(out_of_time("loading the transitions into z3"))
            stop = min(start + LOAD_CHUNK, len(rows))
            first = start
            if start == 0:  # through z3py, which raises what z3 refuses for this relation
                checked(ctx, handle, rel, width, (ctypes.c_uint * width)(*rows[0]))
                first = 1
            if direct is None:
                for fact in rows[first:stop]:
                    checked(ctx, handle, rel, width, (ctypes.c_uint * width)(*fact))
                continue
            for address in range(base + first * stride, base + stop * stride, stride):
                direct(raw_ctx, raw_fp, raw_rel, width, address)
            code = z3core.Z3_get_error_code(ctx)  # the chunk's last call
            if code != z3.Z3_OK:
                raise z3.Z3Exception(z3core.Z3_get_error_msg(ctx, code))


@functools.cache
def _direct_add_fact() -> Any:
    """``Z3_fixedpoint_add_fact`` as a bare ctypes function of addresses and numbers, or
    ``None`` when this z3py does not hold it as expected (then z3py's wrapper loads every
    fact). The wrapper converts each argument in Python and reads z3's error code after
    each call: over half the time of loading 40,000 facts. Called directly, the facts go
    in about 2.5x faster. What z3 refuses here (a wrong arity, a relation it cannot table)
    it refuses for every fact of a relation, so the first fact of each goes through the
    wrapper, and z3's error code is read after the last call of each chunk."""
    import ctypes

    from z3 import z3core

    try:
        pointer = z3core.Z3_fixedpoint_add_fact.__defaults__[0].f
        if pointer.__name__ != "Z3_fixedpoint_add_fact":
            return None
        address = ctypes.cast(pointer, ctypes.c_void_p).value
    except (AttributeError, IndexError, TypeError, ctypes.ArgumentError):
        return None
    if not address:
        return None
    word = ctypes.c_void_p
    # PYFUNCTYPE keeps the GIL across the call: the call is short, releasing it costs more.
    return ctypes.PYFUNCTYPE(None, word, word, word, ctypes.c_uint, word)(address)


def _sort(col: str) -> Any:
    import z3

    if col == "Bool":
        return z3.BoolSort()
    width = int(col.rsplit(" ", 1)[1].rstrip(")"))
    return z3.BitVecSort(width)


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
