"""The error hierarchy: groups, builtin bases, the tree in the docstring, pickling, ``str``."""

from __future__ import annotations

import builtins
import copy
import pickle
import re

import pytest

import statusguard.errors as errors
from statusguard.errors import (
    DuplicateKey,
    HookFailed,
    IllegalTransition,
    InvalidArgument,
    InvalidFlagValue,
    InvalidIdentifier,
    InvalidKey,
    InvalidLifecycle,
    InvalidSchema,
    LifecycleError,
    LoadError,
    MissingFlag,
    OutOfTime,
    ReservedColumn,
    StatusGuardError,
    StoreError,
    StoreRejected,
    StoreUnavailable,
    TransitionConflict,
    TransitionError,
    UnknownColumn,
    UnknownEvent,
    UnknownFlag,
    UnknownKey,
    UnknownName,
    UnknownProtocol,
    UnknownScenario,
    UnknownState,
    UnknownStatus,
)

# error -> (its parent in the statusguard tree, the builtin a caller would catch)
HIERARCHY: dict[type[StatusGuardError], tuple[type[Exception], type[Exception] | None]] = {
    LifecycleError: (StatusGuardError, None),
    InvalidLifecycle: (LifecycleError, ValueError),
    LoadError: (LifecycleError, ValueError),
    UnknownName: (StatusGuardError, LookupError),
    UnknownProtocol: (UnknownName, LookupError),
    UnknownScenario: (UnknownName, LookupError),
    UnknownState: (UnknownName, LookupError),
    UnknownStatus: (UnknownState, LookupError),
    UnknownEvent: (UnknownName, LookupError),
    UnknownFlag: (UnknownName, LookupError),
    UnknownColumn: (UnknownName, LookupError),
    TransitionError: (StatusGuardError, None),
    IllegalTransition: (TransitionError, ValueError),
    TransitionConflict: (TransitionError, RuntimeError),
    MissingFlag: (TransitionError, ValueError),
    InvalidFlagValue: (TransitionError, TypeError),
    HookFailed: (TransitionError, RuntimeError),
    InvalidArgument: (StatusGuardError, TypeError),
    OutOfTime: (StatusGuardError, TimeoutError),
    StoreError: (StatusGuardError, None),
    UnknownKey: (StoreError, KeyError),
    DuplicateKey: (StoreError, ValueError),
    InvalidKey: (StoreError, ValueError),
    StoreUnavailable: (StoreError, ConnectionError),
    StoreRejected: (StoreError, RuntimeError),
    InvalidIdentifier: (StoreError, ValueError),
    InvalidSchema: (StoreError, ValueError),
    ReservedColumn: (StoreError, ValueError),
}

SAMPLES: list[StatusGuardError] = [
    InvalidLifecycle("two targets", ("transitions", 3), lifecycle="x", obligation="deterministic"),
    InvalidLifecycle("no states"),
    LoadError("model/x.py", "no such file"),
    UnknownProtocol("optimistic", ["cas_status", "unguarded"]),
    UnknownScenario("s", ["a"], lifecycle="x"),
    UnknownState("gone", ["queued", "active"], lifecycle="glance-image"),
    UnknownStatus("zombie", ["queued"], key=7, lifecycle="glance-image"),
    UnknownStatus("zombie", ["queued"]),
    UnknownEvent("explode", ["delete"]),
    UnknownFlag("turbo", ["delayed_delete"], lifecycle="x"),
    IllegalTransition("queued", "upload_succeeded", ("delete",), key="img", lifecycle="x"),
    IllegalTransition("active", None, ("deactivated",), target="queued"),
    TransitionConflict(
        "img", "queued", "saving", detail="cas", expected_version=1, actual_version=2
    ),
    TransitionConflict("img", "queued", None),
    MissingFlag(["has_locations"], state="active", event="delete"),
    MissingFlag(["delayed_delete"]),
    InvalidFlagValue("delayed_delete", 1),
    # (exceptions compare by identity, so vars() would differ after a copy: no errors here;
    # tests/unit/guard/test_guard_hooks.py pickles one with its errors)
    HookFailed(("img", "queued", "saving"), [], rolled_back=False),
    HookFailed(("img", "queued", "saving"), [], rolled_back=True),
    InvalidArgument("expected_version", "0", "an int from 0 to 2**63 - 1, or None"),
    OutOfTime("parsing the JSON of big.json"),
    UnknownKey("img"),
    DuplicateKey("img", "queued"),
    InvalidKey("x" * 300, "longer than 255 characters", "text of at most 255 characters"),
    StoreUnavailable("connection lost", committed=None),
    StoreUnavailable("lock timeout", committed=False),
    StoreRejected("trigger said no"),
    StoreRejected("NOT NULL constraint failed: t.owner", cause="constraint"),
    InvalidIdentifier("table", "a b", "letters, digits and underscores only"),
    InvalidSchema("images", "id", "collation 'utf8mb4_general_ci' is case-insensitive", "alter it"),
    UnknownColumn("szie", ["size", "checksum"], table="images"),
    UnknownColumn("idd", ["id", "status"], table="images", role="key"),
    ReservedColumn("status", "status"),
]


