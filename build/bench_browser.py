#!/usr/bin/env python3
"""Benchmark CortexKG in headless Chromium; write JSON lines (bench-results/browser.jsonl).

Usage: .venv/bin/python build/bench_browser.py [--quick | --smoke] [--out PATH] [--site DIR]

It builds the site with the benchmark page (build_site.py --with-bench, into --site,
default .cache/bench-site), serves it with build/serve.py (cross-origin isolated) and
measures, through Playwright and Debian's chromium:

- the shared runner (cortexkg.bench.runner) inside Pyodide, in a worker booted exactly as
  the app's (web/bench/worker.js), on the wasm backend with the baseline under its budget;
  records of runtime "pyodide"; and ``memory_browser``: the wasm heap a filled engine of N
  columns takes (malloc's bytes in use; ``wasm_bytes``: the whole memory's size);
- through the JavaScript API (web/bench/api.js), each mutation acknowledged after its
  IndexedDB commit: ``api_allocate`` (sequential and pipelined), ``journal`` (raw
  IndexedDB puts), ``snapshot_save`` / ``snapshot_load`` of the runner chain's full
  engine, ``recovery`` after a long journal;
- the dashboard (bench_dashboard.py): ``page_ready`` (cold in a new profile, warm on
  reload; ``pyodide_s``: loadPyodide() alone), ``dashboard_redraw`` (one allocation to the
  frame after the grid shows it), ``longtasks`` (PerformanceObserver during a batch made
  with the controls);
- ``kernel_scan``: the scan kernel against a memory-bandwidth pass (bench_kernel.py);
- ``side_by_side`` (bench_side.py, web/bench/side.js): the reference design's JavaScript
  port against the synchronous engine and the async API in each durability mode, in the
  bench page after the API measurements, on the async engine they used (reset to each
  size and mode: web/bench/instance.js).

Everything but page_ready runs in one browser on one on-disk profile, so Pyodide's
runtime compiles once: only page_ready measures a boot, and it uses new profiles. The
smoke (--smoke), whose numbers mean nothing, does less: page_ready (one sample) and the
dashboard's redraws and long tasks share one new page of the run's browser
(bench_dashboard.one_browser_records: loadPyodide() alone, then the dashboard's first
load and its reload, three boots in all), where the full and quick runs take two new
browsers per page_ready sample and a new page per redraw size and for the long tasks.

The first line describes the machine; every other line is one record as
cortexkg.bench.report.write_jsonl writes the runner's, of runtime "pyodide" or "chromium".
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "browser"))
sys.path.insert(0, str(ROOT / "build"))

from bench_dashboard import dashboard_records, one_browser_records, page_ready  # noqa: E402
from bench_kernel import SCAN_FLOOR, run_scan  # noqa: E402
from bench_records import record, show_progress  # noqa: E402
from bench_side import side_by_side  # noqa: E402
from cortexkg.bench.__main__ import (  # noqa: E402
    DEFAULT_BUDGET_S,
    DEFAULT_SIZES,
    QUICK_BUDGET_S,
    QUICK_SIZES,
)
from cortexkg.bench.report import write_jsonl  # noqa: E402
from harness import chromium_args, chromium_executable, load_build_script, serve  # noqa: E402
from playwright.sync_api import BrowserContext, Page, Playwright, sync_playwright  # noqa: E402

SITE = ROOT / ".cache" / "bench-site"
DEFAULT_OUT = ROOT / "bench-results" / "browser.jsonl"


@dataclass(frozen=True)
class Plan:
    """Sizes and counts of one run."""

    sizes: tuple[int, ...]  # the runner's and memory_browser's
    budget_s: float  # the baseline's time per size, inside Pyodide
    calls: int  # api_allocate calls (each way) and journal records
    snapshots: tuple[int, ...]  # columns
    journal: int  # recovery: journaled allocations
    redraws: tuple[int, ...]  # dashboard columns
    repeats: int  # redraws timed per size
    longtasks: tuple[int, int]  # dashboard columns, batch size
    scan_ms: float  # shortest timed loop of the kernel scan
    ready_samples: int  # page_ready: new profiles per measurement (the median counts)
    side_sizes: tuple[int, ...]  # side_by_side: columns
    side_counts: dict  # side_by_side: calls of each kind (side.js plan() caps them by size)
    side_budget_ms: float  # side_by_side: the reference port's time per measurement
    one_browser: bool = False  # page_ready in the run's browser, on a redraw's dashboard


# The full run's journal: 100K allocations plus the most a journal holds between two
# compactions (compaction.js COMPACT_AFTER = 10,000), so recovery replays 9,999 records.
FULL = Plan(DEFAULT_SIZES, DEFAULT_BUDGET_S, 2000, (10_000, 100_000, 1_000_000), 109_999,
            (10_000, 1_000_000), 10, (200_000, 100_000), 100, 5,
            DEFAULT_SIZES, {"sequential": 2000, "pipelined": 5000, "batch": 100_000,
                            "getters": 200, "statsReads": 10_000}, 5000)
QUICK = Plan(QUICK_SIZES, QUICK_BUDGET_S, 200, (QUICK_SIZES[-1],), 2_000, (QUICK_SIZES[-1],), 3,
             (20_000, 10_000), 20, 1,
             (1_000,), {"sequential": 50, "pipelined": 200, "batch": 250, "getters": 20,
                        "statsReads": 1000}, 300)
# Every workload once at tiny sizes, one repetition: its numbers mean nothing, but it runs
# each measurement end to end, so npm test (tests/browser/test_bench_in_chromium.py)
# keeps the harness from rotting at a fraction of the quick run's cost. Its budget is a
# ceiling that work this small stays far below, even on a loaded machine: every
# measurement completes, so the test can check all of them.
SMOKE = Plan((64,), 5.0, 8, (200,), 20, (200,), 1, (200, 50), 1, 1,
             (100,), {"sequential": 8, "pipelined": 8, "batch": 16, "getters": 2,
                      # enough reads to outlast the 5 µs timer: 10 (~4 µs) could time 0
                      "statsReads": 1000}, 50,
             # page_ready (one sample) in the run's browser, its runtime compiled, on the
             # dashboard page of the redraws and long tasks: new browsers would launch
             # and compile it three times more, and each page boot once more, for
             # numbers that mean nothing
             one_browser=True)

def bench_page(page: Page, url: str, plan: Plan) -> tuple[dict, list[dict]]:
    """What web/bench/ measures in one page: (Pyodide's runtime facts, records)."""
    page.goto(url + "bench/index.html")
    python = page.evaluate("(options) => bench.python(options)",
                           {"sizes": plan.sizes, "budget": plan.budget_s})
    runtime = {**python["runtime"], "crossOriginIsolated": page.evaluate("crossOriginIsolated")}
    records = python["records"]
    for m in python["memory"]:
        records.append(record("memory_browser", m["n"], None, 0, note="malloc bytes in use",
                              wasm_bytes=m["wasmBytes"], heap_bytes=m["heapBytes"],
                              bytes_per_column=m["heapBytes"] / m["n"],
                              js_heap_bytes=python["jsHeapBytes"]))
    for row in run_scan(page, url, plan.sizes, (16, 64), plan.scan_ms):
        slow = f"scan over {SCAN_FLOOR:g}x the pass" if row["ratio"] > SCAN_FLOOR else ""
        records.append(record("kernel_scan", row["n"], row["scanMs"] / 1000, note=slow,
                              dim=row["dim"], bytes=row["bytes"], scan_gbs=row["scanGBs"],
                              pass_gbs=row["passGBs"], ratio=row["ratio"]))
    return runtime, records + api_records(page, plan)


def api_records(page: Page, plan: Plan) -> list[dict]:
    """Records of the measurements through the JavaScript API (web/bench/api.js), on the
    engine they share (the profile's storage starts empty)."""
    calls = plan.calls
    api = page.evaluate("(n) => bench.latency(n)", calls)
    engine = api["backend"]
    records = [record(
        "api_allocate", calls, api["pipelinedMs"] / 1000, calls, engine=engine,
        note="pipelined calls; each acknowledged after its IndexedDB commit",
        sequential_p50_ms=api["sequential"][0], sequential_p99_ms=api["sequential"][1],
        pipelined_p50_ms=api["pipelined"][0], pipelined_p99_ms=api["pipelined"][1],
        pipelined_us_per_call=api["pipelinedMs"] * 1000 / calls,
        query_p50_ms=api["query"][0], engine_allocate_ms=api["engineMs"])]
    ms = page.evaluate("(n) => bench.durability(n)", calls)
    records.append(record(
        "journal", calls, ms["strict"] / 1000, calls, engine="indexeddb",
        note="one record per strict transaction", strict_ms_per_record=ms["strict"] / calls,
        relaxed_ms_per_record=ms["relaxed"] / calls,
        grouped_us_per_record=ms["grouped"] * 1000 / calls))
    for n in plan.snapshots:
        result = page.evaluate("(n) => bench.snapshot(n)", n)
        saved, loaded = result["saved"], result["restored"]
        records.append(record("snapshot_save", n, saved["ms"] / 1000, engine=engine,
                              note="full engine, idle compaction: take + commit",
                              bytes=saved["bytes"],
                              after_optimize_s=result["optimized"]["ms"] / 1000))
        records.append(record("snapshot_load", n, loaded["ms"] / 1000, engine=engine,
                              note="read + restore", bytes=saved["bytes"],
                              records_replayed=loaded["records"]))
    restored = page.evaluate("(n) => bench.recovery(n)", plan.journal)
    records.append(record("recovery", plan.journal, restored["ms"] / 1000, engine=engine,
                          note="read + replay after journaled allocations",
                          records_replayed=restored["records"],
                          from_snapshot=restored["snapshot"]))
    return records


def launch(playwright: Playwright, profile: Path) -> BrowserContext:
    """Chromium on the run's on-disk profile: its HTTP cache keeps the compiled runtime
    from boot to boot, where a plain context's in-memory cache skips files as large as
    pyodide.asm.wasm. No service worker (web/sw.js): nothing caches in the background."""
    return playwright.chromium.launch_persistent_context(
        profile, executable_path=chromium_executable(), args=chromium_args(),
        service_workers="block")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, about a minute")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes, one repetition: checks the harness, measures nothing")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"JSON-lines file (default: {DEFAULT_OUT.relative_to(ROOT)})")
    parser.add_argument("--site", type=Path, default=SITE,
                        help=f"where to build the site (default: {SITE.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    plan = SMOKE if args.smoke else QUICK if args.quick else FULL

    load_build_script("build_site").build_site(dist=args.site, with_bench=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    log = args.out.with_name("serve.log")
    with (serve(args.site, log) as server, sync_playwright() as playwright,
          tempfile.TemporaryDirectory() as folder):
        profile = Path(folder) / "profile"
        context = launch(playwright, profile)
        page = context.pages[0]
        page.on("console", show_progress)
        print("bench: the bench page (Pyodide, kernel scan, JavaScript API)", flush=True)
        runtime, records = bench_page(page, server.url, plan)
        print("bench: side by side (reference port, synchronous engine, async API)", flush=True)
        records += side_by_side(page, plan.side_sizes, plan.side_counts, plan.side_budget_ms)
        print("bench: the dashboard", flush=True)
        if plan.one_browser:  # page_ready included
            records += one_browser_records(context, server.url, plan.redraws, plan.repeats,
                                           plan.longtasks)
        else:
            records += dashboard_records(context, server.url, plan.redraws, plan.repeats,
                                         plan.longtasks)
        version = context.new_cdp_session(page).send("Browser.getVersion")["product"]
        context.close()
        if not plan.one_browser:
            records.append(page_ready(playwright, server.url, plan.ready_samples))
        machine = {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                   "machine": platform.machine(),
                   "browser": version.split("/")[-1], "pyodide": runtime["pyodide"],
                   "python": runtime["python"].split()[0],
                   "crossOriginIsolated": runtime["crossOriginIsolated"],
                   "timer_resolution_ms": runtime["timerResolutionMs"],
                   "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                   "runtime": "chromium",
                   "command": shlex.join(["python", "build/bench_browser.py",
                                          *(sys.argv[1:] if argv is None else argv)])}

    write_jsonl(args.out, machine, records)
    for r in records:
        us = "-" if r["us_per_op"] is None else f"{r['us_per_op']:.1f} us/op"
        print(f"{r['runtime']:8} {r['workload']:16} {r['size']:>9,} {r['engine']:9} {us:>16}"
              f"  {r['note']}")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
