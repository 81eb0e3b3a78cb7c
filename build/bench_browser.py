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
- the dashboard: ``page_ready`` (cold in a new profile, warm on reload; ``pyodide_s``:
  loadPyodide() alone), ``dashboard_redraw`` (one allocation to the frame after the grid
  shows it), ``longtasks`` (PerformanceObserver during a batch made with the controls);
- ``kernel_scan``: the scan kernel against a memory-bandwidth pass (bench_kernel.py);
- ``side_by_side`` (web/bench/side.js), in a page of its own: the reference design's
  JavaScript port (web/bench/reference.js) against the synchronous engine (engine.js) and
  the async API in each durability mode ("relaxed" recorded as unavailable where
  create() refuses it): allocations one at a time, pipelined, batched, and stats reads,
  at each size; one record per engine and size.

The first line describes the machine; every other line is one record as
cortexkg.bench.report.write_jsonl writes the runner's, of runtime "pyodide" or "chromium".
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "browser"))
sys.path.insert(0, str(ROOT / "build"))

from bench_kernel import SCAN_FLOOR, run_scan  # noqa: E402
from cortexkg.bench.__main__ import (  # noqa: E402
    DEFAULT_BUDGET_S,
    DEFAULT_SIZES,
    QUICK_BUDGET_S,
    QUICK_SIZES,
)
from cortexkg.bench.report import write_jsonl  # noqa: E402
from cortexkg.bench.runner import new_record  # noqa: E402
from harness import App, chromium_args, chromium_executable, load_build_script, serve  # noqa: E402
from playwright.sync_api import Page, Playwright, sync_playwright  # noqa: E402

SITE = ROOT / ".cache" / "bench-site"
DEFAULT_OUT = ROOT / "bench-results" / "browser.jsonl"
READY_MARK = "performance.getEntriesByName('cortexkg-ready')[0].startTime"


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
SMOKE = Plan((200,), 5.0, 8, (200,), 20, (200,), 1, (200, 50), 1, 1,
             (100,), {"sequential": 8, "pipelined": 8, "batch": 16, "getters": 2,
                      # enough reads to outlast the 5 µs timer: 10 (~4 µs) could time 0
                      "statsReads": 1000}, 50)

# dashboard_redraw: pipelined allocations whose refreshes are counted
BURST = 500

# One allocation through the dashboard's engine, timed to the frame after the grid
# showed it (its data-allocated changed), repeats times, each once the page is idle.
REDRAW_JS = """async (repeats) => {
    const kg = window.cortexkg, grid = document.querySelector("[data-testid=column-grid]");
    const dashboard = document.getElementById("dashboard");
    const out = [];
    for (let i = 0; i < repeats; i++) {
        while (dashboard.dataset.refresh !== "idle") await new Promise((r) => setTimeout(r, 5));
        const before = grid.dataset.allocated;
        const shown = new Promise((resolve) => {
            const observer = new MutationObserver(() => {
                if (grid.dataset.allocated !== before) { observer.disconnect(); resolve(); }
            });
            observer.observe(grid, {attributes: true});
        });
        const started = performance.now();
        await kg.allocateConcept(1_000_000_000 + i);
        const acknowledged = performance.now() - started;
        await shown;
        await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
        out.push({total: performance.now() - started, acknowledged,
                  grid: parseFloat(grid.dataset.redrawMs)});
    }
    return out;
}"""

LONGTASKS_JS = """() => {
    window.benchLongTasks = [];
    new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) window.benchLongTasks.push(entry.duration);
    }).observe({type: "longtask"});
}"""


def record(workload: str, size: int, seconds: float | None, ops: int = 1, *, engine: str = "wasm",
           note: str = "", **extra) -> dict:
    """A complete chromium record in the runner's shape."""
    return {**new_record(workload, size, engine, ops, ops, seconds, note, **extra),
            "runtime": "chromium"}


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
    """Records of the measurements through the JavaScript API (web/bench/api.js), each on
    an engine of its own name (the context's storage starts empty)."""
    calls = plan.calls
    api = page.evaluate("([n, name]) => bench.latency(n, name)", [calls, "bench-api"])
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
        result = page.evaluate("([n, name]) => bench.snapshot(n, name)",
                               [n, f"bench-snapshot-{n}"])
        saved, loaded = result["saved"], result["restored"]
        records.append(record("snapshot_save", n, saved["ms"] / 1000, engine=engine,
                              note="full engine, idle compaction: take + commit",
                              bytes=saved["bytes"],
                              after_optimize_s=result["optimized"]["ms"] / 1000))
        records.append(record("snapshot_load", n, loaded["ms"] / 1000, engine=engine,
                              note="read + restore", bytes=saved["bytes"],
                              records_replayed=loaded["records"]))
    restored = page.evaluate("([n, name]) => bench.recovery(n, name)",
                             [plan.journal, "bench-recovery"])
    records.append(record("recovery", plan.journal, restored["ms"] / 1000, engine=engine,
                          note="read + replay after journaled allocations",
                          records_replayed=restored["records"],
                          from_snapshot=restored["snapshot"]))
    return records


