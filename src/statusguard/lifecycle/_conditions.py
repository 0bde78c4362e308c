"""Conditions on flags: merging them per edge, simplifying them, and saying them in words.

The one place that groups a lifecycle's transitions per ``(source, event, target)``
edge; the views, ``diff``, ``explain`` and the path searches all build on it.
Imports :mod:`statusguard._text` and :mod:`statusguard.lifecycle._model`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from statusguard._text import format_flags
from statusguard.lifecycle._model import AnyLifecycle

__all__ = [
    "Condition",
    "describe_condition",
    "format_config",
    "merged_conditions",
    "simplify",
]

Condition = tuple[tuple[str, bool], ...]


def format_config(config: Mapping[str, bool]) -> str:
    """A config setting for humans; ``any config`` when it fixes nothing."""
    return format_flags(config.items()) or "any config"


def simplify(conditions: Sequence[Condition]) -> tuple[Condition, ...]:
    """A disjunction of conjunctions without duplicates or absorbed terms.

    ``()`` (unconditional) absorbs everything: the result is then ``((),)``.
    """
    unique: list[Condition] = []
    for c in conditions:
        if c not in unique:
            unique.append(c)
    kept = [c for c in unique if not any(o != c and set(o) <= set(c) for o in unique if o is not c)]
    return tuple(kept)


def describe_condition(conditions: Sequence[Condition]) -> str:
    """A disjunction of conjunctions in words: ``not delayed_delete or not has_locations``.

    The empty string means unconditional.
    """
    terms = simplify(conditions)
    if not terms or () in terms:
        return ""

    def conj(c: Condition) -> str:
        words = " and ".join(n if v else f"not {n}" for n, v in c)
        return f"({words})" if len(c) > 1 and len(terms) > 1 else words

    return " or ".join(conj(c) for c in terms)


def merged_conditions(
    lc: AnyLifecycle, flags: Mapping[str, bool] | None = None, *, drop_fixed: bool = True
) -> dict[tuple[str, str, str], list[Condition]]:
    """The conditions of every ``(source, event, target)``, merged, in model order.

    Only transitions consistent with ``flags`` count; with ``drop_fixed`` the literals
    ``flags`` fixes are removed from the conditions (what remains is still unknown).
    The one place that groups transitions per edge: the views, ``diff``, ``explain``
    and the path searches all build on it.
    """
    flags = flags or {}
    merged: dict[tuple[str, str, str], list[Condition]] = {}
    for t in lc.transitions:
        if any(flags.get(n, v) != v for n, v in t.when):
            continue
        when = tuple((n, v) for n, v in t.when if n not in flags) if drop_fixed else t.when
        for s in t.sources:
            merged.setdefault((str(s), str(t.event), str(t.target)), []).append(when)
    return merged


def merged_noops(
    lc: AnyLifecycle, flags: Mapping[str, bool] | None = None
) -> dict[tuple[str, str], list[Condition]]:
    """The conditions of every ``(state, event)`` a no-op accepts, merged, in model order.

    As :func:`merged_conditions`: only no-ops consistent with ``flags``, and the literals
    ``flags`` fixes removed.
    """
    flags = flags or {}
    merged: dict[tuple[str, str], list[Condition]] = {}
    for n in lc.noops:
        if any(flags.get(k, v) != v for k, v in n.when):
            continue
        when = tuple((k, v) for k, v in n.when if k not in flags)
        for s in n.sources:
            merged.setdefault((str(s), str(n.event)), []).append(when)
    return merged
