"""Hypothesis strategies and stateful test bases for lifecycles: ``import statusguard.testing``.

This package imports hypothesis (``pip install 'statusguard[testing]'``);
``import statusguard`` does not. Strategies generate lifecycles, states, events
and traces; :class:`LifecycleMachine` drives concurrent workers' interleavings
against your own storage through an :class:`Adapter`; :func:`blocking` and
:class:`EventLoopThread` let them drive async persistence code (an ``AsyncGuard``, an
async adapter).
"""

from __future__ import annotations

from statusguard._layout import publish as _publish
from statusguard.testing._adapters import Adapter as Adapter
from statusguard.testing._adapters import GuardAdapter as GuardAdapter
from statusguard.testing._adapters import Outcome as Outcome
from statusguard.testing._adapters import Snapshot as Snapshot
from statusguard.testing._adapters import UnguardedAdapter as UnguardedAdapter
from statusguard.testing._async import EventLoopThread as EventLoopThread
from statusguard.testing._async import blocking as blocking
from statusguard.testing._stateful import Commit as Commit
from statusguard.testing._stateful import LifecycleMachine as LifecycleMachine
from statusguard.testing._stateful import RandomLifecycleMachine as RandomLifecycleMachine
from statusguard.testing._stateful import Request as Request
from statusguard.testing._stateful import ScheduleStep as ScheduleStep
from statusguard.testing._stateful import lifecycle_machine as lifecycle_machine
from statusguard.testing._strategies import Step as Step
from statusguard.testing._strategies import Trace as Trace
from statusguard.testing._strategies import arbitrary_traces as arbitrary_traces
from statusguard.testing._strategies import configs as configs
from statusguard.testing._strategies import enabled_events as enabled_events
from statusguard.testing._strategies import events as events
from statusguard.testing._strategies import facts as facts
from statusguard.testing._strategies import invariants as invariants
from statusguard.testing._strategies import legal_traces as legal_traces
from statusguard.testing._strategies import lifecycles as lifecycles
from statusguard.testing._strategies import names as names
from statusguard.testing._strategies import states as states
from statusguard.testing._stress import Ack as Ack
from statusguard.testing._stress import HistoryCheck as HistoryCheck
from statusguard.testing._stress import StressReport as StressReport
from statusguard.testing._stress import check_history as check_history
from statusguard.testing._stress import run_stress as run_stress

__all__ = [
    "Ack",
    "Adapter",
    "Commit",
    "EventLoopThread",
    "GuardAdapter",
    "HistoryCheck",
    "LifecycleMachine",
    "Outcome",
    "RandomLifecycleMachine",
    "Request",
    "ScheduleStep",
    "Snapshot",
    "Step",
    "StressReport",
    "Trace",
    "UnguardedAdapter",
    "arbitrary_traces",
    "blocking",
    "check_history",
    "configs",
    "enabled_events",
    "events",
    "facts",
    "invariants",
    "legal_traces",
    "lifecycle_machine",
    "lifecycles",
    "names",
    "run_stress",
    "states",
]

_publish(__name__, globals(), __all__)
