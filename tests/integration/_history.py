"""The history check of the soak and the cluster races: what a node holds, and the verdict.

Worker processes (``_soak_worker.py``, ``_galera_race.py``) and threads fire Glance events
and report every acknowledged transition (``[key, source, target, version, token]``;
source, target and version ``None`` when a lost reply was settled as committed by its
token) and every attempt that ended in ``StoreUnavailable`` (``[key, token, committed,
message]``). :func:`node_state` reads the rows and audit rows one server holds;
:func:`check` judges them against what the callers were told. Used by ``test_soak.py``,
``_galera.py`` (the Galera tests) and ``test_pg_replicas.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.integration._soak_worker import CONFIG, FACTS

FLAGS = {**CONFIG, **FACTS}


def node_state(url: str, table: str, audit: str, keys: Iterable[str]) -> dict[str, Any]:
    """Every key's row and audit rows on one server; a Galera node is read causally
    (``wsrep_sync_wait = 3``). Rows are ``(status, version, token)``, audit rows
    ``(source, event, target, version, token)`` in version order."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as c:
            if c.dialect.name in ("mysql", "mariadb") and c.execute(
                text(
                    "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_VARIABLES "
                    "WHERE VARIABLE_NAME = 'WSREP_ON'"
                )
            ).scalar() in ("ON", "1"):
                c.execute(text("SET SESSION wsrep_sync_wait = 3"))
            rows = {
                str(k): tuple(r)
                for k, *r in c.execute(text(f"SELECT id, status, version, token FROM {table}"))
            }
            history: dict[str, list[tuple[Any, ...]]] = {str(k): [] for k in keys}
            for r in c.execute(
                text(
                    f"SELECT resource_key, source, event, target, version, token FROM {audit} "
                    "ORDER BY version, id"
                )
            ):
                history.setdefault(str(r[0]), []).append(tuple(r[1:]))
        return {"rows": rows, "history": history}
    finally:
        engine.dispose()


@dataclass
class Verdict:
    """What the histories show: illegal steps, chain breaks, acknowledged steps missing."""

    steps: int = 0
    illegal: list[str] = field(default_factory=list)
    chain_breaks: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)  # acknowledged, not in the history
    phantom: list[str] = field(default_factory=list)  # in the history, never acknowledged
    false_not_committed: list[str] = field(default_factory=list)
    false_committed: list[str] = field(default_factory=list)
    mismatched_rows: list[str] = field(default_factory=list)

    def clean(self) -> bool:
        return not (
            self.illegal
            or self.chain_breaks
            or self.lost
            or self.phantom
            or self.false_not_committed
            or self.false_committed
            or self.mismatched_rows
        )

    def summary(self) -> str:
        return (
            f"steps={self.steps} illegal={len(self.illegal)} chain_breaks={len(self.chain_breaks)} "
            f"lost={len(self.lost)} phantom={len(self.phantom)} "
            f"false_committed_False={len(self.false_not_committed)} "
            f"false_committed_True={len(self.false_committed)} "
            f"row_mismatch={len(self.mismatched_rows)}"
        )


def check(
    lc: Any,
    state: Mapping[str, Any],
    acks: Iterable[list[Any]],
    unavailable: Iterable[list[Any]] = (),
    initial: str = "queued",
    flags: Mapping[str, bool] = FLAGS,
) -> Verdict:
    """Judge one node's ``state`` (:func:`node_state`) against what the callers were told.

    Per key, sorted by version: each source is the previous target (else a chain break: a
    step decided on a status that was overwritten, a lost update), each step legal (the
    event's transition, or for a ``move`` an allowed edge), versions 1..n, and the row
    holds the last target at version n. Every acknowledged step is in its key's history
    with the source, target, version and token the caller was given (a settled ack: its
    token), else lost; every history token was acknowledged or is the token of an attempt whose
    outcome the caller was told is unknown (``committed=None``). An attempt reported
    ``committed=False`` must be absent, ``committed=True`` present.
    """
    v = Verdict()
    tokens: set[str] = set()
    for key, history in state["history"].items():
        status, version = initial, 0
        for source, event, target, ver, token in history:
            v.steps += 1
            tokens.add(token)
            if ver != version + 1:
                v.chain_breaks.append(f"{key} v{ver}: version after v{version}")
            if source != status:
                v.chain_breaks.append(f"{key} v{ver}: {source}->{target} recorded after {status}")
            if event is None:
                legal = lc.edge_allowed(status, target, flags)
            else:
                legal = event in lc.allowed_events(status, flags) and str(
                    lc.next(status, event, flags)
                ) == str(target)
            if not legal:
                v.illegal.append(f"{key} v{ver}: {status} --{event}--> {target}")
            status, version = str(target), int(ver)
        row = state["rows"].get(key)
        if row is not None and (row[0], row[1]) != (status, version):
            v.mismatched_rows.append(f"{key}: row {row[:2]} != history ({status}, {version})")
    recorded = {(key, h[0], h[2], h[3], h[4]) for key, hs in state["history"].items() for h in hs}
    keyed = {(key, h[4]) for key, hs in state["history"].items() for h in hs}
    acked: set[str] = set()
    for key, source, target, ver, token in acks:
        acked.add(token)
        # a reply lost but settled as committed names its token alone: the caller never
        # learnt the step's source or version
        found = (
            (key, token) in keyed if ver is None else (key, source, target, ver, token) in recorded
        )
        if not found:
            v.lost.append(f"{key}: {source}->{target} v{ver} token {token}")
    v.lost.sort()
    unknown = {u[1] for u in unavailable if u[2] is None}
    v.phantom = sorted(tokens - acked - unknown)
    v.false_not_committed = sorted(u[1] for u in unavailable if u[2] is False and u[1] in tokens)
    v.false_committed = sorted(u[1] for u in unavailable if u[2] is True and u[1] not in tokens)
    return v


def naive_damage(lc: Any, state: Mapping[str, Any]) -> tuple[int, int]:
    """(illegal steps, overwritten steps) in an unguarded run's history, by version order."""
    illegal = lost = 0
    for history in state["history"].values():
        status = "queued"
        for source, _event, target, _ver, _tok in history:
            if source != status:
                lost += 1  # decided on a status another writer had already replaced
            if not lc.edge_allowed(status, target, FLAGS):
                illegal += 1
            status = str(target)
    return illegal, lost
