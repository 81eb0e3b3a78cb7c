"""The first-fit free set: lowest available column in O(log n), no scan.

Available columns are ``heap`` (released columns, a min-heap) plus every column from
``frontier`` to the end (never used since the last rebuild). Every heap entry is below
``frontier``, so the lowest available column is the heap's top if any, else ``frontier``.
"""

from __future__ import annotations

import heapq


class FirstFitFree:
    """Available columns of a first-fit engine."""

    def __init__(self, count: int, heap: list[int] | None = None, frontier: int = 0):
        self.count = count
        self.reset(heap or [], frontier)

    def reset(self, heap: list[int], frontier: int) -> None:
        """Hold exactly ``heap`` (a min-heap) and every column from ``frontier`` on: after
        an optimize or a restore, in place, as the refractory wait shares this set."""
        self.heap = heap
        self.frontier = frontier

    def take(self) -> int:
        """Remove and return the lowest available column (caller checks availability)."""
        if self.heap:
            return heapq.heappop(self.heap)
        self.frontier += 1
        return self.frontier - 1

    def take_many(self, k: int) -> tuple[list[int], range]:
        """The ``k`` lowest available columns, as heap pops then a frontier range."""
        popped = [heapq.heappop(self.heap) for _ in range(min(k, len(self.heap)))]
        start = self.frontier
        self.frontier += k - len(popped)
        return popped, range(start, self.frontier)

    def give(self, column: int) -> None:
        """Make a released column available again."""
        heapq.heappush(self.heap, column)

    def size(self) -> int:
        """Number of available columns it holds."""
        return len(self.heap) + self.count - self.frontier