def exception_classes() -> set[type[StatusGuardError]]:
    return {
        getattr(errors, n)
        for n in errors.__all__
        if isinstance(getattr(errors, n), type) and issubclass(getattr(errors, n), Exception)
    }


def test_every_error_has_its_place() -> None:
    assert exception_classes() == {StatusGuardError, *HIERARCHY}


@pytest.mark.parametrize("cls", list(HIERARCHY), ids=lambda c: c.__name__)
def test_group_and_builtin_base(cls: type[StatusGuardError]) -> None:
    parent, builtin = HIERARCHY[cls]
    ours = [b for b in cls.__bases__ if issubclass(b, StatusGuardError)]
    assert ours == [parent]
    if builtin is not None:
        assert issubclass(cls, builtin)
    # no builtin beyond the one pinned (and its own bases)
    others = {b for b in cls.__mro__ if not issubclass(b, StatusGuardError)}
    allowed = set((builtin or Exception).__mro__)
    assert others <= allowed


def tree_problems(doc: str) -> list[str]:
    """How the tree drawn in ``doc`` differs from the classes (empty: it does not)."""
    drawn: list[tuple[int, str, str | None]] = []
    for line in doc.splitlines():
        m = re.match(r"^ {4}([│├└─ ]*)(\w+)(?: \((\w+)\))?", line)
        if m and hasattr(errors, m.group(2)):
            drawn.append((len(m.group(1)) // 4, m.group(2), m.group(3)))
    problems = []
    names = {c.__name__ for c in exception_classes()}
    if {name for _, name, _ in drawn} != names:
        problems.append(f"drawn {sorted(n for _, n, _ in drawn)}, defined {sorted(names)}")
    parents: list[str] = []
    for depth, name, builtin in drawn:
        del parents[depth:]
        cls = getattr(errors, name)
        expected = HIERARCHY[cls][0].__name__ if cls in HIERARCHY else None
        if (parents[-1] if parents else None) != expected:
            problems.append(f"{name} drawn under {parents[-1:]}, subclasses {expected}")
        parents.append(name)
        if builtin is not None and HIERARCHY[cls][1] is not getattr(builtins, builtin):
            problems.append(f"{name} drawn as a {builtin}")
    return problems


def test_the_docstring_tree_is_the_hierarchy() -> None:
    """The tree drawn in ``statusguard.errors``' docstring cannot drift from the classes."""
    doc = errors.__doc__ or ""
    assert tree_problems(doc) == []
    assert tree_problems(doc.replace("StoreRejected (RuntimeError)", "StoreRejected (ValueError)"))
    assert tree_problems(doc.replace("│   └── UnknownStatus", "└── UnknownStatus    "))
    assert tree_problems(doc.replace("UnknownEvent ", "UnknownEvnt "))


def test_every_error_class_has_a_pickling_sample() -> None:
    concrete = {c for c in HIERARCHY if c not in (LifecycleError, TransitionError, StoreError)}
    concrete.discard(UnknownName)
    assert concrete <= {type(e) for e in SAMPLES}


@pytest.mark.parametrize("err", SAMPLES, ids=lambda e: type(e).__name__)
def test_pickle_and_copy_round_trip(err: StatusGuardError) -> None:
    err.add_note("a note travels too")
    for back in (pickle.loads(pickle.dumps(err)), copy.copy(err), copy.deepcopy(err)):
        assert type(back) is type(err)
        assert str(back) == str(err)
        assert repr(back) == repr(err)
        assert back.args == err.args
        assert vars(back) == vars(err)
        assert back.__notes__ == ["a note travels too"]


def test_default_exception_pickling_would_break_them() -> None:
    """The negative control: BaseException's own pickling calls ``cls(*args)``."""
    err = LoadError("model/x.py", "no such file")
    rebuild, args = BaseException.__reduce__(err)[:2]
    with pytest.raises(TypeError):
        rebuild(*args)
    store = StoreUnavailable("connection lost", committed=True)
    rebuild, args = BaseException.__reduce__(store)[:2]
    assert str(rebuild(*args)) != str(store)  # the message would be wrapped twice


def test_str_is_the_message_for_key_and_os_errors() -> None:
    """``KeyError`` would repr() its argument and ``OSError`` prefix an errno."""
    assert str(UnknownKey("img")) == "no resource with key 'img'; create() it first"
    err = StoreUnavailable("connection lost", committed=False)
    assert str(err) == "store unavailable: connection lost; nothing was committed"
    assert err.errno is None
    assert str(KeyError("x")) == "'x'"  # what UnknownKey's __str__ avoids


def test_builtin_handlers_catch_them() -> None:
    with pytest.raises(KeyError):
        raise UnknownKey("img")
    with pytest.raises(ConnectionError):
        raise StoreUnavailable("down")
    with pytest.raises(ValueError):
        raise IllegalTransition("queued", "delete", ())
    with pytest.raises(LookupError):
        raise UnknownFlag("turbo", [])
