"""The two schema validators agree: the compiled one (``jsonschema-rs``) decides validity,
the pure one (``jsonschema``) phrases the errors, so they must never disagree on a verdict.

If the compiled validator accepted a document ``jsonschema`` refuses, the document would
skip its error message and reach decoding; if it refused one ``jsonschema`` accepts, the
pure validator (the judge) still accepts it, only slower.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings

from statusguard.lifecycle._jsonio import _compiled, _validator
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
