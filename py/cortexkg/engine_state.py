"""An engine's whole state as a plain record: what a snapshot stores and restores.

:meth:`AllocationEngine.state() <cortexkg.engine.AllocationEngine.state>` gives one and
:meth:`AllocationEngine.from_state() <cortexkg.engine.AllocationEngine.from_state>` builds
an engine from one; :mod:`cortexkg.snapshot` only turns it into bytes and back. Nothing
here knows the engine, so the engine depends on the snapshot and never the reverse.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

# The engine's counters, in the order stats() and snapshot headers list them.
COUNTERS = ("total_allocations", "total_deallocations", "usage_hits", "activations",
            "optimization_cycles", "moves_total")


@dataclass
class EngineState:
    """Everything an engine holds, by value.

    Buffers are used, not copied: those of :meth:`AllocationEngine.state` are the engine's
    own (valid until it changes), and :meth:`AllocationEngine.from_state` adopts the ones
    it is given. Refractory deadlines are times left, relative to ``clock_ms``, so that
    whoever restores continues them in its own clock.
    """

    config: dict  # cortexkg.config.check_config's keys
    buffers: dict  # cortexkg.columns.ColumnStore.buffers(): the per-column rows and fields
    order: array  # "I": the columns of live allocations, in allocation order
    refractory_columns: array  # "I": refractory columns, earliest deadline first
    refractory_left_ms: array  # "d": each one's ms left at clock_ms
    clock_ms: float  # the host-clock reading the times left are relative to (0.0: none)
    counters: dict  # name (COUNTERS) -> int
    window: array  # "d": the timing window's samples (cortexkg.timing.TimingWindow)
    window_kinds: array  # "B": each sample's kind (cortexkg.timing: CALL, BATCH_MEAN, UNKNOWN)
    window_position: int
    window_count: int
    window_total: float
