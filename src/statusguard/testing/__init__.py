"""Test statusguard lifecycles, and your own status storage, with hypothesis.

Needs the ``testing`` extra (``pip install 'statusguard[testing]'``): importing
this package imports hypothesis.
"""

from __future__ import annotations

from statusguard.testing._adapters import Adapter as Adapter
from statusguard.testing._adapters import GuardAdapter as GuardAdapter
from statusguard.testing._adapters import Outcome as Outcome
from statusguard.testing._adapters import Snapshot as Snapshot
from statusguard.testing._adapters import UnguardedAdapter as UnguardedAdapter
from statusguard.testing._stateful import LifecycleMachine as LifecycleMachine
from statusguard.testing._stateful import Request as Request
from statusguard.testing._stateful import Step as Step
from statusguard.testing._stateful import lifecycle_machine as lifecycle_machine

__all__ = [
    "Adapter",
    "GuardAdapter",
    "LifecycleMachine",
    "Outcome",
    "Request",
    "Snapshot",
    "Step",
    "UnguardedAdapter",
    "lifecycle_machine",
]
