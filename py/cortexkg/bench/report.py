"""Turns benchmark records into the printed tables, the floors check and the JSON file."""

import json
import os
import platform
import sys
import time
from pathlib import Path

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


def write_json(path: Path, settings: dict, records: list[dict], floors: list[dict]) -> None:
    """Write machine info, settings, every record and the floor verdicts to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "machine": machine_info(),
        "settings": settings,
        "records": records,
        "floors": floors,
    }
    path.write_text(json.dumps(document, indent=2) + "\n")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def _number(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _speedup(record: dict) -> str:
    speedup = record.get("speedup")
    if speedup is None:
        return ""
    prefix = "" if record["baseline_complete"] else "~"
    return f"{prefix}{speedup:,.{1 if speedup < 100 else 0}f}x"


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
    """The timing table, the memory table and the floors section, as text."""
    timed = [r for r in records if r["workload"] != "memory"]
    timing = _table(
        ("workload", "N", "engine", "total", "µs/op", "ops/s", "speedup", "note"),
        [
            (
                r["workload"],
                f"{r['size']:,}",
                r["engine"],
                _duration(r["seconds"]),
                _number(r["us_per_op"], 2),
                _number(r["ops_per_s"], 0 if (r["ops_per_s"] or 0) >= 100 else 2),
                _speedup(r),
                r["note"],
            )
            for r in timed
        ],
        right={1, 3, 4, 5, 6},
    )
    memory = _table(
        ("N", "engine", "bytes/column", "peak"),
        [
            (
                f"{r['size']:,}",
                r["engine"],
                _number(r["bytes_per_column"], 1),
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
        "memory (tracemalloc): bytes/column after construction; "
        "peak while constructing and filling every column one by one",
        memory,
        "",
    ]
    if floors:
        sections.append(f"floors ({FLOOR_BACKEND} backend, N = {FLOOR_SIZE:,}):")
        for f in floors:
            unit, digits = ("ops/s", 0) if f["metric"] == "ops_per_s" else ("s", 3)
            measured = _number(f["measured"], digits)
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
