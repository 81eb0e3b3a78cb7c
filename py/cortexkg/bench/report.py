"""Benchmark records: the JSON-lines file, the floors check and the printed tables.

A results file holds one JSON object per line: first ``{"type": "machine", ...}`` (what
the numbers were measured on, the command and its settings), then one
``{"type": "record", ...}`` per record of :func:`cortexkg.bench.runner.run`.
"""

import json
import os
import platform
import sys
import time
from pathlib import Path

from cortexkg.bench.timing import RUNTIME

LATENCY_FIELDS = ("p50_us", "p99_us", "p999_us", "max_us")  # of the mixed workload
# The floors, for the CPython backend at 1M columns.
FLOOR_SIZE = 1_000_000
FLOOR_BACKEND = "numpy"
_FLOORS = (  # workload, metric, comparison, limit
    ("allocate", "ops_per_s", ">=", 300_000),
    ("deallocate", "ops_per_s", ">=", 300_000),
    ("batch_allocate", "seconds", "<=", 0.5),
    ("optimize", "seconds", "<=", 0.3),
    ("snapshot", "seconds", "<=", 0.1),
    ("restore", "seconds", "<=", 0.1),
)


def machine_info() -> dict:
    """What the numbers were measured on."""
    try:
        import numpy
    except ImportError:
        numpy_version = None
    else:
        numpy_version = numpy.__version__
    return {
        "runtime": RUNTIME,
        "python": sys.version,
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "numpy": numpy_version,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def check_floors(records: list[dict]) -> list[dict]:
    """One verdict per floor, from the numpy backend's records at 1M columns.

    Empty when that backend did not run at that size.
    """
    by_workload = {
        r["workload"]: r
        for r in records
        if r["size"] == FLOOR_SIZE and r["engine"] == FLOOR_BACKEND
    }
    if not by_workload:
        return []
    verdicts = []
    for workload, metric, comparison, limit in _FLOORS:
        measured = by_workload[workload][metric]
        met = measured is not None and (
            measured >= limit if comparison == ">=" else measured <= limit
        )
        verdicts.append(
            {
                "workload": workload,
                "metric": metric,
                "comparison": comparison,
                "limit": limit,
                "measured": measured,
                "met": met,
            }
        )
    return verdicts


def write_jsonl(path: Path, machine: dict, records: list[dict]) -> None:
    """Write the machine line, then one line per record, to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [{"type": "machine", **machine}, *({"type": "record", **r} for r in records)]
    path.write_text("".join(json.dumps(line, allow_nan=False) + "\n" for line in lines))


def read_jsonl(path: Path) -> tuple[list[dict], list[dict]]:
    """The machine lines and the record lines of a results file, without their ``type``."""
    machines, records = [], []
    for line_no, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        item = json.loads(line)
        kind = item.pop("type", None)
        if kind not in ("machine", "record"):
            raise ValueError(f"{path}:{line_no}: type {kind!r}, expected 'machine' or 'record'")
        (machines if kind == "machine" else records).append(item)
    return machines, records


def duration(seconds: float | None) -> str:
    """A time span in s, ms or µs; ``-`` for None."""
    if seconds is None:
        return "-"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def number(value: float | None, digits: int = 0) -> str:
    """``value`` with thousands separators; ``-`` for None."""
    return "-" if value is None else f"{value:,.{digits}f}"


def speedup(record: dict) -> str:
    """The record's speedup over the baseline; ``~`` when the baseline ran out of budget."""
    value = record.get("speedup")
    if value is None:
        return ""
    prefix = "" if record["baseline_complete"] else "~"
    return f"{prefix}{value:,.{1 if value < 100 else 0}f}x"


def _table(header: tuple, rows: list[tuple], right: set[int]) -> str:
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
    lines = []
    for row in (header, *rows):
        cells = [
            str(cell).rjust(w) if i in right else str(cell).ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths))
        ]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_report(records: list[dict], floors: list[dict]) -> str:
    """The timing, latency and memory tables and the floors section, as text."""
    timed = [r for r in records if r["workload"] != "memory"]
    timing = _table(
        ("workload", "N", "engine", "total", "µs/op", "ops/s", "speedup", "note"),
        [
            (
                r["workload"],
                f"{r['size']:,}",
                r["engine"],
                duration(r["seconds"]),
                number(r["us_per_op"], 2),
                number(r["ops_per_s"], 0 if (r["ops_per_s"] or 0) >= 100 else 2),
                speedup(r),
                r["note"],
            )
            for r in timed
        ],
        right={1, 3, 4, 5, 6},
    )
    latency = _table(
        ("N", "engine", "mean µs", "p50 µs", "p99 µs", "p99.9 µs", "max µs", "note"),
        [
            (f"{r['size']:,}", r["engine"], number(r["us_per_op"], 2),
             *(number(r[key], 2) for key in LATENCY_FIELDS), r["note"])
            for r in records
            if r["workload"] == "mixed"
        ],
        right={0, 2, 3, 4, 5, 6},
    )
    memory = _table(
        ("N", "engine", "bytes/column", "peak"),
        [
            (
                f"{r['size']:,}",
                r["engine"],
                number(r["bytes_per_column"], 1),
                "-" if r["peak_bytes"] is None else f"{r['peak_bytes'] / 2**20:,.1f} MiB",
            )
            for r in records
            if r["workload"] == "memory"
        ],
        right={0, 2, 3},
    )
    sections = [
        "baseline: ReferencePortEngine, a Python port of the Rust reference design, run once"
        " within a time budget\nbackends: fastest of several runs\n"
        "~speedup: against the part the baseline finished within its budget\n",
        timing,
        "",
        "mixed: latency of single operations (70% allocate, 30% deallocate)",
        latency,
        "",
        "memory (tracemalloc): bytes/column after construction; "
        "peak while constructing and filling every column one by one",
        memory,
        "",
    ]
    if floors:
        sections.append(f"floors ({FLOOR_BACKEND} backend, N = {FLOOR_SIZE:,}):")
        for f in floors:
            unit, digits = ("ops/s", 0) if f["metric"] == "ops_per_s" else ("s", 3)
            measured = number(f["measured"], digits)
            sections.append(
                f"  {f['workload']:<15} {f['comparison']} {f['limit']:>9,} {unit:<5}"
                f"  measured {measured:>11} {unit:<5}  {'met' if f['met'] else 'MISSED'}"
            )
    else:
        sections.append(
            f"floors: not checked (they apply to the {FLOOR_BACKEND} backend"
            f" at N = {FLOOR_SIZE:,})"
        )
    return "\n".join(sections)
