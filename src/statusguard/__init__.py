"""statusguard: a resource's status never takes an illegal step.

A :class:`Lifecycle` is the single source of truth; the z3 proof engine checks it
(``statusguard check``), and a :class:`Guard` applies its transitions atomically
to a :class:`Store`. Importing this package loads neither z3, SQLAlchemy nor
hypothesis: those live in their own modules and load when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from statusguard._errors import DuplicateKey as DuplicateKey
from statusguard._errors import IllegalTransition as IllegalTransition
from statusguard._errors import InvalidFlagValue as InvalidFlagValue
from statusguard._errors import InvalidIdentifier as InvalidIdentifier
from statusguard._errors import InvalidKey as InvalidKey
from statusguard._errors import InvalidLifecycle as InvalidLifecycle
from statusguard._errors import LoadError as LoadError
from statusguard._errors import MissingFlag as MissingFlag
from statusguard._errors import StatusGuardError as StatusGuardError
from statusguard._errors import StoreRejected as StoreRejected
from statusguard._errors import StoreUnavailable as StoreUnavailable
from statusguard._errors import TransitionConflict as TransitionConflict
from statusguard._errors import UnknownEvent as UnknownEvent
from statusguard._errors import UnknownFlag as UnknownFlag
from statusguard._errors import UnknownKey as UnknownKey
from statusguard._errors import UnknownName as UnknownName
from statusguard._errors import UnknownProtocol as UnknownProtocol
from statusguard._errors import UnknownScenario as UnknownScenario
from statusguard._errors import UnknownState as UnknownState
from statusguard._errors import UnknownStatus as UnknownStatus
from statusguard._guard import Committed as Committed
from statusguard._guard import Guard as Guard
from statusguard._invariants import Absorbing as Absorbing
from statusguard._invariants import Closed as Closed
from statusguard._invariants import Invariant as Invariant
from statusguard._invariants import Never as Never
from statusguard._invariants import OnlyThrough as OnlyThrough
from statusguard._invariants import Unreachable as Unreachable
from statusguard._lifecycle import Flag as Flag
from statusguard._lifecycle import FlagKind as FlagKind
from statusguard._lifecycle import Lifecycle as Lifecycle
from statusguard._lifecycle import Transition as Transition
from statusguard._loading import load as load
from statusguard._loading import load_all as load_all
from statusguard._obligations import check_lifecycle as check_lifecycle
from statusguard._race import RaceCheck as RaceCheck
from statusguard._race import RaceProblem as RaceProblem
from statusguard._race import race_checks as race_checks
from statusguard._race import race_results as race_results
from statusguard._race_scenarios import RaceScenario as RaceScenario
from statusguard._store import Applied as Applied
from statusguard._store import AuditEntry as AuditEntry
from statusguard._store import MemoryStore as MemoryStore
from statusguard._store import Record as Record
from statusguard._store import Rejected as Rejected
from statusguard._store import Store as Store

if TYPE_CHECKING:
    from statusguard._orm import GuardedStatus as GuardedStatus
    from statusguard._sql import SQLStore as SQLStore

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # SQLStore and GuardedStatus need SQLAlchemy (extra ``statusguard[sql]``): load on first use.
    if name == "SQLStore":
        from statusguard._sql import SQLStore

        return SQLStore
    if name == "GuardedStatus":
        from statusguard._orm import GuardedStatus

        return GuardedStatus
    raise AttributeError(f"module 'statusguard' has no attribute {name!r}")


__all__ = [
    "Absorbing",
    "Applied",
    "AuditEntry",
    "Closed",
    "Committed",
    "DuplicateKey",
    "Flag",
    "FlagKind",
    "Guard",
    "GuardedStatus",
    "IllegalTransition",
    "InvalidFlagValue",
    "InvalidIdentifier",
    "InvalidKey",
    "InvalidLifecycle",
    "Invariant",
    "Lifecycle",
    "LoadError",
    "MemoryStore",
    "MissingFlag",
    "Never",
    "OnlyThrough",
    "RaceCheck",
    "RaceProblem",
    "RaceScenario",
    "Record",
    "Rejected",
    "SQLStore",
    "StatusGuardError",
    "Store",
    "StoreRejected",
    "StoreUnavailable",
    "Transition",
    "TransitionConflict",
    "UnknownEvent",
    "UnknownFlag",
    "UnknownKey",
    "UnknownName",
    "UnknownProtocol",
    "UnknownScenario",
    "UnknownState",
    "UnknownStatus",
    "Unreachable",
    "check_lifecycle",
    "load",
    "load_all",
    "race_checks",
    "race_results",
]
