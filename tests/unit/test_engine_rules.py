"""The engine's rules, one behaviour per test (the reference design's strings included)."""

from __future__ import annotations

import re
from array import array

import pytest

from cortexkg import AllocationEngine, AllocationError
from cortexkg import fields as fdef

from fakes import FakeHost
from optional_numpy import BACKEND_PARAMS, needs_numpy, np
from optional_wasm import WASM_BACKEND_PARAMS


def engine(n=8, host=None, **kw):
    return AllocationEngine(n, host=host or FakeHost(), **kw)


class SteppingHost(FakeHost):
    """Each clock reading moves the clock by ``step`` ms, so each allocation takes ``step``."""

    def __init__(self):
        super().__init__()
        self.step = 0.0
        object.__setattr__(self, "now_ms", self._tick)

    def _tick(self):
        self.clock += self.step
        return self.clock


def test_first_fit_takes_the_lowest_available_column_and_is_idempotent():
    e = engine(4)
    assert [e.allocate_concept(c) for c in (10, 0, 2**32 - 1)] == [0, 1, 2]
    assert e.allocate_concept(0) == 1
    assert e.deallocate_concept(10) is True
    assert e.allocate_concept(7) == 0
    assert e.get_allocation_info(7) == 0 and e.get_allocation_info(10) is None


def test_full_engine_raises_the_reference_message():
    e = engine(1)
    e.allocate_concept(1)
    with pytest.raises(AllocationError) as info:
        e.allocate_concept(2)
    assert str(info.value) == "No free columns available"
    assert e.get_allocated_count() == 1 and e.get_allocation_info(2) is None


def test_zero_columns_engine_is_always_full():
    e = engine(0)
    with pytest.raises(AllocationError, match="No free columns available"):
        e.allocate_concept(1)
    assert e.get_allocation_efficiency() == 0.0 and e.fragmentation() == 0.0


def test_deallocate_returns_false_when_not_allocated():
    e = engine()
    assert e.deallocate_concept(3) is False
    e.allocate_concept(3)
    assert e.deallocate_concept(3) is True
    assert e.deallocate_concept(3) is False


def test_batch_duplicates_share_a_column_and_the_rest_fail_once_full():
    e = engine(3)
    e.allocate_concept(50)
    assert e.allocate_batch([1, 2, 1, 3, 50, 4]) == [
        {"conceptId": 1, "columnId": 1, "success": True},
        {"conceptId": 2, "columnId": 2, "success": True},
        {"conceptId": 1, "columnId": 1, "success": True},
        {"conceptId": 3, "success": False, "error": "No free columns available"},
        {"conceptId": 50, "columnId": 0, "success": True},
        {"conceptId": 4, "success": False, "error": "No free columns available"},
    ]
    # repeats and already-allocated ids are usage hits, as one-by-one calls would be
    assert e.stats()["usage_hits"] == 2
    assert list(e.column_buffers()["usage"]) == [1, 1, 0]


def test_deallocate_batch_reports_each_item():
    e = engine()
    e.allocate_batch([1, 2])
    assert e.deallocate_batch(array("I", [2, 9, 2])) == [
        {"conceptId": 2, "success": True, "columnId": 1},
        {"conceptId": 9, "success": False, "error": "Concept 9 is not allocated"},
        {"conceptId": 2, "success": False, "error": "Concept 2 is not allocated"},
    ]


def test_batches_accept_typed_arrays():
    e = engine()
    assert [r["columnId"] for r in e.allocate_batch(array("I", [5, 6]))] == [0, 1]
    assert [r["columnId"] for r in e.allocate_batch(array("q", [7]))] == [2]


@needs_numpy
def test_batches_accept_numpy_arrays():
    e = engine()
    assert [r["columnId"] for r in e.allocate_batch(np.array([5, 6], dtype=np.uint32))] == [0, 1]


@pytest.mark.parametrize("backend", BACKEND_PARAMS + WASM_BACKEND_PARAMS)
def test_optimize_compacts_then_orders_by_usage_and_logs_the_reference_line(backend):
    host = FakeHost()
    e = engine(8, host=host, backend=backend)
    e.allocate_batch([10, 11, 12, 13, 14, 15])
    e.deallocate_batch([10, 12, 14])  # 11, 13, 15 at columns 1, 3, 5
    e.activate_concept(15)
    e.activate_concept(15)
    e.allocate_concept(13)
    e.activate_concept(15, 0.0)
    assert e.optimize_allocations() == 3
    assert {c: e.get_allocation_info(c) for c in (15, 13, 11)} == {15: 0, 13: 1, 11: 2}
    assert e.fragmentation() == 0.0
    assert re.fullmatch(r"Optimization completed in \d+\.\d\dms, 3 changes made", host.logs[-1])
    assert e.optimize_allocations() == 0
    assert host.logs[-1] == "Optimization completed in 0.00ms, 0 changes made"
    assert e.stats()["optimization_cycles"] == 2
    e.validate()


