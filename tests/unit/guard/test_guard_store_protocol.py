"""A third-party store is a first-class citizen: the guard uses only the Store protocol."""

from __future__ import annotations

import sys
import threading
from collections.abc import Hashable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

import statusguard
from statusguard import Guard, IllegalTransition, MemoryStore, TransitionConflict
from statusguard.errors import DuplicateKey, UnknownKey
from statusguard.guard import Applied, AuditEntry, Record, Rejected, Store, SwapStore
from statusguard.guard._store import swaps

GLANCE = statusguard.load(str(Path(__file__).resolve().parents[3] / "model" / "glance_image.py"))
NO_DELAY = {"delayed_delete": False}


class DictStore(Store):
    """The smallest store: a dict and a lock; inherits versioned, history and dispose."""

    def __init__(self) -> None:
        self.rows: dict[Hashable, Record] = {}
        self.lock = threading.Lock()
        self.calls: list[str] = []

    def create(self, key: Hashable, status: str, token: str | None = None) -> Record:
        with self.lock:
            if key in self.rows:
                raise DuplicateKey(key, self.rows[key].status)
            self.rows[key] = Record(status, 0, token)
            return self.rows[key]

    def get(self, key: Hashable) -> Record:
        try:
            return self.rows[key]
        except KeyError:
            raise UnknownKey(key) from None

    def apply(
        self,
        key: Hashable,
        moves: Mapping[str, str],
        token: str | None = None,
        event: str | None = None,
    ) -> Applied | Rejected:
        self.calls.append("apply")
        with self.lock:
            current = self.get(key)
            target = moves.get(current.status)
            if target is None:
                return Rejected(current)
            self.rows[key] = Record(target, current.version + 1, token)
        return Applied(current.status, target, current.version + 1)

    def compare_and_set(
        self,
        key: Hashable,
        expected: str,
        target: str,
        expected_version: int | None = None,
        token: str | None = None,
    ) -> Applied | Rejected:
        self.calls.append(f"cas version={expected_version}")
        with self.lock:
            current = self.get(key)
            if current.status != expected or expected_version not in (None, current.version):
                return Rejected(current)
            self.rows[key] = Record(target, current.version + 1, token)
        return Applied(expected, target, current.version + 1)


class SwappingDictStore(DictStore):
    """The same store offering the swap capability, so the guard decides ``fire`` itself."""

    def peek(self, key: Hashable) -> Record | None:
        self.calls.append("peek")
        return self.rows.get(key)

    def swap(self, key: Hashable, old: Record, new: Record, event: str | None = None) -> bool:
        self.calls.append("swap")
        with self.lock:
            if self.rows.get(key) is not old:
                return False
            self.rows[key] = new
        return True


class Unversioned(DictStore):
    versioned = False


def test_the_protocol_defaults_are_inherited() -> None:
    store = DictStore()
    assert isinstance(store, Store)
    assert store.versioned is True
    store.dispose()
    with pytest.raises(ValueError, match="DictStore keeps no history"):
        store.history("img")


@pytest.mark.parametrize(
    ("store", "expected"),
    [
        (MemoryStore(), True),
        (MemoryStore(audit=True), True),
        (SwappingDictStore(), True),
        (DictStore(), False),
    ],
)
def test_swaps_answers_what_isinstance_answers(store: Store, expected: bool) -> None:
    assert isinstance(store, SwapStore) is expected
    assert swaps(store) is expected


def test_a_forwarding_wrapper_can_opt_out_of_the_fast_path() -> None:
    class Forwarding:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

    class OptedOut(Forwarding):
        peek = swap = None

    assert swaps(Forwarding(MemoryStore()))
    assert isinstance(Forwarding(MemoryStore()), SwapStore)
    assert not swaps(OptedOut(MemoryStore()))  # type: ignore[arg-type]
    assert not isinstance(OptedOut(MemoryStore()), SwapStore)


def test_a_store_missing_protocol_members_is_refused_with_what_to_add() -> None:
    class Partial:
        def create(self, key: Hashable, status: str, token: str | None = None) -> Record:
            return Record(status, 0, token)

        def get(self, key: Hashable) -> Record:
            return Record("queued", 0)

    with pytest.raises(TypeError) as info:
        Guard(GLANCE, Partial(), NO_DELAY)  # type: ignore[arg-type]
    assert str(info.value) == (
        "Partial is not a Store: it lacks apply, compare_and_set, dispose, history, versioned; "
        "implement them, or subclass statusguard.Store to inherit the defaults of "
        "versioned, history and dispose"
    )
    assert not isinstance(Partial(), Store)


