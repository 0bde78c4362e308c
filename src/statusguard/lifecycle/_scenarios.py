"""Race scenarios a lifecycle declares: who races whom, from which stored status.

What it owns: :class:`RaceScenario` (pure data: a name, a short description, the stored
status the race starts from, each worker's role, fixed config flags and the verdict the
gate expects per write protocol), :data:`SAVE`, the scenario's JSON form (the optional
``race_scenarios`` key of ``statusguard.lifecycle/v1``) and :func:`validate_scenarios`,
the checks against the lifecycle that declares them. Protocol names are checked by
:mod:`statusguard.race`, which owns the protocols. Imports only :mod:`statusguard.errors`
and :mod:`statusguard.results`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from statusguard._text import did_you_mean
from statusguard.errors import InvalidLifecycle
from statusguard.results import Verdict

if TYPE_CHECKING:
    from statusguard.lifecycle._model import Lifecycle

__all__ = ["KEY", "SAVE", "RaceScenario", "validate_scenarios"]

SAVE = "(save)"
"""The request of a metadata save: no event; it rewrites the whole row from its snapshot,
status included (Glance's plain ``ImageRepo.save``). Under a guarded protocol the status
is written only through the guard, so a save writes no status and drops out."""

KEY = "race_scenarios"
"""The scenarios' key in a ``statusguard.lifecycle/v1`` document (omitted when empty)."""

_GATED = (Verdict.PROVED, Verdict.VIOLATED)


@dataclass(frozen=True, init=False)
class RaceScenario:
    """A race between workers, each handling the requests of its role, from ``start``.

    ``roles`` gives one tuple of requests (event names, or :data:`SAVE`) per worker;
    ``config`` fixes config flags for the race (the rest range over every setting);
    ``expected`` maps a protocol name to the verdict the gate expects (``proved`` or
    ``violated``; an expected violation is a negative control: the race must keep being
    found); protocols left out are checked but not gated. ``bugs`` cites the reports the
    race comes from.
    """

    name: str
    doc: str
    start: str
    roles: tuple[tuple[str, ...], ...]
    expected: Mapping[str, Verdict]
    config: Mapping[str, bool]
    bugs: tuple[str, ...]

    def __init__(
        self,
        name: str,
        doc: str,
        start: str,
        roles: Iterable[Iterable[str]],
        expected: Mapping[str, Verdict | str] | None = None,
        config: Mapping[str, bool] | None = None,
        bugs: Iterable[str] = (),
    ) -> None:
        def bad(problem: str) -> InvalidLifecycle:
            return InvalidLifecycle(f"race scenario {name!r}: {problem}")

        if isinstance(roles, str) or any(isinstance(r, str) for r in roles):
            raise bad("roles must be a list of roles, each a list of event names or SAVE")
        verdicts: dict[str, Verdict] = {}
        for protocol, verdict in (expected or {}).items():
            if not isinstance(verdict, str) or verdict not in _GATED:
                raise bad(
                    f"the verdict expected under {protocol!r} must be 'proved' or 'violated', "
                    f"got {verdict!r}"
                )
            verdicts[str(protocol)] = Verdict(verdict)
        for flag, value in (config or {}).items():
            if not isinstance(value, bool):
                raise bad(f"config flag {flag!r} must be True or False, got {value!r}")
        set_ = object.__setattr__
        set_(self, "name", name)
        set_(self, "doc", doc)
        set_(self, "start", _plain(start))
        set_(self, "roles", tuple(tuple(_plain(r) for r in role) for role in roles))
        set_(self, "expected", verdicts)
        set_(self, "config", {str(k): v for k, v in (config or {}).items()})
        set_(self, "bugs", tuple(bugs))

    def __hash__(self) -> int:
        return hash(
            (
                self.name,
                self.start,
                self.roles,
                tuple(sorted(self.expected.items())),
                tuple(sorted(self.config.items())),
                self.bugs,
            )
        )

    def requests(self) -> tuple[str, ...]:
        """Every request any worker of this scenario may handle (in first-seen order)."""
        out: dict[str, None] = {}
        for role in self.roles:
            for r in role:
                out.setdefault(r, None)
        return tuple(out)

    def to_json(self) -> dict[str, Any]:
        """The scenario as an item of the document's ``race_scenarios`` list."""
        doc: dict[str, Any] = {"name": self.name}
        if self.doc:
            doc["doc"] = self.doc
        doc["start"] = self.start
        doc["roles"] = [list(r) for r in self.roles]
        if self.config:
            doc["config"] = dict(self.config)
        if self.expected:
            doc["expected"] = {k: str(v) for k, v in self.expected.items()}
        if self.bugs:
            doc["bugs"] = list(self.bugs)
        return doc

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> RaceScenario:
        """A scenario from a schema-valid item of ``race_scenarios``."""
        return cls(
            raw["name"],
            raw.get("doc", ""),
            raw["start"],
            raw["roles"],
            raw.get("expected"),
            raw.get("config"),
            raw.get("bugs", ()),
        )


def _plain(name: Any) -> Any:
    """A ``StrEnum`` member as its plain string value (anything else unchanged)."""
    return str(name) if isinstance(name, str) else name


def validate_scenarios(lc: Lifecycle[Any, Any], scenarios: Sequence[Any]) -> None:
    """Raise :class:`InvalidLifecycle`, naming the JSON path, for a scenario ``lc`` cannot run.

    Checked: each item is a :class:`RaceScenario` with a unique non-empty name, a declared
    start state, at least one role and no empty one, only declared events (or
    :data:`SAVE`) in its roles, and only declared config flags in its config.
    """

    def bad(problem: str, *location: str | int) -> InvalidLifecycle:
        return InvalidLifecycle(problem, (KEY, *location), lifecycle=lc.name or None)

    states = {str(s) for s in lc.states}
    events = {str(e) for e in lc.events}
    config_flags = set(lc.config_flags)
    seen: set[str] = set()
    for i, sc in enumerate(scenarios):
        if not isinstance(sc, RaceScenario):
            raise bad(f"expected a RaceScenario, got {sc!r}", i)
        if not isinstance(sc.name, str) or not sc.name.strip():
            raise bad("race scenario names must be non-empty strings", i, "name")
        if sc.name in seen:
            raise bad(f"duplicate race scenario name {sc.name!r}", i, "name")
        seen.add(sc.name)
        where = f"race scenario {sc.name!r}"
        if sc.start not in states:
            raise bad(
                f"{where} starts from unknown state {sc.start!r}; expected one of: "
                + ", ".join(repr(str(s)) for s in lc.states)
                + did_you_mean(sc.start, states),
                i,
                "start",
            )
        if not sc.roles:
            raise bad(f"{where} has no roles; give each worker a list of requests", i, "roles")
        for j, role in enumerate(sc.roles):
            if not role:
                raise bad(f"{where}: role {j + 1} has no requests", i, "roles", j)
            for k, request in enumerate(role):
                if request == SAVE and SAVE in events:
                    raise bad(
                        f"{where}: {SAVE!r} is both a declared event and the metadata-save "
                        "request; rename the event",
                        i,
                        "roles",
                        j,
                        k,
                    )
                if request != SAVE and request not in events:
                    raise bad(
                        f"{where}: role {j + 1} handles unknown event {request!r}; expected "
                        f"one of: {', '.join(repr(str(e)) for e in lc.events)} or {SAVE!r}"
                        + did_you_mean(request, [*events, SAVE]),
                        i,
                        "roles",
                        j,
                        k,
                    )
        for flag in sc.config:
            if flag not in config_flags:
                raise bad(
                    f"{where} fixes unknown config flag {flag!r}; expected one of: "
                    + (", ".join(repr(f) for f in sorted(config_flags)) or "(none declared)")
                    + did_you_mean(flag, config_flags),
                    i,
                    "config",
                    flag,
                )