@pytest.mark.parametrize("backend", BACKEND_PARAMS + WASM_BACKEND_PARAMS)
def test_column_state_travels_with_its_concept_on_optimize(backend):
    host = FakeHost()
    e = engine(6, host=host, strategy="affinity", dim=3, backend=backend)
    e.allocate_batch([1, 2, 3])
    before = {c: e.column(e.get_allocation_info(c)) for c in (1, 2, 3)}
    e.deallocate_concept(1)
    e.activate_concept(3, 0.0)
    e.optimize_allocations()
    for cid in (2, 3):
        after = e.column(e.get_allocation_info(cid))
        for key in ("conceptId", "activation", "confidence", "field"):
            assert after[key] == before[cid][key]
    assert e.column(e.get_allocation_info(3))["usage"] == 1
    assert [h["conceptId"] for h in e.get_allocation_history()] == [2, 3]


def test_refractory_columns_are_skipped_until_their_time_passes():
    host = FakeHost()
    e = engine(2, host=host, refractory_ms=10.0)
    e.allocate_batch([1, 2])
    e.deallocate_concept(1)
    assert e.column(0)["state"] == "refractory"
    assert e.get_free_column_count() == 0
    with pytest.raises(AllocationError, match="No free columns available"):
        e.allocate_concept(3)
    host.advance(9.999)
    assert e.get_free_column_count() == 0
    host.advance(0.001)
    assert e.get_free_column_count() == 1
    assert e.allocate_concept(3) == 0


def test_refractory_columns_stay_put_during_optimize():
    host = FakeHost()
    e = engine(4, host=host, refractory_ms=5.0)
    e.allocate_batch([1, 2, 3])
    e.deallocate_concept(1)  # column 0 refractory
    e.deallocate_concept(2)  # column 1 refractory
    host.advance(1.0)
    assert e.optimize_allocations() == 0  # 3 at column 2 has no lower non-refractory column
    host.advance(5.0)
    assert e.optimize_allocations() == 1
    assert e.get_allocation_info(3) == 0


def test_average_time_is_the_mean_of_the_last_1000_allocations():
    host = SteppingHost()
    e = engine(1500, host=host)
    assert e.get_average_time() == 0.0
    host.step = 0.5  # two readings per allocation: each takes 0.5 ms
    for cid in range(1000):
        e.allocate_concept(cid)
    assert e.get_average_time() == pytest.approx(0.5)
    host.step = 1.5
    for cid in range(1000, 1500):
        e.allocate_concept(cid)
    assert e.get_average_time() == pytest.approx(1.0)
    host.step = 0.0
    e.allocate_concept(0)  # idempotent hits are not allocations
    assert e.stats()["timing_samples"] == 1000


def test_allocate_concept_at_records_from_the_callers_start_and_stores_its_wall_clock():
    host = FakeHost()
    e = engine(4, host=host)
    host.advance(7.0)  # the engine reads the end: 7 ms after the caller's start
    assert e.allocate_concept_at(5, 1000.0, 1.6e12) == 0
    assert list(e.get_allocation_times()) == [7.0]
    assert e.get_allocation_history()[0]["timestamp"] == 1.6e12
    assert e.allocate_concept_at(5, 0.0, 0.0) == 0  # a hit: no time, no new timestamp
    assert list(e.get_allocation_times()) == [7.0]
    assert e.stats()["usage_hits"] == 1


def test_efficiency_and_fragmentation():
    e = engine(10)
    e.allocate_batch(range(10))
    e.deallocate_batch([1, 2, 5, 6, 7])
    assert e.get_allocation_efficiency() == 0.5
    assert e.fragmentation() == pytest.approx(1 - 3 / 5)


def test_history_is_in_allocation_order_with_wall_clock_timestamps():
    host = FakeHost()
    e = engine(4, host=host)
    e.allocate_concept(5)
    host.advance(2.0)
    e.allocate_concept(6)
    e.deallocate_concept(5)
    e.allocate_concept(5)
    assert e.get_allocation_history() == [
        {"conceptId": 6, "columnId": 1, "timestamp": host.epoch + 1002.0, "confidence": 1.0},
        {"conceptId": 5, "columnId": 0, "timestamp": host.epoch + 1002.0, "confidence": 1.0},
    ]


