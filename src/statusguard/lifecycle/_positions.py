"""Where each value of a JSON text starts: the line of every element, by its JSON path.

What it owns: :func:`value_lines`, a scan of a text :func:`json.loads` has already
accepted, mapping each value's location (``("transitions", 3, "source", 0)``) to the
1-based line it starts on, so errors and reports can point at the line of a lifecycle
document's element. Iterative (nesting depth is not bounded by the recursion limit).
Imports nothing of ours.
"""

from __future__ import annotations

import bisect
import re
from json.decoder import scanstring  # type: ignore[attr-defined]

__all__ = ["value_lines"]

Location = tuple[str | int, ...]

_SPACE = re.compile(r"[ \t\n\r]*")
# json.loads also takes NaN, Infinity and -Infinity.
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null|NaN|-?Infinity")


def value_lines(text: str) -> dict[Location, int]:
    """The line each value of ``text`` starts on, by location (the whole document: ``()``).

    ``text`` must be valid JSON (a key given twice maps to its first occurrence).
    """
    breaks = [i for i, c in enumerate(text) if c == "\n"]

    def line(pos: int) -> int:
        return bisect.bisect_left(breaks, pos) + 1

    lines: dict[Location, int] = {}
    # Each open container: its location, and for an array the next index.
    stack: list[tuple[Location, list[int] | None]] = []
    pos = _SPACE.match(text, 0).end()  # type: ignore[union-attr]
    where: Location = ()
    mark = pos  # where the element starts: its key in an object, else the value
    while True:
        lines.setdefault(where, line(mark))
        char = text[pos] if pos < len(text) else ""
        if char in {"{", "["}:
            pos = _SPACE.match(text, pos + 1).end()  # type: ignore[union-attr]
            if text[pos] in "}]":  # empty container
                pos += 1
            else:
                stack.append((where, [0] if char == "[" else None))
                where, mark, pos = _next_slot(text, pos, stack)
                continue
        elif char == '"':
            _, pos = scanstring(text, pos + 1)
        else:
            match = _SCALAR.match(text, pos)
            if match is None:
                raise ValueError(f"not valid JSON at offset {pos}")
            pos = match.end()
        # After a value: a comma opens the next slot, a bracket closes containers.
        while True:
            pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
            if not stack:
                return lines
            if text[pos] == ",":
                pos = _SPACE.match(text, pos + 1).end()  # type: ignore[union-attr]
                where, mark, pos = _next_slot(text, pos, stack)
                break
            stack.pop()  # "}" or "]"
            pos += 1


def _next_slot(
    text: str, pos: int, stack: list[tuple[Location, list[int] | None]]
) -> tuple[Location, int, int]:
    """The next element of the innermost container: its location, where the element
    starts (an object member at its key) and where its value starts."""
    parent, counter = stack[-1]
    if counter is not None:
        index = counter[0]
        counter[0] += 1
        return (*parent, index), pos, pos
    start = pos  # the key's opening quote
    key, pos = scanstring(text, pos + 1)
    pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
    pos = _SPACE.match(text, pos + 1).end()  # type: ignore[union-attr]  # past ":"
    return (*parent, key), start, pos
