"""The gate: prove a lifecycle's obligations with z3, and compare them with recorded proofs.

What it owns: the built-in obligations (reachability, dead ends, termination,
determinism, terminal states, every invariant) as z3 Datalog fixpoints, the explicit BFS
oracle that double-checks them, :func:`check_lifecycle` (built-in and race obligations
together), SMT-LIB export, and the proof manifests under ``proofs/``. It imports
:mod:`statusguard.race` and below; z3 loads only when an obligation is checked.
"""

from __future__ import annotations

from statusguard._layout import publish as _publish
from statusguard.results import Counterexample as Counterexample
from statusguard.results import ObligationResult as ObligationResult
from statusguard.results import TraceStep as TraceStep
from statusguard.results import Verdict as Verdict
from statusguard.verify._manifests import MANIFEST_FORMAT as MANIFEST_FORMAT
from statusguard.verify._manifests import compare as compare_manifest
from statusguard.verify._manifests import manifest as manifest
from statusguard.verify._manifests import read_manifest as read_manifest
from statusguard.verify._obligations import builtin_obligations as builtin_obligations
from statusguard.verify._obligations import check_lifecycle as check_lifecycle
from statusguard.verify._obligations import export_programs as export_programs
from statusguard.verify._oracle import oracle_check as oracle_check

__all__ = [
    "MANIFEST_FORMAT",
    "Counterexample",
    "ObligationResult",
    "TraceStep",
    "Verdict",
    "builtin_obligations",
    "check_lifecycle",
    "compare_manifest",
    "export_programs",
    "manifest",
    "oracle_check",
    "read_manifest",
]

_publish(__name__, globals(), __all__)
