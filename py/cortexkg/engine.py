"""The allocation engine: concepts to columns, the reference design's surface, fixed.

State is columnar (:mod:`cortexkg.columns`); ``concept -> column`` and the allocation
order live in the concept index (:mod:`cortexkg.concept_index`), flat buffers too. Every
O(n) pass goes through the scan interface (:mod:`cortexkg.scans`); first-fit allocation
and deallocation are O(log n) (:mod:`cortexkg.free_columns`).
"""

from __future__ import annotations

from array import array
from collections import Counter, deque
from heapq import heappop
from typing import Any, Callable

from . import fields as fdef
from . import invariants
from . import snapshot as snapshots
from . import validation as check
from .columns import ALLOCATED, AVAILABLE, REFRACTORY, STATE_NAMES, ColumnStore
from .concept_index import EMPTY, ConceptIndex
from .config import check_config
from .engine_state import COUNTERS, EngineState
from .errors import AllocationError, InvalidInputError, StateError
from .free_columns import FirstFitFree
from .host import Host, default_host
from .scans import select_scans
from .timing import TimingWindow
from .validation import MAX_CONCEPT_ID

NO_FREE_COLUMNS = "No free columns available"
BATCH_CHUNK = 65536  # ids per chunk of a batch: one clock reading, one progress report
_MAX_USAGE = 2**32 - 1
_NO_FIELD = array("f")  # the query when dim is 0: every score is 0.0


def _not_allocated(concept_id: int) -> str:
    return f"Concept {concept_id} is not allocated"


