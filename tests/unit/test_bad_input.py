"""Bad input to every public method: a typed error naming the value, and nothing changes.

"Nothing changes" is checked with ``engine_state`` (snapshot bytes, history, stats, column
buffers) under a fake clock that does not move, so any mutation shows up as a difference.
"""

from __future__ import annotations

import asyncio

import hypothesis.strategies as st
import pytest
from hypothesis import given

from cortexkg import (
    AllocationEngine,
    AllocationError,
    CortexKG,
    CortexKGConfig,
    CortexKGError,
    InvalidConceptIdError,
    StateError,
)
from cortexkg.config import check_config
from bad_ids import bad_ids
from fakes import FakeHost
from optional_numpy import backend_marks, needs_numpy, np, numpy_param

NAN, INF = float("nan"), float("inf")

# every public method that takes concept ids, called with one id
ID_CALLS = {
    "allocate_concept": lambda target, cid: target.allocate_concept(cid),
    "deallocate_concept": lambda target, cid: target.deallocate_concept(cid),
    "activate_concept": lambda target, cid: target.activate_concept(cid),
    "get_allocation_info": lambda target, cid: target.get_allocation_info(cid),
    "allocate_batch": lambda target, cid: target.allocate_batch([cid]),
    "deallocate_batch": lambda target, cid: target.deallocate_batch([cid]),
}
BATCH_CALLS = {
    "allocate_batch": lambda target, ids: target.allocate_batch(ids),
    "deallocate_batch": lambda target, ids: target.deallocate_batch(ids),
}

ENGINE_CONFIGS = {
    "first_fit-numpy-refractory": dict(backend="numpy", refractory_ms=50.0),
    "affinity-reference-dim3": dict(strategy="affinity", dim=3, backend="reference"),
}


def populate(target) -> None:
    """Some allocations, a release (refractory when configured) and an activation."""
    target.allocate_batch([10, 11, 12, 13, 14])
    target.deallocate_concept(12)
    target.activate_concept(11, 0.25)
    target.allocate_concept(10)


@pytest.fixture(params=[pytest.param(name, id=name, marks=backend_marks(config["backend"]))
                        for name, config in ENGINE_CONFIGS.items()])
def engine(request, make_engine):
    engine = make_engine(**ENGINE_CONFIGS[request.param])
    populate(engine)
    return engine


@pytest.fixture
def facade():
    kg = CortexKG(CortexKGConfig(column_count=8, refractory_ms=50.0), host=FakeHost())
    asyncio.run(kg.initialize())
    populate(kg)
    return kg


def assert_rejected_id(call, target, state_of, value, needle):
    before = state_of()
    with pytest.raises(InvalidConceptIdError) as caught:
        call(target, value)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, TypeError)
    assert isinstance(caught.value, CortexKGError)
    assert needle in str(caught.value)
    assert state_of() == before


# ---------------------------------------------------------------- concept ids


def bad_call(draw, value):
    """A call of one public id-taking method with ``value`` where an id goes: alone, or at
    a drawn index of a batch of good ids. Returns (call, the index the message names)."""
    method = draw(st.sampled_from(sorted(ID_CALLS)))
    if method not in BATCH_CALLS:
        return (lambda target: ID_CALLS[method](target, value)), None
    ids = [15, 11, 16, 0]
    index = draw(st.integers(0, len(ids)))
    ids.insert(index, value)
    return (lambda target: BATCH_CALLS[method](target, ids)), index


def assert_call_rejected(call, target, state_of, shown, index):
    before = state_of()
    with pytest.raises(InvalidConceptIdError) as caught:
        call(target)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, TypeError)
    assert isinstance(caught.value, CortexKGError)
    assert shown in str(caught.value)
    if index is not None:
        assert str(caught.value).endswith(f"(at batch index {index})")
    assert state_of() == before


@pytest.fixture(scope="module")
def populated_engine(make_engine):
    """An engine with a refractory column, an activation and history: rejected calls do
    not change it (the tests assert so), so one serves every example."""
    engine = make_engine(refractory_ms=50.0)
    populate(engine)
    return engine


