"""Shared checks (cortexkg.validation): values quoted in messages stay short, and stored
JSON is parsed only within bounds, without recursing into hostile nesting."""

from __future__ import annotations

import json
from array import array

import hypothesis.strategies as st
import pytest
from hypothesis import given

from cortexkg import InvalidConceptIdError, StateError, validation
from cortexkg.validation import QUOTE_LIMIT, quoted, stored_json

from bad_ids import bad_ids, good_ids


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


class BrokenRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


@pytest.mark.parametrize(("value", "shown"), [
    ("7", "'7'"), (-1, "-1"), (1.5, "1.5"), (None, "None"), ([1, 2], "[1, 2]"),
    (float("nan"), "nan"), (b"ab", "b'ab'"),
], ids=repr)
def test_a_short_value_is_quoted_as_its_repr(value, shown):
    assert quoted(value) == shown


def test_a_long_string_is_cut_and_says_how_long_it_was():
    text = quoted("x" * 5_000_000)
    assert text == repr("x" * QUOTE_LIMIT) + "… (5000000 chars)"


def test_long_bytes_are_cut_and_say_how_many_there_were():
    assert quoted(b"\0" * 1000).endswith("… (1000 bytes)")
    assert len(quoted(b"\0" * 1000)) < 5 * QUOTE_LIMIT


@pytest.mark.parametrize("value", [
    list(range(1_000_000)), {str(i): i for i in range(10_000)}, nested(100_000),
    [["x" * 10_000] * 100] * 100, 10**100_000, -(10**5000), BrokenRepr(),
], ids=["long-list", "big-dict", "nested-100000", "big-nested", "huge-int", "huge-negative",
        "broken-repr"])
def test_any_value_is_quoted_in_a_bounded_number_of_characters(value):
    assert len(quoted(value)) <= QUOTE_LIMIT + 20


class JsValue:
    """A JavaScript value as Pyodide passes it unconverted (a JsProxy): its attributes are
    the JavaScript object's properties, its str() is String(value)."""

    js_id = 1

    def __init__(self, constructor: str, text: str, length: int | None = None):
        self.constructor = type("Constructor", (), {"name": constructor})()
        if length is not None:
            self.length = length
        self._text = text

    def __str__(self) -> str:
        return self._text


@pytest.mark.parametrize(("value", "shown"), [
    (JsValue("Array", "1", length=1), "<JavaScript Array of length 1>"),
    (JsValue("Number", "5"), "<JavaScript Number 5>"),
    (JsValue("Date", "x" * 1000), f"<JavaScript Date {'x' * QUOTE_LIMIT}… (1000 chars)>"),
], ids=["array", "number", "long-text"])
def test_a_javascript_value_is_quoted_with_its_constructor(value, shown):
    assert quoted(value) == shown


def test_a_huge_integer_is_named_by_its_size():
    assert quoted(2**1000) == "<an integer of 1001 bits>"


def test_stored_json_within_bounds_is_parsed():
    document = {"a": [1, {"b": "[[[[{{{{"}], "c": '"["', "d": "\\"}
    raw = json.dumps(document).encode()
    assert stored_json(raw, "Header", max_bytes=len(raw), max_depth=3) == document


def test_brackets_inside_strings_do_not_count_as_nesting():
    raw = json.dumps({"text": "[" * 1000 + '\\"' + "{" * 1000}).encode()
    assert stored_json(raw, "Header", max_bytes=10_000, max_depth=1)["text"].startswith("[[")


@pytest.mark.parametrize("depth", [4, 4_000, 30_000])
def test_stored_json_nested_too_deep_is_refused_before_parsing(depth):
    raw = b'{"a":' + b"[" * depth + b"]" * depth + b"}"
    with pytest.raises(StateError, match=r"^Header is nested deeper than 3 levels$"):
        stored_json(raw, "Header", max_bytes=len(raw), max_depth=3)


def test_unclosed_brackets_count_as_nesting():
    # a parser recurses into each one before it finds that nothing closes them
    with pytest.raises(StateError, match="nested deeper than 16 levels"):
        stored_json(b"[" * 100_000, "Header", max_bytes=100_000, max_depth=16)


def test_stored_json_longer_than_its_bound_is_refused_naming_both_sizes():
    raw = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(StateError, match=r"^Header is 200000 bytes long, more than 65536$"):
        stored_json(raw, "Header", max_bytes=65536, max_depth=16)


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe{}", b"", b"[1]]"],
                         ids=["not-json", "not-utf8", "empty", "extra-bracket"])
def test_malformed_stored_json_is_refused_as_malformed(raw):
    with pytest.raises(StateError, match=r"^Header is malformed: "):
        stored_json(raw, "Header", max_bytes=100, max_depth=16)


def test_a_batch_longer_than_the_largest_engine_is_refused_before_it_is_read():
    too_long = array("I", bytes(4 * (validation.MAX_BATCH_LENGTH + 1)))
    with pytest.raises(InvalidConceptIdError, match=f"of {len(too_long)} ids: expected at most"):
        validation.concept_ids(too_long)


@given(bad=bad_ids(), good=st.lists(good_ids(), max_size=4), data=st.data())
def test_a_bad_concept_id_is_refused_naming_it_alone_and_at_its_batch_index(bad, good, data):
    value, shown = bad
    with pytest.raises(InvalidConceptIdError) as caught:
        validation.concept_id(value)
    assert shown in str(caught.value)
    index = data.draw(st.integers(0, len(good)))
    batch = [*good[:index], value, *good[index:]]
    with pytest.raises(InvalidConceptIdError) as caught:
        validation.concept_ids(batch)
    assert shown in str(caught.value)
    assert str(caught.value).endswith(f"(at batch index {index})")
    assert batch[index] is value  # the caller's batch is not rewritten


@given(ids=st.lists(good_ids(), max_size=6))
def test_good_concept_ids_are_accepted_as_they_are(ids):
    assert [validation.concept_id(i) for i in ids] == ids
    assert validation.concept_ids(ids) == ids
