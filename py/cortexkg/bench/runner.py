"""The benchmark's workloads, timed the same way under CPython and in Pyodide.

Per engine and size N:

- The chain, each step on the state the previous one left: allocate ids 1..N one by one
  (first_fit) into N columns; deallocate the odd ids; optimize; allocate N/2 new ids in one
  batch (which fills the engine again); snapshot; restore. Freeing the odd ids empties
  columns 0, 2, 4, ..., so compaction has to move every remaining concept (freeing the even
  ones would leave the baseline's defragmentation nothing it can move).
- ``mixed``: N single operations on a fresh first_fit engine of N columns, a seeded stream
  of 70% allocations of new ids and 30% deallocations of a random allocated id, each timed
  on its own (mean and p50/p99/p99.9 latency).
- ``affinity16``, ``affinity64``: ``min(N/2, 1000)`` single allocations with embeddings of
  that dimension into an affinity engine of N columns whose other half is allocated.
- ``memory``: traced bytes per column after construction (and the peak while filling).

Our backends report the fastest of ``REPEATS`` runs; the baseline runs once, the chain and
the mixed stream each within the time budget. Affinity scans cost O(N) per allocation, so
every engine's affinity loop stops at the budget too, and repeats only while it finishes.
Nothing here needs numpy: :func:`run` works in Pyodide with the ``wasm`` backend.
"""

import gc
import math
import random
import sys
import time
import tracemalloc
import zlib
from array import array

from cortexkg import AllocationEngine
from cortexkg.bench.baseline import ReferencePortEngine
from cortexkg.bench.timing import budget_note, deadline_after, gc_paused, new_record, timed_loop
from cortexkg.fields import stride_of
from cortexkg.scans import select_scans

BASELINE = "baseline"
CHAIN = ("allocate", "deallocate", "optimize", "batch_allocate", "snapshot", "restore")
AFFINITY_DIMS = (16, 64)
WORKLOADS = (*CHAIN, "mixed", *(f"affinity{dim}" for dim in AFFINITY_DIMS), "memory")
MIXED_ALLOCATE_SHARE = 0.7
AFFINITY_OPS = 1000
# Filling an engine under tracemalloc is several times slower; above this size only the
# construction is measured.
MEMORY_FILL_MAX = 100_000
_WARM_UP_SIZE = 64
# Our engines run each workload this many times and report the fastest run, as timeit
# does: the first run at a new size also pays for growing the process's heap.
REPEATS = 3


def _make(engine: str, n: int):
    if engine == BASELINE:
        return ReferencePortEngine(n)
    return AllocationEngine(n, backend=engine)


class _Chain:
    """Times one engine's workloads in order, each on the state the previous one left.

    With a deadline (the baseline's budget), a loop stops where the deadline falls and
    reports how far it got. A single call cannot be interrupted, so it starts only if the
    budget left covers the previous step's time (in the reference design, defragmenting
    costs about as much as the deallocations before it, and the batch less than the
    defragmentation). Steps after a stop are recorded as not run.
    """

    def __init__(self, engine: str, n: int, deadline: float | None) -> None:
        self.engine, self.n, self.deadline = engine, n, deadline
        self.records: list[dict] = []
        self._blocked = ""
        self._previous_s = 0.0

    def _add(self, workload, ops, done, seconds, note="", **extra) -> None:
        record = new_record(workload, self.n, self.engine, ops, done, seconds, note, **extra)
        self.records.append(record)
        self._previous_s = seconds or 0.0
        if done < ops and not self._blocked:
            self._blocked = f"not run: budget ran out during {workload}"

    def skip(self, workload: str, ops: int, note: str) -> None:
        """Record a workload that does not run on this engine."""
        self.records.append(new_record(workload, self.n, self.engine, ops, note=note))

    def loop(self, workload: str, op, items) -> None:
        """Time ``op(item)`` for each item, stopping at the deadline."""
        if self._blocked:
            self.skip(workload, len(items), self._blocked)
            return
        done, seconds = timed_loop(op, items, self.deadline)
        self._add(workload, len(items), done, seconds, budget_note(done, len(items)))

    def call(self, workload: str, fn, *args, ops: int = 1, describe=None):
        """Time one call of ``fn(*args)`` counting as ``ops`` operations; return its result.

        ``describe(result)`` gives the record's extra fields.
        """
        if not self._blocked and self.deadline is not None:
            if time.perf_counter() + self._previous_s > self.deadline:
                self._blocked = f"not run: budget left too short for {workload}"
        if self._blocked:
            self.skip(workload, ops, self._blocked)
            return None
        with gc_paused():
            start = time.perf_counter()
            result = fn(*args)
            seconds = time.perf_counter() - start
        extra = describe(result) if describe else {}
        note = ", ".join(f"{key}={value:,}" for key, value in extra.items())
        self._add(workload, ops, ops, seconds, note, **extra)
        return result