@pytest.fixture(scope="module")
def populated_facade():
    kg = CortexKG(CortexKGConfig(column_count=8, refractory_ms=50.0), host=FakeHost())
    asyncio.run(kg.initialize())
    populate(kg)
    return kg


@given(bad=bad_ids(), data=st.data())
def test_engine_rejects_bad_concept_id_naming_it_and_changes_nothing(
    populated_engine, engine_state, bad, data
):
    value, shown = bad
    call, index = bad_call(data.draw, value)
    assert_call_rejected(call, populated_engine, lambda: engine_state(populated_engine), shown,
                         index)


@given(bad=bad_ids(), data=st.data())
def test_facade_rejects_bad_concept_id_naming_it_and_changes_nothing(
    populated_facade, engine_state, bad, data
):
    value, shown = bad
    call, index = bad_call(data.draw, value)
    assert_call_rejected(call, populated_facade, lambda: engine_state(populated_facade.engine),
                         shown, index)


@pytest.mark.parametrize(
    "value",
    [numpy_param(lambda np: np.array(7.5), id="0d-float-array"),
     numpy_param(lambda np: np.array(True), id="0d-bool-array"),
     numpy_param(lambda np: np.array([7]), id="1-element-array")],
)
def test_numpy_arrays_are_not_concept_ids(make_engine, engine_state, value):
    # np.array(7.5) must not be truncated to 7, np.array(True) must not become 1, and a
    # one-element array is no more an id than [7] is; in a batch as well as alone.
    engine = make_engine()
    populate(engine)
    state_of = lambda: engine_state(engine)  # noqa: E731
    assert_rejected_id(ID_CALLS["allocate_concept"], engine, state_of, value, "array(")
    assert_rejected_id(BATCH_CALLS["allocate_batch"], engine, state_of, [1, value], "index 1")


@pytest.mark.parametrize(
    "value", [numpy_param(lambda np, t=t: getattr(np, t)(7), id=t)
              for t in ("int64", "uint32", "uint64", "int8")])
def test_numpy_integer_scalars_are_accepted_as_plain_ints(make_engine, value):
    engine = make_engine()
    column = engine.allocate_concept(value)
    assert engine.get_allocation_info(7) == column
    assert engine.get_allocation_info(value) == column
    [record] = engine.get_allocation_history()
    assert record["conceptId"] == 7 and type(record["conceptId"]) is int
    assert engine.allocate_concept(value) == column
    assert engine.activate_concept(value) == 1.0
    assert engine.deallocate_concept(value) is True
    assert engine.allocate_batch([value])[0] == {"conceptId": 7, "columnId": 0, "success": True}
    assert engine.deallocate_batch(np.array([value]))[0] == {
        "conceptId": 7, "success": True, "columnId": 0}


def test_concept_id_range_bounds_are_accepted(make_engine):
    engine = make_engine()
    assert engine.allocate_concept(0) == 0
    assert engine.allocate_concept(2**32 - 1) == 1
    assert [r["conceptId"] for r in engine.get_allocation_history()] == [0, 2**32 - 1]


# ------------------------------------------------------------------- batches


@pytest.mark.parametrize("method", list(BATCH_CALLS))
@pytest.mark.parametrize(
    ("batch", "needle"),
    [("123", "'123'"), (b"12", "b'12'"), (5, "5"), (None, "None"), ({1: 2}, "{1: 2}"),
     (1.5, "1.5")],
    ids=["str", "bytes", "int", "None", "dict", "float"],
)
def test_batch_that_is_not_a_sequence_of_ids_is_rejected(
    engine, engine_state, method, batch, needle
):
    before = engine_state(engine)
    with pytest.raises(InvalidConceptIdError) as caught:
        BATCH_CALLS[method](engine, batch)
    assert needle in str(caught.value)
    assert engine_state(engine) == before


@needs_numpy
@pytest.mark.parametrize("method", list(BATCH_CALLS))
def test_numpy_float_array_batch_is_rejected_at_its_first_element(engine, engine_state, method):
    before = engine_state(engine)
    with pytest.raises(InvalidConceptIdError, match=r"1\.0.*index 0"):
        BATCH_CALLS[method](engine, np.array([1.0, 2.0]))
    assert engine_state(engine) == before


