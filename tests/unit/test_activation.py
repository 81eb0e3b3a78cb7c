"""Activation that decays: a half-life in wall-clock ms, computed lazily when read."""

from __future__ import annotations

import copy
import zlib

import pytest

from cortexkg import AllocationEngine, Snapshot, StateError
from cortexkg.facade import column_states
from cortexkg.snapshot import _encoded

from fakes import FakeHost

HALF_LIFE = 1000.0


def engine_with(half_life: float, host: FakeHost, **options) -> AllocationEngine:
    return AllocationEngine(8, activation_half_life_ms=half_life, backend="reference",
                            host=host, **options)


def test_without_a_half_life_activation_never_decays():
    host = FakeHost()
    engine = engine_with(0.0, host)
    col = engine.allocate_concept(5)
    host.advance(10 * HALF_LIFE)
    assert engine.column(col)["activation"] == 1.0
    assert engine.activate_concept(5, 0.5) == 1.0


def test_activation_halves_every_half_life_and_activation_adds_to_the_decayed_value():
    host = FakeHost()
    engine = engine_with(HALF_LIFE, host)
    col = engine.allocate_concept(5)
    assert engine.column(col)["activation"] == 1.0
    host.advance(HALF_LIFE)
    assert engine.column(col)["activation"] == pytest.approx(0.5)
    host.advance(HALF_LIFE)
    assert engine.column(col)["activation"] == pytest.approx(0.25)
    # 0.25 + 0.25, from now on decaying from 0.5
    assert engine.activate_concept(5, 0.25) == pytest.approx(0.5)
    host.advance(HALF_LIFE / 2)
    assert engine.column(col)["activation"] == pytest.approx(0.5 * 0.5 ** 0.5)
    assert engine.activate_concept(5, 5.0) == 1.0  # capped at 1
    assert engine.stats()["activation_half_life_ms"] == HALF_LIFE


def test_the_column_states_carry_what_the_decay_is_computed_from():
    host = FakeHost()
    engine = engine_with(HALF_LIFE, host, refractory_ms=300.0)
    col = engine.allocate_concept(5)
    host.advance(3 * HALF_LIFE)
    engine.activate_concept(5, 0.0)  # stores the decayed value, 1/8, at this instant
    other = engine.allocate_concept(6)
    engine.deallocate_concept(6)
    host.advance(100.0)
    states = column_states(engine)
    assert states["activation"][col] == 0.125
    assert states["activatedMs"][col] == 3 * HALF_LIFE
    assert states["allocatedAt"][col] == host.epoch + 1000.0
    now = host.epoch + host.clock
    decayed = states["activation"][col] * 0.5 ** (
        (now - states["allocatedAt"][col] - states["activatedMs"][col]) / HALF_LIFE)
    assert decayed == pytest.approx(engine.column(col)["activation"])
    assert states["refractoryLeftMs"][other] == 200.0 and states["refractoryLeftMs"][col] == 0.0


def test_a_clock_set_back_neither_grows_activation_nor_records_a_negative_instant():
    host = FakeHost()
    engine = engine_with(HALF_LIFE, host)
    col = engine.allocate_concept(5)
    host.epoch -= 5 * HALF_LIFE  # the wall clock jumps back before the allocation
    assert engine.column(col)["activation"] == 1.0
    assert engine.activate_concept(5, 0.0) == 1.0
    engine.validate()
    assert column_states(engine)["activatedMs"][col] == 0.0


def test_deallocation_clears_the_instant_and_optimize_moves_it_with_the_concept():
    host = FakeHost()
    engine = engine_with(HALF_LIFE, host)
    engine.allocate_batch([1, 2, 3])
    host.advance(HALF_LIFE)
    engine.activate_concept(3, 0.5)
    engine.deallocate_concept(1)
    assert column_states(engine)["activatedMs"][0] == 0.0
    before = engine.column(engine.get_allocation_info(3))["activation"]
    engine.optimize_allocations()
    moved = engine.get_allocation_info(3)
    assert moved == 0  # the most used concept comes first
    assert engine.column(moved)["activation"] == before
    engine.validate()


def test_snapshots_keep_the_half_life_and_the_instants():
    host = FakeHost()
    engine = engine_with(HALF_LIFE, host)
    engine.allocate_concept(5)
    host.advance(HALF_LIFE)
    engine.activate_concept(5, 0.25)
    copy = AllocationEngine.restore(engine.snapshot().to_bytes(), host=host)
    assert copy.activation_half_life_ms == HALF_LIFE
    host.advance(HALF_LIFE)
    assert copy.column(0)["activation"] == engine.column(0)["activation"] == pytest.approx(0.375)


def test_a_snapshot_of_an_earlier_version_without_the_instants_loads_undecayed():
    host = FakeHost()
    engine = engine_with(0.0, host)
    engine.allocate_batch([1, 2])
    engine.activate_concept(2, 0.5)
    snapshot = engine.snapshot()
    header = copy.deepcopy(snapshot.header)
    header["buffers"] = [b for b in header["buffers"] if b["name"] != "activated_ms"]
    del header["config"]["activation_half_life_ms"]
    old = b"".join(_encoded(header, snapshot.buffers))
    restored = AllocationEngine.restore(old, host=host)
    assert restored.activation_half_life_ms == 0.0
    assert column_states(restored)["activatedMs"].tolist() == [0.0] * 8
    assert restored.snapshot().to_bytes() == snapshot.to_bytes()


@pytest.mark.parametrize(("column", "value", "message"), [
    (0, -1.0, "last activation is negative"),
    (0, float("nan"), "last activation is negative, NaN"),
    (5, 3.0, "non-zero activated_ms"),
])
def test_a_snapshot_with_an_impossible_instant_is_refused(column, value, message):
    engine = engine_with(HALF_LIFE, FakeHost())
    engine.allocate_concept(5)
    snapshot = engine.snapshot()
    buffers = dict(snapshot.buffers)
    instants = column_states(engine)["activatedMs"]
    instants[column] = value
    buffers["activated_ms"] = bytes(instants)
    header = copy.deepcopy(snapshot.header)
    header["buffers"] = [dict(b, crc32=zlib.crc32(bytes(instants)))
                         if b["name"] == "activated_ms" else b for b in header["buffers"]]
    with pytest.raises(StateError, match=message):
        AllocationEngine.restore(Snapshot(header, buffers).to_bytes(), host=FakeHost())


@pytest.mark.parametrize("value", [-1.0, float("nan"), float("inf"), "5"])
def test_a_bad_half_life_is_refused_naming_it(value):
    with pytest.raises(ValueError, match="activation_half_life_ms"):
        AllocationEngine(4, activation_half_life_ms=value)
