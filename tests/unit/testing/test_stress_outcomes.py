"""run_stress and check_history take commits as adapters really report them.

Without a version, without a source (``Outcome`` allows both), with versions that
start at 1 (SQLAlchemy's ``version_id_col``) or grow by any amount; and ``write``
hears the request's event and facts when it asks for them.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path

import statusguard
from statusguard import Guard, MemoryStore
from statusguard.errors import IllegalTransition, MissingFlag
from statusguard.testing import Ack, GuardAdapter, Outcome, Snapshot, check_history, run_stress

ROOT = Path(__file__).resolve().parents[3]
GLANCE = statusguard.load(str(ROOT / "model" / "glance_image.py"))
CONFIG = {"delayed_delete": True}
SMALL = {"workers": 4, "rounds": 6, "hot_keys": 2, "ops": 10, "weights": {"delete": 0.05}}


class Reporting:
    """A correct adapter (the guard underneath) that reports what a library would.

    ``version``: ``"none"`` (no version), ``"from1"`` (the store's version + 1, so
    a new row is at 1), ``"x10"`` (ten times it: monotone, with gaps). ``source``:
    whether commits name their source.
    """

    supports_fire = True

    def __init__(self, version: str = "none", source: bool = True) -> None:
        self.inner = GuardAdapter(Guard(GLANCE, MemoryStore(), CONFIG))
        self.version, self.source = version, source

    def _v(self, v: int | None) -> int | None:
        if v is None or self.version == "none":
            return None
        return v + 1 if self.version == "from1" else v * 10

    def _out(self, o: Outcome) -> Outcome:
        if not o.committed:
            return o
        return Outcome(True, o.source if self.source else None, o.target, self._v(o.version))

    def create(self, key: str) -> Snapshot:
        snap = self.inner.create(key)
        return Snapshot(snap.status, self._v(snap.version))

    def read(self, key: str) -> Snapshot:
        snap = self.inner.read(key)
        return Snapshot(snap.status, self._v(snap.version), handle=snap)

    def write(self, key: str, seen: Snapshot, target: str) -> Outcome:
        return self._out(self.inner.write(key, seen.handle, target))

    def fire(self, key: str, event: str, facts: Mapping[str, bool]) -> Outcome:
        return self._out(self.inner.fire(key, event, facts))


def test_commits_without_version_or_source_are_checked_not_rejected() -> None:
    for source in (True, False):
        report = run_stress(lambda s=source: Reporting("none", s), GLANCE, CONFIG, **SMALL)  # type: ignore[misc]
        assert report.errors == 0, report.error_samples
        assert report.commits > 0
        assert report.ok, report.check.problems


def test_versions_that_start_at_one_are_not_invented() -> None:
    report = run_stress(lambda: Reporting("from1"), GLANCE, CONFIG, **SMALL)  # type: ignore[arg-type]
    assert report.check.invented == 0, report.check.problems
    assert report.ok


def test_monotone_versions_with_gaps_pass_when_declared() -> None:
    report = run_stress(lambda: Reporting("x10"), GLANCE, CONFIG, versions="monotone", **SMALL)  # type: ignore[arg-type]
    assert report.ok, report.check.problems
    # The same history read as consecutive versions has gaps: the check has teeth.
    strict = run_stress(lambda: Reporting("x10"), GLANCE, CONFIG, **SMALL)  # type: ignore[arg-type]
    assert strict.check.invented > 0


class LostUpdate:
    """Read, decide, write blindly, reporting neither source nor version."""

    supports_fire = False

    def __init__(self) -> None:
        self.rows: dict[str, str] = {}
        self.lock = threading.Lock()

    def create(self, key: str) -> Snapshot:
        self.rows[key] = "queued"
        return Snapshot("queued")

    def read(self, key: str) -> Snapshot:
        return Snapshot(self.rows[key])

    def write(self, key: str, seen: Snapshot, target: str) -> Outcome:
        self.rows[key] = target
        return Outcome(True, None, target)

    def fire(self, key: str, event: str, facts: Mapping[str, bool]) -> Outcome:
        raise NotImplementedError


def test_unversioned_lost_updates_are_still_caught() -> None:
    adapter = LostUpdate()
    report = run_stress(lambda: adapter, GLANCE, CONFIG, pause=0.0005, **SMALL)  # type: ignore[arg-type]
    assert report.errors == 0
    assert not report.ok
    assert report.check.lost + report.check.reordered + report.check.illegal > 0


def ack(source: str | None, event: str, target: str, start: int, end: int) -> Ack:
    return Ack("k", 0, event, (), source, target, None, start, end)


def test_unversioned_history_is_ordered_by_search() -> None:
    cfg = {"delayed_delete": False}
    # Acks listed out of order, overlapping in time: some order is a legal path.
    acks = [
        ack(None, "upload_succeeded", "active", 5, 30),
        ack("queued", "upload_started", "saving", 0, 10),
        ack(None, "delete", "deleted", 31, 40),
    ]
    assert check_history(GLANCE, cfg, acks, {"k": Snapshot("deleted")}).ok
    # Two uploads that both started from queued: no order explains both.
    twice = [
        ack("queued", "upload_started", "saving", 0, 10),
        ack("queued", "upload_started", "saving", 1, 11),
    ]
    result = check_history(GLANCE, cfg, twice, {"k": Snapshot("saving")})
    assert result.lost == 1
    assert "no order of the 2" in result.problems[0]
    # Legal only if the later operation went first: real time rules that out.
    late = [
        ack(None, "upload_succeeded", "active", 0, 5),
        ack(None, "upload_started", "saving", 10, 20),
    ]
    result = check_history(GLANCE, cfg, late, {"k": Snapshot("active")})
    assert result.reordered == 1
    assert not result.ok


def test_initial_snapshot_sets_where_versions_start() -> None:
    cfg = {"delayed_delete": False}
    good = [
        Ack("k", 0, "upload_started", (), "queued", "saving", 2, 0, 10),
        Ack("k", 0, "upload_succeeded", (), "saving", "active", 3, 11, 20),
    ]
    start = {"k": Snapshot("queued", 1)}
    assert check_history(GLANCE, cfg, good, {"k": Snapshot("active", 3)}, initial=start).ok
    # Without the initial snapshot, version 1 is read as a commit nobody acknowledged.
    assert check_history(GLANCE, cfg, good, {"k": Snapshot("active", 3)}).invented == 1


class EventNamed:
    """An event-named library: its write is ``obj.<event>(); obj.save()``."""

    supports_fire = False

    def __init__(self) -> None:
        self.inner = GuardAdapter(Guard(GLANCE, MemoryStore(), CONFIG))
        self.events: list[tuple[str, str, bool]] = []

    def create(self, key: str) -> Snapshot:
        return self.inner.create(key)

    def read(self, key: str) -> Snapshot:
        return self.inner.read(key)

    def write(
        self, key: str, seen: Snapshot, target: str, *, event: str, facts: Mapping[str, bool]
    ) -> Outcome:
        try:  # the library applies the event itself; the target only checks it
            decided = str(GLANCE.next(seen.status, event, {**CONFIG, **facts}))
        except (IllegalTransition, MissingFlag):
            decided = ""
        self.events.append((event, target, decided == target))
        return self.inner.write(key, seen, target)

    def fire(self, key: str, event: str, facts: Mapping[str, bool]) -> Outcome:
        raise NotImplementedError


def test_write_hears_the_event_and_facts_in_run_stress() -> None:
    adapter = EventNamed()
    report = run_stress(lambda: adapter, GLANCE, CONFIG, **SMALL)  # type: ignore[arg-type]
    assert report.ok
    assert adapter.events
    assert all(agrees for _, _, agrees in adapter.events)
