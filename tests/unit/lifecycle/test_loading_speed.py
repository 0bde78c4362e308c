"""Loading at the speed of the parser, with the same answers: line positions computed two
levels deep at once (deeper ones on the first question), one time budget for all work."""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import pytest

from statusguard.lifecycle._deadline import budget, expired, out_of_time, remaining, solver_ms
from statusguard.lifecycle._jsonio import parse_document
from statusguard.lifecycle._positions import Lines, value_lines

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "benchmarks"))
from lifecycles import dead_end_document, lifecycle_document  # noqa: E402


@pytest.mark.parametrize("indent", [None, 2], ids=["compact", "indented"])
def test_lines_answer_every_location_as_the_full_scan_does(indent: int | None) -> None:
    text = json.dumps(lifecycle_document(60), indent=indent)
    full = value_lines(text)
    lines = Lines(text)
    assert all(lines.get(loc) == line for loc, line in full.items())
    assert lines.get(("transitions", 10_000)) is None


def test_the_shallow_scan_skips_what_is_deeper() -> None:
    text = json.dumps(dead_end_document(40, 5), indent=1)
    shallow = value_lines(text, depth=2)
    assert max(len(loc) for loc in shallow) == 2
    assert ("transitions", 3) in shallow
    assert ("transitions", 3, "source") not in shallow
    assert shallow == {k: v for k, v in value_lines(text).items() if len(k) <= 2}


def test_a_deep_error_still_names_its_line() -> None:
    doc = lifecycle_document(10)
    doc["transitions"][4]["when"] = {"mode": "yes"}
    text = json.dumps(doc, indent=2)
    document = parse_document(text, file="x.json")
    assert (
        document.lines.get(("transitions", 4, "when", "mode"))
        == value_lines(text)[("transitions", 4, "when", "mode")]
    )


def test_a_budget_runs_out_and_nests_to_the_earliest_end() -> None:
    assert remaining() == math.inf
    assert not expired()
    with budget(3600):
        assert 3500 < remaining() <= 3600
        with budget(0.0):
            assert expired()
            assert solver_ms(10) == 1  # z3 still gets a positive timeout
        with budget(7200):  # an inner budget never extends the outer one
            assert remaining() <= 3600
        assert not expired()
        assert solver_ms(2) == 2000
    assert remaining() == math.inf


def test_a_budget_expires_with_time() -> None:
    with budget(0.001):
        time.sleep(0.002)
        assert expired()
        assert remaining() < 0
    assert "raise --timeout" in out_of_time("the search")


@pytest.mark.parametrize("strict", [False, True], ids=["shortest_paths", "reach_from"])
def test_path_lengths_without_the_walks_match_the_walks(strict: bool) -> None:
    """``Paths.hops`` answers the witness search without building a walk per state."""
    import random

    from statusguard.lifecycle._paths import Hop, Paths, bfs, walk

    for seed in range(200):
        rng = random.Random(seed)
        n = rng.randint(1, 12)
        adj = {
            f"s{i}": [Hop("e", f"s{rng.randrange(n)}", {}) for _ in range(rng.randint(0, 3))]
            for i in range(n)
        }
        start = f"s{rng.randrange(n)}"
        parent = bfs(start, adj, strict=strict)
        paths = Paths(parent, start, {})
        order = list(parent)
        rng.shuffle(order)
        for s in order:
            assert paths.hops(s) == len(walk(parent, start, s)) == len(paths[s].hops)