def side_by_side(browser, url: str, plan: Plan) -> list[dict]:
    """side.js in a page of its own: one ``side_by_side`` record per engine and size
    (us_per_op: µs per allocation called or awaited one at a time, the mean)."""
    context = browser.new_context()
    context.set_default_timeout(0)
    page = context.new_page()
    page.on("console", show_progress)
    page.goto(url + "bench/index.html")
    result = page.evaluate("(options) => bench.sideBySide(options)",
                           {"sizes": plan.side_sizes, "counts": plan.side_counts,
                            "budgetMs": plan.side_budget_ms})
    context.close()
    return [side_record(r, plan.side_budget_ms) for r in result["records"]]


def side_record(r: dict, budget_ms: float) -> dict:
    """One of side.js's records in the records' shape."""
    engine, n = r["engine"], r["n"]
    if not r["available"]:
        return record("side_by_side", n, None, r["counts"]["sequential"], engine=engine,
                      note=f"unavailable: {r['note']}", available=False)
    seq, batch, getters = r["sequential"], r["batch"], r["getters"]
    pipelined, stats = r["pipelined"] or {}, r["stats"] or {}
    seconds = seq["mean_us"] * seq["done"] / 1e6 if seq["done"] else None
    over = [f"{name} {m['done']:,} of {m['planned']:,}" for name, m in
            (("one at a time", seq), ("batch", batch)) if m["done"] < m["planned"]]
    note = {"reference": "JavaScript port of the reference design, in the page",
            "sync": "web/engine.js in the page's thread",
            "strict": "async API, durability strict",
            "relaxed": "async API, durability relaxed"}[engine]
    if over:
        note += f"; over its {budget_ms / 1000:g} s budget: " + ", ".join(over)
    if stats and not stats["available"]:
        note += f"; {stats['note']}"
    return {**record("side_by_side", n, seconds, seq["planned"], engine=engine, note=note),
            "done": seq["done"], "complete": seq["done"] == seq["planned"],
            "us_per_op": seq["mean_us"], "ops_per_s": 1e6 / seq["mean_us"] if seq["mean_us"] else None,
            "available": True,
            "p50_us": seq["p50_us"], "p99_us": seq["p99_us"],
            "pipelined_calls": pipelined.get("done"),
            "pipelined_us_per_call": pipelined.get("us_per_call"),
            "pipelined_p50_us": pipelined.get("p50_us"), "pipelined_p99_us": pipelined.get("p99_us"),
            "batch_items": batch["done"], "batch_us_per_item": batch["us_per_item"],
            "getters_us": getters["mean_us"], "getters_p50_us": getters.get("p50_us"),
            "stats_us": stats.get("mean_us")}


def page_ready(playwright: Playwright, url: str, samples: int) -> dict:
    """The dashboard's ready mark in a new profile (cold) and after a reload (warm), and
    loadPyodide() alone (web/bench/) in another new profile: the medians of ``samples``
    alternating runs (one cold load varies by a few hundred ms on a busy machine)."""
    cold, warm, pyodide = [], [], []
    for _ in range(samples):
        with new_profile(playwright) as page:
            page.goto(url + "bench/index.html")
            pyodide.append(page.evaluate("bench.pyodide()")["seconds"])
        with new_profile(playwright) as page:
            app = App(page)
            app.load(lambda: page.goto(url))
            cold.append(page.evaluate(READY_MARK) / 1000)
            columns = page.evaluate("window.cortexkg.config.columns")
            app.load(page.reload)
            warm.append(page.evaluate(READY_MARK) / 1000)
    median = statistics.median
    return record("page_ready", columns, median(cold), engine="dashboard",
                  note=f"navigation to data-ready; default engine; median of {samples}",
                  cold_s=median(cold), warm_s=median(warm), pyodide_s=median(pyodide),
                  cold_samples=cold, pyodide_samples=pyodide)


