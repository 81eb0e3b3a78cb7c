"""Errors say whose fault a failure is: the caller's (typed user errors) or cortexkg's
(InternalError, reported with its cause and traceback)."""

from __future__ import annotations

from array import array

import pytest

from cortexkg import AllocationEngine
from cortexkg.concept_index import ConceptIndex
from cortexkg.errors import (
    InternalError,
    InvalidConceptIdError,
    InvalidInputError,
    StateError,
    error_report,
    error_type,
)
from cortexkg.scans import select_scans
from fakes import FakeHost


@pytest.mark.parametrize("call", [
    lambda: AllocationEngine(-1, host=FakeHost()),
    lambda: AllocationEngine(4, strategy="best", host=FakeHost()),
    lambda: AllocationEngine(4, backend="gpu", host=FakeHost()),
    lambda: AllocationEngine(4, dim=2, host=FakeHost()).allocate_concept(1, [0.0, 0.0]),
    lambda: AllocationEngine(4, host=FakeHost()).column(9),
    lambda: AllocationEngine(4, host=FakeHost()).get_allocation_history(start="1"),
], ids=["column_count", "strategy", "backend", "embedding", "column", "history"])
def test_bad_input_is_an_invalid_input_error_named_for_the_page(call):
    with pytest.raises(InvalidInputError) as caught:
        call()
    assert error_type(caught.value) == "InvalidInputError"
    assert "traceback" not in error_report(caught.value)


def test_a_bad_concept_id_is_invalid_input_and_still_a_value_and_type_error():
    with pytest.raises(InvalidConceptIdError) as caught:
        AllocationEngine(4, host=FakeHost()).allocate_concept(-1)
    assert isinstance(caught.value, (InvalidInputError, ValueError, TypeError))
    assert error_type(caught.value) == "InvalidInputError"


def test_a_broken_internal_rule_raises_internal_error_not_an_assert():
    # add_many's caller guarantees new concepts; giving it a mapped one is a bug, and is
    # caught with or without python -O
    concept = array("I", [7, 7, 0, 0])
    index = ConceptIndex(concept, select_scans("reference"))
    index.add_many(array("I", [0]))
    with pytest.raises(InternalError, match="mapped already"):
        index.add_many(array("I", [1]))


def test_internal_error_report_carries_the_cause_and_its_traceback():
    try:
        try:
            {}["missing"]
        except KeyError as exc:
            raise InternalError("the table lost an entry") from exc
    except InternalError as error:
        report = error_report(error)
    assert report["type"] == "InternalError" and report["message"] == "the table lost an entry"
    assert "KeyError: 'missing'" in report["traceback"]
    assert "direct cause" in report["traceback"]


def test_a_user_error_report_is_type_and_message_only():
    assert error_report(StateError("Snapshot is truncated")) == {
        "type": "StateError", "message": "Snapshot is truncated"}


@pytest.mark.parametrize("error", [RuntimeError("boom"), ValueError("boom"), TypeError("boom")])
def test_an_unclassified_exception_is_internal_and_reported_with_its_traceback(error):
    report = error_report(error)
    assert report["type"] == "InternalError"
    assert f"{type(error).__name__}: boom" in report["traceback"]
