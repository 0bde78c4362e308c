"""The two schema validators agree: the compiled one (``jsonschema-rs``) decides validity,
the pure one (``jsonschema``) phrases the errors, so they must never disagree on a verdict.

If the compiled validator accepted a document ``jsonschema`` refuses, the document would
skip its error message and reach decoding; if it refused one ``jsonschema`` accepts, the
pure validator (the judge) still accepts it, only slower.
"""

from __future__ import annotations

from typing import Any

import jsonschema
import jsonschema_rs
from hypothesis import given, settings

from statusguard.lifecycle._jsonio import _compiled, _validator, lifecycle_schema
from tests.property.test_bad_input_json import REAL, documents


def _pure_valid(doc: Any) -> bool:
    return next(iter(_validator().iter_errors(doc)), None) is None


def test_the_compiled_validator_is_installed() -> None:
    assert _compiled() is not None, "jsonschema-rs is a dependency (pyproject.toml)"


def test_real_documents_are_valid_for_both() -> None:
    fast = _compiled()
    assert fast is not None
    for doc in REAL:
        assert fast(doc)
        assert _pure_valid(doc)


@settings(max_examples=300, deadline=None)
@given(doc=documents)
def test_both_validators_give_the_same_verdict(doc: Any) -> None:
    fast = _compiled()
    assert fast is not None
    try:
        compiled = fast(doc)
    except (ValueError, TypeError, OverflowError):
        return  # a value it cannot read: the loader asks jsonschema
    assert compiled == _pure_valid(doc), doc


def test_a_name_is_blank_by_the_same_rule_for_both_and_for_python() -> None:
    # "\\S" meant one thing to jsonschema (Python's re: \x1c-\x1f and \x85 are space) and
    # another to jsonschema-rs (ECMA-262's: \ufeff is), and the lifecycle's own checks
    # strip() names; hypothesis found a name of "\x1f" accepted by one and refused by the
    # other. Every whitespace character of either dialect is below U+3001 but U+FEFF.
    name = lifecycle_schema()["$defs"]["name"]
    pure = jsonschema.Draft202012Validator(name)
    fast = jsonschema_rs.validator_for(name)
    points = [*range(0xD800), *range(0xE000, 0x10000)]
    differ = [
        hex(cp)
        for cp in points
        if not fast.is_valid(chr(cp)) == pure.is_valid(chr(cp)) == bool(chr(cp).strip())
    ]
    assert differ == []
    assert [pure.is_valid(s) for s in ("", " a ")] == [False, True]
    assert [fast.is_valid(s) for s in ("", " a ")] == [False, True]
