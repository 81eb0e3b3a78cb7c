"""An engine's reads: counts, timings, the stats, column records and bulk buffers.

:class:`EngineQueries` is a base of :class:`~cortexkg.engine.AllocationEngine`, kept apart
because answering is a separate job from allocating: nothing here changes a concept's
column. A read that depends on which columns are available first expires the refractory
columns whose wait is over (``_expire_now``), so that it describes the engine as of now.
"""

from __future__ import annotations

from array import array

from . import activation, optimize, records
from . import validation as check
from .columns import ALLOCATED


class EngineQueries:
    """The read-only half of :class:`~cortexkg.engine.AllocationEngine`'s surface; every
    attribute it reads is the engine's own (set in ``AllocationEngine._setup``)."""

    def get_allocation_info(self, concept_id: int) -> int | None:
        """The concept's column, or None when it is not allocated."""
        return self._index.get(check.concept_id(concept_id))

    def get_free_column_count(self) -> int:
        """Columns available for allocation now (refractory ones are not)."""
        self._expire_now()
        return self._available()

    def get_allocated_count(self) -> int:
        """Number of allocated concepts."""
        return len(self._index)

    def get_average_time(self) -> float:
        """Mean of the last 1000 allocation times in ms (0.0 when none)."""
        return self._times.mean()

    def get_allocation_efficiency(self) -> float:
        """Allocated / column_count (0.0 without columns)."""
        return len(self._index) / self.column_count if self.column_count else 0.0

    def get_allocation_history(self, start: int | None = None, stop: int | None = None) -> list[dict]:
        """One record per live allocation, in allocation order; ``start``/``stop`` slice
        it like a list (negative values count from the end)."""
        return records.history(self._columns, self._index, start, stop)

    def get_allocation_times(self) -> array:
        """The last (up to 1000) allocation times in ms, oldest first."""
        return self._times.chronological()

    def get_allocation_time_kinds(self) -> array:
        """The kind of each of :meth:`get_allocation_times`: 0 a single call's own time,
        1 a batch item's (its batch's mean), 2 unknown (restored from an older snapshot)."""
        return self._times.chronological_kinds()

    def fragmentation(self) -> float:
        """``1 - largest_free_run / free_count`` over available columns (0.0 when none)."""
        return optimize.fragmentation(self._columns.state, self._scans,
                                      self.get_free_column_count())

    def stats(self) -> dict:
        """Every counter in one dict (O(1))."""
        self._expire_now()
        return {
            "column_count": self.column_count,
            "allocated": len(self._index),
            "available": self._available(),
            "refractory": len(self._refractory),
            "efficiency": self.get_allocation_efficiency(),
            "average_time_ms": self._times.mean(),
            "timing_samples": self._times.count,
            **self._counters,
            "strategy": self.strategy,
            "dim": self.dim,
            "seed": self.seed,
            "refractory_ms": self.refractory_ms,
            "activation_half_life_ms": self.activation_half_life_ms,
            "enable_simd": self.enable_simd,
            "backend": self.backend_name,
        }

    def column(self, column_id: int) -> dict:
        """One column: id, concept id, activation, state, usage, confidence, timestamp
        (the last three describe its concept; None when it has none) and field."""
        col = records.column_id(column_id, self.column_count)
        self._expire_now()
        cols = self._columns
        decays = cols.state[col] == ALLOCATED and self.activation_half_life_ms
        return records.column(cols, col, self.dim,
                              activation.decayed(cols, col, self._wall(),
                                                 self.activation_half_life_ms)
                              if decays else cols.activation[col])

    def refractory_left_ms(self) -> array:
        """Per column, the ms until a refractory column becomes available (0.0 for others)."""
        self._expire_now()
        # the clock is read only when a column waits
        return self._wait.left_per_column(self._now() if self._refractory else 0.0,
                                          self.column_count)

    def column_buffers(self) -> dict:
        """Copies of the per-column buffers by name (``state`` values: 0 available,
        1 allocated, 2 refractory), for bulk views such as a dashboard grid."""
        self._expire_now()
        return {name: buffer[:] for name, buffer in self._columns.buffers().items()}
