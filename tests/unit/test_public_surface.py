"""The public surface, pinned: every public name of every public module, and where it lives.

A change to the surface must be deliberate: add or remove the name in ``SURFACE`` below in
the same commit. Every public class and function reports its public module in
``__module__`` (``statusguard.guard.Guard``, not the private file it is written in), is
found there by that name (so it pickles by reference), and ``__all__`` lists exactly the
public names a module binds.
"""

from __future__ import annotations

import ast
import importlib
import json
import pickle
import re
import subprocess
import sys
import types
import typing
from pathlib import Path
from typing import Any

import pytest

from statusguard._layout import PUBLIC_MODULES, has_home, publish

SRC = Path(__file__).resolve().parents[2] / "src"
MODEL = Path(__file__).resolve().parents[2] / "model" / "glance_image.py"

SURFACE = [
    "statusguard.cli:EXIT_BAD_INPUT",
    "statusguard.cli:EXIT_OK",
    "statusguard.cli:EXIT_VIOLATED",
    "statusguard.cli:cli",
    "statusguard.cli:main",
    "statusguard.consult:EventAnswer",
    "statusguard.consult:LifecycleDiff",
    "statusguard.consult:StateAnswer",
    "statusguard.consult:diff_lifecycles",
    "statusguard.consult:explain_event",
    "statusguard.consult:explain_state",
    "statusguard.consult:render_dot",
    "statusguard.consult:render_markdown",
    "statusguard.consult:render_mermaid",
    "statusguard.consult:render_table",
    "statusguard.consult:restrict",
    "statusguard.errors:DuplicateKey",
    "statusguard.errors:HookFailed",
    "statusguard.errors:IllegalTransition",
    "statusguard.errors:InvalidArgument",
    "statusguard.errors:InvalidFlagValue",
    "statusguard.errors:InvalidIdentifier",
    "statusguard.errors:InvalidKey",
    "statusguard.errors:InvalidLifecycle",
    "statusguard.errors:InvalidSchema",
    "statusguard.errors:LifecycleError",
    "statusguard.errors:LoadError",
    "statusguard.errors:Location",
    "statusguard.errors:MissingFlag",
    "statusguard.errors:Origin",
    "statusguard.errors:OutOfTime",
    "statusguard.errors:ReservedColumn",
    "statusguard.errors:StatusGuardError",
    "statusguard.errors:StoreError",
    "statusguard.errors:StoreRejected",
    "statusguard.errors:StoreUnavailable",
    "statusguard.errors:TransitionConflict",
    "statusguard.errors:TransitionError",
    "statusguard.errors:UnknownColumn",
    "statusguard.errors:UnknownEvent",
    "statusguard.errors:UnknownFlag",
    "statusguard.errors:UnknownKey",
    "statusguard.errors:UnknownName",
    "statusguard.errors:UnknownProtocol",
    "statusguard.errors:UnknownScenario",
    "statusguard.errors:UnknownState",
    "statusguard.errors:UnknownStatus",
    "statusguard.guard:Applied",
    "statusguard.guard:AsyncGuard",
    "statusguard.guard:AsyncMemoryStore",
    "statusguard.guard:AsyncStore",
    "statusguard.guard:AuditEntry",
    "statusguard.guard:Committed",
    "statusguard.guard:Guard",
    "statusguard.guard:Hook",
    "statusguard.guard:HookKind",
    "statusguard.guard:HookedGuard",
    "statusguard.guard:MemoryStore",
    "statusguard.guard:Record",
    "statusguard.guard:Rejected",
    "statusguard.guard:Store",
    "statusguard.guard:SwapStore",
    "statusguard.guard:after_commit",
    "statusguard.guard:in_transaction",
    "statusguard.integrations.django:AuditKey",
    "statusguard.integrations.django:AuditRecord",
    "statusguard.integrations.django:DjangoStore",
    "statusguard.integrations.django:GuardedAdmin",
    "statusguard.integrations.django:GuardedModel",
    "statusguard.integrations.django:InstallTrigger",
    "statusguard.integrations.django:StatusField",
    "statusguard.integrations.django:VersionField",
    "statusguard.integrations.django:as_validation_error",
    "statusguard.integrations.django:fire_action",
    "statusguard.lifecycle:Absorbing",
    "statusguard.lifecycle:AnyLifecycle",
    "statusguard.lifecycle:BUILTIN_OBLIGATIONS",
    "statusguard.lifecycle:Closed",
    "statusguard.lifecycle:Condition",
    "statusguard.lifecycle:Defect",
    "statusguard.lifecycle:Explicit",
    "statusguard.lifecycle:ExplicitSetting",
    "statusguard.lifecycle:FORMAT",
    "statusguard.lifecycle:Flag",
    "statusguard.lifecycle:FlagKind",
    "statusguard.lifecycle:INVARIANT_KINDS",
    "statusguard.lifecycle:Invariant",
    "statusguard.lifecycle:Lifecycle",
    "statusguard.lifecycle:Never",
    "statusguard.lifecycle:NoOp",
    "statusguard.lifecycle:OnlyThrough",
    "statusguard.lifecycle:Queries",
    "statusguard.lifecycle:RaceScenario",
    "statusguard.lifecycle:SAVE",
    "statusguard.lifecycle:Transition",
    "statusguard.lifecycle:Unreachable",
    "statusguard.lifecycle:lifecycle_schema",
    "statusguard.lifecycle:load",
    "statusguard.lifecycle:load_all",
    "statusguard.lifecycle:many",
    "statusguard.lifecycle:one",
    "statusguard.race:OBLIGATIONS",
    "statusguard.race:PROTOCOLS",
    "statusguard.race:REGISTRY",
    "statusguard.race:RaceCheck",
    "statusguard.race:RaceInterpreter",
    "statusguard.race:RaceProblem",
    "statusguard.race:RaceProtocol",
    "statusguard.race:RaceScenario",
    "statusguard.race:SAVE",
    "statusguard.race:protocol_named",
    "statusguard.race:race_checks",
    "statusguard.race:race_obligations",
    "statusguard.race:race_results",
    "statusguard.race:render_schedule",
    "statusguard.results:Counterexample",
    "statusguard.results:ObligationResult",
    "statusguard.results:TraceStep",
    "statusguard.results:Verdict",
    "statusguard.results:reached_under_json",
    "statusguard.sql:AsyncSQLStore",
    "statusguard.sql:DIALECTS",
    "statusguard.sql:GuardedStatus",
    "statusguard.sql:SQLStore",
    "statusguard.sql:trigger_ddl",
    "statusguard.sql:trigger_script",
    "statusguard.testing:Ack",
    "statusguard.testing:Adapter",
    "statusguard.testing:Commit",
    "statusguard.testing:EventLoopThread",
    "statusguard.testing:GuardAdapter",
    "statusguard.testing:HistoryCheck",
    "statusguard.testing:LifecycleMachine",
    "statusguard.testing:Outcome",
    "statusguard.testing:RandomLifecycleMachine",
    "statusguard.testing:Request",
    "statusguard.testing:ScheduleStep",
    "statusguard.testing:Snapshot",
    "statusguard.testing:Step",
    "statusguard.testing:StressReport",
    "statusguard.testing:Trace",
    "statusguard.testing:UnguardedAdapter",
    "statusguard.testing:arbitrary_traces",
    "statusguard.testing:blocking",
    "statusguard.testing:check_history",
    "statusguard.testing:configs",
    "statusguard.testing:enabled_events",
    "statusguard.testing:events",
    "statusguard.testing:facts",
    "statusguard.testing:invariants",
    "statusguard.testing:legal_traces",
    "statusguard.testing:lifecycle_machine",
    "statusguard.testing:lifecycles",
    "statusguard.testing:names",
    "statusguard.testing:run_stress",
    "statusguard.testing:states",
    "statusguard.verify:Counterexample",
    "statusguard.verify:MANIFEST_FORMAT",
    "statusguard.verify:ObligationResult",
    "statusguard.verify:TraceStep",
    "statusguard.verify:Verdict",
    "statusguard.verify:builtin_obligations",
    "statusguard.verify:check_lifecycle",
    "statusguard.verify:compare_manifest",
    "statusguard.verify:export_programs",
    "statusguard.verify:manifest",
    "statusguard.verify:oracle_check",
    "statusguard.verify:read_manifest",
    "statusguard:AsyncGuard",
    "statusguard:Committed",
    "statusguard:Flag",
    "statusguard:FlagKind",
    "statusguard:Guard",
    "statusguard:IllegalTransition",
    "statusguard:Lifecycle",
    "statusguard:MemoryStore",
    "statusguard:NoOp",
    "statusguard:SQLStore",
    "statusguard:StatusGuardError",
    "statusguard:Store",
    "statusguard:Transition",
    "statusguard:TransitionConflict",
    "statusguard:load",
    "statusguard:load_all",
]
"""``module:name`` for every name in every public module's ``__all__``, sorted."""

