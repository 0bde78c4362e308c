"""Text every layer puts in messages: flag settings and lists of names (no imports)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["closest", "did_you_mean", "format_flag", "format_flags", "quoted_names"]


def format_flag(name: str, value: bool) -> str:
    """``delayed_delete=true``: one flag literal, as the CLI's ``--config`` spells it."""
    return f"{name}={'true' if value else 'false'}"


def format_flags(flags: Mapping[str, bool] | Iterable[tuple[str, bool]]) -> str:
    """``delayed_delete=true, has_locations=false``, sorted by name; empty if none."""
    items = flags.items() if isinstance(flags, Mapping) else flags
    return ", ".join(format_flag(n, v) for n, v in sorted(items))


def quoted_names(values: Iterable[object]) -> str:
    """``'a', 'b'`` for a message; ``(none)`` when there are none."""
    items = [repr(str(v)) for v in values]
    return ", ".join(items) if items else "(none)"


def closest(name: object, known: Iterable[object]) -> str | None:
    """The known name closest to ``name`` (difflib, case-insensitive), if one is close."""
    given = str(name)
    names = [str(k) for k in known]
    by_lower = {n.lower(): n for n in reversed(names)}  # the first spelling wins
    import difflib  # off the import path: only an error message needs it

    found = difflib.get_close_matches(given.lower(), list(by_lower), n=1, cutoff=0.6)
    if not found or by_lower[found[0]] == given:
        return None
    return by_lower[found[0]]


def did_you_mean(name: object, known: Iterable[object]) -> str:
    """``; did you mean 'delete'?`` when a known name is close to ``name``; else ``""``."""
    found = closest(name, known)
    return f"; did you mean {found!r}?" if found is not None else ""