def test_a_plain_third_party_store_goes_through_apply() -> None:
    store = DictStore()
    guard = Guard(GLANCE, store, NO_DELAY)
    guard.create("img")
    assert guard.fire("img", "location_added").target == "active"
    with pytest.raises(IllegalTransition, match="allowed events"):
        guard.fire("img", "upload_succeeded")
    assert store.calls == ["apply", "apply"]
    assert guard.move("img", "deactivated").version == 2
    assert store.calls[-1] == "cas version=1"  # versioned: the version read is compared too


def test_a_third_party_swap_store_gets_the_fast_path() -> None:
    store = SwappingDictStore()
    guard = Guard(GLANCE, store, NO_DELAY)
    guard.create("img")
    done = guard.fire("img", "location_added")
    assert (done.source, done.target, done.version) == ("queued", "active", 1)
    with pytest.raises(IllegalTransition, match="allowed events"):
        guard.fire("img", "upload_succeeded")
    assert store.calls == ["peek", "swap", "peek"]  # an illegal event costs no write
    assert store.get("img") == Record("active", 1, None)


def test_a_lost_swap_falls_back_to_apply() -> None:
    class Losing(SwappingDictStore):
        def swap(self, key: Hashable, old: Record, new: Record, event: str | None = None) -> bool:
            super().swap(key, old, Record(old.status, old.version + 1, None))  # a rival
            return False

    store = Losing()
    guard = Guard(GLANCE, store, NO_DELAY)
    guard.create("img")
    store.rows["img"] = Record("active", 0, None)
    done = guard.fire("img", "deactivate")  # after the rival's write, through apply
    assert (done.source, done.target, done.version) == ("active", "deactivated", 2)
    assert store.calls == ["peek", "swap", "apply"]


def test_an_unversioned_store_compares_the_status_only() -> None:
    store = Unversioned()
    guard = Guard(GLANCE, store, NO_DELAY)
    guard.create("img")
    guard.fire("img", "location_added")
    guard.move("img", "deactivated")
    assert store.calls[-1] == "cas version=None"
    with pytest.raises(TransitionConflict, match="found 'deactivated'"):
        guard.move("img", "deactivated", "active")


@pytest.fixture
def tiny_switch_interval() -> Iterator[None]:
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


@pytest.mark.usefixtures("tiny_switch_interval")
@pytest.mark.parametrize("kind", [DictStore, SwappingDictStore])
def test_racing_fires_on_a_third_party_store_lose_no_update(kind: type[DictStore]) -> None:
    store = kind()
    guard = Guard(GLANCE, store, NO_DELAY)
    guard.create("img")
    guard.fire("img", "location_added")
    done: list[AuditEntry] = []

    def worker() -> None:
        for _ in range(300):
            for event in ("deactivate", "reactivate"):
                try:
                    c = guard.fire("img", event)
                except IllegalTransition:
                    continue
                if c.noop:  # accepted without a change: nothing written, no version
                    assert c.source == c.target
                    continue
                done.append(AuditEntry(c.source, c.event, c.target, c.version))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    versions = sorted(e.version for e in done)
    assert versions == list(range(2, 2 + len(done)))  # every commit acknowledged once
    assert store.get("img").version == 1 + len(done)


def test_memory_store_is_swapped_inline_only_with_its_own_swap() -> None:
    # the guard compares and swaps MemoryStore's records inline; a wrapper or subclass
    # that replaces swap must still see every swap
    swapped: list[str | None] = []

    class Counting(MemoryStore):
        __slots__ = ()

        @property
        def swap(self) -> Any:
            inner = MemoryStore.swap.__get__(self)

            def counted(key: Hashable, old: Record, new: Record, event: str | None = None) -> bool:
                swapped.append(event)
                return bool(inner(key, old, new, event))

            return counted

    class Wrapper:
        def __init__(self, inner: MemoryStore) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def swap(self, key: Hashable, old: Record, new: Record, event: str | None = None) -> bool:
            swapped.append(event)
            return bool(self.inner.swap(key, old, new, event))

    for store in (Counting(), Wrapper(MemoryStore())):
        swapped.clear()
        guard = Guard(GLANCE, store, NO_DELAY)  # type: ignore[arg-type]
        guard.create("img")
        assert guard.fire("img", "location_added").version == 1
        assert swapped == ["location_added"]
    plain = Guard(GLANCE, MemoryStore(), NO_DELAY)
    assert plain._rows is not None  # the inline path is taken where nothing intercepts
    plain.create("img")
    assert plain.fire("img", "location_added").version == 1