@contextmanager
def new_profile(playwright: Playwright) -> Iterator[Page]:
    """A page of a browser with a new on-disk profile: empty storage and HTTP cache, and
    a disk cache that a reload can use (a plain context's in-memory cache skips files as
    large as pyodide.asm.wasm)."""
    with tempfile.TemporaryDirectory() as profile:
        # no service worker (web/sw.js): the warm reload measures the HTTP cache, and
        # nothing caches in the background (bench_offline.py measures the worker)
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=chromium_executable(), args=chromium_args(),
            service_workers="block")
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def dashboard_records(browser, url: str, plan: Plan) -> list[dict]:
    """dashboard_redraw at each size and longtasks during a batch, each on a new page."""
    records = []
    for n in plan.redraws:
        page = dashboard(browser, url, n, "bench-redraw")
        ready_s = page.evaluate(READY_MARK) / 1000
        times = page.evaluate(REDRAW_JS, plan.repeats)
        burst = min(BURST, n // 2)
        cycles = burst_refreshes(page, burst)
        page.context.close()
        total = [t["total"] for t in times]
        records.append(record(
            "dashboard_redraw", n, sum(total) / 1000, len(times), engine="dashboard",
            note="allocate to the frame after the grid showed it",
            p50_ms=statistics.median(total), max_ms=max(total),
            grid_update_ms=statistics.median(t["grid"] for t in times),
            acknowledged_ms=statistics.median(t["acknowledged"] for t in times),
            ready_s=ready_s, burst_calls=burst, burst_refreshes=cycles))
    columns, batch = plan.longtasks
    page = dashboard(browser, url, columns, "bench-longtasks")
    page.evaluate(LONGTASKS_JS)
    page.get_by_test_id("batch-input").fill(str(batch))
    started = time.perf_counter()
    page.get_by_test_id("batch-allocate-button").click()
    page.wait_for_selector("[data-testid=batch-status][data-state=done]")
    seconds = time.perf_counter() - started
    page.wait_for_selector(f"[data-testid=column-grid][data-allocated='{batch}']")
    page.wait_for_selector("#dashboard[data-refresh=idle]")
    page.wait_for_timeout(500)  # entries arrive asynchronously
    tasks = page.evaluate("window.benchLongTasks")
    page.context.close()
    records.append(record("longtasks", batch, seconds, batch, engine="dashboard",
                          note=f"batch allocate on {columns:,} columns, click to done",
                          columns=columns, count=len(tasks),
                          over_50ms=sum(t > 50 for t in tasks), max_ms=max(tasks, default=0.0)))
    return records


def burst_refreshes(page: Page, calls: int) -> int:
    """The dashboard's refresh cycles for a burst of ``calls`` pipelined allocations
    (it coalesces their change events; one refresh per call would be the worst)."""
    grid = "[data-testid=column-grid]"
    allocated = int(page.get_attribute(grid, "data-allocated"))
    page.wait_for_selector("#dashboard[data-refresh=idle]")
    before = int(page.get_attribute("#dashboard", "data-refresh-cycles"))
    page.evaluate("""(calls) => Promise.all(Array.from({length: calls},
        (_, i) => window.cortexkg.allocateConcept(2_000_000_000 + i)))""", calls)
    page.wait_for_selector(f"{grid}[data-allocated='{allocated + calls}']")
    page.wait_for_selector("#dashboard[data-refresh=idle]")
    return int(page.get_attribute("#dashboard", "data-refresh-cycles")) - before


def dashboard(browser, url: str, columns: int, name: str) -> Page:
    """The dashboard of a new engine of columns columns, booted, in a new context."""
    context = browser.new_context(service_workers="block")  # as in new_profile()
    context.set_default_timeout(600_000)
    page = context.new_page()
    App(page).load(lambda: page.goto(f"{url}?columns={columns}&name={name}-{columns}"))
    page.wait_for_selector(f"[data-testid=column-grid][data-columns='{columns}']")
    return page


def show_progress(message) -> None:
    """Print the bench page's progress lines (web/bench/main.js logs them)."""
    if message.text.startswith("bench: "):
        print(message.text, flush=True)


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
    with serve(args.site, log) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_executable(),
                                             args=chromium_args())
        context = browser.new_context()
        page = context.new_page()
        page.on("console", show_progress)
        print("bench: the bench page (Pyodide, kernel scan, JavaScript API)", flush=True)
        runtime, records = bench_page(page, server.url, plan)
        context.close()
        print("bench: side by side (reference port, synchronous engine, async API)", flush=True)
        records += side_by_side(browser, server.url, plan)
        print("bench: the dashboard", flush=True)
        records.append(page_ready(playwright, server.url, plan.ready_samples))
        records += dashboard_records(browser, server.url, plan)
        machine = {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                   "machine": platform.machine(),
                   "browser": browser.version, "pyodide": runtime["pyodide"],
                   "python": runtime["python"].split()[0],
                   "crossOriginIsolated": runtime["crossOriginIsolated"],
                   "timer_resolution_ms": runtime["timerResolutionMs"],
                   "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                   "runtime": "chromium",
                   "command": shlex.join(["python", "build/bench_browser.py",
                                          *(sys.argv[1:] if argv is None else argv)])}
        browser.close()

    write_jsonl(args.out, machine, records)
    for r in records:
        us = "-" if r["us_per_op"] is None else f"{r['us_per_op']:.1f} us/op"
        print(f"{r['runtime']:8} {r['workload']:16} {r['size']:>9,} {r['engine']:9} {us:>16}"
              f"  {r['note']}")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
