"""Schedules: the interleavings BMC and the interpreter report, and how they read.

What it owns: the schedule entries (one dict per read or write, the JSON shape recorded
in ``Counterexample.schedule`` and the manifests), decoding a z3 model of the BMC
unrolling into a :class:`Counterexample`, and :func:`render_schedule`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from statusguard._text import format_flags
from statusguard.lifecycle._scenarios import SAVE
from statusguard.results import Counterexample, TraceStep

if TYPE_CHECKING:
    from statusguard.race._encoding import Encoding

__all__ = ["decode", "read_entry", "render_schedule", "write_entry"]


def read_entry(
    worker: int, status: str, version: int, request: str, target: str, facts: Mapping[str, bool]
) -> dict[str, Any]:
    """Worker ``worker`` (1-based) read ``status`` at ``version`` and decided ``request``
    (an event or ``SAVE``) with ``facts``, computing ``target``."""
    event = None if request == SAVE else request
    return {
        "worker": worker,
        "action": "read",
        "status": status,
        "version": version,
        "event": event,
        "request": "save" if event is None else event,
        "target": target,
        "facts": dict(facts),
    }


def write_entry(
    worker: int,
    committed: bool,
    facts: Mapping[str, bool],
    source: str,
    status: str,
    request: str,
    version: int,
    read_status: str,
    read_version: int,
) -> dict[str, Any]:
    """Worker ``worker``'s write: stored ``source`` became ``status`` (or, rejected, stayed),
    leaving ``version``; it had decided ``request`` on ``read_status`` at ``read_version``."""
    event = None if request == SAVE else request
    return {
        "worker": worker,
        "action": "write" if committed else "rejected",
        "facts": dict(facts),
        "from": source,
        "status": status,
        "event": event,
        "request": "save" if event is None else event,
        "version": version,
        "read_status": read_status,
        "read_version": read_version,
    }


def decode(
    enc: Encoding, m: Any, frames: Sequence[Mapping[str, Any]], steps: Sequence[Mapping[str, Any]]
) -> Counterexample:
    """The run a z3 model of the BMC unrolling describes (frames ``0..len(steps)``)."""
    z3 = enc.z3

    def ev(x: Any) -> Any:
        return m.eval(x, model_completion=True)

    def st(x: Any) -> str:
        n = ev(x).as_long()
        return enc.states[n] if n < len(enc.states) else f"#{n}"

    def req(x: Any) -> str:
        n = ev(x).as_long()
        return enc.reqs[n] if n < len(enc.reqs) else f"#{n}"

    def seen(facts: Mapping[str, Any], request: str) -> dict[str, bool]:
        return {f: z3.is_true(ev(facts[f])) for f in enc.facts if f in relevant.get(request, ())}

    config = {f: z3.is_true(ev(c)) for f, c in enc.cfg.items()}
    relevant: dict[str, set[str]] = {}
    for t in enc.p.lifecycle.transitions:
        relevant.setdefault(str(t.event), set()).update(n for n, _ in t.when if n in enc.facts)
    schedule: list[dict[str, Any]] = []
    trace: list[TraceStep] = []
    for k, step in enumerate(steps):
        a, b = frames[k], frames[k + 1]
        w = ev(step["who"]).as_long()
        if z3.is_true(ev(step["read"])):
            r = req(b["rq"][w])
            schedule.append(
                read_entry(
                    w + 1, st(a["g"]), ev(a["v"]).as_long(), r, st(b["tgt"][w]), seen(b["F"][w], r)
                )
            )
            continue
        g = st(a["g"])
        committed = ev(b["v"]).as_long() != ev(a["v"]).as_long()
        r = req(a["rq"][w])
        entry = write_entry(
            w + 1,
            committed,
            seen(a["F"][w], r),
            g,
            st(b["g"]),
            r,
            ev(b["v"]).as_long(),
            st(a["rs"][w]),
            ev(a["rv"][w]).as_long(),
        )
        if committed:
            trace.append(TraceStep(g, entry["request"], entry["facts"]))
        schedule.append(entry)
    trace.append(TraceStep(st(frames[len(steps)]["g"])))
    return Counterexample(config, tuple(trace), tuple(schedule))


def render_schedule(cex: Counterexample) -> str:
    """The interleaving as numbered lines: who read what, who committed what."""
    cfg = format_flags(cex.config)
    lines = [f"config: {cfg or '(no config flags)'}"]
    for n, s in enumerate(cex.schedule, 1):
        w = s["worker"]
        what = s.get("event") or "a metadata save"
        facts = s.get("facts") or {}
        fx = format_flags(facts)
        fx = f" [{fx}]" if fx else ""
        if s["action"] == "read":
            lines.append(
                f"  {n:>2}. worker {w} reads {s['status']} (version {s['version']}), "
                f"decides {what}{fx} -> {s['target']}"
            )
        elif s["action"] == "write":
            lines.append(
                f"  {n:>2}. worker {w} commits {s['from']} -> {s['status']} ({what}, decided on "
                f"{s['read_status']} v{s['read_version']}), version {s['version']}"
            )
        else:
            lines.append(
                f"  {n:>2}. worker {w}'s write is rejected ({what}, decided on "
                f"{s['read_status']} v{s['read_version']}; stored {s['from']} "
                f"v{s['version']})"
            )
        if "violates" in s:
            lines[-1] += f"   <-- violates race.{s['violates']}"
    return "\n".join(lines)
