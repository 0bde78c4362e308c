"""How the gate loads a lifecycle into z3: the transition facts (and ``deterministic``'s
pairs of them) go in through z3's C API (``Z3_fixedpoint_add_fact``), not as program text,
and must give the very relations the self-contained program (``export-smt``'s text, every
``tr`` fact a rule, the pairs derived by one) gives.

Compared relation by relation on the Glance image model (config and fact flags,
conditional transitions, no-ops, invariants) and on a mutated copy with defects; a dropped
fact (the negative control) changes an answer. A budget that runs out while the facts load
makes every obligation ``unknown`` (never an exception, never a verdict).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import z3

import statusguard
from statusguard import Lifecycle
from statusguard.lifecycle._model import _lenient
from statusguard.results import Verdict
from statusguard.verify import _solve
from statusguard.verify._builtin import BUILTINS
from statusguard.verify._obligations import builtin_obligations
from statusguard.verify._smt import Encoding, Query, invariant_query
from statusguard.verify._solve import Fixpoint

ROOT = Path(__file__).resolve().parents[3]
GLANCE = statusguard.load(ROOT / "model" / "glance_image.py")


def mutated() -> Lifecycle[Any, Any]:
    """Glance with a second target for one (state, event), an exit from a terminal state
    and a dead end: nondet, texit and dead all non-empty."""
    doc = copy.deepcopy(GLANCE.to_json())
    doc["states"].append("limbo")
    doc["events"].append("lose")
    terminal = doc["terminal"][0]
    doc["transitions"] += [
        {"event": "lose", "source": ["queued"], "target": "limbo"},
        {"event": "lose", "source": ["queued"], "target": "active"},
        {"event": "lose", "source": [terminal], "target": "queued"},
    ]
    with _lenient():
        return Lifecycle.from_json(doc)


def queries(enc: Encoding) -> list[Query]:
    lc = enc.lc
    out: list[Query] = []
    for b in BUILTINS:
        if b.applies(lc):
            q = b.query(enc)
            out += [q, *b.helpers(enc, q)]
    for i, inv in enumerate(lc.invariants):
        iq = invariant_query(enc, i, inv)
        out += [iq.query, iq.premise] + ([iq.reached] if iq.reached is not None else [])
    return out


def from_text(enc: Encoding, qs: list[Query]) -> dict[str, Any]:
    """Each query relation's answer from the whole program as text (the exported form)."""
    fp = z3.Fixedpoint()
    fp.set(engine="datalog")
    fp.set("xform.inline_linear", False)
    fp.parse_string("\n".join(enc.body(qs)))
    out = {}
    for q in qs:
        sorts = [_solve._sort(c) for c in enc.sorts[q.relation]]
        decl = z3.Function(q.relation, *sorts, z3.BoolSort())
        answer = fp.query(decl)
        got = None if answer == z3.unsat else _solve._tuples(fp.get_answer(), enc.sorts[q.relation])
        out[q.relation] = None if got is None else sorted(got)
    return out


def from_facts(enc: Encoding, qs: list[Query]) -> dict[str, Any]:
    fp = Fixpoint(enc, qs, 60.0)
    out = {}
    for q in qs:
        got = fp.ask(q.relation, 60.0)
        out[q.relation] = None if got is None else sorted(got)
    return out


@pytest.mark.parametrize("lc", [GLANCE, mutated()], ids=["glance", "mutated"])
def test_facts_through_the_api_give_the_programs_relations(lc: Lifecycle[Any, Any]) -> None:
    enc = Encoding(lc)
    qs = queries(enc)
    text = from_text(enc, qs)
    fresh = Encoding(lc)
    assert from_facts(fresh, queries(fresh)) == text
    if lc is not GLANCE:  # the mutation is visible, so the comparison has something to see
        assert text["nondet"]
        assert text["texit"]
        assert text["dead"]


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "through-z3py"])
@pytest.mark.parametrize("chunk", [1, 3, 4096])
def test_every_loading_route_gives_the_programs_relations(
    monkeypatch: pytest.MonkeyPatch, direct: bool, chunk: int
) -> None:
    """The facts go in by direct C calls (z3py's wrapper for each relation's first fact),
    or all through the wrapper when the direct call is not available; the time budget is
    read every ``chunk`` facts. Every route, every chunk size, the same relations."""
    lc = mutated()
    first = Encoding(lc)
    text = from_text(first, queries(first))
    monkeypatch.setattr(_solve, "LOAD_CHUNK", chunk)
    if not direct:
        monkeypatch.setattr(_solve, "_direct_add_fact", lambda: None)
    else:
        assert _solve._direct_add_fact() is not None  # this z3py holds it as expected
    enc = Encoding(lc)
    assert from_facts(enc, queries(enc)) == text


