"""Bad guard calls: unknown keys, events, states, flags and config names, on a live store.

A generated program of guard calls runs against a store while a plain dict model of the
Glance image lifecycle predicts every answer: a commit must be exactly the lifecycle's
step from the stored status, an error must be the documented typed one, and an error
must leave the store untouched. ``run_guard_program`` is shared with the SQL stores.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Hashable, Mapping
from decimal import Decimal
from numbers import Number
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statusguard import (
    Guard,
    IllegalTransition,
    Lifecycle,
    MemoryStore,
    StatusGuardError,
    Store,
    TransitionConflict,
)
from statusguard.errors import (
    DuplicateKey,
    InvalidArgument,
    InvalidFlagValue,
    InvalidKey,
    MissingFlag,
    UnknownEvent,
    UnknownFlag,
    UnknownKey,
    UnknownState,
)
from statusguard.lifecycle._loading import _module_from_path
from tests.property._bad_input import Tally, budget, check_message, run_boundary

ROOT = Path(__file__).resolve().parents[2]
GLANCE: Lifecycle[Any, Any] = _module_from_path(
    ROOT / "model" / "glance_image.py", "glance_image.py"
).GLANCE_IMAGE

STATES = [str(s) for s in GLANCE.states]
EVENTS = [str(e) for e in GLANCE.events]


class Named(enum.Enum):
    """A plain Enum (not a str) whose ``str()`` is a valid name: refused as not a str."""

    UPLOAD_STARTED = "upload_started"
    SAVING = "saving"
    QUEUED = "queued"

    def __str__(self) -> str:
        return str(self.value)


WEIRD: list[Any] = [
    "",
    " ",
    "QUEUED",
    "queued ",
    "deleted'; DROP TABLE images; --",
    "é",
    "\u0000",
    "☃",
    *Named,
]


def _weighted(common: st.SearchStrategy[Any], rare: st.SearchStrategy[Any], odds: int = 4) -> Any:
    """``common`` ``odds`` times out of ``odds + 1`` (st.one_of weighs branches equally)."""
    return st.integers(0, odds).flatmap(lambda i: rare if i == 0 else common)


# Valid parts dominate so that the success path (a real commit checked against the dict
# model) is exercised as much as the refusals; _boundary asserts a minimum share of it.
#: keys some collation calls equal to img-1 (case, trailing space, accent): different keys
#: on every store, as in MemoryStore (MariaDB's default collation made them one row)
ALIASES = ["IMG-1", "img-1 ", "ímg-1", "Img-1"]
#: keys Python calls equal to the int keys 1 and 0 (equal hashes: one record in a dict),
#: refused by every store; and NaN, equal to nothing
NOT_KEYS: list[Any] = [True, False, 1.0, 0.0, Decimal(1), float("nan")]
keys = _weighted(
    st.sampled_from(["img-1", "img-2"] * 3 + ["img-3", 1, True, 1.0, *ALIASES]),
    st.one_of(
        st.sampled_from(["", "it's", 'a"b', "x;y", "naïve", "日本", "a\x00b", "x" * 300]),
        st.text(max_size=8),
        st.sampled_from(NOT_KEYS),
    ),
    odds=9,
)


def no_key(key: object) -> bool:
    """The keys no store takes: a bool, or a number that is not an int."""
    return isinstance(key, bool) or (isinstance(key, Number) and not isinstance(key, int))


#: Events that keep an image cycling from queued (most of them enabled somewhere on the way).
CYCLE = [
    "upload_started",
    "upload_succeeded",
    "web_download_import",
    "import_succeeded",
    "location_added",
    "deactivate",
    "reactivate",
    "upload_failed",
    "stage_started",
]
events = _weighted(
    _weighted(st.sampled_from(CYCLE), st.sampled_from(EVENTS), odds=2),
    st.sampled_from(WEIRD),
    odds=9,
)
states = _weighted(st.sampled_from(STATES), st.sampled_from(WEIRD), odds=9)
flag_names = st.sampled_from(["delayed_delete", "has_locations", "locations", "", "x'"])
#: facts that are not a mapping of names to bools: a list of pairs, a str, a set, a tuple,
#: an unhashable value
NOT_FACTS: list[Any] = [
    [("has_locations", True)],
    "has_locations",
    {"has_locations"},
    ("has_locations", True),
    {"has_locations": [True]},
]
facts = _weighted(
    st.none() | st.fixed_dictionaries({"has_locations": st.booleans()}),
    st.dictionaries(flag_names, st.booleans(), max_size=2)
    | st.sampled_from(NOT_FACTS)
    # numbers equal to a bool: refused even after a call with True filled the plan cache
    # (issue 17 item 2: the cache key compared 1 == True)
    | st.fixed_dictionaries({"has_locations": st.sampled_from([1, 0, 1.0])}),
)


def bad_facts(facts: object) -> type[Exception] | None:
    """The error the guard gives for ``facts`` that are not a mapping of flags to bools."""
    if facts and not isinstance(facts, Mapping):
        return InvalidArgument
    if isinstance(facts, Mapping) and any(not isinstance(v, bool) for v in facts.values()):
        return InvalidFlagValue
    return None


configs = _weighted(
    st.fixed_dictionaries({"delayed_delete": st.booleans()}),
    st.dictionaries(flag_names, st.booleans(), max_size=2),
    odds=9,
)

#: expected versions: mostly small ints (some stale), rarely what is not a version number
#: (a str the database would coerce, a bool, a list, a float, out of the 64-bit range)
BAD_VERSIONS = ["0", "0 OR 1=1", False, True, [0], 0.0, -1, 1 << 63, 1 << 64, -(1 << 64)]
versions = _weighted(st.none() | st.integers(0, 4), st.sampled_from(BAD_VERSIONS), odds=9)


def bad_version(value: object) -> bool:
    """Whether ``value`` is not a version number (the guard refuses it: InvalidArgument)."""
    return value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << 63
    )


ops = st.sampled_from(
    ["create", "status", "version", "fire", "fire", "step", "step", "move", "move"]
).flatmap(
    lambda name: {
        "create": st.tuples(st.just("create"), keys),
        "status": st.tuples(st.just("status"), keys),
        "version": st.tuples(st.just("version"), keys),
        "fire": st.tuples(st.just("fire"), keys, events, facts),
        # fire an event the dict model says is enabled (the i-th), to reach deep states
        # now and then a number equal to a bool, after calls with bools filled the plan cache
        "step": st.tuples(
            st.just("step"),
            keys,
            st.integers(0, 7),
            _weighted(st.booleans(), st.sampled_from([1, 0, 1.0]), odds=9),
        ),
        "move": st.tuples(st.just("move"), keys, states, st.none() | states, versions, facts),
    }[name]
)
#: Most programs start from two existing images (a duplicate create is still generated).
creates = _weighted(
    st.just([("create", "img-1"), ("create", "img-2")]),
    st.lists(st.tuples(st.just("create"), st.sampled_from(["img-1", "img-2"])), max_size=2),
)
programs = st.tuples(
    configs, st.tuples(creates, st.lists(ops, max_size=12)).map(lambda p: p[0] + p[1])
)

TYPED = (
    DuplicateKey,
    InvalidArgument,
    InvalidFlagValue,
    IllegalTransition,
    MissingFlag,
    TransitionConflict,
    UnknownEvent,
    UnknownFlag,
    UnknownKey,
    UnknownState,
)


def _expected_fire(
    status: str, event: str, config: dict[str, bool], facts: dict[str, bool] | None
) -> str | type[Exception]:
    if event not in EVENTS:
        return UnknownEvent
    if bad_facts(facts):
        return bad_facts(facts)  # type: ignore[return-value]
    if facts and any(n not in GLANCE.fact_flags for n in facts):
        return UnknownFlag
    try:
        return str(GLANCE.next(status, event, {**config, **(facts or {})}))
    except (IllegalTransition, MissingFlag) as exc:
        return type(exc)


def _resolve_step(
    op: tuple[Any, ...], model: dict[Hashable, tuple[str, int]], config: dict[str, bool]
) -> tuple[Any, ...]:
    """A ``step`` op becomes a fire of the i-th event the dict model says is enabled."""
    if op[0] != "step":
        return op
    _, key, i, located = op
    fx = {"has_locations": located}
    status = model[key][0] if key in model else "queued"
    enabled = [
        str(e) for e in GLANCE.allowed_events(status, {**config, "has_locations": bool(located)})
    ]
    return ("fire", key, enabled[i % len(enabled)] if enabled else "delete", fx)


def run_guard_program(
    make_store: Callable[[], Store],
    config: dict[str, bool],
    program: list[tuple[Any, ...]],
    unrepresentable: Callable[[Hashable], bool] = lambda k: False,
) -> list[str]:
    """Run guard calls against a fresh store and a dict model; returns the outcome labels.

    ``unrepresentable(key)`` says which keys the store's column cannot hold (a SQL key
    column's length, PostgreSQL's NUL): for those, a call that reaches the store must
    raise ``InvalidKey`` (bad input, before any SQL), never succeed; so must a call with
    a key no store takes (:func:`no_key`: True is not key 1 on any store).
    """
    store = make_store()
    try:
        guard = Guard(GLANCE, store, config)
    except (UnknownFlag, MissingFlag) as exc:
        assert set(config) != {"delayed_delete"}
        return [check_message(exc)]
    assert set(config) == {"delayed_delete"}
    model: dict[Hashable, tuple[str, int]] = {}
    labels = []
    for generated in program:
        op = _resolve_step(generated, model, config)
        name, key = op[0], op[1]
        before = dict(model)
        try:
            if name == "create":
                assert guard.create(key) == "queued"
                assert key not in model, "create accepted a duplicate key"
                model[key] = ("queued", 0)
            elif name == "status":
                assert guard.status(key) == model[key][0]
            elif name == "version":
                assert guard.version(key) == model[key][1]
            elif name == "fire":
                _, _, event, fx = op
                done = guard.fire(key, event, fx)
                assert bad_facts(fx) is None, f"fire accepted facts {fx!r}"
                status, version = model[key]
                assert done.source == status
                assert done.target == _expected_fire(status, event, config, fx)
                # A no-op (deactivate of a deactivated image: glance/domain/__init__.py:260-262)
                # writes nothing and keeps the version; anything else bumps it by one.
                noop = GLANCE.is_noop(status, event, {**config, **(fx or {})})
                assert done.noop is noop
                bump = 0 if noop else 1
                assert done.version == version + bump
                model[key] = (done.target, version + bump)
            else:
                _, _, target, expected, version_, fx = op
                done = guard.move(key, target, expected, expected_version=version_, facts=fx)
                assert bad_facts(fx) is None, f"move accepted facts {fx!r}"
                status, version = model[key]
                assert expected in (None, status)
                assert version_ in (None, version)
                assert GLANCE.edge_allowed(status, target, {**config, **(fx or {})})
                assert (done.source, done.target, done.version) == (status, target, version + 1)
                model[key] = (target, version + 1)
            assert not unrepresentable(key), f"{name}{op[1:]!r} accepted a key it cannot hold"
            assert not no_key(key), f"{name}{op[1:]!r} took {key!r} for another key"
            labels.append(f"{name} ok")
        except TYPED as exc:
            labels.append(check_message(exc))
            _check_refusal(name, op, key, exc, model, config)
            assert model == before
        except InvalidKey as exc:
            if not (unrepresentable(key) or no_key(key)):
                raise AssertionError(f"{name}{op[1:]!r} raised {exc!r}") from exc
            labels.append(check_message(exc))
            assert model == before
        except StatusGuardError as exc:  # a typed error this call should never raise
            raise AssertionError(f"{name}{op[1:]!r} raised {exc!r}") from exc
        # Whatever happened, the store agrees with the model.
        for k, (status, version) in model.items():
            assert guard.status(k) == status
            assert guard.version(k) == version
    return labels


def _check_refusal(
    name: str,
    op: tuple[Any, ...],
    key: Hashable,
    exc: Exception,
    model: dict[Hashable, tuple[str, int]],
    config: dict[str, bool],
) -> None:
    """The typed error is the one the model predicts."""
    if isinstance(exc, DuplicateKey):
        assert name == "create"
        assert key in model
    elif isinstance(exc, UnknownKey):
        assert key not in model
    elif name == "fire":
        _, _, event, fx = op
        expected = _expected_fire(model[key][0], event, config, fx) if key in model else None
        if isinstance(exc, UnknownEvent | UnknownFlag | InvalidArgument | InvalidFlagValue):
            # bad input is refused whatever the store holds (even for an unknown key)
            assert _expected_fire("queued", event, config, fx) is type(exc), (op, exc)
        else:
            assert expected is type(exc), (op, exc, expected)
    elif name == "move":
        _, _, target, expected, version_, fx = op
        if bad_version(version_) or isinstance(exc, InvalidArgument):
            assert bad_version(version_) or bad_facts(fx) is InvalidArgument, (op, exc)
            assert isinstance(exc, InvalidArgument), (op, exc)
        elif isinstance(exc, UnknownState):
            assert target not in STATES or expected not in (None, *STATES)
        elif isinstance(exc, InvalidFlagValue):
            assert bad_facts(fx) is InvalidFlagValue, (op, exc)
        elif isinstance(exc, UnknownFlag):  # a config flag is not a fact for move either
            assert any(n not in GLANCE.fact_flags for n in fx or {})
        elif isinstance(exc, TransitionConflict):
            status, version = model[key]
            assert expected not in (None, status) or version_ not in (None, version)
        elif isinstance(exc, IllegalTransition):
            src = expected if expected is not None else model[key][0]
            assert not GLANCE.edge_allowed(src, target, {**config, **(fx or {})})
        else:
            raise AssertionError(f"move raised {exc!r}")
    else:
        raise AssertionError(f"{name} raised {exc!r}")


def _boundary(request: pytest.FixtureRequest, n: int) -> None:
    tally = Tally("guard calls (MemoryStore), one case = one program of up to 14 calls")

    @given(program=programs)
    def test(program: tuple[dict[str, bool], list[tuple[Any, ...]]]) -> None:
        config, calls = program
        tally.run(lambda: run_guard_program(MemoryStore, config, calls))

    run_boundary(request, tally, test, n)
    assert_success_share(tally)


#: The least share of all calls that must succeed, and of all calls that must commit a
#: transition, so the "or succeed correctly" half of the contract is really tested.
MIN_OK_SHARE = 0.3
# Measured after the bad-version, non-mapping-facts and plain-enum classes joined the
# generator (seeds 11-18): commits were 4.9-11% of calls; 0.06 failed on 2 of 8 seeds.
# After the non-key classes (True, 1.0, Decimal, NaN) joined: 5.7-11.6% on seeds 1-8, and
# one unseeded run 2.3% (20 of 877 calls), under the former 0.035.
MIN_COMMIT_SHARE = 0.02


def assert_success_share(tally: Tally) -> None:
    total = sum(tally.outcomes.values())
    ok = sum(v for k, v in tally.outcomes.items() if k.endswith(" ok"))
    commits = tally.outcomes["fire ok"] + tally.outcomes["move ok"]
    assert ok >= MIN_OK_SHARE * total, tally.summary()
    assert commits >= MIN_COMMIT_SHARE * total, tally.summary()


def test_bad_guard_calls(request: pytest.FixtureRequest) -> None:
    _boundary(request, budget(long=False))


@pytest.mark.slow
def test_bad_guard_calls_long(request: pytest.FixtureRequest) -> None:
    _boundary(request, budget(long=True))
