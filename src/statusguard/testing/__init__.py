"""Hypothesis strategies (and test bases) for lifecycles: ``import statusguard.testing``.

This package imports hypothesis (``pip install 'statusguard[testing]'``);
``import statusguard`` does not.
"""

from __future__ import annotations

from statusguard.testing._strategies import Step as Step
from statusguard.testing._strategies import Trace as Trace
from statusguard.testing._strategies import arbitrary_traces as arbitrary_traces
from statusguard.testing._strategies import configs as configs
from statusguard.testing._strategies import enabled_events as enabled_events
from statusguard.testing._strategies import events as events
from statusguard.testing._strategies import facts as facts
from statusguard.testing._strategies import legal_traces as legal_traces
from statusguard.testing._strategies import lifecycles as lifecycles
from statusguard.testing._strategies import names as names
from statusguard.testing._strategies import states as states

__all__ = [
    "Step",
    "Trace",
    "arbitrary_traces",
    "configs",
    "enabled_events",
    "events",
    "facts",
    "legal_traces",
    "lifecycles",
    "names",
    "states",
]
