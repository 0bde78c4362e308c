"""The race: N workers racing to write one resource's status, proved closed or shown open.

What it owns: the write protocols (one :class:`RaceProtocol` record each in
:data:`REGISTRY`: ``unguarded``, ``cas_status``, ``cas_version``, ``atomic_event``), their
z3 encoding, the inductive proofs for any number of workers, bounded model checking for
shortest interleavings, an explicit interpreter that replays schedules, and running the
race scenarios a lifecycle declares. An event a lifecycle accepts without a change (a
``NoOp``) is no write here, as in the guard: a worker has nothing to decide on it, and a
decided event that meets the no-op's status at write time writes nothing.
It imports :mod:`statusguard.guard`,
:mod:`statusguard.lifecycle`, :mod:`statusguard.results` and :mod:`statusguard.errors`.
z3 loads only when a check runs.

Modules, lowest first: ``_protocols`` (the records), ``_problem`` (:class:`RaceProblem`),
``_schedule`` (schedule entries, decoding, rendering), ``_interp`` (the interpreter),
``_encoding`` (z3 terms), ``_induction``, ``_bmc``, ``_check`` (one obligation's verdict),
``_scenarios`` (declared scenarios), ``_gate`` (what the gate expects).
"""

from __future__ import annotations

from statusguard._layout import publish as _publish
from statusguard.lifecycle._scenarios import SAVE as SAVE
from statusguard.lifecycle._scenarios import RaceScenario as RaceScenario
from statusguard.race._gate import RaceCheck as RaceCheck
from statusguard.race._gate import race_checks as race_checks
from statusguard.race._gate import race_obligations as race_obligations
from statusguard.race._gate import race_results as race_results
from statusguard.race._interp import RaceInterpreter as RaceInterpreter
from statusguard.race._problem import RaceProblem as RaceProblem
from statusguard.race._protocols import OBLIGATIONS as OBLIGATIONS
from statusguard.race._protocols import PROTOCOLS as PROTOCOLS
from statusguard.race._protocols import REGISTRY as REGISTRY
from statusguard.race._protocols import RaceProtocol as RaceProtocol
from statusguard.race._protocols import protocol_named as protocol_named
from statusguard.race._schedule import render_schedule as render_schedule

__all__ = [
    "OBLIGATIONS",
    "PROTOCOLS",
    "REGISTRY",
    "SAVE",
    "RaceCheck",
    "RaceInterpreter",
    "RaceProblem",
    "RaceProtocol",
    "RaceScenario",
    "protocol_named",
    "race_checks",
    "race_obligations",
    "race_results",
    "render_schedule",
]

_publish(__name__, globals(), __all__)
