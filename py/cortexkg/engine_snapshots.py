"""An engine's state taken and adopted: :class:`~cortexkg.engine_state.EngineState`
and the snapshot bytes over it.

:class:`EngineSnapshots` is a base of :class:`~cortexkg.engine.AllocationEngine`: taking
the state reads the engine's parts, and building an engine from one sets them, so both
stay methods of the engine; :mod:`cortexkg.snapshot` only turns a state into bytes and back.
"""

from __future__ import annotations

from array import array

from . import fields as fdef
from . import invariants, optimize
from . import snapshot as snapshots
from .columns import ColumnStore
from .config import check_config
from .engine_state import COUNTERS, EngineState
from .errors import StateError
from .host import Host, default_host
from .scans import select_scans


class EngineSnapshots:
    """The state and snapshot half of :class:`~cortexkg.engine.AllocationEngine`'s surface;
    every attribute it reads or sets is the engine's own (``AllocationEngine._setup``)."""

    # ------------------------------------------------------------------------- state

    def state(self) -> EngineState:
        """The whole state as an :class:`EngineState` (refractory columns expired to now);
        its buffers are the engine's own, valid until the engine changes."""
        self._expire_now()
        # Only refractory deadlines depend on when the state is taken; without any, the
        # clock is not read, so that an unchanged engine always gives the same snapshot
        # (an export compares equal to the next one), 0.0 standing for the reading.
        now = self._now() if self._refractory else 0.0
        times = self._times
        refractory_columns, refractory_left_ms = self._wait.export(now)
        return EngineState(
            config={"column_count": self.column_count, "enable_simd": self.enable_simd,
                    "strategy": self.strategy, "dim": self.dim,
                    "refractory_ms": self.refractory_ms, "seed": self.seed,
                    "activation_half_life_ms": self.activation_half_life_ms},
            buffers=self._columns.buffers(),
            order=self._index.columns(),
            refractory_columns=refractory_columns,
            refractory_left_ms=refractory_left_ms,
            clock_ms=now,
            counters=dict(self._counters),
            window=times.samples, window_kinds=times.kinds, window_position=times.position,
            window_count=times.count, window_total=times.total)

    @classmethod
    def from_state(cls, state: EngineState, *, backend: str = "auto",
                   host: Host | None = None) -> "AllocationEngine":
        """A new engine adopting ``state``'s buffers; raises :class:`StateError` naming
        the first inconsistency (an invalid ``backend``: :class:`InvalidInputError`). Refractory
        deadlines continue from one reading of ``host``'s clock."""
        try:
            config = check_config(**state.config)
        except (TypeError, ValueError) as error:
            raise StateError(f"State configuration is invalid: {error}") from None
        engine = cls.__new__(cls)
        stride = fdef.stride_of(config["dim"])
        engine._setup(config, select_scans(backend, config["enable_simd"]),
                      host or default_host(),
                      ColumnStore.adopt(stride, state.buffers))
        engine._index.restore(state.order, engine.column_count)
        engine._wait.adopt(state.refractory_columns, state.refractory_left_ms,
                           engine.column_count, engine._now())
        engine._counters.update({name: state.counters[name] for name in COUNTERS})
        times = engine._times
        times.samples[:] = state.window
        times.kinds[:] = array("B", state.window_kinds)
        times.position, times.count = state.window_position, state.window_count
        times.total = float(state.window_total)
        # the index was just built from the order's columns; the free set is derived below
        invariants.check_store(
            engine._columns, engine.column_count, engine._scans, engine._index,
            engine._refractory, engine._counters, times, check_concepts=False)
        optimize.rebuild_free(engine._free, engine._columns.state, engine._scans)
        return engine

    # --------------------------------------------------------------------- snapshots

    def snapshot(self):
        """The whole state as a versioned, checksummed :class:`~cortexkg.snapshot.Snapshot`."""
        return snapshots.take(self.state())

    def snapshot_parts(self) -> list:
        """The bytes of :meth:`snapshot` as parts to join: its buffers are the engine's own
        (valid until it changes), so the state is copied once, by whoever joins them."""
        return snapshots.parts(self.state())

    @classmethod
    def restore(cls, snapshot, *, backend: str = "auto", host: Host | None = None):
        """A new engine from a snapshot (or its bytes); raises :class:`StateError` naming
        the problem and never returns a partial state."""
        return cls.from_state(snapshots.read(snapshot), backend=backend, host=host)