def bench_chain(engine: str, n: int, deadline: float | None = None) -> list[dict]:
    """Run the workload chain on a new ``engine`` of ``n`` columns; one record per step."""
    chain = _Chain(engine, n, deadline)
    eng = _make(engine, n)
    chain.loop("allocate", eng.allocate_concept, range(1, n + 1))
    chain.loop("deallocate", eng.deallocate_concept, range(1, n + 1, 2))
    chain.call("optimize", eng.optimize_allocations, describe=lambda changes: {"changes": changes})
    new_ids = list(range(n + 1, n + 1 + n // 2))
    chain.call("batch_allocate", eng.allocate_batch, new_ids, ops=len(new_ids))
    if engine == BASELINE:
        for workload in ("snapshot", "restore"):
            chain.skip(workload, 1, "n/a: the reference design has no snapshot")
    else:
        snap = chain.call("snapshot", eng.snapshot)
        chain.call("restore", lambda: AllocationEngine.restore(snap, backend=engine))
    return chain.records


def mixed_stream(n: int, seed: int) -> list[tuple[bool, int]]:
    """``n`` operations ``(allocate?, concept id)``, reproducible from ``seed``.

    70% allocate a new id, 30% deallocate a random allocated one (an allocation when none
    is allocated). ``n`` operations never fill ``n`` columns, so every allocation succeeds.
    """
    rng = random.Random(seed)
    live: list[int] = []
    ops = []
    for _ in range(n):
        if live and rng.random() >= MIXED_ALLOCATE_SHARE:
            index = rng.randrange(len(live))
            live[index], live[-1] = live[-1], live[index]
            ops.append((False, live.pop()))
        else:
            live.append(len(ops) + 1)  # a new id: no earlier operation used it
            ops.append((True, live[-1]))
    return ops


def latency_percentiles(seconds: list[float]) -> dict:
    """p50, p99, p99.9 (nearest rank) and the maximum of per-operation times, in µs."""
    ordered = sorted(seconds)

    def rank(q: float) -> float:
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1e6

    return {"p50_us": rank(0.5), "p99_us": rank(0.99), "p999_us": rank(0.999),
            "max_us": ordered[-1] * 1e6}


def bench_mixed(engine: str, n: int, deadline: float | None = None) -> dict:
    """Time each operation of the mixed stream on a new ``engine`` of ``n`` columns."""
    eng = _make(engine, n)
    ops = [(eng.allocate_concept if allocate else eng.deallocate_concept, concept_id)
           for allocate, concept_id in mixed_stream(n, seed=n)]
    clock = time.perf_counter
    times = []
    with gc_paused():
        for op, concept_id in ops:
            start = clock()
            op(concept_id)
            end = clock()
            times.append(end - start)
            if deadline is not None and end > deadline:
                break
    done = len(times)
    return new_record("mixed", n, engine, len(ops), done, math.fsum(times),
                   budget_note(done, len(ops)), **latency_percentiles(times))


def half_full_affinity_engine(backend: str, n: int, dim: int) -> AllocationEngine:
    """An affinity engine of ``n`` columns, ``n // 2`` of them available, at seeded places.

    Filling it through the affinity strategy would cost a full scan per concept (O(n²)),
    so a first_fit engine is filled in one batch, a random half of it released, and its
    snapshot relabelled as an affinity engine of ``dim`` with the fields a new one has;
    restore validates the result like any snapshot's.
    """
    filled = AllocationEngine(n, backend=backend)
    filled.allocate_batch(range(n))
    filled.deallocate_batch(random.Random(n).sample(range(n), n // 2))
    snap = filled.snapshot()
    stride = stride_of(dim)
    fields = array("f", bytes(4 * n * stride))
    select_scans(backend).init_fields(fields, dim, stride, seed=0)
    data = memoryview(fields).cast("B")  # native order: wasm and x86 are little-endian
    snap.header["config"].update(strategy="affinity", dim=dim, seed=0)
    for entry in snap.header["buffers"]:
        if entry["name"] == "fields":
            entry.update(length=len(fields), crc32=zlib.crc32(data))
    snap.buffers["fields"] = data
    return AllocationEngine.restore(snap, backend=backend)


def bench_affinity(engine: str, n: int, dim: int, budget_s: float | None = None) -> dict:
    """Time single allocations with embeddings into a half-full affinity engine.

    The timed loop stops after ``budget_s``; building the engine is not timed.
    """
    workload, ops = f"affinity{dim}", min(n // 2, AFFINITY_OPS)
    if engine == BASELINE:
        return new_record(workload, n, engine, ops,
                       note="n/a: the reference design has no affinity strategy")
    eng = half_full_affinity_engine(engine, n, dim)
    rng = random.Random(dim)
    items = [(n + i, [rng.uniform(-1.0, 1.0) for _ in range(dim)]) for i in range(ops)]
    done, seconds = timed_loop(lambda item: eng.allocate_concept(*item), items,
                                deadline_after(budget_s))
    return new_record(workload, n, engine, ops, done, seconds, budget_note(done, ops))


def measure_memory(engine: str, n: int, fill: bool) -> dict:
    """Traced bytes per column after construction; with ``fill``, also the peak.

    The peak covers constructing the engine and allocating every column one by one. Our
    engines also report the bytes of column state proper (``state_bytes_per_column``).
    """
    gc.collect()
    tracemalloc.start()
    try:
        eng = _make(engine, n)
        built, _ = tracemalloc.get_traced_memory()
        if fill:
            for concept_id in range(1, n + 1):
                eng.allocate_concept(concept_id)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return new_record(
        "memory",
        n,
        engine,
        ops=0,
        bytes_per_column=built / n,
        state_bytes_per_column=None if engine == BASELINE
        else column_state_bytes(eng) / n,
        peak_bytes=peak if fill else None,
    )


# The column state proper (13 bytes per column; see cortexkg.columns); the rest of a
# column's buffers is the allocation record of its concept.
COLUMN_STATE = ("state", "concept", "activation", "usage")


def column_state_bytes(engine: AllocationEngine) -> int:
    """Bytes of the column state proper (``COLUMN_STATE``) of all of ``engine``'s columns."""
    buffers = engine.state().buffers
    return sum(len(memoryview(buffers[name]).cast("B")) for name in COLUMN_STATE)


def _fastest(runs: list[list[dict]]) -> list[dict]:
    """Record by record, the fastest run that finished (an unfinished one if none did)."""
    return [min(same, key=lambda r: (not r["complete"], r["seconds"])) for same in zip(*runs)]


def bench_size(engine: str, n: int, budget_s: float) -> list[dict]:
    """Every workload on ``engine`` at ``n`` columns, as the module docstring says."""
    if engine == BASELINE:
        records = bench_chain(engine, n, deadline_after(budget_s))
        records.append(bench_mixed(engine, n, deadline_after(budget_s)))
        records += [bench_affinity(engine, n, dim) for dim in AFFINITY_DIMS]
    else:
        records = _fastest(
            [[*bench_chain(engine, n), bench_mixed(engine, n)] for _ in range(REPEATS)])
        for dim in AFFINITY_DIMS:
            runs = [[bench_affinity(engine, n, dim, budget_s)]]
            while len(runs) < REPEATS and runs[-1][0]["complete"]:
                runs.append([bench_affinity(engine, n, dim, budget_s)])
            records += _fastest(runs)
    allocated = records[0]["complete"]
    records.append(measure_memory(engine, n, fill=allocated and n <= MEMORY_FILL_MAX))
    return records


def _add_speedups(records: list[dict]) -> None:
    baseline = {(r["workload"], r["size"]): r for r in records if r["engine"] == BASELINE}
    for r in records:
        if r["engine"] == BASELINE:
            continue
        base = baseline.get((r["workload"], r["size"]))
        comparable = base is not None and base["us_per_op"] and r["us_per_op"]
        r["speedup"] = base["us_per_op"] / r["us_per_op"] if comparable else None
        r["baseline_complete"] = base["complete"] if comparable else None


def run(sizes, backends, budget_s: float, progress=sys.stderr) -> list[dict]:
    """Benchmark every size with every backend and the baseline; return all records.

    Records come ordered by workload, then size, then engine (backends, then baseline);
    ``progress`` (a file, or None) gets one line per engine and size.
    """
    engines = (*backends, BASELINE)
    for engine in engines:
        bench_size(engine, _WARM_UP_SIZE, budget_s)  # first-use costs stay out
    records = []
    for n in sizes:
        for engine in engines:
            start = time.perf_counter()
            records += bench_size(engine, n, budget_s)
            if progress is not None:
                print(f"N={n:,} {engine}: {time.perf_counter() - start:.1f} s", file=progress)
    _add_speedups(records)
    order = {workload: i for i, workload in enumerate(WORKLOADS)}
    records.sort(key=lambda r: (order[r["workload"]], r["size"]))
    return records
