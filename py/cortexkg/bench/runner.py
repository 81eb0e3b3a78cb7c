"""The benchmark: workloads, engines, time budget, and the ``python -m cortexkg.bench`` CLI.

Every engine at every size runs one chain of workloads, each on the state the previous
one left: allocate ids 1..N one by one (first_fit) into N columns; deallocate the odd ids;
optimize; allocate N/2 new ids in one batch (which fills the engine again); snapshot;
restore. Freeing the odd ids empties columns 0, 2, 4, ..., so compaction has to move every
remaining concept (freeing the even ones would leave the baseline's defragmentation
nothing it can move).
"""

import argparse
import gc
import sys
import time
import tracemalloc
from contextlib import contextmanager
from pathlib import Path

from cortexkg import AllocationEngine
from cortexkg.bench.baseline import ReferencePortEngine
from cortexkg.bench.report import check_floors, format_report, write_json

BASELINE = "baseline"
WORKLOADS = ("allocate", "deallocate", "optimize", "batch_allocate", "snapshot", "restore")
DEFAULT_SIZES = (1_000, 10_000, 100_000, 1_000_000)
QUICK_SIZES = (1_000, 5_000)
DEFAULT_BACKENDS = ("numpy", "reference")
DEFAULT_BUDGET_S = 20.0
DEFAULT_JSON = Path("bench-results/cpython.json")
# Filling an engine under tracemalloc is several times slower; above this size only the
# construction is measured.
MEMORY_FILL_MAX = 100_000
_WARM_UP_SIZE = 64
# Our engines run each chain this many times and report the fastest run per workload, as
# timeit does: the first run at a new size also pays for growing the process's heap.
# The baseline runs once, within its budget.
REPEATS = 3


@contextmanager
def _gc_paused():
    # As timeit does: a collection landing inside one engine's timing would be noise.
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _make(engine: str, n: int):
    if engine == BASELINE:
        return ReferencePortEngine(n)
    return AllocationEngine(n, backend=engine)


def _record(workload, n, engine, ops, done=0, seconds=None, note="", **extra) -> dict:
    timed = bool(done) and seconds is not None
    return {
        "workload": workload,
        "size": n,
        "engine": engine,
        "ops": ops,
        "done": done,
        "complete": done == ops,
        "seconds": seconds,
        "us_per_op": seconds * 1e6 / done if timed else None,
        "ops_per_s": done / seconds if timed and seconds > 0 else None,
        "note": note,
        **extra,
    }


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
        record = _record(workload, self.n, self.engine, ops, done, seconds, note, **extra)
        self.records.append(record)
        self._previous_s = seconds or 0.0
        if done < ops and not self._blocked:
            self._blocked = f"not run: budget ran out during {workload}"

    def skip(self, workload: str, ops: int, note: str) -> None:
        """Record a workload that does not run on this engine."""
        self.records.append(_record(workload, self.n, self.engine, ops, note=note))

    def loop(self, workload: str, op, items) -> None:
        """Time ``op(item)`` for each item, stopping at the deadline."""
        if self._blocked:
            self.skip(workload, len(items), self._blocked)
            return
        done = 0
        with _gc_paused():
            start = time.perf_counter()
            if self.deadline is None:  # no clock reads inside an unbudgeted loop
                for item in items:
                    op(item)
                done = len(items)
            else:
                for item in items:
                    op(item)
                    done += 1
                    if time.perf_counter() > self.deadline:
                        break
            seconds = time.perf_counter() - start
        note = "" if done == len(items) else f"over budget: {done:,} of {len(items):,} done"
        self._add(workload, len(items), done, seconds, note)

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
        with _gc_paused():
            start = time.perf_counter()
            result = fn(*args)
            seconds = time.perf_counter() - start
        extra = describe(result) if describe else {}
        note = ", ".join(f"{key}={value:,}" for key, value in extra.items())
        self._add(workload, ops, ops, seconds, note, **extra)
        return result