@needs_numpy
def test_numpy_integer_array_batches_are_accepted(make_engine):
    engine = make_engine()
    results = engine.allocate_batch(np.array([5, 6, 5], dtype=np.int64))
    assert [r["columnId"] for r in results] == [0, 1, 0]
    assert [type(r["conceptId"]) for r in results] == [int, int, int]
    assert engine.deallocate_batch(np.array([6], dtype=np.uint32)) == [
        {"conceptId": 6, "success": True, "columnId": 1}]


def test_empty_batches_are_accepted_and_change_nothing(engine, engine_state):
    before = engine_state(engine)
    assert engine.allocate_batch([]) == []
    assert engine.deallocate_batch([]) == []
    assert engine_state(engine) == before


# -------------------------------------------------------------- constructor


BAD_CONFIG = [
    ("column_count", -1, "-1"),
    ("column_count", 1.5, "1.5"),
    ("column_count", "8", "'8'"),
    ("column_count", True, "True"),
    ("column_count", None, "None"),
    ("column_count", 2**40, str(2**40)),
    ("column_count", 50_000_000, "50000000: expected an integer in 0..8388608 (the most an "
                                 "engine can hold and persist in Pyodide's 32-bit memory)"),
    ("column_count", 2**28, "268435456: expected an integer in 0..8388608"),
    ("strategy", "best", "'best'"),
    ("strategy", None, "None"),
    ("dim", -1, "-1"),
    ("dim", 2.0, "2.0"),
    ("refractory_ms", NAN, "nan"),
    ("refractory_ms", -1, "-1"),
    ("refractory_ms", INF, "inf"),
    ("refractory_ms", "5", "'5'"),
    ("seed", -1, "-1"),
    ("seed", 2**64, str(2**64)),
    ("backend", "gpu", "'gpu'"),
    ("enable_simd", "yes", "'yes'"),
    ("enable_simd", 1, "1"),
]
BAD_CONFIG_PARAMS = [pytest.param(k, v, n, id=f"{k}={v!r}") for k, v, n in BAD_CONFIG]


@pytest.mark.parametrize(("name", "value", "needle"), BAD_CONFIG_PARAMS)
def test_engine_constructor_rejects_bad_argument_with_value_error_naming_it(name, value, needle):
    kw = {"column_count": 8, name: value}
    with pytest.raises(ValueError) as caught:
        AllocationEngine(**kw, host=FakeHost())
    assert needle in str(caught.value)
    assert name.split("_")[0] in str(caught.value)


@pytest.mark.parametrize(("name", "value", "needle"), BAD_CONFIG_PARAMS)
def test_facade_config_rejects_bad_argument_with_value_error_naming_it(name, value, needle):
    with pytest.raises(ValueError) as caught:
        CortexKGConfig(**{name: value})
    assert needle in str(caught.value)
    with pytest.raises(ValueError):
        CortexKG({name: value})


@pytest.mark.parametrize(("columns", "dim"), [(1_000_000, 4096), (2**23, 5), (2**20, 33)])
def test_fields_beyond_the_limit_are_refused_naming_it(columns, dim):
    expected = (f"Invalid dim {dim} for {columns} columns: columns × dim (dim rounded up to a "
                f"multiple of 4) must be at most 33554432 (the most an engine can hold and "
                f"persist in Pyodide's 32-bit memory)")
    for make in (lambda: AllocationEngine(columns, dim=dim, host=FakeHost()),
                 lambda: CortexKGConfig(column_count=columns, dim=dim)):
        with pytest.raises(ValueError) as caught:
            make()
        assert str(caught.value) == expected


@pytest.mark.parametrize(("columns", "dim"), [(2**23, 0), (2**23, 4), (2**20, 32), (8192, 4096)])
def test_the_largest_sizes_within_the_limits_are_accepted(columns, dim):
    assert check_config(columns, True, "first_fit", dim, 0.0, 0)["column_count"] == columns
    assert CortexKGConfig(column_count=columns, dim=dim).dim == dim


