"""The window of the last allocation times: O(1) per sample, exact mean on demand.

Each sample has a kind beside it: a single call's own time (CALL), or one item of a
batch, recorded at the batch's mean (BATCH_MEAN) since a batch's items are not timed one
by one; a series mixing the two is read apart (a batch of 1,000 items would otherwise be
1,000 identical "calls"). UNKNOWN marks samples restored from a snapshot made before
kinds were recorded.
"""

from __future__ import annotations

import math
from array import array

WINDOW = 1000

CALL, BATCH_MEAN, UNKNOWN = 0, 1, 2


class TimingWindow:
    """Ring buffer of the last ``WINDOW`` samples (ms) and their kinds, with a running total.

    The total is recomputed exactly with ``math.fsum`` each time the ring wraps, so
    floating-point drift never accumulates beyond one lap.
    """

    def __init__(self) -> None:
        self.samples = array("d", bytes(8 * WINDOW))
        self.kinds = array("B", bytes(WINDOW))
        self.position = 0
        self.count = 0
        self.total = 0.0

    def add_batch(self, mean_ms: float, items: int) -> None:
        """Record a batch's ``items`` at their mean time ``mean_ms``, each as BATCH_MEAN."""
        for _ in range(min(items, WINDOW)):
            self.add_one(mean_ms)
            self.kinds[self.position - 1] = BATCH_MEAN  # after a wrap, [-1]: the last slot

    def add_one(self, ms: float) -> None:
        """Record one call's time ``ms`` (every allocation does: no loop, no argument to check)."""
        self.kinds[self.position] = CALL
        if self.count == WINDOW:
            self.total -= self.samples[self.position]
        else:
            self.count += 1
        self.samples[self.position] = ms
        self.total += ms
        self.position += 1
        if self.position == WINDOW:
            self.position = 0
            self.total = math.fsum(self.samples)

    def chronological(self) -> array:
        """The samples in the window, oldest first."""
        if self.count < WINDOW:
            return self.samples[: self.count]
        return self.samples[self.position :] + self.samples[: self.position]

    def chronological_kinds(self) -> array:
        """The kind of each of :meth:`chronological`'s samples (CALL, BATCH_MEAN, UNKNOWN)."""
        if self.count < WINDOW:
            return self.kinds[: self.count]
        return self.kinds[self.position :] + self.kinds[: self.position]

    def mean(self) -> float:
        """Mean of the samples in the window, 0.0 when empty."""
        return self.total / self.count if self.count else 0.0
