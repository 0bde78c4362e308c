"""The runtime guard: every status change is one atomic step of the lifecycle.

What it owns: :class:`Guard` (applying a transition through a store), the pure
planning behind it (``_plan``: no I/O), the :class:`Store` protocol every backend
implements with the records it exchanges and the optional :class:`SwapStore`
capability (the guard's lock-free fast path), :class:`MemoryStore`, the in-process
reference store, :class:`AsyncGuard` with the :class:`AsyncStore` protocol and
:class:`AsyncMemoryStore` (the same steps, awaited), and transition hooks (``_hooks``:
the ``after_commit`` and ``in_transaction`` records a :class:`HookedGuard` runs). The
guard uses a store only through the protocol. It imports only :mod:`statusguard.errors` and
:mod:`statusguard.lifecycle`; SQL backends live in :mod:`statusguard.sql`.
"""

from __future__ import annotations

from statusguard._layout import publish as _publish
from statusguard.guard._async import AsyncGuard as AsyncGuard
from statusguard.guard._async_store import AsyncMemoryStore as AsyncMemoryStore
from statusguard.guard._async_store import AsyncStore as AsyncStore
from statusguard.guard._guard import Committed as Committed
from statusguard.guard._guard import Guard as Guard
from statusguard.guard._guard import HookedGuard as HookedGuard
from statusguard.guard._hooks import Hook as Hook
from statusguard.guard._hooks import HookKind as HookKind
from statusguard.guard._hooks import after_commit as after_commit
from statusguard.guard._hooks import in_transaction as in_transaction
from statusguard.guard._memory import MemoryStore as MemoryStore
from statusguard.guard._store import Applied as Applied
from statusguard.guard._store import AuditEntry as AuditEntry
from statusguard.guard._store import Record as Record
from statusguard.guard._store import Rejected as Rejected
from statusguard.guard._store import Store as Store
from statusguard.guard._store import SwapStore as SwapStore

__all__ = [
    "Applied",
    "AsyncGuard",
    "AsyncMemoryStore",
    "AsyncStore",
    "AuditEntry",
    "Committed",
    "Guard",
    "Hook",
    "HookKind",
    "HookedGuard",
    "MemoryStore",
    "Record",
    "Rejected",
    "Store",
    "SwapStore",
    "after_commit",
    "in_transaction",
]

_publish(__name__, globals(), __all__)
