"""What a key column takes, checked before any SQL runs: one rule per column kind.

What it owns: :data:`KeyCheck` and the checks for text columns (:func:`text_keys`),
integer columns (:func:`int_keys`) and any other column (:func:`any_keys`), each raising
:class:`~statusguard.errors.InvalidKey` naming the key, what was wrong and what the column
takes. ``SQLStore`` picks one from the key column's SQLAlchemy type
(:func:`statusguard.sql._schema.key_checker`), ``DjangoStore`` from the model's primary key
field, so the same key gets the same answer from both, on every engine. Imports neither
SQLAlchemy nor Django.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from statusguard.errors import InvalidKey
from statusguard.guard._store import check_key

__all__ = ["INT_RANGES", "KeyCheck", "any_keys", "int_keys", "text_keys"]

KeyCheck = Callable[[Hashable], None]
"""Raises :class:`~statusguard.errors.InvalidKey` for a key the column cannot hold."""

INT_RANGES: dict[int, tuple[int, int]] = {
    b: (-(1 << (b - 1)), (1 << (b - 1)) - 1) for b in (16, 32, 64)
}
"""The signed range of a ``bits``-bit integer column."""


def text_keys(length: int | None, *, nul: bool) -> KeyCheck:
    """``str`` keys of at most ``length`` characters (any length: ``None``), encodable as
    UTF-8, and without NUL unless the engine's text holds it (``nul``)."""
    allowed = "text" + (f" of at most {length} characters" if length else "")
    if not nul:
        allowed += " without NUL characters"

    def check_text(key: Hashable) -> None:
        if not isinstance(key, str):
            raise InvalidKey(key, f"its type is {type(key).__name__}, not str", allowed)
        if length is not None and len(key) > length:
            raise InvalidKey(key, f"{len(key)} characters long", allowed)
        if not nul and "\x00" in key:
            raise InvalidKey(key, "it contains a NUL character", allowed)
        if not key.isascii():
            try:
                key.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidKey(key, "it is not valid Unicode text", allowed) from None

    return check_text


def int_keys(low: int, high: int) -> KeyCheck:
    """``int`` keys (not ``bool``) from ``low`` to ``high``, an integer column's range; the
    message names the bits of a signed column whose maximum is ``high`` (as every range
    here is: Django's positive fields keep the signed maximum)."""
    allowed = f"integers from {low} to {high}"
    bits = high.bit_length() + 1

    def check_int(key: Hashable) -> None:
        if not isinstance(key, int) or isinstance(key, bool):
            raise InvalidKey(key, f"its type is {type(key).__name__}, not int", allowed)
        if not low <= key <= high:
            raise InvalidKey(key, f"out of the {bits}-bit range", allowed)

    return check_int


def any_keys(allowed: str) -> KeyCheck:
    """Keys left to the database, but for a bool or a number that is not an int
    (:func:`~statusguard.guard._store.aliased_key`); ``allowed`` says what the column takes."""

    def check_any(key: Hashable) -> None:
        check_key(key, allowed)

    return check_any
