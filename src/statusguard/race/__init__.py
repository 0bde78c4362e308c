"""The race: N workers racing to write one resource's status, proved closed or shown open.

What it owns: the write protocols (``unguarded``, ``cas_status``, ``cas_version``,
``atomic_event``), their z3 encoding, the inductive proofs for any number of workers,
bounded model checking for shortest interleavings, an explicit interpreter that replays
schedules, and named race scenarios. It imports :mod:`statusguard.lifecycle`,
:mod:`statusguard.results` and :mod:`statusguard.errors`. z3 loads only when a check runs.
"""

from __future__ import annotations

from statusguard._layout import publish as _publish
from statusguard.race._checks import OBLIGATIONS as OBLIGATIONS
from statusguard.race._checks import PROTOCOLS as PROTOCOLS
from statusguard.race._checks import RaceCheck as RaceCheck
from statusguard.race._checks import RaceProblem as RaceProblem
from statusguard.race._checks import race_checks as race_checks
from statusguard.race._checks import race_obligations as race_obligations
from statusguard.race._checks import race_results as race_results
from statusguard.race._checks import render_schedule as render_schedule
from statusguard.race._interp import RaceInterpreter as RaceInterpreter
from statusguard.race._scenarios import SAVE as SAVE
from statusguard.race._scenarios import RaceScenario as RaceScenario

__all__ = [
    "OBLIGATIONS",
    "PROTOCOLS",
    "SAVE",
    "RaceCheck",
    "RaceInterpreter",
    "RaceProblem",
    "RaceScenario",
    "race_checks",
    "race_obligations",
    "race_results",
    "render_schedule",
]

_publish(__name__, globals(), __all__)