def bench_engine(engine: str, n: int, deadline: float | None = None) -> list[dict]:
    """Run the workload chain on a new ``engine`` of ``n`` columns; one record per workload."""
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


def measure_memory(engine: str, n: int, fill: bool) -> dict:
    """Traced bytes per column after construction; with ``fill``, also the peak.

    The peak covers constructing the engine and allocating every column one by one.
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
    return _record(
        "memory",
        n,
        engine,
        ops=0,
        bytes_per_column=built / n,
        peak_bytes=peak if fill else None,
    )


def _add_speedups(records: list[dict]) -> None:
    baseline = {(r["workload"], r["size"]): r for r in records if r["engine"] == BASELINE}
    for r in records:
        if r["engine"] == BASELINE:
            continue
        base = baseline.get((r["workload"], r["size"]))
        comparable = base is not None and base["us_per_op"] and r["us_per_op"]
        r["speedup"] = base["us_per_op"] / r["us_per_op"] if comparable else None
        r["baseline_complete"] = base["complete"] if comparable else None


def _fastest(runs: list[list[dict]]) -> list[dict]:
    return [min(same, key=lambda r: r["seconds"]) for same in zip(*runs)]


def run(sizes, backends, budget_s: float, progress=sys.stderr) -> list[dict]:
    """Benchmark every size with every backend and the baseline; return all records.

    Each backend reports its fastest of ``REPEATS`` runs; the baseline runs once, within
    ``budget_s`` seconds per size.
    """
    for engine in (*backends, BASELINE):
        bench_engine(engine, _WARM_UP_SIZE)  # first-use costs (imports, caches) stay out
    records = []
    for n in sizes:
        for engine in (*backends, BASELINE):
            start = time.perf_counter()
            if engine == BASELINE:
                timed = bench_engine(engine, n, start + budget_s)
            else:
                timed = _fastest([bench_engine(engine, n) for _ in range(REPEATS)])
            allocated = timed[0]["complete"]
            records += timed
            records.append(measure_memory(engine, n, fill=allocated and n <= MEMORY_FILL_MAX))
            print(f"N={n:,} {engine}: {time.perf_counter() - start:.1f} s", file=progress)
    _add_speedups(records)
    order = {w: i for i, w in enumerate((*WORKLOADS, "memory"))}
    records.sort(key=lambda r: (order[r["workload"]], r["size"]))
    return records


def _sizes(text: str) -> list[int]:
    sizes = [int(part) for part in text.split(",") if part]
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"sizes must be positive integers: {text!r}")
    return sizes


def _names(text: str) -> list[str]:
    return [name for name in text.split(",") if name]


def main(argv=None) -> int:
    """Command line of ``python -m cortexkg.bench``; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m cortexkg.bench",
        description="Benchmark the allocation engine against a port of the reference design.",
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        help=f"column counts, comma-separated (default: {','.join(map(str, DEFAULT_SIZES))})",
    )
    parser.add_argument(
        "--backends",
        type=_names,
        default=list(DEFAULT_BACKENDS),
        help=f"engine backends, comma-separated (default: {','.join(DEFAULT_BACKENDS)})",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"sizes {','.join(map(str, QUICK_SIZES))} unless --sizes is given",
    )
    parser.add_argument(
        "--json", type=Path, default=DEFAULT_JSON, help=f"results file (default: {DEFAULT_JSON})"
    )
    parser.add_argument(
        "--baseline-budget",
        type=float,
        default=DEFAULT_BUDGET_S,
        metavar="SECONDS",
        help="time the baseline may take per size; it reports how far it got"
        f" (default: {DEFAULT_BUDGET_S:g})",
    )
    args = parser.parse_args(argv)
    sizes = args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)
    records = run(sizes, args.backends, args.baseline_budget)
    floors = check_floors(records)
    print(format_report(records, floors))
    settings = {
        "sizes": list(sizes),
        "backends": args.backends,
        "baseline_budget_s": args.baseline_budget,
    }
    write_json(args.json, settings, records, floors)
    print(f"\nwrote {args.json}")
    return 0
