"""Where each value of a JSON text starts: the line of every element, by its JSON path.

What it owns: :func:`value_lines`, a scan of a text :func:`json.loads` has already
accepted, mapping each value's location (``("transitions", 3, "source", 0)``) to the
1-based line it starts on, so errors and reports can point at the line of a lifecycle
document's element. Iterative (nesting depth is not bounded by the recursion limit).
A time budget bounds the scan (:mod:`statusguard.lifecycle._deadline`). Imports only
``_deadline``.
"""

from __future__ import annotations

import bisect
import json
import re
from json.decoder import scanstring  # type: ignore[attr-defined]

from statusguard.lifecycle._deadline import EVERY, check

__all__ = ["Lines", "value_lines"]

Location = tuple[str | int, ...]

_SPACE = re.compile(r"[ \t\n\r]*")
# json.loads also takes NaN, Infinity and -Infinity.
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null|NaN|-?Infinity")


_SKIP = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # C: one whole value


class Lines:
    """:func:`value_lines` of a text, computed as far as it is asked: locations at most
    ``depth`` deep at once (one pass that skips deeper values at C speed), the rest on
    the first question about one (an error deep inside a transition)."""

    def __init__(self, text: str, depth: int = 2, *, doing: str = "finding the lines") -> None:
        self._text = text
        self._depth = depth
        self._shallow = value_lines(text, depth=depth, doing=doing)
        self._full: dict[Location, int] | None = None

    def get(self, location: Location) -> int | None:
        if len(location) <= self._depth:
            return self._shallow.get(location)
        if self._full is None:
            self._full = value_lines(self._text)
        return self._full.get(location)


def value_lines(
    text: str, *, depth: int | None = None, doing: str = "finding the lines"
) -> dict[Location, int]:
    """The line each value of ``text`` starts on, by location (the whole document: ``()``).

    ``text`` must be valid JSON (a key given twice maps to its first occurrence). With
    ``depth``, only locations at most that deep (containers deeper are skipped whole).
    :class:`~statusguard.errors.OutOfTime` (naming ``doing``) when the budget runs out.
    """
    breaks = [m.start() for m in re.finditer("\n", text)]

    def line(pos: int) -> int:
        return bisect.bisect_left(breaks, pos) + 1

    lines: dict[Location, int] = {}
    # Each open container: its location, and for an array the next index.
    stack: list[tuple[Location, list[int] | None]] = []
    pos = _SPACE.match(text, 0).end()  # type: ignore[union-attr]
    where: Location = ()
    mark = pos  # where the element starts: its key in an object, else the value
    while True:
        if not len(lines) % EVERY:
            check(doing)
        lines.setdefault(where, line(mark))
        char = text[pos] if pos < len(text) else ""
        if char in {"{", "["} and depth is not None and len(where) >= depth:
            _, pos = _SKIP(text, pos)
        elif char in {"{", "["}:
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
