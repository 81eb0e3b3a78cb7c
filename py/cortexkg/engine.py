"""The allocation engine: concepts to columns, the reference design's surface, fixed.

State is columnar (:mod:`cortexkg.columns`); ``concept -> column`` and the allocation
order live in the concept index (:mod:`cortexkg.concept_index`), flat buffers too. Every
O(n) pass goes through the scan interface (:mod:`cortexkg.scans`); first-fit allocation
and deallocation are O(log n) (:mod:`cortexkg.free_columns`). This class holds the
single-concept operations and the state; each other job is its own module, called with
the engine's parts: :mod:`~cortexkg.batch`, :mod:`~cortexkg.refractory`,
:mod:`~cortexkg.activation`, :mod:`~cortexkg.optimize`, :mod:`~cortexkg.records` and
:mod:`~cortexkg.invariants`. Its reads (:mod:`~cortexkg.engine_queries`) and its state
taken and adopted (:mod:`~cortexkg.engine_snapshots`) are base classes of their own.
"""

from __future__ import annotations

from array import array
from heapq import heappop
from typing import Any, Callable

from . import activation, batch, invariants, optimize
from . import fields as fdef
from . import validation as check
from .batch import BATCH_CHUNK  # noqa: F401  (journal.py and the tests size chunks by it)
from .columns import ALLOCATED, ColumnStore
from .concept_index import EMPTY, ConceptIndex
from .config import check_config
from .engine_queries import EngineQueries
from .engine_snapshots import EngineSnapshots
from .engine_state import COUNTERS
from .errors import NO_FREE_COLUMNS, AllocationError, not_allocated
from .free_columns import FirstFitFree
from .host import Host, default_host
from .refractory import RefractoryWait
from .scans import select_scans
from .timing import TimingWindow
from .validation import MAX_CONCEPT_ID

_NO_FIELD = array("f")  # the query when dim is 0: every score is 0.0


class AllocationEngine(EngineQueries, EngineSnapshots):
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
        self._wait = RefractoryWait(self._columns, self._free, self.refractory_ms)
        # the queue and expire() bound once: the allocation hot paths test them per call
        self._refractory = self._wait.queue
        self._expire = self._wait.expire
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
        activation.use(self._columns, col, count)
        self._counters["usage_hits"] += count

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
        given = batch.embeddings(embeddings, len(ids), self.dim)
        for first, last in batch.chunks(len(ids)):
            self._allocate_chunk(ids[first:last], None if given is None else given[first:last])
            if progress is not None:
                progress(last, len(ids))
        return batch.allocation_results(ids, self._index.get_many(ids), columnar)

    def _allocate_chunk(self, ids: list[int], given: list | None) -> None:
        start = self._now()
        if self._refractory:
            self._expire(start)
        counters = self._counters
        before = counters["total_allocations"]
        if self._free is not None and given is None and not self.dim:
            counters["total_allocations"] += batch.place_first_fit(
                ids, self._index, self._columns, self._free, self._available(), self._hit,
                self._wall())
        else:
            batch.place_one_by_one(ids, given, self._index, self._allocate_new, self._hit,
                                   self._wall())
        placed = counters["total_allocations"] - before
        if placed:
            self._times.add_batch((self._now() - start) / placed, placed)

    # ---------------------------------------------------------------- deallocation

    def deallocate_concept(self, concept_id: int) -> bool:
        """Release a concept's column; ``False`` when it was not allocated."""
        cid = check.concept_id(concept_id)
        col = self._index.pop(cid)
        if col is None:
            return False
        self._counters["total_deallocations"] += 1
        self._wait.release(col, self._now() if self.refractory_ms else 0.0)
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
        pop, release = self._index.pop, self._wait.release
        for first, last in batch.chunks(len(ids)):
            now = self._now() if self.refractory_ms else 0.0
            for cid in ids[first:last]:
                col = pop(cid)
                if col is None:
                    released.append(-1)
                else:
                    self._counters["total_deallocations"] += 1
                    release(col, now)
                    released.append(col)
            if progress is not None:
                progress(last, len(ids))
        return batch.deallocation_results(ids, released, columnar)

    def _expire_now(self) -> None:
        if self._refractory:
            self._expire(self._now())

    def _available(self) -> int:
        return self.column_count - self._index.size - len(self._refractory)

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
            raise AllocationError(not_allocated(cid))
        half_life = self.activation_half_life_ms
        result = activation.activate(self._columns, col, strength, half_life,
                                     self._wall() if half_life else 0.0)
        self._counters["activations"] += 1
        return result

    # ------------------------------------------------------------------ optimization

    def optimize_allocations(self) -> int:
        """Defragment then rebalance, as one permutation (:func:`cortexkg.optimize.compact`);
        return how many concepts moved.

        Logs ``Optimization completed in {ms:.2f}ms, {changes} changes made``.
        """
        start = self._now()
        self._expire(start)
        changes = optimize.compact(self._columns, self._index, self._scans)
        optimize.rebuild_free(self._free, self._columns.state, self._scans)
        self._counters["optimization_cycles"] += 1
        self._counters["moves_total"] += changes
        elapsed = self._now() - start
        self._host.log(f"Optimization completed in {elapsed:.2f}ms, {changes} changes made")
        return changes

    # -------------------------------------------------------------------- invariants

    def validate(self) -> None:
        """Check every invariant (:mod:`cortexkg.invariants`); raise :class:`StateError`
        naming the first violated."""
        available = invariants.check_store(
            self._columns, self.column_count, self._scans, self._index, self._refractory,
            self._counters, self._times)
        invariants.check_free(self._free, self._columns.state, self._scans, available)
