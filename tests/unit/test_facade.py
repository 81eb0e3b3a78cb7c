"""The CortexKG facade: defaults, life cycle, the per-column view, optimize and persistence."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys

import pytest

from cortexkg import (
    AllocationEngine,
    CortexKG,
    CortexKGConfig,
    CortexKGError,
    FileStorage,
    MemoryStorage,
    NotInitializedError,
    StateError,
)
from fakes import FakeHost

STATE_NAMES = ("available", "allocated", "refractory")
OPTIMIZE_LINE = re.compile(r"Optimization completed in \d+\.\d{2}ms, (\d+) changes made")


class CountingStorage(MemoryStorage):
    """A MemoryStorage that counts saves and loads."""

    def __init__(self) -> None:
        super().__init__()
        self.saves = self.loads = 0

    async def load(self):
        self.loads += 1
        return await super().load()

    async def save(self, data: bytes) -> None:
        self.saves += 1
        await super().save(data)


def started(config=None, storage=None, host=None) -> CortexKG:
    kg = CortexKG(config if config is not None else {"column_count": 8},
                  host=host or FakeHost())
    asyncio.run(kg.initialize(storage))
    return kg


def fragmented(kg: CortexKG) -> None:
    """Concepts 0..5 in columns 0..5, then 0, 2 and 4 released: 3 concepts must move."""
    kg.allocate_batch(range(6))
    kg.deallocate_batch([0, 2, 4])


def assert_view_matches_engine(kg: CortexKG) -> None:
    engine, columns, states = kg.engine, kg.columns, kg.get_column_states()
    column_of = {r["conceptId"]: r["columnId"] for r in engine.get_allocation_history()}
    owner = {col: cid for cid, col in column_of.items()}
    assert len(columns) == engine.column_count
    for i, column in enumerate(columns):
        assert column["id"] == i
        assert column["state"] == STATE_NAMES[states["state"][i]]
        assert column["activation"] == states["activation"][i]
        assert column["usage"] == states["usage"][i]
        if i in owner:
            assert column["state"] == "allocated"
            assert column["conceptId"] == owner[i] == states["concept"][i]
            assert engine.get_allocation_info(owner[i]) == i
            assert 0.0 < column["activation"] <= 1.0
        else:
            assert column["state"] != "allocated"
            assert column["conceptId"] is None
            assert column["activation"] == 0.0
            assert column["confidence"] is None


# ------------------------------------------------------------------ life cycle


def test_default_config_is_1024_columns_simd_first_fit_dim_0_no_refractory():
    config = CortexKG().config
    assert config == CortexKGConfig()
    assert (config.column_count, config.enable_simd, config.strategy, config.dim,
            config.refractory_ms) == (1024, True, "first_fit", 0, 0)
    kg = started(config=CortexKGConfig())
    stats = kg.stats()
    assert (stats["column_count"], stats["enable_simd"], stats["strategy"], stats["dim"],
            stats["refractory_ms"]) == (1024, True, "first_fit", 0, 0.0)
    assert kg.get_free_column_count() == 1024
    assert len(kg.columns) == 1024


def test_config_may_be_a_dict_with_engine_settings():
    kg = started({"column_count": 5, "strategy": "affinity", "dim": 2, "refractory_ms": 3,
                  "seed": 9, "backend": "reference"})
    stats = kg.stats()
    assert (stats["column_count"], stats["strategy"], stats["dim"], stats["refractory_ms"],
            stats["seed"], stats["backend"]) == (5, "affinity", 2, 3.0, 9, "reference")


def test_initialize_without_storage_returns_false_and_marks_initialized():
    kg = CortexKG({"column_count": 4}, host=FakeHost())
    assert kg.initialized is False
    assert asyncio.run(kg.initialize()) is False
    assert kg.initialized is True
    assert isinstance(kg.engine, AllocationEngine)


NOT_INITIALIZED_CALLS = {
    "allocate_concept": lambda kg: kg.allocate_concept(1),
    "deallocate_concept": lambda kg: kg.deallocate_concept(1),
    "allocate_batch": lambda kg: kg.allocate_batch([1, 2]),
    "deallocate_batch": lambda kg: kg.deallocate_batch([1]),
    "activate_concept": lambda kg: kg.activate_concept(1),
    "optimize_allocations": lambda kg: asyncio.run(kg.optimize_allocations()),
    "save_state": lambda kg: asyncio.run(kg.save_state()),
    "columns": lambda kg: kg.columns,
    "get_column_states": lambda kg: kg.get_column_states(),
    "get_allocation_info": lambda kg: kg.get_allocation_info(1),
    "get_free_column_count": lambda kg: kg.get_free_column_count(),
    "get_allocated_count": lambda kg: kg.get_allocated_count(),
    "get_average_time": lambda kg: kg.get_average_time(),
    "get_allocation_efficiency": lambda kg: kg.get_allocation_efficiency(),
    "get_allocation_history": lambda kg: kg.get_allocation_history(),
    "fragmentation": lambda kg: kg.fragmentation(),
    "stats": lambda kg: kg.stats(),
    "validate": lambda kg: kg.validate(),
    "engine": lambda kg: kg.engine,
}


@pytest.mark.parametrize("method", list(NOT_INITIALIZED_CALLS))
def test_every_method_before_initialize_raises_not_initialized(method):
    kg = CortexKG(host=FakeHost())
    with pytest.raises(NotInitializedError) as caught:
        NOT_INITIALIZED_CALLS[method](kg)
    assert str(caught.value) == "CortexKG not initialized"
    assert isinstance(caught.value, CortexKGError)
    assert kg.initialized is False


def test_second_initialize_raises_already_initialized_and_keeps_the_engine(engine_state):
    kg = started()
    kg.allocate_batch([1, 2, 3])
    engine, before = kg.engine, engine_state(kg.engine)
    storage = MemoryStorage()
    storage.data = AllocationEngine(2, host=FakeHost()).snapshot().to_bytes()
    for again in (kg.initialize(), kg.initialize(storage)):
        with pytest.raises(StateError) as caught:
            asyncio.run(again)
        assert str(caught.value) == "Already initialized"
    assert kg.engine is engine
    assert engine_state(kg.engine) == before


# --------------------------------------------------------------- allocations


def test_total_allocations_counts_new_allocations_only():
    kg = started({"column_count": 3})

    def total() -> int:
        return kg.stats()["total_allocations"]

    assert total() == 0
    kg.allocate_concept(1)
    kg.allocate_concept(2)
    kg.allocate_concept(1)  # already allocated: a hit, not an allocation
    assert total() == 2
    kg.allocate_batch([3, 3, 1])
    assert total() == 3
    kg.deallocate_concept(2)
    assert total() == 3
    kg.allocate_concept(2)  # allocated again: new
    assert total() == 4
    assert kg.allocate_batch([9])[0]["success"] is False  # full
    assert total() == 4
    asyncio.run(kg.optimize_allocations())
    assert total() == 4


def test_allocation_sets_concept_activation_1_and_state_allocated():
    kg = started()
    column = kg.allocate_concept(42)
    view = kg.columns[column]
    assert (view["id"], view["conceptId"], view["activation"], view["state"]) == (
        column, 42, 1.0, "allocated")
    assert kg.columns[column + 1]["state"] == "available"
    assert_view_matches_engine(kg)


def test_deallocation_resets_the_column():
    kg = started()
    column = kg.allocate_concept(42)
    kg.activate_concept(42)
    assert kg.deallocate_concept(42) is True
    view = kg.columns[column]
    assert (view["conceptId"], view["activation"], view["state"], view["usage"]) == (
        None, 0.0, "available", 0)
    assert kg.deallocate_concept(42) is False
    assert_view_matches_engine(kg)


def test_released_column_shows_refractory_until_the_time_has_passed():
    host = FakeHost()
    kg = started({"column_count": 4, "refractory_ms": 25.0}, host=host)
    column = kg.allocate_concept(7)
    kg.deallocate_concept(7)
    assert kg.columns[column]["state"] == "refractory"
    assert kg.get_column_states()["state"][column] == 2
    assert_view_matches_engine(kg)
    host.advance(25.0)
    assert kg.columns[column]["state"] == "available"
    assert kg.get_column_states()["state"][column] == 0
    assert_view_matches_engine(kg)


def test_view_follows_batches_and_activation():
    kg = started({"column_count": 6})
    kg.allocate_batch([10, 11, 12, 10])
    kg.activate_concept(11, 0.5)
    kg.deallocate_batch([12, 99])
    assert_view_matches_engine(kg)
    states = kg.get_column_states()
    assert set(states) == {"state", "concept", "activation", "usage", "confidence",
                           "allocatedAt", "activatedMs", "refractoryLeftMs"}
    assert bytes(states["state"]) == bytes([1, 1, 0, 0, 0, 0])
    assert list(states["usage"][:2]) == [1, 1]


def test_column_states_are_copies_not_live_buffers():
    kg = started()
    states = kg.get_column_states()
    kg.allocate_concept(1)
    assert states["state"][0] == 0
    states["state"][1] = 1
    assert kg.columns[1]["state"] == "available"


def test_columns_view_is_a_sequence():
    kg = started({"column_count": 5})
    kg.allocate_batch([7, 8])
    columns = kg.columns
    assert len(columns) == 5
    assert [c["conceptId"] for c in columns] == [7, 8, None, None, None]
    assert columns[-1]["id"] == 4
    assert [c["id"] for c in columns[1:4]] == [1, 2, 3]
    assert [c["id"] for c in columns[::-2]] == [4, 2, 0]
    with pytest.raises(IndexError):
        columns[5]


# --------------------------------------------------------------- optimize


def test_view_matches_engine_after_optimize():
    kg = started()
    fragmented(kg)
    assert asyncio.run(kg.optimize_allocations()) == 3
    assert [c["conceptId"] for c in kg.columns] == [1, 3, 5, None, None, None, None, None]
    assert [kg.get_allocation_info(c) for c in (1, 3, 5)] == [0, 1, 2]
    assert [c["activation"] for c in kg.columns] == [1.0] * 3 + [0.0] * 5
    assert_view_matches_engine(kg)
    assert kg.fragmentation() == 0.0


def test_optimize_saves_only_when_something_changed():
    storage = CountingStorage()
    kg = started(storage=storage)
    kg.allocate_batch(range(4))
    assert asyncio.run(kg.optimize_allocations()) == 0
    assert storage.saves == 0 and storage.data is None
    kg.deallocate_concept(0)
    assert asyncio.run(kg.optimize_allocations()) == 3
    assert storage.saves == 1
    assert asyncio.run(kg.optimize_allocations()) == 0
    assert storage.saves == 1


def test_state_saved_by_optimize_is_the_optimized_layout():
    storage = CountingStorage()
    kg = started(storage=storage)
    fragmented(kg)
    asyncio.run(kg.optimize_allocations())
    restored = AllocationEngine.restore(storage.data, host=FakeHost())
    assert restored.get_allocation_history() == kg.get_allocation_history()
    assert [restored.get_allocation_info(c) for c in (1, 3, 5)] == [0, 1, 2]
    assert restored.stats()["optimization_cycles"] == 1


def test_optimize_without_storage_just_optimizes():
    kg = started()
    fragmented(kg)
    assert asyncio.run(kg.optimize_allocations()) == 3
    assert kg.stats()["optimization_cycles"] == 1


def test_optimize_logs_the_reference_line_through_the_host():
    host = FakeHost()
    kg = started(host=host)
    fragmented(kg)
    asyncio.run(kg.optimize_allocations())
    asyncio.run(kg.optimize_allocations())
    assert host.logs == ["Optimization completed in 0.00ms, 3 changes made",
                         "Optimization completed in 0.00ms, 0 changes made"]


@pytest.mark.skipif(sys.platform == "emscripten", reason="CPython host only")
def test_optimize_log_line_reaches_the_cortexkg_logger_under_cpython(caplog):
    caplog.set_level(logging.INFO, logger="cortexkg")
    kg = CortexKG({"column_count": 8})  # the default (CPython) host
    asyncio.run(kg.initialize())
    fragmented(kg)
    asyncio.run(kg.optimize_allocations())
    records = [r for r in caplog.records if r.name == "cortexkg"]
    assert len(records) == 1
    assert records[0].levelno == logging.INFO
    message = records[0].getMessage()
    match = OPTIMIZE_LINE.fullmatch(message)
    assert match, message
    assert match.group(1) == "3"


# -------------------------------------------------------------- persistence


def test_a_saved_state_initializes_another_facade_exactly(engine_state):
    storage = MemoryStorage()
    kg = started({"column_count": 6, "refractory_ms": 50.0}, storage=storage)
    kg.allocate_batch([1, 2, 3])
    kg.deallocate_concept(2)
    kg.activate_concept(3, 0.5)
    asyncio.run(kg.save_state())
    saved = engine_state(kg.engine)
    kg.allocate_batch([4, 5])  # after the save: not stored
    other = started({"column_count": 2}, storage=storage, host=kg.engine.host)
    assert engine_state(other.engine) == saved
    other.validate()


def test_initialize_from_a_missing_file_starts_fresh(tmp_path):
    kg = started(storage=FileStorage(tmp_path / "nothing" / "state.bin"))
    assert kg.get_allocated_count() == 0
    kg.allocate_concept(1)
    assert kg.get_allocation_info(1) == 0


def test_save_without_storage_raises_state_error():
    kg = started()
    with pytest.raises(StateError, match="No storage attached"):
        asyncio.run(kg.save_state())


def test_file_storage_round_trip_writes_the_snapshot_bytes(tmp_path, engine_state):
    path = tmp_path / "deep" / "er" / "state.cortexkg"
    storage = FileStorage(path)
    kg = started({"column_count": 6, "strategy": "affinity", "dim": 3}, storage=storage)
    kg.allocate_batch([1, 2, 3])
    asyncio.run(kg.save_state())
    assert path.read_bytes() == kg.engine.snapshot().to_bytes()
    saved = engine_state(kg.engine)
    other = started(storage=FileStorage(path), host=kg.engine.host)
    assert engine_state(other.engine) == saved
    assert sorted(os.listdir(path.parent)) == ["state.cortexkg"]  # no temporary files


def test_file_storage_replaces_the_previous_state(tmp_path):
    path = tmp_path / "state.bin"
    storage = FileStorage(path)
    asyncio.run(storage.save(b"first state, longer than the second"))
    asyncio.run(storage.save(b"second"))
    assert path.read_bytes() == b"second"
    assert asyncio.run(storage.load()) == b"second"
    assert os.listdir(tmp_path) == ["state.bin"]


def test_file_storage_failed_save_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path, monkeypatch
):
    path = tmp_path / "state.bin"
    storage = FileStorage(path)
    asyncio.run(storage.save(b"old"))

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        asyncio.run(storage.save(b"new"))
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["state.bin"]


def test_memory_storage_keeps_a_copy_of_the_bytes():
    storage = MemoryStorage()
    assert asyncio.run(storage.load()) is None
    data = bytearray(b"abc")
    asyncio.run(storage.save(data))
    data[0] = 0
    assert asyncio.run(storage.load()) == b"abc"


@pytest.mark.parametrize("kind", ["memory", "file"])
def test_initialize_with_a_stored_state_restores_it(tmp_path, kind):
    storage = MemoryStorage() if kind == "memory" else FileStorage(tmp_path / "s.bin")
    first = started({"column_count": 6, "refractory_ms": 40.0}, storage=storage)
    fragmented(first)
    first.activate_concept(5)
    asyncio.run(first.save_state())

    second = CortexKG({"column_count": 99}, host=FakeHost())  # the stored config wins
    assert asyncio.run(second.initialize(storage)) is True
    assert second.get_allocation_history() == first.get_allocation_history()
    assert second.stats() == first.stats()
    assert second.stats()["column_count"] == 6
    assert_view_matches_engine(second)
    assert asyncio.run(second.optimize_allocations()) == 3  # and it saves to that storage
    third = CortexKG(host=FakeHost())
    asyncio.run(third.initialize(storage))
    assert third.get_allocation_history() == second.get_allocation_history()


def test_initialize_with_an_empty_storage_starts_fresh_and_uses_it():
    storage = CountingStorage()
    kg = CortexKG({"column_count": 4}, host=FakeHost())
    assert asyncio.run(kg.initialize(storage)) is False
    assert storage.loads == 1
    assert kg.get_free_column_count() == 4
    asyncio.run(kg.save_state())
    assert storage.saves == 1 and storage.data is not None


def test_facade_queries_answer_what_the_calls_did():
    # known answers, not the engine's own: the facade could agree with a wrong engine
    kg = started({"column_count": 4})
    kg.allocate_batch([1, 2, 3])
    kg.deallocate_concept(2)
    assert kg.get_allocated_count() == 2
    assert kg.get_free_column_count() == 2
    assert kg.get_allocation_efficiency() == 0.5
    assert [(h["conceptId"], h["columnId"]) for h in kg.get_allocation_history()] == [
        (1, 0), (3, 2)]
    assert [kg.get_allocation_info(c) for c in (1, 2, 3)] == [0, None, 2]
    assert kg.fragmentation() == 0.5  # free: 1 and 3, not one run
    assert kg.get_average_time() == 0.0  # the fake clock never moved
    stats = kg.stats()
    assert (stats["allocated"], stats["available"], stats["total_allocations"],
            stats["total_deallocations"], stats["column_count"]) == (2, 2, 3, 1, 4)
    kg.validate()