@pytest.mark.parametrize("config", ["x", 5, [("column_count", 8)]], ids=["str", "int", "list"])
def test_facade_rejects_a_config_that_is_not_a_config_or_dict(config):
    with pytest.raises(ValueError, match="Invalid config"):
        CortexKG(config)


# --------------------------------------------------------------- embeddings


BAD_EMBEDDINGS = [
    ([1.0, 2.0], "length 2"),
    ([1.0, 2.0, 3.0, 4.0], "length 4"),
    ([NAN, 1.0, 0.0], "nan"),
    ([1.0, INF, 0.0], "inf"),
    ([1.0, -INF, 0.0], "-inf"),
    ([0.0, 0.0, 0.0], "zeros"),
    ("abc", "'abc'"),
    (b"abc", "b'abc'"),
    (5, "5"),
    ([1.0, "x", 0.0], "'x'"),
    ([1.0, None, 0.0], "None"),
    ([1.0, [2.0], 0.0], "[2.0]"),
]
NUMPY_BAD_EMBEDDINGS = [
    (lambda np: np.array([NAN, 1.0, 1.0]), "nan"),
    (lambda np: np.zeros(3), "zeros"),
    (lambda np: np.ones(4), "length 4"),
    (lambda np: np.ones((3, 1)), "[1.0]"),
]
BAD_EMBEDDING_PARAMS = [pytest.param(e, n, id=f"{i}:{n}") for i, (e, n) in
                        enumerate(BAD_EMBEDDINGS)] + [
    numpy_param(make, n, id=f"{i}:{n}")
    for i, (make, n) in enumerate(NUMPY_BAD_EMBEDDINGS, start=len(BAD_EMBEDDINGS))]


@pytest.fixture(params=["affinity", "first_fit"])
def engine_dim3(request, make_engine):
    engine = make_engine(strategy=request.param, dim=3)
    engine.allocate_concept(1)
    engine.deallocate_concept(1)
    engine.allocate_concept(2, [0.0, 1.0, 0.0])
    return engine


@pytest.mark.parametrize(("embedding", "needle"), BAD_EMBEDDING_PARAMS)
def test_bad_embedding_is_rejected_with_value_error_and_changes_nothing(
    engine_dim3, engine_state, embedding, needle
):
    before = engine_state(engine_dim3)
    with pytest.raises(ValueError) as caught:
        engine_dim3.allocate_concept(3, embedding)
    assert needle in str(caught.value)
    assert engine_state(engine_dim3) == before


@pytest.mark.parametrize(("embedding", "needle"), BAD_EMBEDDING_PARAMS)
def test_bad_embedding_in_a_batch_rejects_the_whole_batch(
    engine_dim3, engine_state, embedding, needle
):
    before = engine_state(engine_dim3)
    with pytest.raises(ValueError) as caught:
        engine_dim3.allocate_batch([3, 4, 5], [[1.0, 0.0, 0.0], None, embedding])
    assert needle in str(caught.value)
    assert engine_state(engine_dim3) == before


@pytest.mark.parametrize(
    "embedding",
    [["1", "0", "0"], [True, False, False], [1.0, "2.5", 0.0]],
    ids=["numeric-strings", "bools", "one-numeric-string"],
)
def test_embedding_items_must_be_numbers_not_strings_or_bools(
    make_engine, engine_state, embedding
):
    engine = make_engine(strategy="affinity", dim=3)
    engine.allocate_concept(1)
    before = engine_state(engine)
    with pytest.raises(ValueError):
        engine.allocate_concept(3, embedding)
    assert engine_state(engine) == before


@pytest.mark.parametrize(
    ("embeddings", "needle"),
    [([[1.0, 0.0, 0.0]], "1 given for 3"),
     ([[1.0, 0.0, 0.0]] * 4, "4 given for 3"),
     (5, "5")],
    ids=["too-few", "too-many", "not-a-sequence"],
)
def test_batch_embeddings_must_be_one_per_id(engine_dim3, engine_state, embeddings, needle):
    before = engine_state(engine_dim3)
    with pytest.raises(ValueError) as caught:
        engine_dim3.allocate_batch([3, 4, 5], embeddings)
    assert needle in str(caught.value)
    assert engine_state(engine_dim3) == before


