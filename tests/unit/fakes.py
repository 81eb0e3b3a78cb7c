"""A controllable host for engine tests: a clock that moves only when told to."""

from __future__ import annotations

from cortexkg import Host


class FakeHost(Host):
    """Host whose monotonic clock starts at 1000 ms and moves by ``advance``; wall time
    is a fixed epoch plus the clock; log lines are kept in ``logs``."""

    def __init__(self, clock: float = 1000.0, epoch: float = 1.7e12):
        self.clock, self.epoch, self.logs = clock, epoch, []
        super().__init__(now_ms=lambda: self.clock, wall_ms=lambda: self.epoch + self.clock,
                         log=self.logs.append)

    def advance(self, ms: float) -> None:
        self.clock += ms
