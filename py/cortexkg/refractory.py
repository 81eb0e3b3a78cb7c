"""Released columns: where each goes, and when a refractory one becomes available again.

With ``refractory_ms`` 0 a released column is available at once; otherwise it waits that
long on the host clock. Every release waits the same time, so the deadlines arrive in
release order and a FIFO queue keeps them sorted without a heap.
"""

from __future__ import annotations

from array import array
from collections import deque

from .columns import AVAILABLE, REFRACTORY, ColumnStore
from .errors import StateError
from .free_columns import FirstFitFree


class RefractoryWait:
    """The refractory queue of one engine, over its columns and first-fit free set (None
    for another strategy; reset in place, never replaced, so it can be shared)."""

    def __init__(self, columns: ColumnStore, free: FirstFitFree | None, refractory_ms: float):
        self.queue: deque[tuple[float, int]] = deque()  # (deadline ms, column), FIFO
        self.refractory_ms = refractory_ms
        self._columns = columns
        self._free = free

    def release(self, col: int, now: float) -> None:
        """Reset column ``col`` (its concept already unmapped); ``now``: the host clock,
        read only when there is a wait."""
        if self.refractory_ms:
            self._columns.release(col, REFRACTORY)
            self.queue.append((now + self.refractory_ms, col))
        else:
            self._columns.release(col, AVAILABLE)
            if self._free is not None:
                self._free.give(col)

    def expire(self, now: float) -> None:
        """Columns whose refractory time has passed become available."""
        queue, state, free = self.queue, self._columns.state, self._free
        while queue and queue[0][0] <= now:
            col = queue.popleft()[1]
            state[col] = AVAILABLE
            if free is not None:
                free.give(col)

    def left_per_column(self, now: float, column_count: int) -> array:
        """Per column, the ms until it becomes available (0.0 for one not waiting)."""
        left = array("f", bytes(4 * column_count))
        for deadline, col in self.queue:
            left[col] = deadline - now
        return left

    def export(self, now: float) -> tuple[array, array]:
        """The waiting columns and each one's ms left at ``now`` (clamped to the wait, so
        a clock set back never makes a restore wait longer than a release would)."""
        limit = self.refractory_ms
        return (array("I", [col for _, col in self.queue]),
                array("d", [min(limit, max(0.0, deadline - now)) for deadline, _ in self.queue]))

    def adopt(self, columns: array, left_ms: array, column_count: int, now: float) -> None:
        """Continue a stored queue (as :meth:`export` gave it) from ``now``; raises
        :class:`StateError` naming the first inconsistency."""
        if len(columns) != len(left_ms):
            raise StateError("The refractory columns and deadlines differ in length")
        if any(not 0.0 <= ms <= self.refractory_ms for ms in left_ms):
            raise StateError("A refractory deadline (time left) is outside "
                             f"0..{self.refractory_ms} ms")
        if columns and max(columns) >= column_count:
            raise StateError("The refractory queue names a column outside the engine")
        if len(set(columns)) != len(columns):
            raise StateError("The refractory queue holds a column twice")
        self.queue.extend((now + ms, col) for ms, col in zip(left_ms, columns))