@pytest.mark.parametrize(("embedding", "needle"), BAD_EMBEDDING_PARAMS[:8])
def test_facade_rejects_bad_embedding_and_changes_nothing(engine_state, embedding, needle):
    kg = CortexKG({"column_count": 4, "strategy": "affinity", "dim": 3}, host=FakeHost())
    asyncio.run(kg.initialize())
    kg.allocate_concept(1)
    before = engine_state(kg.engine)
    with pytest.raises(ValueError) as caught:
        kg.allocate_concept(2, embedding)
    assert needle in str(caught.value)
    with pytest.raises(ValueError):
        kg.allocate_batch([2], [embedding])
    assert engine_state(kg.engine) == before


def test_embedding_on_a_dimensionless_engine_must_be_empty(make_engine, engine_state):
    engine = make_engine()
    engine.allocate_concept(1)
    before = engine_state(engine)
    with pytest.raises(ValueError, match="dim=0"):
        engine.allocate_concept(2, [1.0])
    assert engine_state(engine) == before
    assert engine.allocate_concept(2, []) == 1


@pytest.mark.parametrize(
    "embedding",
    [pytest.param([3.0, 4.0, 0.0], id="list"),
     numpy_param(lambda np: np.array([3.0, 4.0, 0.0], dtype=np.float32), id="float32-array"),
     pytest.param((3, 4, 0), id="int-tuple"),
     numpy_param(lambda np: [np.float64(3.0), np.int64(4), 0], id="numpy-scalars")],
)
def test_good_embeddings_of_any_numeric_sequence_are_accepted(make_engine, embedding):
    from array import array

    engine = make_engine(strategy="affinity", dim=3)
    column = engine.allocate_concept(1, embedding)
    assert engine.column(column)["field"] == pytest.approx([0.6, 0.8, 0.0])
    other = make_engine(strategy="affinity", dim=3)
    assert other.allocate_concept(1, array("f", [3.0, 4.0, 0.0])) == column


# ------------------------------------------------------------------ activation


@pytest.mark.parametrize(
    ("strength", "needle"),
    [(-1, "-1"), (NAN, "nan"), ("x", "'x'"), (True, "True"), (INF, "inf"), (None, "None"),
     (-0.5, "-0.5")],
    ids=["-1", "nan", "str", "bool", "inf", "None", "-0.5"],
)
def test_activate_rejects_bad_strength_with_value_error_and_changes_nothing(
    engine, engine_state, strength, needle
):
    before = engine_state(engine)
    with pytest.raises(ValueError) as caught:
        engine.activate_concept(11, strength)
    assert needle in str(caught.value) and "strength" in str(caught.value)
    assert engine_state(engine) == before


def test_activate_accepts_any_finite_non_negative_strength(engine):
    engine.deallocate_concept(13)
    engine.allocate_concept(13)
    quarter = np.float64(0.25) if np is not None else 0.25  # a numpy scalar, where numpy is
    for strength in (0, 0.0, quarter, 10**6):
        engine.activate_concept(13, strength)
    assert engine.column(engine.get_allocation_info(13))["activation"] == 1.0


def test_activate_a_concept_that_is_not_allocated_raises_allocation_error(engine, engine_state):
    before = engine_state(engine)
    with pytest.raises(AllocationError) as caught:
        engine.activate_concept(5)
    assert str(caught.value) == "Concept 5 is not allocated"
    with pytest.raises(AllocationError, match="^Concept 12 is not allocated$"):
        engine.activate_concept(12)  # released earlier
    assert engine_state(engine) == before


def test_facade_activate_a_concept_that_is_not_allocated_raises_allocation_error(
    facade, engine_state
):
    before = engine_state(facade.engine)
    with pytest.raises(AllocationError, match="^Concept 5 is not allocated$"):
        facade.activate_concept(5)
    assert engine_state(facade.engine) == before


# ------------------------------------------------------------------ full engine


