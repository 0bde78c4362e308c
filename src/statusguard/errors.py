"""The statusguard error hierarchy: every error the package raises on purpose.

Every error says what happened, what was expected, and what to do about it, and
carries the parts as attributes so callers never parse messages. Four groups, each
with its own base; each error also subclasses the builtin a caller would already
catch for that kind of failure (shown in parentheses)::

    StatusGuardError
    ├── LifecycleError                     the model itself is wrong or cannot be found
    │   ├── InvalidLifecycle (ValueError)  a model or document is malformed
    │   └── LoadError (ValueError)         a model target cannot be found or read
    ├── UnknownName (LookupError)          a name the lifecycle (or statusguard) does not declare
    │   ├── UnknownProtocol                a race protocol statusguard does not model
    │   ├── UnknownScenario                a race scenario not defined for the lifecycle
    │   ├── UnknownState                   a state name the lifecycle does not declare
    │   │   └── UnknownStatus              ...found stored in a database row
    │   ├── UnknownEvent                   an event name the lifecycle does not declare
    │   ├── UnknownFlag                    a flag name the lifecycle does not declare
    │   └── UnknownColumn                  a column a store cannot write through values=
    ├── TransitionError                    a step of the lifecycle cannot be taken
    │   ├── IllegalTransition (ValueError) the event is not enabled in the current state
    │   ├── TransitionConflict (RuntimeError)  a compare-and-set lost a race: re-read, retry
    │   ├── MissingFlag (ValueError)       the answer depends on a flag that was not given
    │   ├── InvalidFlagValue (TypeError)   a flag was given something other than a bool
    │   └── HookFailed (RuntimeError)      a transition hook raised (``rolled_back`` says the rest)
    ├── InvalidArgument (TypeError)        an argument of the wrong kind (facts, config, version)
    ├── OutOfTime (TimeoutError)           a time budget (``--timeout``) ran out during a step
    └── StoreError                         a store refused, lost or cannot hold a write
        ├── UnknownKey (KeyError)          no resource with that key in the store
        ├── DuplicateKey (ValueError)      create() on a key that already exists
        ├── InvalidKey (ValueError)        a key the key column cannot hold
        ├── StoreUnavailable (ConnectionError)  unreachable, or the outcome is unknown
        ├── StoreRejected (RuntimeError)   the database refused a write (trigger or constraint)
        ├── InvalidIdentifier (ValueError) a table or column name that is not a plain identifier
        ├── InvalidSchema (ValueError)     an existing table the store cannot use as it is
        └── ReservedColumn (ValueError)    values= names a column the guard itself writes

Why these builtins: ``ValueError`` is bad input a retry cannot fix (a malformed model, a
key that does not fit, an event the state does not allow); ``LookupError`` a name that is
not declared, and ``KeyError`` a key missing from the store (a mapping's miss);
``TypeError`` a value of the wrong type; ``ConnectionError`` a store that could not be
reached (``committed`` says whether the write happened); ``RuntimeError`` a failure of
the moment, not of the input (another writer won; the database's rules disagree with
the guard's). Every error pickles with its message and attributes (errors cross
process boundaries in ``statusguard.testing.run_stress`` and in multiprocessing tests).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from statusguard._text import closest as _closest
from statusguard._text import quoted_names as _quoted_names

__all__ = [
    "DuplicateKey",
    "HookFailed",
    "IllegalTransition",
    "InvalidArgument",
    "InvalidFlagValue",
    "InvalidIdentifier",
    "InvalidKey",
    "InvalidLifecycle",
    "InvalidSchema",
    "LifecycleError",
    "LoadError",
    "Location",
    "MissingFlag",
    "Origin",
    "OutOfTime",
    "ReservedColumn",
    "StatusGuardError",
    "StoreError",
    "StoreRejected",
    "StoreUnavailable",
    "TransitionConflict",
    "TransitionError",
    "UnknownColumn",
    "UnknownEvent",
    "UnknownFlag",
    "UnknownKey",
    "UnknownName",
    "UnknownProtocol",
    "UnknownScenario",
    "UnknownState",
    "UnknownStatus",
]

Location = tuple[str | int, ...]
"""Where a part sits in a lifecycle document: ``("transitions", 3, "source", 0)``."""
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class Origin(NamedTuple):
    """Where a part of a model was written: a file and a 1-based line.

    For a Python-built lifecycle, the line that constructed the part; for a JSON
    document, the line where the element starts. ``str()`` is ``file:line`` with the
    file relative to the working directory when it lies below it. A tuple, because every
    ``Transition(...)`` records one: building it must cost next to nothing.
    """

    file: str
    line: int

    @property
    def shown_file(self) -> str:
        """The file relative to the working directory when it lies below it."""
        try:
            rel = os.path.relpath(self.file)
        except ValueError:  # another drive (Windows)
            return self.file
        return self.file if rel.startswith("..") else rel

    def __str__(self) -> str:
        return f"{self.shown_file}:{self.line}"


def _json_path(location: Location) -> str:
    """Render a location tuple as a JSON path, e.g. ``$.transitions[3].source[0]``."""
    out = "$"
    for part in location:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            out += f".{part}"
        else:  # quoted and escaped: a key may hold quotes, newlines or any character
            import json  # off the import path: only an unusual key needs it

            out += f"[{json.dumps(part)}]"
    return out


class StatusGuardError(Exception):
    """Base class of every error statusguard raises on purpose."""

    def __reduce__(self) -> tuple[object, ...]:
        # BaseException's default pickling calls ``cls(*self.args)``, which re-formats the
        # message (or fails) for constructors that take the parts, not the message.
        return (_restore, (type(self), self.args), self.__dict__ or None)


def _restore(cls: type[StatusGuardError], args: tuple[object, ...]) -> StatusGuardError:
    """Rebuild a pickled error as it was: the same message, without running ``__init__``."""
    exc = cls.__new__(cls)
    exc.args = args
    return exc


# -- lifecycle errors: the model itself is wrong or cannot be found --------------------------


class LifecycleError(StatusGuardError):
    """A lifecycle definition, document or model target is wrong or cannot be read."""


class InvalidLifecycle(LifecycleError, ValueError):
    """A lifecycle definition or JSON document is malformed.

    ``location`` points at the offending part in the shape of the JSON document
    (``("transitions", 3, "source", 0)``); ``path`` renders it (``$.transitions[3].source[0]``).
    ``obligation`` names the proof obligation the defect violates (``deterministic``,
    ``terminal_final``) when the constructor caught one early. ``origin`` is where the
    offending part was written (:class:`Origin`: the file and line of a Python model's
    ``Transition(...)`` or invariant, or the line of a JSON document's element), when known.
    """

    def __init__(
        self,
        problem: str,
        location: Location = (),
        *,
        lifecycle: str | None = None,
        obligation: str | None = None,
        origin: Origin | None = None,
    ):
        self.problem = problem
        self.location = location
        self.lifecycle = lifecycle
        self.obligation = obligation
        self.origin = origin
        where = f" at {_json_path(location)}" if location else ""
        if origin is not None:
            where += f" ({origin})" if where else f" at {origin}"
        owner = f"lifecycle {lifecycle!r}" if lifecycle else "lifecycle"
        names = f" (obligation {obligation!r})" if obligation else ""
        super().__init__(f"invalid {owner}{where}: {problem}{names}")

    def located(self, origin: Origin | None, *, replace: bool = False) -> InvalidLifecycle:
        """This error with ``origin``; unchanged when ``origin`` is ``None`` or this error
        has one already (unless ``replace``: a more precise one replaces it)."""
        if origin is None or origin == self.origin or (self.origin is not None and not replace):
            return self
        return InvalidLifecycle(
            self.problem,
            self.location,
            lifecycle=self.lifecycle,
            obligation=self.obligation,
            origin=origin,
        )

    @property
    def path(self) -> str:
        return _json_path(self.location)


class LoadError(LifecycleError, ValueError):
    """A model target (file, module, ``file.py:NAME``, JSON document) cannot be loaded."""

    def __init__(self, target: str, problem: str):
        self.target = target
        self.problem = problem
        super().__init__(f"cannot load {target!r}: {problem}")


# -- unknown names --------------------------------------------------------------------------


class UnknownName(StatusGuardError, LookupError):
    """A name the lifecycle (or, for protocols, statusguard) does not declare.

    ``name`` is what was asked for, ``allowed`` the names that exist, ``suggestion`` the
    allowed name closest to it (``None`` when none is close): the message ends with
    ``did you mean ...?``.
    """

    kind = "name"

    def __init__(self, name: object, allowed: Iterable[str], *, lifecycle: str | None = None):
        self.name = name
        self.allowed = tuple(str(a) for a in allowed)
        self.lifecycle = lifecycle
        self.suggestion = _closest(name, self.allowed)
        owner = f" in lifecycle {lifecycle!r}" if lifecycle else ""
        allowed_names = _quoted_names(self.allowed)
        hint = f"; did you mean {self.suggestion!r}?" if self.suggestion is not None else ""
        if not isinstance(name, str):  # e.g. a plain Enum whose str() is a valid name
            kind_of = type(name).__name__
            super().__init__(
                f"unknown {self.kind} {name!r}{owner}: it is a {kind_of}, not a str, and names "
                f"are str (pass {str(name)!r}, or make {kind_of} a StrEnum); expected one of: "
                f"{allowed_names}"
            )
            return
        super().__init__(
            f"unknown {self.kind} {str(name)!r}{owner}; expected one of: {allowed_names}{hint}"
        )


class UnknownProtocol(UnknownName):
    """A write protocol name the race checker does not model."""

    kind = "protocol"


class UnknownScenario(UnknownName):
    """A race scenario name not defined for the lifecycle."""

    kind = "race scenario"


class UnknownState(UnknownName):
    """A state name the lifecycle does not declare."""

    kind = "state"


class UnknownStatus(UnknownState):
    """A store holds a status the lifecycle does not know. Never silently accepted."""

    kind = "stored status"

    def __init__(
        self,
        name: object,
        allowed: Iterable[str],
        *,
        key: object = None,
        lifecycle: str | None = None,
    ):
        self.key = key
        super().__init__(name, allowed, lifecycle=lifecycle)
        if key is not None:
            self.args = (
                f"{self.args[0]} (stored for key {key!r}; it was written behind the guard's "
                "back: repair the row or add the state to the lifecycle; nothing was changed)",
            )


class UnknownEvent(UnknownName):
    """An event name the lifecycle does not declare."""

    kind = "event"


class UnknownFlag(UnknownName):
    """A flag name the lifecycle does not declare, or not of the kind asked for.

    ``declared_as`` is the kind the lifecycle does declare it as (``"config"`` for a
    config flag passed as a fact) and ``None`` when it declares no such flag.
    """

    kind = "flag"

    def __init__(
        self,
        name: object,
        allowed: Iterable[str],
        *,
        lifecycle: str | None = None,
        declared_as: str | None = None,
        wanted: str | None = None,
    ):
        super().__init__(name, allowed, lifecycle=lifecycle)
        self.declared_as = declared_as
        if declared_as is not None and wanted is not None:
            owner = f" of lifecycle {lifecycle!r}" if lifecycle else ""
            fixed = {
                "config": "it is fixed when the Guard is built (Guard(..., config={...}))",
                "fact": "it describes the resource at each event (fire(..., facts={...}))",
            }.get(declared_as, "")
            self.args = (
                f"flag {str(name)!r} is a {declared_as} flag{owner}, not a {wanted} flag"
                + (f": {fixed}" if fixed else "")
                + f"; {wanted} flags: {_quoted_names(self.allowed)}",
            )


class UnknownColumn(UnknownName):
    """A column a store does not have: named in ``values=``, or mapped onto a table.

    ``allowed`` are the columns it could be (for ``values=``: the table's columns other
    than the key, status, version and token columns); ``table`` names the store's
    table, if any; ``role`` the part a mapped column was to play (``"key"`` ...), or
    ``None`` for a name in ``values=``.
    """

    kind = "column"

    def __init__(
        self,
        name: object,
        allowed: Iterable[str],
        *,
        table: str | None = None,
        role: str | None = None,
    ):
        super().__init__(name, allowed)
        self.table = table
        self.role = role
        hint = f"; did you mean {self.suggestion!r}?" if self.suggestion is not None else ""
        names = _quoted_names(self.allowed)
        if role is not None:
            message = (
                f"table {table!r} has no column {str(name)!r} to use as the {role} column; "
                f"its columns: {names}; pass {role}='<one of them>'"
            )
        else:
            where = f" of table {table!r}" if table else ""
            message = (
                f"unknown column {str(name)!r}{where}; the columns values= can write: "
                f"{names}; nothing was written"
            )
        self.args = (message + hint,)


# -- transition errors: a step of the lifecycle cannot be taken ---------------------------------


class TransitionError(StatusGuardError):
    """A step of the lifecycle cannot be taken: not allowed, lost a race, or underspecified."""


class InvalidFlagValue(TransitionError, TypeError):
    """A flag was given a value that is not ``True`` or ``False``."""

    def __init__(self, name: str, value: object):
        self.name = name
        self.value = value
        super().__init__(
            f"flag {name!r} must be True or False, got {value!r}; pass a bool "
            "(convert 0/1 or 'true'/'false' first)"
        )


class MissingFlag(TransitionError, ValueError):
    """An answer depends on flags the caller did not give (or a config flag was left unset)."""

    def __init__(
        self,
        missing: Iterable[str],
        *,
        state: str | None = None,
        event: str | None = None,
        parameter: str = "facts",
    ):
        self.state = state
        self.event = event
        self.missing = tuple(sorted(missing))
        if event is not None:
            msg = (
                f"event {event!r} in state {state!r} depends on flag(s) "
                f"{_quoted_names(self.missing)}, "
                f"which were not given; pass them in {parameter}={{...}}"
            )
        else:
            msg = (
                f"config flag(s) {_quoted_names(self.missing)} not set; every config flag must be "
                "given a value, e.g. config={...: False}"
            )
        super().__init__(msg)


class IllegalTransition(TransitionError, ValueError):
    """The event is not enabled in the state, or the edge is not in the lifecycle.

    Carries ``state``, ``event`` (``None`` for a target-based move), ``target``
    (for moves) and ``allowed`` (the events, or targets, that are allowed instead), and
    ``key`` and ``lifecycle`` when known; ``args`` holds them in that order.
    """

    # The fields are ``args`` (read by the properties below): the hot paths build this
    # error with one call of BaseException's ``__new__``, which stores them there, with
    # no Python frame and no attribute writes (``_illegal_event``).
    __slots__ = ()
    args: tuple[str, str | None, tuple[str, ...], str | None, object, str | None]

    def __init__(
        self,
        state: str,
        event: str | None,
        allowed: Sequence[str],
        *,
        target: str | None = None,
        key: object = None,
        lifecycle: str | None = None,
    ):
        # The message is formatted on demand: the guard raises this on its hot path.
        self.args = (
            str(state),
            None if event is None else str(event),
            tuple(map(str, allowed)),
            None if target is None else str(target),
            key,
            lifecycle,
        )

    @property
    def state(self) -> str:
        """The stored (or given) state the step was refused in."""
        return self.args[0]

    @property
    def event(self) -> str | None:
        """The refused event (``None`` for a target-based move)."""
        return self.args[1]

    @property
    def allowed(self) -> tuple[str, ...]:
        """The events (or, for a move, the targets) allowed in :attr:`state` instead."""
        return self.args[2]

    @property
    def target(self) -> str | None:
        """The refused target of a move (``None`` for an event)."""
        return self.args[3]

    @property
    def key(self) -> object:
        """The key whose record refused the step, when a guard refused it."""
        return self.args[4]

    @property
    def lifecycle(self) -> str | None:
        """The name of the lifecycle that refused the step, when known."""
        return self.args[5]

    @property
    def message(self) -> str:
        """The human-readable message (what happened, what is allowed)."""
        if self.event is not None:
            of_key = f" (key {self.key!r})" if self.key is not None else ""
            return (
                f"event {self.event!r} is not allowed in state {self.state!r}{of_key}; "
                f"allowed events: {_quoted_names(self.allowed)}"
            )
        return (
            f"transition {self.state!r} -> {self.target!r} is not allowed"
            f"{' for key ' + repr(self.key) if self.key is not None else ''}; "
            f"allowed targets: {_quoted_names(self.allowed)}"
        )

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"IllegalTransition({self.message!r})"


_new_illegal = IllegalTransition.__new__


#: ``_illegal_event(state, event, allowed, None, key, lifecycle)``: the hot paths' refusal
#: (``Lifecycle.next``, ``Guard.fire``), the same error as the constructor builds, from
#: parts already checked and tabled, in one C call (no Python frame)
_illegal_event = functools.partial(_new_illegal, IllegalTransition)


class TransitionConflict(TransitionError, RuntimeError):
    """A compare-and-set lost a race: the stored status changed after it was read.

    ``expected`` is what the caller decided from, ``actual`` what the store holds
    now (``None`` if unknown). Re-read the status, decide again, and retry or give up.
    """

    def __init__(
        self,
        key: object,
        expected: str,
        actual: str | None,
        *,
        detail: str = "",
        expected_version: int | None = None,
        actual_version: int | None = None,
    ):
        self.key = key
        self.expected = expected
        self.actual = actual
        self.expected_version = expected_version
        self.actual_version = actual_version
        found = "an unknown status" if actual is None else repr(actual)
        if expected_version is not None:
            msg = (
                f"key {key!r}: expected status {expected!r} at version {expected_version}, "
                f"found {found} at version {actual_version}"
            )
        else:
            msg = f"key {key!r}: expected status {expected!r}, found {found}"
        if detail:
            msg += f" ({detail})"
        super().__init__(
            msg + "; another writer changed it first: re-read the status and decide again"
        )


class HookFailed(TransitionError, RuntimeError):
    """A transition hook raised: ``errors`` holds what each failing hook raised, in order.

    ``committed`` is the transition the hooks were run for. ``rolled_back`` is ``False``
    for an after-commit hook: the transition IS committed (every matching hook still ran;
    this error is raised after the last one) and must not be retried. It is ``True`` for
    an in-transaction hook: its exception rolled the transition back with the hook's own
    writes, so nothing was committed and the whole step can be retried.
    """

    def __init__(self, committed: object, errors: Sequence[BaseException], *, rolled_back: bool):
        self.committed = committed
        self.errors = tuple(errors)
        self.rolled_back = rolled_back
        shown = "; ".join(f"{type(e).__name__}: {e}" for e in self.errors)
        if rolled_back:
            msg = (
                f"an in-transaction hook raised ({shown}), so the transition {committed!r} "
                "was rolled back with the hook's writes; fix the hook, then retry"
            )
        else:
            msg = (
                f"{len(self.errors)} after-commit hook(s) raised ({shown}); the transition "
                f"{committed!r} stays committed (do not retry it): handle or re-run the "
                "failed side effects from this error's committed and errors"
            )
        super().__init__(msg)


# -- bad arguments ---------------------------------------------------------------------------


def _shown(value: object) -> str:
    """``value``'s repr with its type, shortened for a one-line message."""
    text = repr(value)
    if len(text) > 60:
        text = text[:45] + "..." + text[-12:]
    return f"{text} (a {type(value).__name__})"


class InvalidArgument(StatusGuardError, TypeError):
    """An argument that is not of the kind the call takes: bad input, never an outage.

    ``facts`` or ``config`` that is not a mapping of flag names to bools, an
    ``expected_version`` that is not a version number, an engine ``SQLStore`` cannot use.
    ``parameter`` names the argument, ``value`` is what was given, ``expected`` what the
    call takes. Nothing was read or written.
    """

    def __init__(self, parameter: str, value: object, expected: str, *, message: str = ""):
        self.parameter = parameter
        self.value = value
        self.expected = expected
        super().__init__(
            message
            or f"{parameter}={_shown(value)} is not accepted; {parameter} must be {expected}; "
            "nothing was changed"
        )


# -- store errors: a store refused, lost or cannot hold a write ---------------------------------


class OutOfTime(StatusGuardError, TimeoutError):
    """A time budget (:func:`statusguard.lifecycle._deadline.budget`, the CLI's
    ``--timeout``) ran out while ``doing`` ran (loading a model: parsing, validating,
    building its tables, its fingerprint). The CLI reports it as ``unknown`` (exit 1)."""

    def __init__(self, doing: str):
        self.doing = doing
        super().__init__(
            f"out of time: {doing} did not finish within the --timeout budget; raise --timeout"
        )


class StoreError(StatusGuardError):
    """A store cannot hold, find or write what was asked, or could not be reached."""


class UnknownKey(StoreError, KeyError):
    """No resource with that key exists in the store."""

    def __init__(self, key: object):
        self.key = key
        super().__init__(f"no resource with key {key!r}; create() it first")

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0])