PRIVATE_PATH = re.compile(rb"statusguard(?:\.\w+)*\._\w")

#: lazy names that load only in a configured Django (a model needs the app registry, the
#: admin helpers django.contrib.admin): checked in a process of their own, below
NEEDS_DJANGO = {
    "statusguard.integrations.django:AuditRecord",
    "statusguard.integrations.django:GuardedAdmin",
    "statusguard.integrations.django:fire_action",
}


def loadable(module: str, names: list[str]) -> list[str]:
    """``names`` of ``module`` that load in this (unconfigured Django) process."""
    return [n for n in names if f"{module}:{n}" not in NEEDS_DJANGO]


def surface() -> list[str]:
    return sorted(f"{m}:{n}" for m in PUBLIC_MODULES for n in importlib.import_module(m).__all__)


def source_of(module: str) -> Path:
    path = SRC.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def bound_names(module: str) -> set[str]:
    """The public names the module's source binds at top level (or under TYPE_CHECKING),
    and the names its lazy ``__getattr__`` tables serve."""
    tree = ast.parse(source_of(module).read_text(encoding="utf-8"))
    names: set[str] = set()
    body = list(tree.body)
    while body:
        node = body.pop(0)
        if isinstance(node, ast.If):  # TYPE_CHECKING re-exports
            body.extend(node.body)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
            if isinstance(node.value, ast.Dict) and any(
                isinstance(t, ast.Name) and t.id in ("_LAZY", "_HOME") for t in targets
            ):
                names.update(k.value for k in node.value.keys if isinstance(k, ast.Constant))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("statusguard"):
            names.update(a.asname or a.name for a in node.names)
        elif isinstance(node, ast.Delete):  # bound only while the module runs
            names.difference_update(t.id for t in node.targets if isinstance(t, ast.Name))
    return {n for n in names if not n.startswith("_")}


