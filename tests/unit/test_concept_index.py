"""The concept index: its scans (reference, numpy, wasm) against the definition, and the
index's single operations against a dict and a list.

Every table built here is checked for the linear-probing invariant: each column sits in
its key's home slot or after it, with no free slot in between (wrapping past the end).
"""

from __future__ import annotations

from array import array

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from cortexkg.concept_index import ConceptIndex, empty_table, probes
from cortexkg.concept_index import EMPTY
from cortexkg.scans import select_scans
from cortexkg.scans.reference import ReferenceScans
from examples import examples
from optional_numpy import np
from optional_wasm import WASM_BACKENDS, wasm_scans

IMPLEMENTATIONS = [ReferenceScans()]
if np is not None:
    from cortexkg.scans.numpy_scans import NumpyScans

    IMPLEMENTATIONS.append(NumpyScans())
if wasm_scans is not None:
    IMPLEMENTATIONS.append(wasm_scans)
IDS = [scans.name for scans in IMPLEMENTATIONS]
KEYS = st.integers(0, 2**32 - 1) | st.integers(0, 40) | st.sampled_from([2**32 - 1, 2**31])


def check_table(values: array, concept: array, columns) -> None:
    """``values`` holds exactly ``columns``, each reachable from its key's home slot."""
    home, slot = probes(values, concept)
    held = [c for c in values if c != EMPTY]
    assert sorted(held) == sorted(columns)
    mask = len(values) - 1
    for s, column in enumerate(values):
        if column == EMPTY:
            continue
        walk = home(concept[column])
        while walk != s:  # no free slot between the home slot and the column's slot
            assert values[walk] != EMPTY
            walk = (walk + 1) & mask
        assert slot(concept[column]) == s


def keys_at_home(target: int, count: int, values: array) -> list[int]:
    """``count`` keys whose home slot in a table the size of ``values`` is ``target``."""
    home = probes(values, array("I"))[0]
    found, key = [], 0
    while len(found) < count:
        if home(key) == target:
            found.append(key)
        key += 1
    return found


@settings(max_examples=examples(150))
@given(keys=st.lists(KEYS, unique=True, max_size=40), split=st.integers(0, 40),
       absent=st.lists(KEYS, max_size=8))
@pytest.mark.parametrize("scans", IMPLEMENTATIONS, ids=IDS)
def test_insert_then_get_agree_with_the_definition(scans, keys, split, absent):
    n = len(keys)
    concept = array("I", keys)
    values = empty_table(n)
    first, second = array("I", range(min(split, n))), array("I", range(min(split, n), n))
    assert scans.index_insert(values, concept, first)  # into an empty table
    assert scans.index_insert(values, concept, second)  # into a partly filled one
    check_table(values, concept, range(n))
    assert list(scans.index_get(values, concept, keys)) == list(range(n))
    missing = [key for key in absent if key not in keys]
    assert list(scans.index_get(values, concept, missing)) == [EMPTY] * len(missing)


@pytest.mark.parametrize("scans", IMPLEMENTATIONS, ids=IDS)
def test_runs_wrap_past_the_last_slot(scans):
    values = empty_table(4)  # 8 slots
    keys = keys_at_home(len(values) - 1, 3, values) + keys_at_home(0, 2, values)
    concept = array("I", keys)
    assert scans.index_insert(values, concept, array("I", range(5)))
    check_table(values, concept, range(5))
    assert list(scans.index_get(values, concept, keys)) == list(range(5))
    # three keys of the last slot take it and slots 0 and 1; two of slot 0 follow
    assert [s for s, c in enumerate(values) if c != EMPTY] == [0, 1, 2, 3, 7]


@settings(max_examples=examples(60))
@given(keys=st.lists(KEYS, unique=True, min_size=1, max_size=20), data=st.data())
@pytest.mark.parametrize("scans", IMPLEMENTATIONS, ids=IDS)
def test_insert_refuses_a_key_present_or_repeated(scans, keys, data):
    n = len(keys)
    again = data.draw(st.integers(0, n - 1))
    concept = array("I", keys + [keys[again]])  # column n repeats column again's key
    values = empty_table(n + 1)
    assert not scans.index_insert(values, concept, array("I", [*range(n), n]))
    values = empty_table(n + 1)
    assert scans.index_insert(values, concept, array("I", range(n)))
    assert not scans.index_insert(values, concept, array("I", [n]))
    values = empty_table(n + 1)
    assert not scans.index_insert(values, concept, array("I", [again, again]))


