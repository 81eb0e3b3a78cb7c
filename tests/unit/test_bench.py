"""The benchmark's baseline behaves like the Rust reference design; the quick bench runs."""

import json

import pytest

from cortexkg.bench.baseline import ReferencePortEngine
from cortexkg.bench.runner import WORKLOADS, main
from optional_numpy import needs_numpy


def filled(column_count: int) -> ReferencePortEngine:
    engine = ReferencePortEngine(column_count)
    for concept_id in range(1, column_count + 1):
        engine.allocate_concept(concept_id)
    return engine


def test_baseline_allocates_first_free_column_and_is_idempotent():
    engine = ReferencePortEngine(4)
    assert engine.allocate_concept(10) == 0
    assert engine.allocate_concept(20) == 1
    assert engine.allocate_concept(10) == 0
    assert engine.get_allocated_count() == 2
    assert engine.get_free_column_count() == 2
    assert engine.get_allocation_efficiency() == 0.5


def test_baseline_full_engine_raises_no_free_columns_available():
    engine = filled(2)
    with pytest.raises(RuntimeError, match="^No free columns available$"):
        engine.allocate_concept(99)
    assert engine.get_allocated_count() == 2


def test_baseline_batch_reports_each_id_and_fails_the_rest_when_full():
    engine = ReferencePortEngine(2)
    assert engine.allocate_batch([5, 6, 5, 7]) == [
        {"conceptId": 5, "columnId": 0, "success": True},
        {"conceptId": 6, "columnId": 1, "success": True},
        {"conceptId": 5, "columnId": 0, "success": True},
        {"conceptId": 7, "success": False, "error": "No free columns available"},
    ]


def test_baseline_deallocate_returns_false_when_not_allocated():
    engine = filled(3)
    assert engine.deallocate_concept(2) is True
    assert engine.deallocate_concept(2) is False
    assert engine.deallocate_concept(42) is False
    assert engine.get_allocation_info(2) is None
    assert engine.get_free_column_count() == 1


def test_baseline_reuses_lowest_freed_column():
    engine = filled(4)
    engine.deallocate_concept(3)
    engine.deallocate_concept(2)
    assert engine.allocate_concept(9) == 1
    assert [h["conceptId"] for h in engine.get_allocation_history()] == [1, 4, 9]


def test_baseline_defragment_compacts_when_the_lowest_columns_are_free():
    # Concepts 2, 4, 6 sit in columns 1, 3, 5; columns 0, 2, 4 are free.
    engine = filled(6)
    for concept_id in (1, 3, 5):
        engine.deallocate_concept(concept_id)
    assert engine.optimize_allocations() == 3
    assert [engine.get_allocation_info(c) for c in (2, 4, 6)] == [0, 1, 2]
    assert engine.get_free_column_count() == 3
    # Like the reference, the history still shows the columns from allocation time.
    assert [h["columnId"] for h in engine.get_allocation_history()] == [1, 3, 5]


def test_baseline_defragment_moves_nothing_when_column_zero_is_taken():
    # Concepts 1, 3, 5 sit in columns 0, 2, 4: the reference's target column steps past
    # each concept's own column, so the holes at 1 and 3 are never filled.
    engine = filled(6)
    for concept_id in (2, 4, 6):
        engine.deallocate_concept(concept_id)
    assert engine.optimize_allocations() == 0
    assert [engine.get_allocation_info(c) for c in (1, 3, 5)] == [0, 2, 4]


def test_baseline_average_time_is_zero_before_any_allocation():
    engine = ReferencePortEngine(3)
    assert engine.get_average_time() == 0.0
    engine.allocate_concept(1)
    assert engine.get_average_time() >= 0.0


@needs_numpy  # the bench compares the numpy backend with the others
def test_quick_bench_writes_records_for_every_workload_and_engine(tmp_path, capsys):
    path = tmp_path / "bench.json"
    assert main(["--quick", "--json", str(path)]) == 0
    document = json.loads(path.read_text())
    assert {"python", "platform", "cpu_count", "numpy"} <= document["machine"].keys()
    sizes = document["settings"]["sizes"]
    seen = {(r["workload"], r["size"], r["engine"]) for r in document["records"]}
    for workload in (*WORKLOADS, "memory"):
        for size in sizes:
            for engine in ("numpy", "reference", "baseline"):
                assert (workload, size, engine) in seen
    for r in document["records"]:
        if r["engine"] != "baseline" and r["workload"] in WORKLOADS:
            assert r["complete"] and r["seconds"] > 0
    assert "speedup" in capsys.readouterr().out
