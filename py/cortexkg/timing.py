"""The window of the last allocation times: O(1) per sample, exact mean on demand."""

from __future__ import annotations

import math
from array import array

WINDOW = 1000


class TimingWindow:
    """Ring buffer of the last ``WINDOW`` samples (ms) with a running total.

    The total is recomputed exactly with ``math.fsum`` each time the ring wraps, so
    floating-point drift never accumulates beyond one lap.
    """

    def __init__(self) -> None:
        self.samples = array("d", bytes(8 * WINDOW))
        self.position = 0
        self.count = 0
        self.total = 0.0

    def add(self, ms: float, repeat: int = 1) -> None:
        """Record ``ms`` once, or ``repeat`` times (a batch's per-item time)."""
        for _ in range(min(repeat, WINDOW)):
            self.add_one(ms)

    def add_one(self, ms: float) -> None:
        """Record ``ms`` once (every allocation does: no loop, no argument to check)."""
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

    def mean(self) -> float:
        """Mean of the samples in the window, 0.0 when empty."""
        return self.total / self.count if self.count else 0.0
