"""Each rule the Glance image model takes from Glance, checked against the model.

Every test cites the Glance file and line it follows (master at c76abb08e; the 33.0.0 wheel
has the same lines except ``glance/api/v2/images.py``, where the cited lines 313-480 are 4
later). Each rule is a predicate over a lifecycle; the negative control builds the model
without the rule (one literal or part removed) and shows the predicate then fails, so each
test can fail.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import statusguard
from statusguard import IllegalTransition, Lifecycle
from statusguard.lifecycle import FlagKind

MODEL_DIR = Path(__file__).resolve().parents[3] / "model"
GLANCE: Lifecycle[Any, Any] = statusguard.load(MODEL_DIR / "glance_image.py")
FACTS = ("formats_set", "has_locations", "import_locked", "protected")
STATES = [str(s) for s in GLANCE.states]


def settings(**fixed: bool) -> list[dict[str, bool]]:
    """Every complete flag setting that agrees with ``fixed``."""
    names = ("delayed_delete", *FACTS)
    out = []
    for bits in itertools.product((False, True), repeat=len(names)):
        flags = dict(zip(names, bits, strict=True))
        if all(flags[k] == v for k, v in fixed.items()):
            out.append(flags)
    return out


def outcome(lc: Lifecycle[Any, Any], state: str, event: str, flags: dict[str, bool]) -> str | None:
    """Where ``event`` leads (the state itself for a no-op), or ``None`` if refused."""
    try:
        return str(lc.next(state, event, flags))
    except IllegalTransition:
        return None


def without(
    lc: Lifecycle[Any, Any],
    *,
    literal: str | None = None,
    noops: bool = False,
    events: tuple[str, ...] = (),
) -> Lifecycle[Any, Any]:
    """``lc`` with a flag literal removed from every condition (of ``events``, if given),
    or without its no-ops: the model as it was before the rule."""
    doc = lc.to_json()
    for t in doc["transitions"]:
        if literal is not None and (not events or t["event"] in events):
            t.get("when", {}).pop(literal, None)
    if noops:
        doc.pop("noops", None)
    return Lifecycle._unchecked(doc["name"], **_parts(doc))


def _parts(doc: dict[str, Any]) -> dict[str, Any]:
    from statusguard.lifecycle._jsonio import lifecycle_parts

    return lifecycle_parts(doc)[1]


def holds_and_control(rule: Callable[[Lifecycle[Any, Any]], bool], mutant: Any) -> None:
    assert rule(GLANCE)
    assert not rule(mutant), "the negative control: without the rule, the check must fail"


# -- glance/domain/__init__.py:159-170: the setter needs both formats ---------------------

SETTER_GUARDED = [  # (state, event): queued/uploading -> saving, importing or active
    ("queued", "upload_started"),
    ("queued", "location_added"),
    ("queued", "web_download_import"),
    ("queued", "glance_download_import"),
    ("uploading", "glance_direct_import"),
]


def formats_rule(lc: Lifecycle[Any, Any]) -> bool:
    for state, event in SETTER_GUARDED:
        for flags in settings(formats_set=False):
            if outcome(lc, state, event, flags) is not None:
                return False
        if not any(outcome(lc, state, event, f) for f in settings(formats_set=True)):
            return False
    return True


def test_formats_must_be_set_to_leave_queued_or_uploading_for_data_states() -> None:
    """``Image.status`` setter, glance/domain/__init__.py:159-170 (ValueError, 400); the
    import API refuses the same, glance/api/v2/images.py:348-353 (409)."""
    holds_and_control(formats_rule, without(GLANCE, literal="formats_set"))
    # queued -> uploading (stage) is not one of the setter's targets: no format needed
    assert all(outcome(GLANCE, "queued", "stage_started", f) for f in settings(formats_set=False))
    # the default (formats set) keeps callers that never say working
    assert GLANCE.next("queued", "upload_started") == "saving"
    assert GLANCE.fact_defaults["formats_set"] is True


# -- glance/domain/__init__.py:250-251: a protected image is refused before the status ----


def protected_rule(lc: Lifecycle[Any, Any]) -> bool:
    refused = all(
        outcome(lc, s, "delete", f) is None for s in STATES for f in settings(protected=True)
    )
    deletable = any(outcome(lc, "active", "delete", f) for f in settings(protected=False))
    return refused and deletable


def test_delete_of_a_protected_image_is_refused() -> None:
    """``Image.delete`` raises ProtectedImageDelete first (glance/domain/__init__.py:250-251;
    a Forbidden, glance/common/exception.py:116): no status is touched."""
    holds_and_control(protected_rule, without(GLANCE, literal="protected"))
    with pytest.raises(IllegalTransition):
        GLANCE.next("active", "delete", {"delayed_delete": False, "protected": True})
    assert GLANCE.fact_defaults["protected"] is False  # ImageFactory.new_image, line 72


def test_guard_refuses_a_protected_delete_and_writes_nothing() -> None:
    store = statusguard.MemoryStore(audit=True)
    guard = statusguard.Guard(GLANCE, store, {"delayed_delete": False})
    guard.create("img")
    guard.fire("img", "location_added")
    with pytest.raises(IllegalTransition):
        guard.fire("img", "delete", {"protected": True})
    assert (guard.status("img"), guard.version("img"), len(store.history("img"))) == (
        "active",
        1,
        1,
    )
    assert guard.fire("img", "delete").target == "deleted"  # unprotected: the default


# -- glance/api/v2/images.py:331-347: the import method decides the source status ---------

METHODS = {  # event -> the one status it starts from
    "glance_direct_import": "uploading",  # 343-347: needs a staged image
    "web_download_import": "queued",  # 338-342
    "glance_download_import": "queued",  # 338-342
}


def methods_rule(lc: Lifecycle[Any, Any]) -> bool:
    for event, source in METHODS.items():
        if event not in {str(e) for e in lc.events}:
            return False
        starts = {s for s in STATES if any(outcome(lc, s, event, f) for f in settings())}
        if starts != {source}:
            return False
    return True


def test_each_import_method_starts_from_its_own_status(tmp_path: Path) -> None:
    """``ImagesController.import_image``: glance-direct needs ``uploading`` (343-347),
    web-download and glance-download need ``queued`` (338-342); the old single
    ``import_started`` accepted both."""
    holds_and_control(methods_rule, statusguard.load(_old_model(tmp_path)))
    for event, source in METHODS.items():
        assert GLANCE.next(source, event) == "importing"


def _old_model(folder: Path) -> Path:
    """The model before the split: one import_started from queued or uploading."""
    doc = GLANCE.to_json()
    doc["events"] = [e for e in doc["events"] if e not in METHODS] + ["import_started"]
    doc["transitions"] = [t for t in doc["transitions"] if t["event"] not in METHODS]
    doc["transitions"].append(
        {"event": "import_started", "source": ["queued", "uploading"], "target": "importing"}
    )
    path = folder / "old.json"
    path.write_text(json.dumps(doc))
    return path


def test_copy_image_is_accepted_only_on_active_and_changes_nothing() -> None:
    """copy-image needs ``active`` (glance/api/v2/images.py:331-337) and keeps it."""
    assert GLANCE.is_noop("active", "copy_image_import")
    for s in STATES:
        if s != "active":
            assert all(outcome(GLANCE, s, "copy_image_import", f) is None for f in settings())


# -- glance/api/v2/images.py:385-389, 472-480: the import lock ----------------------------


def lock_rule(lc: Lifecycle[Any, Any]) -> bool:
    imports = (*METHODS, "copy_image_import")
    return all(
        outcome(lc, s, e, f) is None
        for s in STATES
        for e in imports
        if e in {str(x) for x in lc.events}
        for f in settings(import_locked=True)
    )


def test_an_import_is_refused_while_another_task_holds_the_lock() -> None:
    """``os_glance_import_task`` held by another task: ``_enforce_import_lock`` raises
    Conflict (glance/api/v2/images.py:385-389, 167-216), and the atomic grab refuses a
    second holder (472-480)."""
    doc = GLANCE.to_json()
    for n in doc["noops"]:
        n.get("when", {}).pop("import_locked", None)
    unlocked_noops = Lifecycle._unchecked(doc["name"], **_parts(doc))
    holds_and_control(lock_rule, without(unlocked_noops, literal="import_locked"))
    assert GLANCE.fact_defaults["import_locked"] is False


# -- glance/api/v2/image_actions.py:61-65, 90-94, 107-111: accepted without a change ------


def noop_rule(lc: Lifecycle[Any, Any]) -> bool:
    try:
        return lc.is_noop("deactivated", "deactivate") and lc.is_noop("active", "reactivate")
    except IllegalTransition:
        return False


def test_deactivate_and_reactivate_twice_are_accepted_with_no_change() -> None:
    """``Image.deactivate`` passes on a deactivated image and ``reactivate`` on an active one
    (glance/domain/__init__.py:260-262, 273-275); the API skips the save
    (glance/api/v2/image_actions.py:61-65, 90-94) and answers 204 (107-111)."""
    holds_and_control(noop_rule, without(GLANCE, noops=True))
    assert GLANCE.next("deactivated", "deactivate") == "deactivated"
    assert not GLANCE.is_noop("active", "deactivate")
    # other states: 403 (Forbidden), still refused
    for s in ("queued", "saving", "killed", "deleted"):
        with pytest.raises(IllegalTransition):
            GLANCE.next(s, "deactivate")
    # a no-op is not an edge: the 23-edge projection has no self-loop
    assert all(s != t for s, t in GLANCE.edges())


# -- glance/domain/__init__.py:249-255: Image.delete from pending_delete -------------------


def pending_delete_rule(lc: Lifecycle[Any, Any]) -> bool:
    for f in settings(protected=False):
        want = None if (f["delayed_delete"] and f["has_locations"]) else "deleted"
        if outcome(lc, "pending_delete", "delete", f) != want:
            return False
    return True


def test_domain_delete_from_pending_delete() -> None:
    """``Image.delete`` sets ``deleted`` unless delayed_delete and locations, which would be
    pending_delete -> pending_delete, not in the table (glance/domain/__init__.py:252-255,
    99-114): refused. A pending_delete image loaded in the domain shows no locations
    (glance/db/__init__.py:103 keeps active location rows), so it is deleted."""
    doc = GLANCE.to_json()
    for t in doc["transitions"]:
        if t["event"] == "delete":
            t["source"] = [s for s in t["source"] if s != "pending_delete"]
    holds_and_control(pending_delete_rule, Lifecycle._unchecked(doc["name"], **_parts(doc)))


# -- glance/scrubber.py:74, 171: where delayed_delete comes from --------------------------


def test_delayed_delete_is_a_default_option_of_the_scrubber() -> None:
    """``cfg.BoolOpt('delayed_delete', default=False)`` is in ``scrubber_opts``
    (glance/scrubber.py:74), registered in [DEFAULT] by ``CONF.register_opts(scrubber_opts)``
    (glance/scrubber.py:171); the domain's ``CONF.import_opt('delayed_delete',
    'glance_store')`` (glance/domain/__init__.py:44) only imports a module."""
    (flag,) = [f for f in GLANCE.flags if f.name == "delayed_delete"]
    assert flag.kind is FlagKind.CONFIG
    assert "glance/scrubber.py:74" in flag.doc
    assert "glance_store" not in flag.doc
    assert "glance/scrubber.py:74" in (GLANCE.origin and Path(GLANCE.origin.file).read_text())


# -- the projection stays Glance's table --------------------------------------------------


def test_the_new_rules_keep_the_23_edges() -> None:
    from tests.unit.models.test_glance_image_model import VALID_STATE_TARGETS

    table = {(s, t) for s, targets in VALID_STATE_TARGETS.items() for t in targets}
    assert {(str(s), str(t)) for s, t in GLANCE.edges()} == table
    assert len(table) == 23
