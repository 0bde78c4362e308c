"""The write protocols, one record each, and the obligations they are checked against.

What it owns: :class:`RaceProtocol`, the record that is everything statusguard knows
about one write discipline (its z3 write rule and planted bugs, its interpreter step, the
:class:`~statusguard.guard.Guard` call it models, its description, the theorems expected
of it), the registry :data:`REGISTRY` every other module reads, :data:`OBLIGATIONS`, and
:class:`Decision` (what a worker read and decided). Adding a protocol is adding one
record to :data:`REGISTRY`. z3 is never imported here: a rule receives the encoding,
which carries the z3 module. Imports :mod:`statusguard.errors` (and
:mod:`statusguard.guard`'s names for type checking only).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from statusguard._text import did_you_mean
from statusguard.errors import UnknownProtocol

__all__ = [
    "OBLIGATIONS",
    "PROTOCOLS",
    "REGISTRY",
    "Decision",
    "Events",
    "RaceProtocol",
    "WriteTerms",
    "protocol_named",
]

OBLIGATIONS = ("legal_steps", "absorbing", "fresh_decision", "progress")
"""What every committed write must satisfy (see :mod:`statusguard.race`)."""


class Decision(NamedTuple):
    """What a worker read (``status``, ``version``) and decided (``request``, ``target``).

    ``request`` is an event name or ``SAVE`` (empty when the writer knows only the
    target); ``facts`` are the fact flags it saw; ``version`` is ``None`` when the writer
    did not read one (then a version compare cannot be made). Immutable; a NamedTuple
    because ``GuardAdapter.write`` builds one per write.
    """

    request: str
    status: str
    version: int | None
    facts: tuple[tuple[str, bool], ...]
    target: str


class WriteTerms(NamedTuple):
    """One write as z3 terms: the stored status ``g`` and version ``v``, and the writer's
    read status ``rs``, read version ``rv``, request ``r``, facts ``F`` and target ``tgt``."""

    g: Any
    v: Any
    rs: Any
    rv: Any
    r: Any
    F: Mapping[str, Any]
    tgt: Any


class Events(Protocol):
    """The encoding as a write rule sees it: z3 and the lifecycle's transition relation."""

    z3: Any

    def enabled(self, s: Any, r: Any, F: Mapping[str, Any]) -> Any:
        """Request ``r`` is enabled in status ``s`` with facts ``F``."""
        ...

    def nxt(self, s: Any, r: Any, F: Mapping[str, Any]) -> Any:
        """The status request ``r`` leads to from ``s`` with facts ``F``."""
        ...


Z3Rule = Callable[[Events, WriteTerms], tuple[Any, Any]]
"""A write as z3 terms: ``(committed, stored status after the write)``."""
Step = Callable[[Decision, str, int, Callable[[str], str | None]], str | None]
"""A write in the interpreter: ``step(decision, stored status, stored version, fire)`` is
the status committed, or ``None`` if the write is rejected; ``fire(status)`` is the target
of the decided request from ``status`` (``None`` where it is not enabled)."""

# GuardCall: the write through the runtime, ``call(guard, key, decision)`` is what the
# guard committed; a rejection raises (``TransitionConflict``, ``IllegalTransition``) as
# the guard does. The runtime's types are for the type checker only: importing the guard
# (and its logging and tracing) is left to whoever replays a schedule on it.
if TYPE_CHECKING:
    from statusguard.guard import Committed, Guard

    GuardCall = Callable[[Guard[Any, Any], Hashable, Decision], Committed]
else:
    GuardCall = Callable[[Any, Hashable, Decision], Any]


@dataclass(frozen=True)
class RaceProtocol:
    """One write discipline, as z3, the interpreter and the runtime each run it.

    ``theorems`` are the obligations it satisfies on any lifecycle (the gate expects them
    proved). ``decides_at_write``: the target is computed inside the atomic write, from the
    stored status (so the decision's basis is the current version, not the read one).
    ``guard_call`` is ``None`` for a protocol that bypasses the guard; a protocol with one
    writes the status only through the guard, so metadata saves write no status under it.
    ``mutants`` are planted bugs: variants of ``z3_write`` the tests show the proofs catch.
    ``fresh_when_acyclic``: it commits only while the stored status equals the one read, so
    on a lifecycle whose reachable transitions form no cycle its decisions are fresh.
    """

    name: str
    doc: str
    z3_write: Z3Rule
    step: Step
    guard_call: GuardCall | None
    theorems: frozenset[str]
    decides_at_write: bool = False
    mutants: Mapping[str, Z3Rule] = field(default_factory=dict)
    fresh_when_acyclic: bool = False

    @property
    def guarded(self) -> bool:
        """Whether the status is written only through the guard."""
        return self.guard_call is not None

    def z3_rule(self, mutation: str | None = None) -> Z3Rule:
        """The z3 write rule, or the planted bug ``mutation``."""
        if mutation is None:
            return self.z3_write
        try:
            return self.mutants[mutation]
        except KeyError:
            raise ValueError(
                f"protocol {self.name!r} has no planted bug {mutation!r}; expected one of: "
                f"{', '.join(repr(m) for m in self.mutants) or '(none)'}"
                + did_you_mean(mutation, self.mutants)
            ) from None