class DuplicateKey(StoreError, ValueError):
    """``create`` was called for a key that already exists."""

    def __init__(self, key: object, status: str | None = None):
        self.key = key
        self.status = status
        now = f" (its status is {status!r})" if status is not None else ""
        super().__init__(f"key {key!r} already exists{now}; use status() or fire() instead")


class StoreUnavailable(StoreError, ConnectionError):
    """The store could not be reached, or the outcome of a write could not be established.

    ``committed`` is ``True``/``False`` when the outcome is known despite the
    failure and ``None`` when it is not.
    """

    def __init__(self, problem: str, *, committed: bool | None = None):
        self.problem = problem
        self.committed = committed
        outcome = {
            True: "the transition WAS committed",
            False: "nothing was committed",
            None: "whether anything was committed is unknown; re-read before retrying",
        }[committed]
        super().__init__(f"store unavailable: {problem}; {outcome}")


class StoreRejected(StoreError, RuntimeError):
    """The database refused a write the guard allowed: a trigger or a constraint disagrees.

    ``cause`` is ``"trigger"`` when statusguard's trigger refused the status change: the
    database-side rules (``statusguard sql trigger``) were generated from a different
    lifecycle or config than the guard's. It is ``"constraint"`` when a constraint of the
    table refused the row (a NOT NULL column without a default, a CHECK, a foreign key, a
    unique index on another column, a value too long): a retry cannot help. Nothing was
    committed.
    """

    def __init__(self, problem: str, *, cause: str = "trigger"):
        self.problem = problem
        self.cause = cause
        if cause == "trigger":
            advice = (
                "The database's trigger was generated from a different lifecycle or config "
                "than this guard: regenerate it with 'statusguard sql trigger'"
            )
        else:
            advice = (
                "A constraint of the table refused the row (a NOT NULL column without a "
                "default, a CHECK, a foreign key, a unique index, a column too short): a "
                "retry cannot help; give the column a default or change the constraint"
            )
        super().__init__(
            f"the database rejected the write: {problem}; nothing was committed. {advice}"
        )


