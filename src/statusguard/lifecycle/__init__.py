"""The model: a lifecycle's states, events, flags, transitions, invariants and race scenarios.

What it owns: :class:`Lifecycle` and its parts, the structural checks run when one is
built, the invariant kinds (one class each, :class:`Invariant`; the interfaces their
z3 query and oracle check are written against: :class:`Queries`, :class:`Explicit`),
the ``statusguard.lifecycle/v1`` JSON format, finding models on disk
(:func:`load`, :func:`load_all`), and the explicit-graph searches every higher layer
shares. It imports only :mod:`statusguard.errors` and :mod:`statusguard.results`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from statusguard._layout import load_lazily as _load_lazily
from statusguard._layout import publish as _publish
from statusguard.lifecycle._invariants import Absorbing as Absorbing
from statusguard.lifecycle._invariants import Closed as Closed
from statusguard.lifecycle._invariants import Never as Never
from statusguard.lifecycle._invariants import OnlyThrough as OnlyThrough
from statusguard.lifecycle._invariants import Unreachable as Unreachable
from statusguard.lifecycle._kind import BUILTIN_OBLIGATIONS as BUILTIN_OBLIGATIONS
from statusguard.lifecycle._kind import INVARIANT_KINDS as INVARIANT_KINDS
from statusguard.lifecycle._kind import Defect as Defect
from statusguard.lifecycle._kind import Explicit as Explicit
from statusguard.lifecycle._kind import ExplicitSetting as ExplicitSetting
from statusguard.lifecycle._kind import Invariant as Invariant
from statusguard.lifecycle._kind import Queries as Queries
from statusguard.lifecycle._kind import many as many
from statusguard.lifecycle._kind import one as one
from statusguard.lifecycle._model import AnyLifecycle as AnyLifecycle
from statusguard.lifecycle._model import Lifecycle as Lifecycle
from statusguard.lifecycle._parts import FORMAT as FORMAT
from statusguard.lifecycle._parts import Condition as Condition
from statusguard.lifecycle._parts import Flag as Flag
from statusguard.lifecycle._parts import FlagKind as FlagKind
from statusguard.lifecycle._parts import NoOp as NoOp
from statusguard.lifecycle._parts import Transition as Transition
from statusguard.lifecycle._scenarios import SAVE as SAVE
from statusguard.lifecycle._scenarios import RaceScenario as RaceScenario

if TYPE_CHECKING:
    from statusguard.lifecycle._jsonio import lifecycle_schema as lifecycle_schema
    from statusguard.lifecycle._loading import load as load
    from statusguard.lifecycle._loading import load_all as load_all

_LAZY = {
    "load": "statusguard.lifecycle._loading",
    "load_all": "statusguard.lifecycle._loading",
    "lifecycle_schema": "statusguard.lifecycle._jsonio",
}


def __getattr__(name: str) -> Any:
    # Loading touches the file system and the JSON Schema: off the import path.
    return _load_lazily(__name__, _LAZY, name)


__all__ = [
    "BUILTIN_OBLIGATIONS",
    "FORMAT",
    "INVARIANT_KINDS",
    "SAVE",
    "Absorbing",
    "AnyLifecycle",
    "Closed",
    "Condition",
    "Defect",
    "Explicit",
    "ExplicitSetting",
    "Flag",
    "FlagKind",
    "Invariant",
    "Lifecycle",
    "Never",
    "NoOp",
    "OnlyThrough",
    "Queries",
    "RaceScenario",
    "Transition",
    "Unreachable",
    "lifecycle_schema",
    "load",
    "load_all",
    "many",
    "one",
]

_publish(__name__, globals(), __all__)