def _blind(enc: Events, t: WriteTerms) -> tuple[Any, Any]:
    """Always commit the target decided at read time."""
    return enc.z3.BoolVal(True), t.tgt


def _cas(compare: Callable[[Events, WriteTerms], Any]) -> Z3Rule:
    """Commit the decided target only if ``compare`` holds; otherwise leave the status."""

    def rule(enc: Events, t: WriteTerms) -> tuple[Any, Any]:
        ok = compare(enc, t)
        return ok, enc.z3.If(ok, t.tgt, t.g)

    return rule


def _apply_event(enc: Events, t: WriteTerms) -> tuple[Any, Any]:
    """The store applies the request to the stored status, rejecting it where not enabled."""
    ok = enc.enabled(t.g, t.r, t.F)
    return ok, enc.z3.If(ok, enc.nxt(t.g, t.r, t.F), t.g)


def _stale_target(enc: Events, t: WriteTerms) -> tuple[Any, Any]:
    """A planted bug: ``fire`` checks the event against the stored status but writes the
    target computed from the read."""
    ok = enc.enabled(t.g, t.r, t.F)
    return ok, enc.z3.If(ok, t.tgt, t.g)


_ALWAYS = _cas(lambda enc, t: enc.z3.BoolVal(True))  # a compare-and-set without the compare

UNGUARDED = RaceProtocol(
    "unguarded",
    "store the status computed from the read (Glance's plain image_repo.save)",
    z3_write=_blind,
    step=lambda d, status, version, fire: d.target,
    guard_call=None,
    theorems=frozenset({"progress"}),
)
CAS_STATUS = RaceProtocol(
    "cas_status",
    "commit only if the stored status still equals the one read "
    "(Guard.move(key, target, expected=read); Glance's from_state)",
    z3_write=_cas(lambda enc, t: t.g == t.rs),
    step=lambda d, status, version, fire: d.target if status == d.status else None,
    guard_call=lambda guard, key, d: guard.move(key, d.target, d.status, facts=dict(d.facts)),
    theorems=frozenset({"legal_steps", "absorbing", "progress"}),
    mutants={"skip_compare": _ALWAYS},
    fresh_when_acyclic=True,
)
CAS_VERSION = RaceProtocol(
    "cas_version",
    "commit only if the stored version still equals the one read, bumping it "
    "(Guard.move(key, target, expected=read, expected_version=v))",
    z3_write=_cas(lambda enc, t: t.v == t.rv),
    step=lambda d, status, version, fire: d.target if version == d.version else None,
    guard_call=lambda guard, key, d: guard.move(
        key, d.target, d.status, expected_version=d.version, facts=dict(d.facts)
    ),
    theorems=frozenset(OBLIGATIONS),
    mutants={"skip_compare": _ALWAYS},
)
ATOMIC_EVENT = RaceProtocol(
    "atomic_event",
    "apply the event to the stored status in one step, rejecting it if it is not enabled "
    "there (Guard.fire -> Store.apply, one conditional UPDATE)",
    z3_write=_apply_event,
    step=lambda d, status, version, fire: fire(status),
    guard_call=lambda guard, key, d: guard.fire(key, d.request, dict(d.facts)),
    theorems=frozenset(OBLIGATIONS),
    decides_at_write=True,
    mutants={"skip_compare": _blind, "stale_target": _stale_target},
)

REGISTRY: Mapping[str, RaceProtocol] = MappingProxyType(
    {p.name: p for p in (UNGUARDED, CAS_STATUS, CAS_VERSION, ATOMIC_EVENT)}
)
"""Every protocol statusguard models, by name, in the order checks and reports use."""

PROTOCOLS: tuple[str, ...] = tuple(REGISTRY)
"""The protocol names, in :data:`REGISTRY` order."""


def protocol_named(name: str) -> RaceProtocol:
    """The protocol ``name``; :class:`UnknownProtocol` otherwise."""
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        raise UnknownProtocol(name, PROTOCOLS) from None
