"""The allocation engine: concepts to columns, the reference design's surface, fixed.

State is columnar (:mod:`cortexkg.columns`); ``concept -> column`` and the allocation
order live in the concept index (:mod:`cortexkg.concept_index`), flat buffers too. Every
O(n) pass goes through the scan interface (:mod:`cortexkg.scans`); first-fit allocation
and deallocation are O(log n) (:mod:`cortexkg.free_columns`).
"""

from __future__ import annotations

import math
import sys
from array import array
from collections import Counter, deque
from heapq import heappop
from typing import Any, Callable

from . import fields as fdef
from . import validation as check
from .columns import ColumnStore
from .concept_index import ConceptIndex
from .errors import AllocationError, StateError
from .free_columns import FirstFitFree
from .host import Host, default_host
from .scans import ALLOCATED, AVAILABLE, EMPTY, REFRACTORY, select_scans
from .timing import UNKNOWN, TimingWindow
from .validation import MAX_CONCEPT_ID

STRATEGIES = ("first_fit", "affinity")
STATE_NAMES = ("available", "allocated", "refractory")
# The largest engine that can be held and persisted (snapshot, export, import and reset,
# when two engines coexist) in Pyodide's 32-bit memory, with a margin of about 2x:
# measured with build/measure_limits.py (docs/bench/notes.md, "Size limits"). The same
# limits apply under CPython, so that every engine can move to the browser.
MAX_COLUMNS = 1 << 23
MAX_FIELD_FLOATS = 1 << 25  # columns × stride (dim rounded up to a multiple of 4)
SIZE_REASON = "the most an engine can hold and persist in Pyodide's 32-bit memory"
MAX_DIM = 4096
NO_FREE_COLUMNS = "No free columns available"
BATCH_CHUNK = 65536  # ids per chunk of a batch: one clock reading, one progress report
_MAX_USAGE = 2**32 - 1
_NO_FIELD = array("f")  # the query when dim is 0: every score is 0.0
_BELOW_0x7F = bytes(range(0x7F))


def _not_allocated(concept_id: int) -> str:
    return f"Concept {concept_id} is not allocated"


def _plausible_times(times: array) -> bool:
    """Whether every float64 of ``times`` lies in [0, 2**1009): not negative (nor -0.0),
    NaN or infinite, nor absurdly large. Read from each value's top byte (its sign and
    top exponent bits) at C speed, since the scans handle no float64 buffer."""
    top = memoryview(times).cast("B")[7 if sys.byteorder == "little" else 0 :: 8]
    return not bytes(top).translate(None, _BELOW_0x7F)


