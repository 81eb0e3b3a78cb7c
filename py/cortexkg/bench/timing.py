"""How a workload is timed and recorded, the same way under CPython and in Pyodide (and by
the browser benchmarks, which write records of the same shape): the garbage collector
paused around each timing, a loop that stops at its deadline, one record per measurement.
"""

import gc
import sys
import time
from contextlib import contextmanager

RUNTIME = "pyodide" if sys.platform == "emscripten" else "cpython"


@contextmanager
def gc_paused():
    """The garbage collector collected, then off until the block ends."""
    # As timeit does: a collection landing inside one engine's timing would be noise.
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def deadline_after(budget_s: float | None) -> float | None:
    """The clock reading ``budget_s`` from now (None: no deadline)."""
    return None if budget_s is None else time.perf_counter() + budget_s


def budget_note(done: int, ops: int) -> str:
    """A record's note when a deadline stopped it after ``done`` of ``ops`` operations."""
    return "" if done == ops else f"over budget: {done:,} of {ops:,} done"


def new_record(workload, n, engine, ops, done=0, seconds=None, note="", **extra) -> dict:
    """One benchmark record (the JSON-lines schema every runtime writes)."""
    timed = bool(done) and seconds is not None
    return {
        "workload": workload,
        "size": n,
        "engine": engine,
        "runtime": RUNTIME,
        "ops": ops,
        "done": done,
        "complete": done == ops,
        "seconds": seconds,
        "us_per_op": seconds * 1e6 / done if timed else None,
        "ops_per_s": done / seconds if timed and seconds > 0 else None,
        "note": note,
        **extra,
    }


def timed_loop(op, items, deadline: float | None) -> tuple[int, float]:
    """Call ``op(item)`` for each item until the deadline; return (calls, seconds)."""
    done = 0
    with gc_paused():
        start = time.perf_counter()
        if deadline is None:  # no clock reads inside an unbudgeted loop
            for item in items:
                op(item)
            done = len(items)
        else:
            for item in items:
                op(item)
                done += 1
                if time.perf_counter() > deadline:
                    break
        seconds = time.perf_counter() - start
    return done, seconds