@pytest.mark.parametrize("scans", IMPLEMENTATIONS, ids=IDS)
def test_insert_of_a_column_outside_raises_index_error_and_writes_nothing(scans):
    concept = array("I", [5, 6, 7])
    values = empty_table(3)
    before = values[:]
    with pytest.raises(IndexError):
        scans.index_insert(values, concept, array("I", [0, 3]))
    assert values == before


@settings(max_examples=examples(80))
@given(size=st.integers(0, 30), data=st.data())
@pytest.mark.parametrize("scans", IMPLEMENTATIONS, ids=IDS)
def test_scatter_and_without_agree_with_the_definition(scans, size, data):
    buffer = array("I", data.draw(st.lists(st.integers(0, 5), min_size=size, max_size=size)))
    indices = data.draw(st.lists(st.integers(0, max(size - 1, 0)), max_size=size)) if size else []
    values = data.draw(st.lists(st.integers(0, 2**32 - 1), min_size=len(indices),
                                max_size=len(indices)))
    expected = buffer[:]
    for i, value in zip(indices, values):
        expected[i] = value
    target = buffer[:]
    scans.scatter(target, array("I", indices), array("I", values))
    assert target == expected
    start = data.draw(st.integers(0, 2**31))
    expected = buffer[:]
    for offset, i in enumerate(indices):
        expected[i] = start + offset
    target = buffer[:]
    scans.scatter(target, array("I", indices), range(start, start + len(indices)))
    assert target == expected
    assert scans.without(buffer, 3) == array("I", [v for v in buffer if v != 3])


@pytest.mark.parametrize("scans", IMPLEMENTATIONS, ids=IDS)
def test_scatter_outside_raises_index_error_and_writes_nothing(scans):
    buffer = array("I", [1, 2, 3])
    with pytest.raises(IndexError):
        scans.scatter(buffer, array("I", [0, 3]), array("I", [9, 9]))
    assert buffer == array("I", [1, 2, 3])


class IndexMachine(RuleBasedStateMachine):
    """ConceptIndex.add / pop / get / add_many / columns against a dict and a list."""

    @initialize(backend=st.sampled_from(["reference", "numpy", *WASM_BACKENDS]),
                n=st.integers(1, 24))
    def setup(self, backend, n):
        if backend == "numpy" and np is None:
            backend = "reference"
        self.concept = array("I", [0]) * n
        self.index = ConceptIndex(self.concept, select_scans(backend))
        self.model: dict[int, int] = {}  # concept -> column, in allocation order
        self.free = list(range(n))

    @precondition(lambda self: self.free)
    @rule(key=KEYS)
    def add(self, key):
        column = self.free.pop(0)
        s = self.index.slot(key)
        if self.index.values[s] != EMPTY:
            self.free.insert(0, column)
            return
        self.concept[column] = key  # the column store's entry, written before add
        self.index.add(column, s)
        self.model[key] = column

    @precondition(lambda self: self.free)
    @rule(keys=st.lists(KEYS, unique=True, max_size=6))
    def add_many(self, keys):
        new = [k for k in keys if k not in self.model][: len(self.free)]
        columns = array("I", self.free[: len(new)])
        del self.free[: len(new)]
        for key, column in zip(new, columns):
            self.concept[column] = key
            self.model[key] = column
        self.index.add_many(columns)

    @rule(data=st.data())
    def pop(self, data):
        key = data.draw(st.sampled_from(sorted(self.model)) | KEYS) if self.model else 7
        expected = self.model.pop(key, None)
        assert self.index.pop(key) == expected
        if expected is not None:
            self.concept[expected] = 0  # cleared after pop, as release does
            self.free.append(expected)
            self.free.sort()

    @invariant()
    def agrees_with_model(self):
        index = self.index
        assert len(index) == len(self.model)
        assert list(index.columns()) == list(self.model.values())
        for key, column in self.model.items():
            assert index.get(key) == column
            assert index.position[column] == list(self.model).index(key)
        check_table(index.values, self.concept, list(self.model.values()))


TestIndexMachine = IndexMachine.TestCase
TestIndexMachine.settings = settings(max_examples=examples(60), stateful_step_count=30, deadline=None)