def test_a_refused_direct_call_is_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    """Negative control for the direct route's error check: a call z3 refuses (here one
    column too few) raises z3's error; it is not dropped as a fact that never went in."""
    real = _solve._direct_add_fact()
    assert real is not None

    def narrower(ctx: int, handle: int, rel: int, width: int, address: int) -> None:
        real(ctx, handle, rel, width - 1, address)  # reads within the fact

    monkeypatch.setattr(_solve, "_direct_add_fact", lambda: narrower)
    enc = Encoding(GLANCE)
    with pytest.raises(z3.Z3Exception, match="mismatched number of arguments"):
        Fixpoint(enc, queries(enc), 60.0)


def test_a_dropped_fact_changes_an_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Negative control: the comparison above would see a fact lost on the way in."""
    lc = mutated()
    first = Encoding(lc)
    text = from_text(first, queries(first))
    enc = Encoding(lc)
    facts = enc.transition_facts()
    monkeypatch.setattr(enc, "transition_facts", lambda: facts[:-1])  # the terminal exit
    assert from_facts(enc, queries(enc)) != text


def test_the_pairs_of_one_state_and_event_are_loaded_not_derived(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``deterministic``'s pairs go in as facts (z3 would filter every transition joined
    with itself); the program text still derives them, and a dropped pair is seen."""
    lc = mutated()
    first = Encoding(lc)
    text = from_text(first, queries(first))
    enc = Encoding(lc)
    qs = queries(enc)
    loaded = enc.body(qs, transitions=False)
    assert not [r for r in loaded if "bvult" in r]
    assert [r for r in enc.body(qs) if "bvult" in r]  # the exported program's rule
    pairs = enc.pair_facts()
    assert pairs
    assert all(t < u for _, _, t, _, u, _ in pairs)
    assert from_facts(enc, qs) == text
    lose = (enc.sidx["queued"], enc.eidx["lose"])  # the mutation's two targets
    kept = [p for p in pairs if p[:2] != lose]
    assert len(kept) == len(pairs) - 1
    fewer = Encoding(lc)
    monkeypatch.setattr(fewer, "pair_facts", lambda: kept)
    assert text["nondet"]
    assert not from_facts(fewer, queries(fewer))["nondet"]


def test_running_out_of_time_while_loading_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_solve, "expired", lambda: True)
    results = builtin_obligations(GLANCE, timeout=60.0)
    assert results
    assert all(r.status is Verdict.UNKNOWN for r in results)
    assert all("loading the transitions" in r.detail for r in results)


def test_a_proof_does_not_compute_the_witness_relations() -> None:
    """The shared run answers the obligations; the reachable-witness relations (only a
    violation reads them) are asked on their own, and still agree with the text (above)."""
    enc = Encoding(GLANCE)
    qs = queries(enc)
    lazy = {q.relation for q in qs if not q.shared}
    assert {"nondet_r", "texit_r"} <= lazy
    fp = Fixpoint(enc, qs, 60.0)
    assert fp.ask("unreach", 60.0) is None
    shared = fp._shared
    assert shared
    assert lazy.isdisjoint(shared)
    assert {q.relation for q in qs if q.shared} == set(shared)


@pytest.mark.parametrize("at_most", [1, 3, 100])
def test_shared_runs_of_any_size_give_the_same_answers(
    monkeypatch: pytest.MonkeyPatch, at_most: int
) -> None:
    """The shared relations are asked a few at a time (one query of all of them was
    sometimes 10-25x slower); any chunk size, one included, reads the same answers."""
    lc = mutated()
    first = Encoding(lc)
    text = from_text(first, queries(first))
    monkeypatch.setattr(_solve, "SHARE_AT_MOST", at_most)
    enc = Encoding(lc)
    qs = queries(enc)
    fp = Fixpoint(enc, qs, 60.0)
    fp.ask("unreach", 60.0)
    assert fp._shared is not None
    assert set(fp._shared) == {q.relation for q in qs if q.shared}
    assert {r: None if (g := fp.ask(r, 60.0)) is None else sorted(g) for r in text} == text