@pytest.mark.parametrize(
    "config", [dict(), dict(strategy="affinity", dim=4), dict(backend="reference")],
    ids=["first_fit", "affinity", "first_fit-reference"],
)
def test_full_engine_raises_no_free_columns_available_and_changes_nothing(
    make_engine, engine_state, config
):
    engine = make_engine(column_count=3, **config)
    engine.allocate_batch([1, 2, 3])
    before = engine_state(engine)
    with pytest.raises(AllocationError) as caught:
        engine.allocate_concept(4)
    assert str(caught.value) == "No free columns available"
    assert engine_state(engine) == before
    assert engine.allocate_concept(2) == engine.get_allocation_info(2)  # still answers


def test_engine_whose_free_columns_are_refractory_is_full_until_they_expire(
    make_engine, engine_state
):
    engine = make_engine(column_count=2, refractory_ms=10.0)
    engine.allocate_batch([1, 2])
    engine.deallocate_concept(1)
    before = engine_state(engine)
    with pytest.raises(AllocationError, match="^No free columns available$"):
        engine.allocate_concept(3)
    assert engine_state(engine) == before
    engine.host.advance(10.0)
    assert engine.allocate_concept(3) == 0


def test_zero_column_engine_is_always_full(make_engine):
    engine = make_engine(column_count=0)
    with pytest.raises(AllocationError, match="^No free columns available$"):
        engine.allocate_concept(0)
    assert engine.allocate_batch([0]) == [
        {"conceptId": 0, "success": False, "error": "No free columns available"}]


def test_facade_full_engine_raises_no_free_columns_available(engine_state):
    kg = CortexKG({"column_count": 1}, host=FakeHost())
    asyncio.run(kg.initialize())
    kg.allocate_concept(1)
    before = engine_state(kg.engine)
    with pytest.raises(AllocationError, match="^No free columns available$"):
        kg.allocate_concept(2)
    assert engine_state(kg.engine) == before
    assert kg.stats()["total_allocations"] == 1


# ----------------------------------------------------------- column and restore


@pytest.mark.parametrize(
    "column_id",
    [pytest.param(v, id=repr(v)) for v in (-1, 8, 1.5, "0", True, None)]
    + [numpy_param(lambda np: np.float64(1.0), id="np.float64(1.0)")])
def test_column_rejects_bad_column_id_with_value_error(engine, column_id):
    with pytest.raises(ValueError) as caught:
        engine.column(column_id)
    assert repr(column_id) in str(caught.value)


@pytest.mark.parametrize("index", [8, -9, "0", 1.5, None], ids=repr)
def test_facade_columns_rejects_bad_index_with_index_error(facade, index):
    with pytest.raises(IndexError):
        facade.columns[index]


@pytest.mark.parametrize("data", [None, "CORTEXKG", 12, 3.5, [1, 2]],
                         ids=["None", "str", "int", "float", "list"])
def test_restore_rejects_what_is_neither_snapshot_nor_bytes_naming_its_type(data):
    # An int must not be taken for a byte count (bytes(12) is 12 zero bytes, and
    # bytes(2**40) would try to allocate a terabyte).
    with pytest.raises((StateError, TypeError)) as caught:
        AllocationEngine.restore(data, host=FakeHost())
    assert type(data).__name__ in str(caught.value)
    assert "truncated" not in str(caught.value)


def test_restore_rejects_an_unknown_backend_with_value_error(make_engine):
    data = make_engine().snapshot().to_bytes()
    with pytest.raises(ValueError, match="'gpu'"):
        AllocationEngine.restore(data, backend="gpu", host=FakeHost())


def test_state_fingerprint_sees_every_kind_of_change(make_engine, engine_state):
    # the oracle of "changes nothing" above must notice even the smallest mutation
    engine = make_engine(refractory_ms=5.0)
    populate(engine)
    seen = [engine_state(engine)]
    for mutate in (lambda: engine.allocate_concept(10),        # usage hit only
                   lambda: engine.activate_concept(11, 0.0),   # activation counter only
                   lambda: engine.deallocate_concept(13),      # a release
                   lambda: engine.host.advance(5.0)):          # refractory expiry
        mutate()
        seen.append(engine_state(engine))
    assert all(a != b for a, b in zip(seen, seen[1:]))
