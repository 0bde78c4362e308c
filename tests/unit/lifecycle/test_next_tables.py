"""``Lifecycle.next``'s tabled answers agree with its untabled path, for every input shape.

``next`` answers a conditional (state, event) from a table when it is given a dict of
exactly the deciding flags, or of exactly those without a default (the defaults tabled
in); anything else goes through the general paths, down to ``_next_slow``, which reads the
conditions themselves. The differential below puts every conditional (state, event) of
the shipped models through ``next`` and ``_next_slow``, with flag dicts of every subset of the
declared flags (plus an unknown name) and values that are bools or are not (1, 0, 1.0,
None) for the flags that decide the pair (next() does not inspect the others' values): the
answer, or the error's type and message, must be the same. The control shows
the comparison can fail: a table with one outcome flipped disagrees.

Each test runs both ways a conditional pair is read (``_answer._native``): the interpreter's
subscripts and nested tables, and the bits of an index that a compiled build (mypyc) takes;
the build that runs here takes its own by default, the other is forced.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import statusguard
from statusguard import Flag, FlagKind, Lifecycle, StatusGuardError, Transition
from statusguard.lifecycle import _answer

DEFAULT_NATIVE = _answer._native  # before any test forces one way

ROOT = Path(__file__).resolve().parents[3]
FACT = FlagKind.FACT
# one deciding flag with a default, one without, three (one default) and four (two)
SHAPES = Lifecycle(
    "shapes",
    states=["a", "b", "c"],
    initial="a",
    terminal=["c"],
    flags=[
        Flag("x", FACT, default=False),
        Flag("y", FACT),
        Flag("z"),
        Flag("w", FACT, default=True),
    ],
    transitions=[
        Transition("one", "a", "b", {"x": True}),
        Transition("one", "a", "c", {"x": False}),
        Transition("two", "b", "a", {"y": True}),
        Transition("four", "a", "b", {"x": True, "y": True, "z": True, "w": True}),
        Transition("four", "a", "c", {"x": False, "y": True, "z": True, "w": True}),
        Transition("four", "b", "c", {"w": False}),
        # three deciding flags, each of whose True can be legal (1 for True must still fail)
        Transition("three", "b", "a", {"x": True, "y": True, "z": True}),
        Transition("three", "b", "c", {"x": False, "y": True, "z": True}),
    ],
)
MODELS = [statusguard.load(str(ROOT / "model" / "glance_image.py")), SHAPES]
VALUES: tuple[Any, ...] = (True, False, 1, 0, 1.0, None)


@pytest.fixture(params=[False, True], ids=["nested", "bit-by-bit"], autouse=True)
def native(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Which way next() reads a conditional pair's table (both are tested in every build)."""
    monkeypatch.setattr(_answer, "_native", request.param)
    return bool(request.param)


def flag_dicts(lc: Lifecycle[Any, Any]) -> Iterator[dict[str, Any]]:
    """Every subset of the flags (and an unknown one) at bool values, and each subset of at
    most three with one non-bool value, in each place."""
    names = [f.name for f in lc.flags] + ["no_such_flag"]
    for size in range(len(names) + 1):
        for chosen in itertools.combinations(names, size):
            for bits in (
                itertools.product((True, False), repeat=size)
                if size <= 3
                else [
                    (True,) * size,
                    (False,) * size,
                ]
            ):
                yield dict(zip(chosen, bits, strict=True))
            if 0 < size <= 3:
                for value, spot in itertools.product(VALUES[2:], chosen):
                    yield {**dict.fromkeys(chosen, True), spot: value}


def answer(call: Any, *args: Any) -> tuple[str, str]:
    try:
        return ("ok", str(call(*args)))
    except StatusGuardError as exc:
        return (type(exc).__name__, str(exc))


def deciding(lc: Lifecycle[Any, Any], state: Any, event: Any) -> set[str]:
    options = lc._cond_next.get((str(state), str(event)), ())
    return {name for when, _ in options for name, _ in when}


def disagreements(lc: Lifecycle[Any, Any]) -> Iterator[tuple[Any, ...]]:
    for state, event in itertools.product(lc.states, lc.events):
        if (str(state), str(event)) not in lc._cond_next:
            continue  # unconditional or illegal: not tabled by flags (_next_slow is partial)
        decides = deciding(lc, state, event)
        for flags in flag_dicts(lc):
            if any(v.__class__ is not bool and n not in decides for n, v in flags.items()):
                continue  # next() does not inspect the value of a flag it does not need
            fast = answer(lc.next, state, event, flags)
            slow = answer(lc._next_slow, state, event, flags)
            if fast != slow:
                yield (str(state), str(event), flags, fast, slow)


@pytest.mark.parametrize("lc", MODELS, ids=lambda lc: lc.name)
def test_tabled_answers_equal_the_untabled_ones(lc: Lifecycle[Any, Any]) -> None:
    assert list(itertools.islice(disagreements(lc), 5)) == []


def test_the_fast_path_is_what_answers_the_tabled_shapes() -> None:
    """A flags dict of exactly the deciding flags, or of those without a default: the table."""
    glance = MODELS[0]
    decided = glance._fast["active"]["delete"]
    assert (decided[0], decided[1]) == (3, 2)  # delayed_delete, has_locations; protected defaults
    both = {"delayed_delete": True, "has_locations": True}
    assert glance.next("active", "delete", both) == "pending_delete"
    assert glance.next("active", "delete", {**both, "protected": False}) == "pending_delete"
    with pytest.raises(statusguard.IllegalTransition):
        glance.next("active", "delete", {**both, "protected": True})


def test_control_a_flipped_table_entry_is_caught(
    monkeypatch: pytest.MonkeyPatch, native: bool
) -> None:
    glance = MODELS[0]
    decided = list(glance._fast["active"]["delete"])
    rnames, rby_bits = decided[4:6]
    assert rnames == ("delayed_delete", "has_locations")  # protected has a default
    deleted = glance.state("deleted")  # pending_delete, really
    if native:
        flipped = list(rby_bits)
        flipped[0b11] = deleted
        decided[5] = tuple(flipped)
    else:
        decided[7] = (decided[7][0], (decided[7][1][0], deleted))
    table = dict(glance._fast["active"])
    table["delete"] = tuple(decided)
    monkeypatch.setitem(glance._fast, "active", table)
    found = list(itertools.islice(disagreements(glance), 1))
    assert found
    assert found[0][:2] == ("active", "delete")


def test_the_build_reads_tables_its_own_way() -> None:
    """Compiled, bit by bit; interpreted, by nested tables (``COMPILED`` says which runs here).
    ``STATUSGUARD_EXPECT_COMPILED=1`` (CI's compiled leg) fails a pure-Python import."""
    assert DEFAULT_NATIVE is _answer.COMPILED
    assert _answer.COMPILED is _answer.__file__.endswith((".so", ".pyd"))
    if os.environ.get("STATUSGUARD_EXPECT_COMPILED") == "1":
        assert _answer.COMPILED, f"{_answer.__file__} is not compiled"
