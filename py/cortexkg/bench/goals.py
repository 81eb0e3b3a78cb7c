"""The project's performance goals, judged from the records measured in the browser.

Engine costs come from the benchmark run inside Pyodide (runtime ``pyodide``, engine
``wasm``); snapshot save and load prefer the browser's own ``snapshot_save`` and
``snapshot_load`` records (through the page's storage) over the engine's ``snapshot`` and
``restore``; page readiness and long tasks come from the browser's ``page_ready`` and
``longtasks`` records, the first visit's transfer and the offline second visit from
build/bench_offline.py's ``first_visit`` and ``offline_ready``.
"""

from cortexkg.bench.report import number
from cortexkg.bench.runner import WORKLOADS

GOAL_RUNTIME, GOAL_ENGINE = "pyodide", "wasm"
PAGE_READY_MARGIN_S = 0.5
FIRST_VISIT_MAX_BYTES = 7_000_000
LONG_TASK_SIZE = 100_000

# goal, workloads (the first one measured counts), size, field, limit, scale, unit
_LIMITS = (
    ("allocate ≤ 6 µs/op at 10K", ("allocate",), 10_000, "us_per_op", 6, 1, "µs/op"),
    ("allocate ≤ 5 µs/op at 1M", ("allocate",), 1_000_000, "us_per_op", 5, 1, "µs/op"),
    ("deallocate ≤ 5 µs/op at 100K", ("deallocate",), 100_000, "us_per_op", 5, 1, "µs/op"),
    ("batch allocate ≤ 1 µs/item at 100K", ("batch_allocate",), 100_000, "us_per_op", 1, 1,
     "µs/item"),
    ("optimize ≤ 30 ms at 100K", ("optimize",), 100_000, "seconds", 30, 1e3, "ms"),
    ("optimize ≤ 300 ms at 1M", ("optimize",), 1_000_000, "seconds", 300, 1e3, "ms"),
    ("snapshot save ≤ 100 ms at 1M", ("snapshot_save", "snapshot"), 1_000_000, "seconds",
     100, 1e3, "ms"),
    ("snapshot load ≤ 100 ms at 1M", ("snapshot_load", "restore"), 1_000_000, "seconds",
     100, 1e3, "ms"),
)


def _find(records: list[dict], workload: str, size: int | None = None) -> dict | None:
    """The goal runtime's record of ``workload`` (at ``size``); browser-only workloads,
    which the engine benchmark does not produce, match on workload and size alone."""
    for r in records:
        if r["workload"] != workload or (size is not None and r.get("size") != size):
            continue
        if workload not in WORKLOADS or (
                r.get("runtime") == GOAL_RUNTIME and r.get("engine") == GOAL_ENGINE):
            return r
    return None


def _verdict(goal: str, measured: str | None, met: bool | None, source: dict | None) -> dict:
    if measured is None:
        return {"goal": goal, "measured": "not measured", "met": None, "workload": None}
    return {"goal": goal, "measured": measured, "met": met, "workload": source["workload"]}


def _limit(goal, workloads, size, field, limit, scale, unit, records) -> dict:
    for workload in workloads:
        r = _find(records, workload, size)
        if r is not None and r.get(field) is not None:
            value = r[field] * scale
            digits = 0 if value >= 100 else 1 if value >= 10 else 2
            return _verdict(goal, f"{number(value, digits)} {unit} ({workload})",
                            value <= limit, r)
    return _verdict(goal, None, None, None)


def _page_ready(records) -> dict:
    goal = f"page ready ≤ Pyodide's own load + {PAGE_READY_MARGIN_S:g} s"
    r = _find(records, "page_ready")
    if r is None or r.get("cold_s") is None or r.get("pyodide_s") is None:
        return _verdict(goal, None, None, None)
    limit = r["pyodide_s"] + PAGE_READY_MARGIN_S
    measured = f"cold {r['cold_s']:.2f} s; Pyodide alone {r['pyodide_s']:.2f} s"
    return _verdict(goal, measured, r["cold_s"] <= limit, r)


def _first_visit(records) -> dict:
    goal = f"first visit transfers ≤ {FIRST_VISIT_MAX_BYTES / 1e6:g} MB"
    r = _find(records, "first_visit")
    if r is None or r.get("bytes") is None:
        return _verdict(goal, None, None, None)
    return _verdict(goal, f"{r['bytes'] / 1e6:.2f} MB (gzip; until ready and cached offline)",
                    r["bytes"] <= FIRST_VISIT_MAX_BYTES, r)


def _offline_ready(records) -> dict:
    goal = f"offline second visit ready ≤ Pyodide's own load + {PAGE_READY_MARGIN_S:g} s"
    r = _find(records, "offline_ready")
    if r is None or r.get("offline_s") is None or r.get("pyodide_s") is None:
        return _verdict(goal, None, None, None)
    measured = f"offline {r['offline_s']:.2f} s; Pyodide alone {r['pyodide_s']:.2f} s"
    return _verdict(goal, measured, r["offline_s"] <= r["pyodide_s"] + PAGE_READY_MARGIN_S, r)


def _long_tasks(records) -> dict:
    goal = f"no main-thread task over 50 ms during a {LONG_TASK_SIZE // 1000}K batch"
    r = _find(records, "longtasks", LONG_TASK_SIZE)
    if r is None or r.get("over_50ms") is None:
        return _verdict(goal, None, None, None)
    return _verdict(goal, f"{r['over_50ms']} tasks over 50 ms", r["over_50ms"] == 0, r)


def _column_bytes(records) -> dict:
    goal = "column state ≤ 16 bytes/column"
    memory = [r for r in records if r["workload"] == "memory"
              and r.get("runtime") == GOAL_RUNTIME and r.get("engine") == GOAL_ENGINE]
    if not memory:
        return _verdict(goal, None, None, None)
    r = max(memory, key=lambda r: r["size"])
    measured = (f"{r['state_bytes_per_column']:.1f} B/column of column state at N = "
                f"{r['size']:,}; {r['bytes_per_column']:.1f} B/column in all, with the "
                "allocation record (tracemalloc)")
    return _verdict(goal, measured, r["state_bytes_per_column"] <= 16, r)


def evaluate_goals(records: list[dict]) -> list[dict]:
    """One verdict per goal: ``goal``, ``measured`` (text), ``met`` (None: not measured)
    and the ``workload`` of the record it was judged from."""
    verdicts = [_limit(*spec, records) for spec in _LIMITS]
    return [*verdicts, _page_ready(records), _first_visit(records), _offline_ready(records),
            _long_tasks(records), _column_bytes(records)]
