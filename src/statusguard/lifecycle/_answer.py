"""The hot path of ``Lifecycle.next``: the answer for a (state, event) read off its tables.

What it owns: :class:`Answers`, the base of :class:`~statusguard.lifecycle._runtime.Runtime`
that holds the tables ``next`` reads and answers the calls they decide (everything else
goes to Runtime's general paths), the layout of a conditional pair's table
(:data:`Decided`), and :data:`COMPILED`.

This is the one module a build may compile with mypyc (``STATUSGUARD_COMPILE=1 pip install
.``, ``hatch_build.py``; docs/performance.md): the same source runs either way, and both builds
give the same answers and errors (CI tests both). Compiled, a conditional pair is decided
by reading its flags one by one into the bits of an index (:func:`pick`); interpreted, by
reading them by subscript and walking nested pairs of outcomes, a level a flag (each way
the faster for its build, measured), so each build takes its own branch. Imports
:mod:`statusguard.errors` (and ``mypy_extensions``, whose decorator mypyc reads).
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any, Final, NoReturn

from mypy_extensions import mypyc_attr

from statusguard.errors import _illegal_event

__all__ = ["COMPILED", "Answers", "Decided", "pick"]


def _compiled() -> bool:
    return not isinstance(_compiled, types.FunctionType)


COMPILED: Final = _compiled()
"""Whether this module runs compiled (mypyc) rather than interpreted."""

_native = COMPILED  # which branch decides a conditional pair (tests flip it, see pick())

#: a conditional pair's table: how many its deciding flags are and how many of them have no
#: default (-1 when every one of them has one, or none has); the names of each group; the
#: outcomes indexed by the settings' bits (bit i: the i-th name is True; None: illegal),
#: for all of them and for those without a default (the others at their defaults; empty
#: if none); and the same outcomes as nested ``(if False, if True)`` pairs, one level a
#: flag in the order of the names
Decided = tuple[
    int,
    int,
    tuple[str, ...],
    tuple[Any, ...],
    tuple[str, ...],
    tuple[Any, ...],
    tuple[Any, ...],
    tuple[Any, ...],
]


def pick(names: tuple[str, ...], by_bits: tuple[Any, ...], flags: dict[str, Any]) -> Any:
    """The outcome ``flags`` select, when each of ``names`` is there as True or False;
    None otherwise (missing, another value, or the setting is illegal)."""
    bits = 0
    bit = 1
    for name in names:
        value = flags.get(name)
        if value is True:
            bits |= bit
        elif value is not False:  # missing, or 1 == True: the general path decides
            return None
        bit <<= 1
    return by_bits[bits]


@mypyc_attr(allow_interpreted_subclasses=True)
class Answers:
    """``next``'s tables and its fast path; :class:`Runtime` builds them and answers the rest.

    Not generic (Runtime is): a compiled generic base under an interpreted subclass
    corrupted reference counts (a segfault in the garbage collector, seen with mypy 2.4)."""

    __slots__ = ("_event_strs", "_fast", "_flag_names", "_label", "_refusals", "_wide")

    _fast: dict[str, dict[str, Any]]
    _refusals: dict[str, tuple[str, tuple[str, ...]]]
    _event_strs: dict[str, str]
    _wide: frozenset[tuple[str, str]]
    _flag_names: frozenset[str]
    _label: str  # the lifecycle's name, for the refusal

    # The parameters are Any here (Runtime declares their types for callers): a compiled
    # build checks a parameter's declared type on entry, which would turn a wrong name into
    # a TypeError rather than UnknownState.
    def next(self, state: Any, event: Any, flags: Any = None) -> Any:  # noqa: PLR0915 (one frame)
        """The state ``event`` leads to from ``state``.

        Raises :class:`IllegalTransition` if the event is not enabled there,
        :class:`MissingFlag` if the answer depends on a flag not in ``flags``,
        and :class:`UnknownState`/:class:`UnknownEvent`/:class:`UnknownFlag` for
        names the lifecycle does not declare. Costs about two dict lookups: the answer
        for every (state, event) and deciding flag setting is tabled at construction
        (flags the answer does not depend on are not inspected).
        """
        try:
            found = self._fast[state].get(event)
        except KeyError:
            found = None
        except TypeError:  # an unhashable state or event
            self._unhashable(state, event)
        if found is None:  # an unknown name, illegal, or conditional on many flags
            if not flags:
                refused = self._refusals.get(state)  # (the state's name, the events allowed)
                name = self._event_strs.get(event)
                if (
                    refused is not None
                    and name is not None
                    and (not self._wide or (state, event) not in self._wide)
                ):
                    # illegal whatever the flags (built by one C call: an exception held in a
                    # local of the frame it is raised from makes a cycle for the GC)
                    raise _illegal_event(refused[0], name, refused[1], None, None, self._label)
            return self._next_slow(state, event, flags)
        if found.__class__ is not tuple:
            if flags and (
                (flags.__class__ is not dict and not isinstance(flags, Mapping))
                or not self._flag_names.issuperset(flags)
            ):
                self.check_flags(flags)  # raises UnknownFlag; skipped when no flags are given
            return found
        # A conditional pair: given a dict of exactly its deciding flags, or of exactly
        # those without a default (the defaults are tabled too), no other name can be
        # there and the answer is read off the table, a step a flag.
        if flags.__class__ is dict:
            decided: Decided = found
            given = len(flags)
            if _native:
                if given == decided[0]:
                    target = pick(decided[2], decided[3], flags)
                elif given == decided[1]:
                    target = pick(decided[4], decided[5], flags)
                else:
                    target = None
                if target is not None:
                    return target
                return self._next_given(state, event, flags, decided)
            # Interpreted: each deciding flag read by subscript (a KeyError: missing) and
            # compared to True and False (1 == True), one level a flag down the nested pairs
            # (a constant index: the interpreter's specialized tuple subscript).
            if given == decided[0]:
                names = decided[2]
                table: Any = decided[6]  # a tuple down to the outcome
            elif given == decided[1]:
                names = decided[4]
                table = decided[7]
            else:
                return self._next_given(state, event, flags, decided)
            try:
                if given == 2:
                    a, b = flags[names[0]], flags[names[1]]
                    t = table[1] if a is True else table[0] if a is False else None
                    if t is not None:
                        t = t[1] if b is True else t[0] if b is False else None
                        if t is not None:
                            return t
                elif given == 3:  # Glance's delete: delayed_delete, has_locations, protected
                    a, b, c = flags[names[0]], flags[names[1]], flags[names[2]]
                    t = table[1] if a is True else table[0] if a is False else None
                    if t is not None:
                        t = t[1] if b is True else t[0] if b is False else None
                        if t is not None:
                            t = t[1] if c is True else t[0] if c is False else None
                            if t is not None:
                                return t
                else:
                    for name in names:
                        value = flags[name]
                        table = table[1] if value is True else table[0] if value is False else None
                        if table is None:  # not a bool, or the setting is illegal
                            break
                    else:
                        return table
            except KeyError:  # a deciding flag is missing
                pass
        return self._next_given(state, event, flags, found)

    def _unhashable(self, state: Any, event: Any) -> NoReturn:
        """Runtime's: raise UnknownState or UnknownEvent for the one that is unhashable."""
        raise NotImplementedError

    def check_flags(self, flags: Any, *, kind: Any = None) -> None:
        """Runtime's: raise if ``flags`` names an undeclared flag or holds a non-bool."""
        raise NotImplementedError

    def _next_given(self, state: Any, event: Any, flags: Any, found: Decided) -> Any:
        """Runtime's: ``next`` for a conditional pair that the tables did not decide."""
        raise NotImplementedError

    def _next_slow(self, state: Any, event: Any, flags: Any) -> Any:
        """Runtime's: ``next`` from the conditions themselves, with every typed error."""
        raise NotImplementedError