class InvalidKey(StoreError, ValueError):
    """A key the store's key column cannot hold: wrong type, too long, or a refused character.

    Bad input, not an outage: retrying cannot help. ``key`` is the key, ``problem``
    what is wrong with it and ``allowed`` what the key column accepts.
    """

    def __init__(self, key: object, problem: str, allowed: str):
        self.key = key
        self.problem = problem
        self.allowed = allowed
        shown = repr(key)
        if len(shown) > 60:
            shown = shown[:45] + "..." + shown[-12:]
        super().__init__(
            f"invalid key {shown}: {problem}; the key column holds {allowed}; nothing was "
            "written: use a key that fits, or configure a wider key column (key_type=...)"
        )


class InvalidIdentifier(StoreError, ValueError):
    """A configured SQL table or column name is not a plain identifier."""

    def __init__(self, what: str, value: str, rule: str):
        self.what = what
        self.value = value
        super().__init__(f"invalid {what} {value!r}: {rule}")


class InvalidSchema(StoreError, ValueError):
    """An existing table the store cannot use as it is, e.g. a key column that does not
    compare keys exactly (a case-, accent- or pad-insensitive collation).

    ``table`` and ``column`` name the column, ``problem`` says what is wrong and ``fix``
    what to change. Nothing was written.
    """

    def __init__(self, table: str, column: str, problem: str, fix: str):
        self.table = table
        self.column = column
        self.problem = problem
        self.fix = fix
        super().__init__(
            f"column {table}.{column} cannot serve the store: {problem}; nothing was written: {fix}"
        )


class ReservedColumn(StoreError, ValueError):
    """``values=`` names the key, status, version or token column: the guard writes those.

    ``column`` is the name given and ``role`` the part it plays (``"status"`` ...).
    """

    def __init__(self, column: str, role: str):
        self.column = column
        self.role = role
        how = {
            "status": "fire an event or move() to change it",
            "key": "the key identifies the row and never changes",
            "version": "every transition bumps it by one",
            "token": "tokens=True stores a fresh one with every write",
        }.get(role, "the guard writes it")
        super().__init__(
            f"column {column!r} is the {role} column, which the guard itself writes; it "
            f"cannot be set through values= ({how}); nothing was written"
        )
