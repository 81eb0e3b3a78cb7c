"""The engine's invariants, checked over its parts; each violation is a :class:`StateError`.

Run by :meth:`AllocationEngine.validate` on demand and by a restore on every state it
adopts (input checks of calls are :mod:`cortexkg.validation`'s). Every O(n) check is a
scan, so a check of a million columns costs milliseconds, not seconds.
"""

from __future__ import annotations

import math
import sys
from array import array

from .columns import ALLOCATED, AVAILABLE, REFRACTORY, ColumnStore
from .concept_index import EMPTY, ConceptIndex
from .errors import StateError
from .free_columns import FirstFitFree
from .timing import UNKNOWN, TimingWindow

_BELOW_0x7F = bytes(range(0x7F))


def check_store(columns: ColumnStore, column_count: int, scans, index: ConceptIndex,
                refractory, counters: dict, times: TimingWindow, *,
                check_concepts: bool = True) -> int:
    """Invariants of the stored state (buffers, counts, mapping, refractory queue,
    counters); ``check_concepts=False`` when the index was just built from the order.
    Returns the number of available columns."""
    n, mapped = column_count, index.columns()
    for name, buffer in columns.buffers().items():
        expected = n * columns.stride if name == "fields" else n
        if len(buffer) != expected:
            raise StateError(f"Buffer {name} holds {len(buffer)} items, expected {expected}")
    counts = [scans.count(columns.state, value) for value in (AVAILABLE, ALLOCATED, REFRACTORY)]
    if sum(counts) != n:
        raise StateError(f"{n - sum(counts)} columns have a state outside 0..2")
    if counts[ALLOCATED] != len(index) or len(mapped) != len(index):
        raise StateError(
            f"{counts[ALLOCATED]} columns are allocated but {len(index)} "
            f"concepts are mapped, {len(mapped)} in the allocation order"
        )
    _check_mapping(columns, n, scans, index, mapped, check_concepts)
    _check_released(columns, scans, n - counts[ALLOCATED], mapped)
    _check_refractory(columns.state, refractory, counts[REFRACTORY])
    _check_counters(counters, times, len(index))
    return counts[AVAILABLE]


def check_free(free: FirstFitFree | None, state: bytearray, scans, available: int) -> None:
    """The first-fit free set (None for another strategy) holds exactly the available columns."""
    if free is None:
        return
    if free.size() != available or len(set(free.heap)) != len(free.heap):
        raise StateError(
            f"First-fit free set holds {free.size()} columns, expected {available}"
        )
    heap = free.heap
    if heap and (max(heap) >= free.frontier
                 or scans.count_between(state, heap, AVAILABLE, AVAILABLE) != len(heap)):
        raise StateError("First-fit free set holds a column that is not available")
    if state.count(AVAILABLE, free.frontier) != len(state) - free.frontier:
        raise StateError(f"A column at or after frontier {free.frontier} is not available")


def _check_released(columns: ColumnStore, scans, released: int, mapped: array) -> None:
    """Columns without a concept are reset; fields are finite unit-range vectors."""
    for name in ("activation", "activated_ms", "usage"):
        buffer = getattr(columns, name)
        zeros = scans.count_between(buffer, None, 0, 0) - scans.count_between(
            buffer, mapped, 0, 0)
        if zeros != released:
            raise StateError(f"A column without a concept has a non-zero {name}")
    if scans.count_between(columns.fields, None, -1.0, 1.0) != len(columns.fields):
        raise StateError("A receptive field holds a value outside [-1, 1] or NaN")


def _check_counters(counters: dict, times: TimingWindow, allocated: int) -> None:
    if counters["total_allocations"] - counters["total_deallocations"] != allocated:
        raise StateError(
            f"Invariant violated: counters disagree: {counters['total_allocations']} allocations - "
            f"{counters['total_deallocations']} deallocations != {allocated} allocated"
        )
    exact = math.fsum(times.samples)  # NaN or inf when a sample is
    if (not 0 <= times.count <= len(times.samples) or not math.isfinite(exact)
            or min(times.samples) < 0 or abs(times.total - exact) > 1e-9 * max(1.0, exact)
            or max(times.kinds) > UNKNOWN):
        raise StateError(
            f"Invariant violated: the timing window is inconsistent: total {times.total} for {times.count} samples "
            f"summing to {exact}"
        )


def _check_mapping(columns: ColumnStore, column_count: int, scans, index: ConceptIndex,
                   mapped: array, check_concepts: bool) -> None:
    """The allocation order ``mapped`` lists distinct allocated columns, and the concept
    index maps exactly their concepts to them."""
    try:
        allocated = scans.count_between(columns.state, mapped, ALLOCATED, ALLOCATED)
    except IndexError:
        raise StateError("A concept maps to a column outside the engine") from None
    if allocated != len(mapped):
        raise StateError("A concept maps to a column that is not allocated")
    if check_concepts:
        entries = scans.count_between(index.values, None, 0, column_count - 1)
        free = scans.count_between(index.values, None, EMPTY, EMPTY)
        if entries != len(mapped) or entries + free != len(index.values):
            raise StateError(
                f"The concept index holds {entries} entries and {free} free slots of "
                f"{len(index.values)}, expected {len(mapped)} entries")
        if scans.gather(index.position, mapped) != list(range(len(mapped))):
            raise StateError("A column's position disagrees with the allocation order")
        if index.get_many(scans.gather(columns.concept, mapped)) != mapped:
            raise StateError("A concept maps to a column that holds another concept")
    for name in ("activation", "confidence"):
        if scans.count_between(getattr(columns, name), mapped, 0.0, 1.0) != len(mapped):
            raise StateError(f"An allocated column has a {name} outside [0, 1]")
    if scans.count_between(columns.activated_ms, mapped, 0.0, math.inf) != len(mapped):
        raise StateError("An allocated column's last activation is negative, NaN or infinite")
    if not _plausible_times(columns.allocated_at):
        raise StateError("A column's allocation timestamp is negative, NaN or infinite")


def _plausible_times(times: array) -> bool:
    """Whether every float64 of ``times`` lies in [0, 2**1009): not negative (nor -0.0),
    NaN or infinite, nor absurdly large. Read from each value's top byte (its sign and
    top exponent bits) at C speed, since the scans handle no float64 buffer."""
    top = memoryview(times).cast("B")[7 if sys.byteorder == "little" else 0 :: 8]
    return not bytes(top).translate(None, _BELOW_0x7F)


def _check_refractory(state: bytearray, queue, refractory: int) -> None:
    if refractory != len(queue):
        raise StateError(
            f"{refractory} columns are refractory but {len(queue)} are queued"
        )
    previous = float("-inf")
    for deadline, col in queue:
        if state[col] != REFRACTORY or deadline < previous:
            raise StateError(f"Refractory queue entry for column {col} is inconsistent")
        previous = deadline
