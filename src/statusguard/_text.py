"""Text every layer puts in messages: flag settings and lists of names (no imports)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["format_flag", "format_flags", "quoted_names"]


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