def ruff_order(name: str) -> tuple[int, str]:
    """``__all__`` order as ruff's RUF022 keeps it: CONSTANTS, then Classes, then functions."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def home_problems(module: str, namespace: Any, names: list[str]) -> list[str]:
    """Public names that do not report ``module`` (or a lower public module) as their home."""
    problems = []
    for name in names:
        obj = getattr(namespace, name)
        if not has_home(obj):
            continue
        home = obj.__module__
        if home not in PUBLIC_MODULES:
            problems.append(f"{module}.{name} reports the private module {home}")
        elif getattr(importlib.import_module(home), obj.__qualname__, None) is not obj:
            problems.append(f"{module}.{name} is not {home}.{obj.__qualname__}")
    return problems


def test_the_surface_is_pinned() -> None:
    assert surface() == SURFACE


def test_the_top_level_is_lean() -> None:
    import statusguard

    # the rest lives in the subpackages (AsyncGuard is the 16th: asyncio code's Guard;
    # its stores come from statusguard.guard and statusguard.sql)
    assert len(statusguard.__all__) <= 16


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_all_is_sorted_complete_and_public(module: str) -> None:
    mod = importlib.import_module(module)
    names = list(mod.__all__)
    assert names == sorted(names, key=ruff_order)
    assert len(names) == len(set(names))
    assert [n for n in names if n.startswith("_")] == []
    assert bound_names(module) - set(names) == set()  # bound but not declared public
    for name in loadable(module, names):
        getattr(mod, name)  # every declared name resolves, the lazy ones too
    leaked = [
        n
        for n, obj in vars(mod).items()
        if not n.startswith("_")
        and n not in names
        and not isinstance(obj, types.ModuleType)
        and has_home(obj)
        and obj.__module__.startswith("statusguard")
    ]
    assert leaked == []


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_public_names_report_their_public_module(module: str) -> None:
    mod = importlib.import_module(module)
    assert home_problems(module, mod, loadable(module, list(mod.__all__))) == []


def test_the_names_needing_django_report_their_home_in_a_configured_django() -> None:
    """AuditRecord, GuardedAdmin and fire_action, loaded where Django is set up: each
    reports its public home, is found there, pickles by reference and resolves its hints."""
    names = sorted(NEEDS_DJANGO)
    code = (
        "import json, pickle, typing, django\n"
        "from django.conf import settings\n"
        "settings.configure(INSTALLED_APPS=['django.contrib.contenttypes', "
        "'django.contrib.auth', 'django.contrib.messages', 'django.contrib.admin'])\n"
        "django.setup()\n"
        "import statusguard.integrations.django as d\n"
        "out = []\n"
        f"for name in {[n.split(':')[1] for n in names]!r}:\n"
        "    obj = getattr(d, name)\n"
        "    assert pickle.loads(pickle.dumps(obj)) is obj\n"
        "    if isinstance(obj, type) and name != 'GuardedAdmin':\n"
        "        typing.get_type_hints(obj)\n"
        "    out.append([obj.__module__, obj.__qualname__, getattr(d, obj.__qualname__) is obj])\n"
        "print(json.dumps(out))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert json.loads(out) == [
        ["statusguard.integrations.django", n.split(":")[1], True] for n in names
    ]


def test_the_home_check_can_fail() -> None:
    private = types.ModuleType("statusguard.guard._fake")

    class Thing:
        pass

    Thing.__module__ = "statusguard.guard._fake"
    Thing.__qualname__ = "Thing"
    private.Thing = Thing  # type: ignore[attr-defined]
    assert home_problems("statusguard.guard", private, ["Thing"]) != []
    publish("statusguard.guard", vars(private), ["Thing"])
    assert Thing.__module__ == "statusguard.guard"
    # now it names its public home, but that module does not hold it
    assert home_problems("statusguard.guard", private, ["Thing"]) == [
        "statusguard.guard.Thing is not statusguard.guard.Thing"
    ]


def test_the_lazy_names_report_their_home_from_a_fresh_process() -> None:
    code = (
        "import json, statusguard, statusguard.sql, statusguard.lifecycle\n"
        "print(json.dumps([statusguard.load.__module__, statusguard.SQLStore.__module__,"
        " statusguard.sql.GuardedStatus.__module__,"
        " statusguard.lifecycle.lifecycle_schema.__module__, statusguard.Guard.__module__]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert json.loads(out) == [
        "statusguard.lifecycle",
        "statusguard.sql",
        "statusguard.sql",
        "statusguard.lifecycle",
        "statusguard.guard",
    ]


def public_objects() -> list[tuple[str, Any]]:
    out = []
    for module in PUBLIC_MODULES:
        mod = importlib.import_module(module)
        out.extend((f"{module}.{n}", getattr(mod, n)) for n in loadable(module, mod.__all__))
    return [(name, obj) for name, obj in out if has_home(obj)]


@pytest.mark.parametrize(("name", "obj"), public_objects(), ids=[n for n, _ in public_objects()])
def test_every_public_class_and_function_pickles_by_reference(name: str, obj: Any) -> None:
    data = pickle.dumps(obj)
    assert pickle.loads(data) is obj
    assert not PRIVATE_PATH.search(data), data


def test_instances_pickle_through_public_modules() -> None:
    import statusguard
    from statusguard.guard import Applied, AuditEntry, Record, Rejected
    from statusguard.results import Counterexample, ObligationResult, TraceStep, Verdict

    lc = statusguard.load(MODEL)
    step = TraceStep("queued", "upload_started", {"has_locations": False})
    samples = [
        lc.flags[0],
        lc.transitions[0],
        *lc.invariants,
        statusguard.FlagKind.CONFIG,
        Verdict.VIOLATED,
        ObligationResult(
            "reachable", Verdict.VIOLATED, 0.1, counterexample=Counterexample({}, (step,))
        ),
        Record("queued", 1, None),
        Applied("queued", "saving", 2),
        Rejected(Record("active", 3, "t")),
        AuditEntry("queued", "upload_started", "saving", 2, None),
        statusguard.Committed("k", "queued", "upload_started", "saving", 2, None),
    ]
    for sample in samples:
        data = pickle.dumps(sample)
        assert pickle.loads(data) == sample
        assert not PRIVATE_PATH.search(data), (sample, data)


def test_a_lifecycle_pickles() -> None:
    import statusguard

    lc = statusguard.Lifecycle(
        "tiny", states=["a", "b"], initial="a", transitions=[statusguard.Transition("go", "a", "b")]
    )
    data = pickle.dumps(lc)
    assert not PRIVATE_PATH.search(data)
    back = pickle.loads(data)
    assert back == lc
    assert back.fingerprint == lc.fingerprint
    assert back.next("a", "go") == "b"


def base_hints_fail(cls: type) -> bool:
    """Whether a base outside statusguard already defeats ``typing.get_type_hints``."""
    for base in cls.__mro__[1:]:
        if not base.__module__.startswith("statusguard"):
            try:
                typing.get_type_hints(base)
            except Exception:
                return True
    return False


@pytest.mark.parametrize(
    ("name", "cls"),
    [(n, o) for n, o in public_objects() if isinstance(o, type)],
    ids=[n for n, o in public_objects() if isinstance(o, type)],
)
def test_type_hints_still_resolve_from_the_public_home(name: str, cls: type) -> None:
    """``get_type_hints`` reads a class's annotations in its ``__module__``: publishing
    resolves them first, so moving the home breaks no annotation."""
    if base_hints_fail(cls):
        pytest.skip(f"a base of {name} outside statusguard has unresolvable hints")
    typing.get_type_hints(cls)