def check_config(column_count, enable_simd, strategy, dim, refractory_ms, seed,
                 activation_half_life_ms=0.0) -> dict:
    """The validated engine configuration (raises ValueError naming the bad value)."""
    if type(enable_simd) is not bool:
        raise ValueError(f"Invalid enable_simd {check.quoted(enable_simd)}: expected True or False")
    if strategy not in STRATEGIES:
        raise ValueError(f"Invalid strategy {check.quoted(strategy)}: expected one of "
                         f"{', '.join(STRATEGIES)}")
    column_count = check.non_negative_int("column_count", column_count, maximum=MAX_COLUMNS,
                                          reason=SIZE_REASON)
    dim = check.non_negative_int("dim", dim, maximum=MAX_DIM)
    if column_count * fdef.stride_of(dim) > MAX_FIELD_FLOATS:
        raise ValueError(
            f"Invalid dim {dim} for {column_count} columns: columns × dim (dim rounded up to "
            f"a multiple of 4) must be at most {MAX_FIELD_FLOATS} ({SIZE_REASON})")
    return {
        "column_count": column_count,
        "enable_simd": enable_simd,
        "strategy": strategy,
        "dim": dim,
        "refractory_ms": check.non_negative_finite("refractory_ms", refractory_ms),
        "seed": check.non_negative_int("seed", seed, maximum=fdef.MAX_SEED),
        "activation_half_life_ms": check.non_negative_finite(
            "activation_half_life_ms", activation_half_life_ms),
    }


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
        self._counters = dict.fromkeys(
            ("total_allocations", "total_deallocations", "usage_hits", "activations",
             "optimization_cycles", "moves_total"), 0)

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
            self._times.add_batch((self._now() - start) / placed, placed)

    def _batch_embeddings(self, embeddings: Any, count: int) -> list | None:
        if embeddings is None:
            return None
        items = check.sequence(embeddings, "embeddings (expected one per concept id)")
        if len(items) != count:
            raise ValueError(
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
                raise ValueError(
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

    def get_allocation_time_kinds(self) -> array:
        """The kind of each of :meth:`get_allocation_times`: 0 a single call's own time,
        1 a batch item's (its batch's mean), 2 unknown (restored from an older snapshot)."""
        return self._times.chronological_kinds()

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
            raise ValueError(f"Invalid column id {check.quoted(column_id)}: the engine has no columns")
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
        """Check every invariant; raise :class:`StateError` naming the first violated."""
        available = self._validate_store(self._index.columns())
        self._validate_free(available)

    def _validate_store(self, columns: array, *, check_concepts: bool = True) -> int:
        """Invariants of the stored state (buffers, counts, mapping, refractory queue);
        ``columns`` lists the mapped columns. Returns the number of available columns."""
        cols, scans, n = self._columns, self._scans, self.column_count
        for name, buffer in cols.buffers().items():
            expected = n * self._stride if name == "fields" else n
            if len(buffer) != expected:
                raise StateError(f"Buffer {name} holds {len(buffer)} items, expected {expected}")
        counts = [scans.count(cols.state, value) for value in (AVAILABLE, ALLOCATED, REFRACTORY)]
        if sum(counts) != n:
            raise StateError(f"{n - sum(counts)} columns have a state outside 0..2")
        if counts[ALLOCATED] != len(self._index) or len(columns) != len(self._index):
            raise StateError(
                f"{counts[ALLOCATED]} columns are allocated but {len(self._index)} "
                f"concepts are mapped, {len(columns)} in the allocation order"
            )
        self._validate_mapping(columns, check_concepts)
        self._validate_released(n - counts[ALLOCATED], columns)
        self._validate_refractory(counts[REFRACTORY])
        self._validate_counters()
        return counts[AVAILABLE]

    def _validate_released(self, released: int, columns: array) -> None:
        """Columns without a concept are reset; fields are finite unit-range vectors."""
        cols, scans = self._columns, self._scans
        for name in ("activation", "activated_ms", "usage"):
            buffer = getattr(cols, name)
            zeros = scans.count_between(buffer, None, 0, 0) - scans.count_between(
                buffer, columns, 0, 0)
            if zeros != released:
                raise StateError(f"A column without a concept has a non-zero {name}")
        if scans.count_between(cols.fields, None, -1.0, 1.0) != len(cols.fields):
            raise StateError("A receptive field holds a value outside [-1, 1] or NaN")

    def _validate_counters(self) -> None:
        counters, times = self._counters, self._times
        if counters["total_allocations"] - counters["total_deallocations"] != len(self._index):
            raise StateError(
                f"Invariant violated: counters disagree: {counters['total_allocations']} allocations - "
                f"{counters['total_deallocations']} deallocations != "
                f"{len(self._index)} allocated"
            )
        exact = math.fsum(times.samples)  # NaN or inf when a sample is
        if (not 0 <= times.count <= len(times.samples) or not math.isfinite(exact)
                or min(times.samples) < 0 or abs(times.total - exact) > 1e-9 * max(1.0, exact)
                or max(times.kinds) > UNKNOWN):
            raise StateError(
                f"Invariant violated: the timing window is inconsistent: total {times.total} for {times.count} samples "
                f"summing to {exact}"
            )

    def _validate_mapping(self, columns: array, check_concepts: bool) -> None:
        """The allocation order ``columns`` lists distinct allocated columns, and the
        concept index maps exactly their concepts to them (``check_concepts=False`` when
        the index was just built from them)."""
        cols, scans, index = self._columns, self._scans, self._index
        try:
            allocated = scans.count_between(cols.state, columns, ALLOCATED, ALLOCATED)
        except IndexError:
            raise StateError("A concept maps to a column outside the engine") from None
        if allocated != len(columns):
            raise StateError("A concept maps to a column that is not allocated")
        if check_concepts:
            entries = scans.count_between(index.values, None, 0, self.column_count - 1)
            free = scans.count_between(index.values, None, EMPTY, EMPTY)
            if entries != len(columns) or entries + free != len(index.values):
                raise StateError(
                    f"The concept index holds {entries} entries and {free} free slots of "
                    f"{len(index.values)}, expected {len(columns)} entries")
            if scans.gather(index.position, columns) != list(range(len(columns))):
                raise StateError("A column's position disagrees with the allocation order")
            if index.get_many(scans.gather(cols.concept, columns)) != columns:
                raise StateError("A concept maps to a column that holds another concept")
        for name in ("activation", "confidence"):
            if scans.count_between(getattr(cols, name), columns, 0.0, 1.0) != len(columns):
                raise StateError(f"An allocated column has a {name} outside [0, 1]")
        if scans.count_between(cols.activated_ms, columns, 0.0, math.inf) != len(columns):
            raise StateError("An allocated column's last activation is negative, NaN or infinite")
        if not _plausible_times(cols.allocated_at):
            raise StateError("A column's allocation timestamp is negative, NaN or infinite")

    def _validate_refractory(self, refractory: int) -> None:
        state = self._columns.state
        if refractory != len(self._refractory):
            raise StateError(
                f"{refractory} columns are refractory but {len(self._refractory)} are queued"
            )
        previous = float("-inf")
        for deadline, col in self._refractory:
            if state[col] != REFRACTORY or deadline < previous:
                raise StateError(f"Refractory queue entry for column {col} is inconsistent")
            previous = deadline

    def _validate_free(self, available: int) -> None:
        """The first-fit free set holds exactly the available columns."""
        free = self._free
        if free is None:
            return
        state = self._columns.state
        if free.size() != available or len(set(free.heap)) != len(free.heap):
            raise StateError(
                f"First-fit free set holds {free.size()} columns, expected {available}"
            )
        heap = free.heap
        if heap and (max(heap) >= free.frontier
                     or self._scans.count_between(state, heap, AVAILABLE, AVAILABLE) != len(heap)):
            raise StateError("First-fit free set holds a column that is not available")
        if state.count(AVAILABLE, free.frontier) != self.column_count - free.frontier:
            raise StateError(f"A column at or after frontier {free.frontier} is not available")

    # --------------------------------------------------------------------- snapshots

    def snapshot(self):
        """The whole state as a versioned, checksummed :class:`~cortexkg.snapshot.Snapshot`."""
        from .snapshot import take

        self._expire_now()
        return take(self)

    def snapshot_parts(self) -> list:
        """The bytes of :meth:`snapshot` as parts to join: its buffers are the engine's own
        (valid until it changes), so the state is copied once, by whoever joins them."""
        from .snapshot import parts

        self._expire_now()
        return parts(self)

    @classmethod
    def restore(cls, snapshot, *, backend: str = "auto", host: Host | None = None):
        """A new engine from a snapshot (or its bytes); raises :class:`StateError` naming
        the problem and never returns a partial state."""
        from .snapshot import restore

        return restore(cls, snapshot, backend=backend, host=host or default_host())
