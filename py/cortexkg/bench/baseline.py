"""A line-by-line Python port of the Rust reference design's AllocationEngine.

It exists only as the benchmark's baseline: it keeps the reference's data structures and
algorithms, defects included (a linear ``retain`` per allocation, a sort per deallocation,
``remove(0)`` on the timing window, a quadratic defragmentation that does not always
compact, a stub rebalance, history left stale by defragmentation), so the benchmark can
show what the real engine gains. Never use it for anything else.
"""

import logging
import time
from dataclasses import dataclass

_log = logging.getLogger(__name__)

NO_FREE_COLUMNS = "No free columns available"
_TIMING_WINDOW = 1000


def _now_ms() -> float:
    """Monotonic milliseconds, the port's ``performance.now()``."""
    return time.perf_counter() * 1000.0


@dataclass(slots=True)
class _AllocationRecord:
    concept_id: int
    column_id: int
    timestamp: float
    confidence: float


class ReferencePortEngine:
    """The reference design's ``AllocationEngine``, ported as is (baseline only, never use).

    Errors are raised as ``RuntimeError`` carrying the reference's message, since the Rust
    original throws a bare string.
    """

    def __init__(self, column_count: int, enable_simd: bool = True) -> None:
        self.column_count = column_count
        self.allocation_map: dict[int, int] = {}
        self.free_columns = list(range(column_count))
        self.allocation_history: list[_AllocationRecord] = []
        self.simd_enabled = enable_simd
        self.allocation_times: list[float] = []
        self.optimization_cycles = 0

    def allocate_concept(self, concept_id: int) -> int:
        """Allocate the concept to the first free column; idempotent; full raises."""
        start_time = _now_ms()
        existing_column = self.allocation_map.get(concept_id)
        if existing_column is not None:
            return existing_column
        column_id = self._find_optimal_column(concept_id)
        self.allocation_map[concept_id] = column_id
        self.free_columns = [c for c in self.free_columns if c != column_id]
        self.allocation_history.append(
            _AllocationRecord(concept_id, column_id, time.time() * 1000.0, 1.0)
        )
        self.allocation_times.append(_now_ms() - start_time)
        if len(self.allocation_times) > _TIMING_WINDOW:
            self.allocation_times.pop(0)
        return column_id

    def deallocate_concept(self, concept_id: int) -> bool:
        """Release the concept's column; ``False`` when it was not allocated."""
        column_id = self.allocation_map.pop(concept_id, None)
        if column_id is None:
            return False
        self.free_columns.append(column_id)
        self.free_columns.sort()
        self.allocation_history = [
            r for r in self.allocation_history if r.concept_id != concept_id
        ]
        return True

    def _find_optimal_column(self, concept_id: int) -> int:
        if not self.free_columns:
            raise RuntimeError(NO_FREE_COLUMNS)
        if self.simd_enabled:
            return self._find_optimal_column_simd(concept_id)
        return self.free_columns[0]

    def _find_optimal_column_simd(self, _concept_id: int) -> int:
        return self.free_columns[0]

    def allocate_batch(self, concept_ids) -> list[dict]:
        """Allocate each id in turn; one result dict per id, failures included."""
        results = []
        for concept_id in concept_ids:
            try:
                column_id = self.allocate_concept(concept_id)
            except RuntimeError as e:
                results.append({"conceptId": concept_id, "success": False, "error": str(e)})
            else:
                results.append({"conceptId": concept_id, "columnId": column_id, "success": True})
        return results

    def optimize_allocations(self) -> int:
        """Defragment, then the stub rebalance; returns and logs the number of changes."""
        start_time = _now_ms()
        optimizations = self._defragment_allocations()
        optimizations += self._rebalance_allocations()
        self.optimization_cycles += 1
        elapsed = _now_ms() - start_time
        _log.info("Optimization completed in %.2fms, %d changes made", elapsed, optimizations)
        return optimizations

    def _defragment_allocations(self) -> int:
        moves = 0
        # Rust iterates the map while inserting into it (it would not borrow-check); a
        # sorted copy is the only way this can run.
        allocations = sorted(self.allocation_map.items(), key=lambda item: item[1])
        target_column = 0
        for concept_id, current_column in allocations:
            # Taken by anyone, the concept itself included: the target can step past the
            # concept's own column, and the hole it skipped is never filled.
            while any(col == target_column for col in self.allocation_map.values()):
                target_column += 1
            if target_column < current_column:
                self.allocation_map[concept_id] = target_column
                moves += 1
            target_column += 1
        self._update_free_columns_list()
        return moves

    def _rebalance_allocations(self) -> int:
        return 0

    def _update_free_columns_list(self) -> None:
        allocated_columns = set(self.allocation_map.values())
        self.free_columns = [
            col for col in range(self.column_count) if col not in allocated_columns
        ]

    def get_allocation_info(self, concept_id: int) -> int | None:
        """The concept's column, or ``None``."""
        return self.allocation_map.get(concept_id)

    def get_free_column_count(self) -> int:
        """Number of free columns."""
        return len(self.free_columns)

    def get_allocated_count(self) -> int:
        """Number of allocated concepts."""
        return len(self.allocation_map)

    def get_average_time(self) -> float:
        """Mean of the last 1000 allocation times, in ms; 0.0 when none."""
        if not self.allocation_times:
            return 0.0
        return sum(self.allocation_times) / len(self.allocation_times)

    def get_allocation_efficiency(self) -> float:
        """Allocated concepts per column."""
        if self.column_count > 0:
            return len(self.allocation_map) / self.column_count
        return 0.0

    def get_allocation_history(self) -> list[dict]:
        """One record per live allocation, as recorded at allocation time."""
        return [
            {
                "conceptId": r.concept_id,
                "columnId": r.column_id,
                "timestamp": r.timestamp,
                "confidence": r.confidence,
            }
            for r in self.allocation_history
        ]