class AllocationEngine:
    """Allocates integer concept ids (0..2**32-1) to ``column_count`` columns.

    ``strategy`` chooses the column: ``first_fit`` (the lowest available, as the reference
    design) or ``affinity`` (the available column whose receptive field has the highest
    dot product with the concept's embedding). Released columns stay ``refractory`` for
    ``refractory_ms`` of host-clock time. With ``activation_half_life_ms`` > 0 a
    concept's activation halves every that many ms of wall-clock time since its last
    activation (0: it never decays, the reference design's behaviour). ``backend``
    selects the column scans.
    """

    def __init__(
        self,
        column_count: int,
        enable_simd: bool = True,
        *,
        strategy: str = "first_fit",
        dim: int = 0,
        refractory_ms: float = 0.0,
        seed: int = 0,
        activation_half_life_ms: float = 0.0,
        backend: str = "auto",
        host: Host | None = None,
    ):
        config = check_config(column_count, enable_simd, strategy, dim, refractory_ms, seed,
                              activation_half_life_ms)
        self._setup(config, select_scans(backend, enable_simd), host or default_host())
        if self.dim:
            self._scans.init_fields(self._columns.fields, self.dim, self._stride, self.seed)

    def _setup(self, config: dict, scans, host: Host, columns: ColumnStore | None = None) -> None:
        self.column_count: int = config["column_count"]
        self.enable_simd: bool = config["enable_simd"]
        self.strategy: str = config["strategy"]
        self.dim: int = config["dim"]
        self.refractory_ms: float = config["refractory_ms"]
        self.seed: int = config["seed"]
        self.activation_half_life_ms: float = config["activation_half_life_ms"]
        self._scans = scans
        self._host = host
        self._now = host.now_ms
        self._wall = host.wall_ms
        self._stride = fdef.stride_of(self.dim)
        self._columns = ColumnStore(self.column_count, self._stride) if columns is None else columns
        self._index = ConceptIndex(self._columns.concept, scans)
        self._free = FirstFitFree(self.column_count) if self.strategy == "first_fit" else None
        self._refractory: deque[tuple[float, int]] = deque()  # (deadline ms, column), FIFO
        self._times = TimingWindow()
        self._counters = dict.fromkeys(COUNTERS, 0)

    @property
    def backend_name(self) -> str:
        """Name of the scan implementation in use (``numpy``, ``reference``, ...)."""
        return self._scans.name

    @property
    def host(self) -> Host:
        """The clock, wall clock and log this engine uses."""
        return self._host

    # ------------------------------------------------------------------ allocation

    def allocate_concept(self, concept_id: int, embedding: Any = None) -> int:
        """Allocate a concept and return its column (idempotent).

        An already allocated concept returns its column and counts one usage hit. Raises
        :class:`AllocationError` (``No free columns available``) when no column is available.
        """
        # the common id checked inline (every allocation's hot path; check names the rest)
        cid = (concept_id if type(concept_id) is int and 0 <= concept_id <= MAX_CONCEPT_ID
               else check.concept_id(concept_id))
        given = None if embedding is None else check.embedding(embedding, self.dim)
        index = self._index
        slot = index.slot(cid)
        col = index.values[slot]
        if col != EMPTY:
            self._hit(col, 1)
            return col
        start = self._now()
        if self._refractory:
            self._expire(start)
        col = self._allocate_new(cid, given, self._wall(), slot)
        if col < 0:
            raise AllocationError(NO_FREE_COLUMNS)
        self._times.add_one(self._now() - start)
        return col

    def allocate_concept_at(self, concept_id: int, start_ms: float, wall_ms: float) -> int:
        """:meth:`allocate_concept` (no embedding) with two of its clock readings taken by
        the caller: ``start_ms`` on the host clock (``host.now_ms``'s) when the call began,
        ``wall_ms`` the wall clock. It reads the host clock once, at the end, so the time
        it records runs from the caller's ``start_ms``.

        For a caller across a language boundary (``web/engine.js``), where JavaScript
        reads its own clocks in a fraction of the ~0.7 µs each Python -> JavaScript
        reading costs. The first-fit placement is inlined here (``FirstFitFree.take``,
        ``ColumnStore.place``, ``ConceptIndex.add``): each Python call saved is ~0.15 µs.
        """
        cid = (concept_id if type(concept_id) is int and 0 <= concept_id <= MAX_CONCEPT_ID
               else check.concept_id(concept_id))
        index = self._index
        slot = index.slot(cid)
        col = index.values[slot]
        if col != EMPTY:
            self._hit(col, 1)
            return col
        if self._refractory:
            self._expire(start_ms)
        free = self._free
        if free is None or self.dim:
            col = self._allocate_new(cid, None, wall_ms, slot)
            if col < 0:
                raise AllocationError(NO_FREE_COLUMNS)
        else:
            if self.column_count - index.size - len(self._refractory) == 0:
                raise AllocationError(NO_FREE_COLUMNS)
            if free.heap:
                col = heappop(free.heap)
            else:
                col = free.frontier
                free.frontier = col + 1
            cols = self._columns
            cols.state[col] = ALLOCATED
            cols.concept[col] = cid
            cols.activation[col] = 1.0
            cols.usage[col] = 0
            cols.allocated_at[col] = wall_ms
            cols.confidence[col] = 1.0  # activated_ms: 0.0 already, as in every free column
            index.values[slot] = col
            order = index.order
            index.position[col] = len(order)
            order.append(col)
            index.size += 1
            self._counters["total_allocations"] += 1
        self._times.add_one(self._now() - start_ms)
        return col

    def _hit(self, col: int, count: int) -> None:
        """``count`` allocate calls found the concept already in ``col``."""
        self._use(col, count)
        self._counters["usage_hits"] += count

    def _use(self, col: int, count: int) -> None:
        usage = self._columns.usage
        usage[col] = min(_MAX_USAGE, usage[col] + count)

    def _query(self, cid: int, given: list[float] | None):
        """The concept's unit embedding (float32, padded), or None when dim is 0."""
        if not self.dim:
            return None
        if given is not None:
            return fdef.normalize(given, self._stride)
        return fdef.derived_embedding(self.seed, cid, self.dim, self._stride)

    def _allocate_new(self, cid: int, given, wall_ms: float, slot: int) -> int:
        """Place a concept that is not allocated (``slot``: its index slot); -1 when no
        column is available."""
        # _available() and _query() inlined: this runs for every new allocation
        if self.column_count - self._index.size - len(self._refractory) == 0:
            return -1
        query = self._query(cid, given) if self.dim else None
        if self._free is not None:
            col, confidence = self._free.take(), 1.0
        else:
            cols = self._columns
            col, score = self._scans.best_match(
                cols.state, cols.fields, self._stride, _NO_FIELD if query is None else query)
            confidence = min(1.0, (score + 1.0) / 2.0)  # float32 rounding may pass 1
        self._columns.place(col, cid, wall_ms, confidence, query)
        self._index.add(col, slot)
        self._counters["total_allocations"] += 1
        return col

    def allocate_batch(self, concept_ids: Any, embeddings: Any = None, *,
                       columnar: bool = False, progress: Callable | None = None):
        """Allocate many concepts; one result per id, in input order.

        Equal to calling :meth:`allocate_concept` for each id in turn (duplicates resolve
        to the same column; once the engine is full the remaining new ids fail), except
        that each chunk of up to ``BATCH_CHUNK`` ids happens at one instant: one clock
        reading and one timestamp. ``embeddings`` is None or one embedding (or None) per
        id. Every id is validated before anything is applied.

        Returns ``{"conceptId", "columnId", "success": True}`` or ``{"conceptId",
        "success": False, "error"}`` per id; with ``columnar=True`` one dict of arrays
        instead: ``conceptIds``, ``columnIds`` (-1 for a failure) and ``errors`` (one
        message per failure, in order). ``progress(done, total)`` is called after each chunk.
        """
        ids = check.concept_ids(concept_ids)
        given = self._batch_embeddings(embeddings, len(ids))
        for first in range(0, len(ids), BATCH_CHUNK):
            last = min(first + BATCH_CHUNK, len(ids))
            self._allocate_chunk(ids[first:last], None if given is None else given[first:last])
            if progress is not None:
                progress(last, len(ids))
        found = self._index.get_many(ids)
        if columnar:
            columns = array("i", found.tobytes())  # EMPTY reads as -1
            return {"conceptIds": array("I", ids), "columnIds": columns,
                    "errors": [NO_FREE_COLUMNS] * columns.count(-1)}
        failure = {"success": False, "error": NO_FREE_COLUMNS}
        return [
            {"conceptId": c, "columnId": col, "success": True}
            if col != EMPTY else {"conceptId": c, **failure}
            for c, col in zip(ids, found)
        ]

    def _allocate_chunk(self, ids: list[int], given: list | None) -> None:
        start = self._now()
        if self._refractory:
            self._expire(start)
        before = self._counters["total_allocations"]
        if self._free is not None and given is None and not self.dim:
            self._first_fit_batch(ids, self._wall())
        else:
            self._greedy_batch(ids, given, self._wall())
        placed = self._counters["total_allocations"] - before
        if placed:
            self._times.add((self._now() - start) / placed, placed)

    def _batch_embeddings(self, embeddings: Any, count: int) -> list | None:
        if embeddings is None:
            return None
        items = check.sequence(embeddings, "embeddings (expected one per concept id)")
        if len(items) != count:
            raise InvalidInputError(
                f"Invalid embeddings: {len(items)} given for {count} concept ids"
            )
        return [None if e is None else check.embedding(e, self.dim) for e in items]

    def _greedy_batch(self, ids: list[int], given: list | None, wall_ms: float) -> None:
        slot, values = self._index.slot, self._index.values
        for index, cid in enumerate(ids):
            s = slot(cid)
            if values[s] != EMPTY:
                self._hit(values[s], 1)
            else:
                self._allocate_new(cid, None if given is None else given[index], wall_ms, s)

    def _first_fit_batch(self, ids: list[int], wall_ms: float) -> None:
        """Vectorized first fit: new ids take the lowest columns in first-seen order."""
        index = self._index
        counts = Counter(ids)
        unique = list(counts)
        before = index.get_many(unique)
        new = [c for c, col in zip(unique, before) if col == EMPTY]
        placed = new[: min(len(new), self._available())]
        popped, fresh = self._free.take_many(len(placed))
        cols = self._columns
        for cid, col in zip(placed, popped):
            cols.place(col, cid, wall_ms, 1.0, None)
        cols.place_range(fresh.start, placed[len(popped):], wall_ms)
        index.add_many(array("I", popped) + array("I", fresh))
        self._counters["total_allocations"] += len(placed)
        after = index.get_many(unique) if placed else before
        # usage hits: every occurrence of an allocated id, every repeat of a new one
        for count, was, col in zip(counts.values(), before, after):
            if col != EMPTY and count > (was == EMPTY):
                self._hit(col, count - (was == EMPTY))

    # ---------------------------------------------------------------- deallocation

    def deallocate_concept(self, concept_id: int) -> bool:
        """Release a concept's column; ``False`` when it was not allocated."""
        cid = check.concept_id(concept_id)
        col = self._index.pop(cid)
        if col is None:
            return False
        self._release(col, self._now() if self.refractory_ms else 0.0)
        return True

    def deallocate_batch(self, concept_ids: Any, *, columnar: bool = False,
                         progress: Callable | None = None):
        """Release many concepts, as one by one; every id is validated first.

        Returns ``{"conceptId", "success": True, "columnId"}`` or ``{"conceptId",
        "success": False, "error"}`` per id, or with ``columnar=True`` the arrays
        ``conceptIds``, ``columnIds`` (the released column, -1 for a failure) and
        ``errors``. ``progress(done, total)`` is called after each chunk.
        """
        ids = check.concept_ids(concept_ids)
        released = array("i")
        pop = self._index.pop
        for first in range(0, len(ids), BATCH_CHUNK):
            last = min(first + BATCH_CHUNK, len(ids))
            now = self._now() if self.refractory_ms else 0.0
            for cid in ids[first:last]:
                col = pop(cid)
                if col is None:
                    released.append(-1)
                else:
                    self._release(col, now)
                    released.append(col)
            if progress is not None:
                progress(last, len(ids))
        if columnar:
            errors = [_not_allocated(c) for c, col in zip(ids, released) if col < 0]
            return {"conceptIds": array("I", ids), "columnIds": released, "errors": errors}
        return [
            {"conceptId": c, "success": True, "columnId": col} if col >= 0
            else {"conceptId": c, "success": False, "error": _not_allocated(c)}
            for c, col in zip(ids, released)
        ]

    def _release(self, col: int, now: float) -> None:
        self._counters["total_deallocations"] += 1
        if self.refractory_ms:
            self._columns.release(col, REFRACTORY)
            self._refractory.append((now + self.refractory_ms, col))
        else:
            self._columns.release(col, AVAILABLE)
            if self._free is not None:
                self._free.give(col)

    def _expire(self, now: float) -> None:
        """Columns whose refractory time has passed become available."""
        queue, state, free = self._refractory, self._columns.state, self._free
        while queue and queue[0][0] <= now:
            col = queue.popleft()[1]
            state[col] = AVAILABLE
            if free is not None:
                free.give(col)

    def _expire_now(self) -> None:
        if self._refractory:
            self._expire(self._now())

    # -------------------------------------------------------------------- activation

    def activate_concept(self, concept_id: int, strength: float = 1.0) -> float:
        """Raise a concept's activation to ``min(1, activation + strength)``; count a use.

        With a half-life, ``activation`` is first decayed to now (the wall clock, read once
        and journaled, so a replay decays exactly as the live call did). Returns the new
        activation. Raises :class:`AllocationError` when not allocated.
        """
        cid = check.concept_id(concept_id)
        strength = check.non_negative_finite("strength", strength)
        col = self._index.get(cid)
        if col is None:
            raise AllocationError(_not_allocated(cid))
        cols = self._columns
        activation = cols.activation
        if self.activation_half_life_ms:
            now = self._wall()
            activation[col] = min(1.0, self._activation_at(col, now) + strength)
            # a wall clock set back before the allocation counts as the allocation instant
            cols.activated_ms[col] = max(0.0, now - cols.allocated_at[col])
        else:
            activation[col] = min(1.0, activation[col] + strength)
        self._use(col, 1)
        self._counters["activations"] += 1
        return activation[col]

    def _activation_at(self, col: int, wall_ms: float) -> float:
        """Column ``col``'s activation at wall-clock ``wall_ms``: its stored activation
        halved every ``activation_half_life_ms`` since its last activation (never grown
        by a clock set back)."""
        cols = self._columns
        elapsed = wall_ms - cols.allocated_at[col] - cols.activated_ms[col]
        if elapsed <= 0.0:
            return cols.activation[col]
        return cols.activation[col] * 0.5 ** (elapsed / self.activation_half_life_ms)

    # ------------------------------------------------------------------ optimization

    def optimize_allocations(self) -> int:
        """Defragment then rebalance, as one permutation; return how many concepts moved.

        Allocated concepts move to the lowest non-refractory columns (stable compaction),
        ordered there by usage, highest first (ties keep their order). A concept's column
        state, allocation record and field travel with it; refractory columns stay put.
        Logs ``Optimization completed in {ms:.2f}ms, {changes} changes made``.
        """
        start = self._now()
        self._expire(start)
        cols = self._columns
        index = self._index
        moved = self._scans.compact(cols.state, cols.usage, [*cols.rows(), (index.position, 1)])
        if moved:
            index.moved(moved)
        self._rebuild_free()
        changes = len(moved)
        self._counters["optimization_cycles"] += 1
        self._counters["moves_total"] += changes
        elapsed = self._now() - start
        self._host.log(f"Optimization completed in {elapsed:.2f}ms, {changes} changes made")
        return changes

    def _rebuild_free(self) -> None:
        """Recompute the first-fit free set from ``state`` (after optimize or restore)."""
        if self._free is None:
            return
        state = self._columns.state
        frontier = len(state.rstrip(bytes([AVAILABLE])))
        self._free = FirstFitFree(
            self.column_count, self._scans.indices(state, AVAILABLE, frontier), frontier
        )

    # ----------------------------------------------------------------------- queries

    def _available(self) -> int:
        return self.column_count - self._index.size - len(self._refractory)

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
        for name, value in (("start", start), ("stop", stop)):
            if value is not None and (type(value) is not int):
                raise InvalidInputError(
                    f"Invalid history {name} {check.quoted(value)}: expected an integer or None")
        cols = self._columns
        concept, at, confidence = cols.concept, cols.allocated_at, cols.confidence
        return [
            {"conceptId": concept[col], "columnId": col, "timestamp": at[col],
             "confidence": confidence[col]}
            for col in self._index.columns()[start:stop]
        ]

    def get_allocation_times(self) -> array:
        """The last (up to 1000) allocation times in ms, oldest first."""
        return self._times.chronological()

    def fragmentation(self) -> float:
        """``1 - largest_free_run / free_count`` over available columns (0.0 when none)."""
        free = self.get_free_column_count()
        if not free:
            return 0.0
        return 1.0 - self._scans.largest_run(self._columns.state, AVAILABLE) / free

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
        col = check.non_negative_int("column id", column_id, maximum=max(self.column_count - 1, 0))
        if col >= self.column_count:
            raise InvalidInputError(f"Invalid column id {check.quoted(column_id)}: the engine has no columns")
        self._expire_now()
        cols, stride = self._columns, self._stride
        state = cols.state[col]
        return {
            "id": col,
            "conceptId": cols.concept[col] if state == ALLOCATED else None,
            "activation": (self._activation_at(col, self._wall())
                           if state == ALLOCATED and self.activation_half_life_ms
                           else cols.activation[col]),
            "state": STATE_NAMES[state],
            "usage": cols.usage[col],
            "confidence": cols.confidence[col] if state == ALLOCATED else None,
            "timestamp": cols.allocated_at[col] if state == ALLOCATED else None,
            "field": cols.fields[col * stride : col * stride + self.dim].tolist(),
        }

    def refractory_left_ms(self) -> array:
        """Per column, the ms until a refractory column becomes available (0.0 for others)."""
        self._expire_now()
        left = array("f", bytes(4 * self.column_count))
        if self._refractory:
            now = self._now()
            for deadline, col in self._refractory:
                left[col] = deadline - now
        return left

    def column_buffers(self) -> dict:
        """Copies of the per-column buffers by name (``state`` values: 0 available,
        1 allocated, 2 refractory), for bulk views such as a dashboard grid."""
        self._expire_now()
        return {name: buffer[:] for name, buffer in self._columns.buffers().items()}

    # -------------------------------------------------------------------- invariants

    def validate(self) -> None:
        """Check every invariant (:mod:`cortexkg.invariants`); raise :class:`StateError`
        naming the first violated."""
        available = invariants.check_store(
            self._columns, self.column_count, self._scans, self._index, self._refractory,
            self._counters, self._times)
        invariants.check_free(self._free, self._columns.state, self._scans, available)

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
        return EngineState(
            config={"column_count": self.column_count, "enable_simd": self.enable_simd,
                    "strategy": self.strategy, "dim": self.dim,
                    "refractory_ms": self.refractory_ms, "seed": self.seed,
                    "activation_half_life_ms": self.activation_half_life_ms},
            buffers=self._columns.buffers(),
            order=self._index.columns(),
            refractory_columns=array("I", [col for _, col in self._refractory]),
            refractory_left_ms=array("d", [min(self.refractory_ms, max(0.0, deadline - now))
                                           for deadline, _ in self._refractory]),
            clock_ms=now,
            counters=dict(self._counters),
            window=times.samples, window_position=times.position,
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
        engine._adopt_order(state.order)
        engine._adopt_refractory(state.refractory_columns, state.refractory_left_ms)
        engine._counters.update({name: state.counters[name] for name in COUNTERS})
        times = engine._times
        times.samples[:] = state.window
        times.position, times.count = state.window_position, state.window_count
        times.total = float(state.window_total)
        # the index was just built from the order's columns; the free set is derived below
        invariants.check_store(
            engine._columns, engine.column_count, engine._scans, engine._index,
            engine._refractory, engine._counters, times, check_concepts=False)
        engine._rebuild_free()
        return engine

    def _adopt_order(self, order: array) -> None:
        if len(order) > self.column_count:
            raise StateError(f"The allocation order holds {len(order)} columns, more than "
                             f"the engine's {self.column_count}")
        try:
            distinct = self._index.restore(order)
        except IndexError:
            raise StateError("The allocation order names a column outside the engine") from None
        if not distinct:
            raise StateError("The allocation order holds a concept or column twice")

    def _adopt_refractory(self, columns: array, left_ms: array) -> None:
        if len(columns) != len(left_ms):
            raise StateError("The refractory columns and deadlines differ in length")
        if any(not 0.0 <= ms <= self.refractory_ms for ms in left_ms):
            raise StateError("A refractory deadline (time left) is outside "
                             f"0..{self.refractory_ms} ms")
        if columns and max(columns) >= self.column_count:
            raise StateError("The refractory queue names a column outside the engine")
        if len(set(columns)) != len(columns):
            raise StateError("The refractory queue holds a column twice")
        now = self._now()
        self._refractory.extend((now + ms, col) for ms, col in zip(left_ms, columns))

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
