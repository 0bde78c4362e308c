"""Generated ``statusguard.lifecycle/v1`` documents of N states, for the gate's benchmarks
and the scaling tests.

:func:`lifecycle_document` is a valid lifecycle (every obligation proved): a spine
``s0 -> s1 -> ...``, about three transitions a state (one under a config flag, one under
a fact flag), 5 % terminal states each with a way in, and two invariants.
:func:`dead_end_document` hides a dead end ``depth`` steps down a spine of the same kind,
so ``no_dead_ends`` is violated with a shortest trace of ``depth`` steps.
Deterministic for a given ``n`` and ``seed``; no statusguard import (plain data).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

__all__ = ["dead_end_document", "lifecycle_document", "write_document"]

FORMAT = "statusguard.lifecycle/v1"


def lifecycle_document(n: int, *, seed: int = 7, name: str | None = None) -> dict[str, Any]:
    """A valid lifecycle of ``n`` states (``n >= 4``): every obligation holds."""
    if n < 4:
        raise ValueError(f"a generated lifecycle needs at least 4 states, got {n}")
    rng = random.Random(seed)
    states = [f"s{i}" for i in range(n)]
    n_term = max(1, n // 20)
    live = n - n_term
    terminal = states[live:]
    transitions: list[dict[str, Any]] = []
    for i in range(live):
        transitions.append({"event": "advance", "source": states[i], "target": states[i + 1]})
        transitions.append(
            {
                "event": "retry",
                "source": states[i],
                "target": states[rng.randrange(live)],
                "when": {"mode": True},
            }
        )
        transitions.append(
            {
                "event": "skip",
                "source": states[i],
                "target": states[rng.randrange(n)],
                "when": {"ready": True},
            }
        )
    for k, t in enumerate(terminal[1:]):  # every terminal state has a way in
        transitions.append({"event": "finish", "source": states[k * 7 % live], "target": t})
    return {
        "format": FORMAT,
        "name": name or f"generated-{n}",
        "states": states,
        "initial": states[0],
        "terminal": terminal,
        "events": ["advance", "retry", "skip", "finish"],
        "flags": {"mode": "config", "ready": "fact"},
        "transitions": transitions,
        "invariants": [
            {"kind": "absorbing", "name": "last-is-final", "state": states[-1]},
            {"kind": "unreachable", "name": "no-way-back", "from": states[-1], "to": states[0]},
        ],
    }


def dead_end_document(n: int, depth: int, *, seed: int = 7) -> dict[str, Any]:
    """``n`` states; ``d{depth}`` is a dead end exactly ``depth`` steps from the start.

    A spine ``d0 -> ... -> d{depth}`` (every spine state but the last may also
    ``finish``), beside a valid generated lifecycle of the remaining states reached from
    ``d0`` (so the graph is large but the shortest way to the dead end is the spine).
    """
    if not 1 <= depth < n - 4:
        raise ValueError(f"expected 1 <= depth < n - 4, got depth={depth}, n={n}")
    rest = lifecycle_document(n - depth - 1, seed=seed)
    spine = [f"d{i}" for i in range(depth + 1)]
    transitions = [
        {"event": "advance", "source": spine[i], "target": spine[i + 1]} for i in range(depth)
    ]
    transitions.append({"event": "finish", "source": spine[:-1], "target": rest["terminal"][0]})
    transitions.append({"event": "skip", "source": spine[0], "target": rest["initial"]})
    rest["transitions"] = transitions + rest["transitions"]
    rest["states"] = spine + rest["states"]
    rest["initial"] = spine[0]
    rest["name"] = f"dead-end-{n}-at-{depth}"
    rest["invariants"] = []
    return rest


def write_document(doc: dict[str, Any], folder: Path) -> Path:
    """``doc`` as ``folder/<name>.json`` (compact, as a generator would write it)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{doc['name']}.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path