def test_activation_rises_to_one_and_resets_on_release():
    e = engine()
    e.allocate_concept(1)
    assert e.column(0)["activation"] == 1.0
    e.deallocate_concept(1)
    assert e.column(0) | {"field": None} == {
        "id": 0, "conceptId": None, "activation": 0.0, "state": "available", "usage": 0,
        "confidence": None, "timestamp": None, "field": None}
    e.allocate_concept(1)
    with pytest.raises(AllocationError, match="^Concept 2 is not allocated$"):
        e.activate_concept(2)
    assert e.activate_concept(1, 0.25) == 1.0


@pytest.mark.parametrize("backend", BACKEND_PARAMS + WASM_BACKEND_PARAMS)
def test_affinity_picks_the_best_matching_column_and_learns_the_embedding(backend):
    e = engine(16, strategy="affinity", dim=5, seed=7, backend=backend)
    target = e.column(11)["field"]
    assert e.allocate_concept(99, embedding=target) == 11
    assert e.get_allocation_history()[0]["confidence"] == pytest.approx(1.0, abs=1e-6)
    e.deallocate_concept(99)
    assert e.column(11)["field"] == target  # a released column keeps what it learned
    same = [3.0 * x for x in target]
    same = np.array(same) if np is not None else array("d", same)  # a buffer, either way
    assert e.allocate_concept(5, embedding=same) == 11
    assert e.column(11)["field"] == pytest.approx(target, abs=1e-6)


def test_affinity_confidence_is_half_of_score_plus_one():
    e = engine(4, strategy="affinity", dim=2, seed=1)
    emb = [0.6, -0.8]
    col = e.allocate_concept(1, embedding=emb)
    field_before = AllocationEngine(4, strategy="affinity", dim=2, seed=1).column(col)["field"]
    query = fdef.normalize(emb, 4)
    score = fdef.dot(array("f", field_before + [0, 0]), 0, query)
    assert e.get_allocation_history()[0]["confidence"] == pytest.approx((score + 1) / 2)


def test_derived_embeddings_are_deterministic_per_seed():
    layouts = []
    for seed in (3, 3, 4):
        e = engine(64, strategy="affinity", dim=8, seed=seed)
        layouts.append([e.allocate_concept(c) for c in range(20)])
    assert layouts[0] == layouts[1]
    assert layouts[0] != layouts[2]


def test_embedding_types_are_interchangeable():
    results = set()
    embeddings = [[0.1, 0.2, 0.3], array("f", [0.1, 0.2, 0.3])]
    if np is not None:
        embeddings += [np.array([0.1, 0.2, 0.3]),
                       (np.float32(0.1), np.float32(0.2), np.float32(0.3))]
    for emb in embeddings:
        e = engine(32, strategy="affinity", dim=3)
        results.add(e.allocate_concept(1, embedding=emb))
    assert len(results) == 1


def test_columnar_batches_return_arrays_with_minus_one_for_failures():
    e = engine(2)
    out = e.allocate_batch([4, 5, 4, 6], columnar=True)
    assert (list(out["conceptIds"]), list(out["columnIds"]), out["errors"]) == (
        [4, 5, 4, 6], [0, 1, 0, -1], ["No free columns available"])
    out = e.deallocate_batch([5, 9], columnar=True)
    assert (list(out["conceptIds"]), list(out["columnIds"]), out["errors"]) == (
        [5, 9], [1, -1], ["Concept 9 is not allocated"])


def test_long_batches_report_progress_per_chunk_and_equal_one_call():
    from cortexkg.engine import BATCH_CHUNK

    total = BATCH_CHUNK * 2 + 5
    seen = []
    e = engine(total)
    results = e.allocate_batch(range(total), columnar=True, progress=lambda *p: seen.append(p))
    assert seen == [(BATCH_CHUNK, total), (2 * BATCH_CHUNK, total), (total, total)]
    assert list(results["columnIds"]) == list(range(total))
    seen.clear()
    e.deallocate_batch(range(0, total, 2), progress=lambda *p: seen.append(p))
    assert seen[-1] == (len(range(0, total, 2)),) * 2
    e.validate()


@pytest.mark.parametrize("start,stop", [(None, None), (0, 3), (2, None), (-2, None), (-4, -1),
                                        (5, 2), (1, 100), (-100, 2)])
def test_history_slices_like_a_list(start, stop):
    e = engine(10)
    e.allocate_batch([7, 3, 9, 1, 4])
    full = e.get_allocation_history()
    assert e.get_allocation_history(start, stop) == full[start:stop]


def test_allocation_times_are_the_window_oldest_first():
    host = SteppingHost()
    e = engine(1200, host=host)
    assert list(e.get_allocation_times()) == []
    for cid in range(1100):
        host.step = (cid % 7) * 0.5
        e.allocate_concept(cid)
    times = list(e.get_allocation_times())
    assert times == [(cid % 7) * 0.5 for cid in range(100, 1100)]
