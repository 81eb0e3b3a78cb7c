"""Allocation times and their kinds: a single call's own time, or a batch item's (its
batch's mean), kept apart so that a series of both can be read."""

from __future__ import annotations

import copy
import zlib

import pytest

from cortexkg import AllocationEngine, StateError
from cortexkg.host import Host
from cortexkg.snapshot import _encoded
from cortexkg.timing import BATCH_MEAN, CALL, UNKNOWN, WINDOW, TimingWindow


class TickingHost(Host):
    """A clock that moves ``step`` ms at each reading: every timed call takes time."""

    def __init__(self, step: float = 0.5):
        self.clock, self.step = 1000.0, step
        super().__init__(now_ms=self.tick, wall_ms=lambda: 1.7e12 + self.clock, log=lambda _: None)

    def tick(self) -> float:
        self.clock += self.step
        return self.clock


def test_calls_and_batch_items_are_recorded_with_their_kind():
    window = TimingWindow()
    window.add_one(0.25)
    window.add_batch(0.01, 3)
    window.add_one(0.5)
    assert window.chronological().tolist() == [0.25, 0.01, 0.01, 0.01, 0.5]
    assert window.chronological_kinds().tolist() == [CALL, BATCH_MEAN, BATCH_MEAN, BATCH_MEAN, CALL]


def test_kinds_stay_beside_their_samples_when_the_window_wraps():
    window = TimingWindow()
    for i in range(WINDOW - 2):
        window.add_one(float(i))
    window.add_batch(7.0, 5)  # wraps: three slots past the end
    window.add_one(9.0)
    times, kinds = window.chronological().tolist(), window.chronological_kinds().tolist()
    assert len(times) == len(kinds) == WINDOW
    assert times[-6:] == [7.0] * 5 + [9.0]
    assert kinds[-6:] == [BATCH_MEAN] * 5 + [CALL]
    assert kinds[:-6] == [CALL] * (WINDOW - 6)
    assert window.mean() == pytest.approx(sum(times) / WINDOW)


def test_a_call_overwriting_a_batch_item_is_a_call_again():
    window = TimingWindow()
    window.add_batch(1.0, WINDOW)
    window.add_one(2.0)
    assert window.chronological_kinds().tolist() == [BATCH_MEAN] * (WINDOW - 1) + [CALL]


def test_the_engine_reports_a_batch_at_its_mean_and_says_so():
    engine = AllocationEngine(64, backend="reference", host=TickingHost())
    engine.allocate_concept(1)
    engine.allocate_batch(list(range(10, 20)))
    engine.allocate_concept(2)
    times, kinds = engine.get_allocation_times().tolist(), engine.get_allocation_time_kinds().tolist()
    assert kinds == [CALL] + [BATCH_MEAN] * 10 + [CALL]
    assert len(set(times[1:11])) == 1  # one mean for the batch's items
    assert times[0] > 0 and times[-1] > 0


def test_snapshots_keep_the_kinds():
    host = TickingHost()
    engine = AllocationEngine(16, backend="reference", host=host)
    engine.allocate_batch([1, 2, 3])
    engine.allocate_concept(4)
    restored = AllocationEngine.restore(engine.snapshot().to_bytes(), host=host)
    assert restored.get_allocation_time_kinds().tolist() == [BATCH_MEAN] * 3 + [CALL]
    assert restored.get_allocation_times().tolist() == engine.get_allocation_times().tolist()


def test_a_snapshot_of_an_earlier_version_without_kinds_loads_them_as_unknown():
    host = TickingHost()
    engine = AllocationEngine(16, backend="reference", host=host)
    engine.allocate_batch([1, 2, 3])
    engine.allocate_concept(4)
    snapshot = engine.snapshot()
    header = copy.deepcopy(snapshot.header)
    header["buffers"] = [b for b in header["buffers"] if b["name"] != "window_kinds"]
    old = b"".join(_encoded(header, snapshot.buffers))

    restored = AllocationEngine.restore(old, host=host)
    assert restored.get_allocation_times().tolist() == engine.get_allocation_times().tolist()
    assert restored.get_allocation_time_kinds().tolist() == [UNKNOWN] * 4
    restored.allocate_concept(5)  # new samples know their kind
    assert restored.get_allocation_time_kinds().tolist() == [UNKNOWN] * 4 + [CALL]
    restored.validate()


def test_a_snapshot_with_an_impossible_kind_is_refused_naming_it():
    engine = AllocationEngine(16, backend="reference", host=TickingHost())
    engine.allocate_concept(1)
    snapshot = engine.snapshot()
    kinds = bytearray(snapshot.buffers["window_kinds"])
    kinds[0] = 3
    buffers = {**snapshot.buffers, "window_kinds": bytes(kinds)}
    header = copy.deepcopy(snapshot.header)
    entry = next(b for b in header["buffers"] if b["name"] == "window_kinds")
    entry["crc32"] = zlib.crc32(kinds)
    with pytest.raises(StateError, match="unknown sample kind 3"):
        AllocationEngine.restore(b"".join(_encoded(header, buffers)))
