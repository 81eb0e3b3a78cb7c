"""The dashboard's measurements in Chromium, part of build/bench_browser.py.

``page_ready``: the dashboard's ready mark in a new profile (cold) and after a reload
(warm), and loadPyodide() alone (web/bench/) in another new profile. ``dashboard_redraw``:
one allocation to the frame after the grid shows it, and the refreshes of a burst.
``longtasks``: main-thread long tasks (PerformanceObserver) during a batch made with the
controls.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from bench_records import record
from harness import App, chromium_args, chromium_executable
from playwright.sync_api import BrowserContext, Page, Playwright

READY_MARK = "performance.getEntriesByName('cortexkg-ready')[0].startTime"

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
    window.benchObserver = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) window.benchLongTasks.push(entry.duration);
    });
    benchObserver.observe({type: "longtask"});
}"""
# The long tasks so far: those delivered, and those queued for a delivery yet to come
# (an entry is queued when its task ends, and delivered in a later task).
LONGTASKS_SEEN_JS = """() => [...benchLongTasks,
    ...benchObserver.takeRecords().map((entry) => entry.duration)]"""


def page_ready(playwright: Playwright, url: str, samples: int, start: Path | None = None
               ) -> dict:
    """The dashboard's ready mark in a new profile (cold) and after a reload (warm), and
    loadPyodide() alone (web/bench/) in another new profile: the medians of ``samples``
    alternating runs (one cold load varies by a few hundred ms on a busy machine).

    ``start``: a closed profile each new one starts as a copy of (its HTTP cache warm:
    the numbers are then not a first visit's); None: empty profiles.
    """
    cold, warm, pyodide = [], [], []
    for _ in range(samples):
        with new_profile(playwright, start) as page:
            page.goto(url + "bench/index.html")
            pyodide.append(page.evaluate("bench.pyodide()")["seconds"])
        with new_profile(playwright, start) as page:
            app = App(page)
            app.load(lambda: page.goto(url))
            cold.append(page.evaluate(READY_MARK) / 1000)
            columns = page.evaluate("window.cortexkg.config.columns")
            app.load(page.reload)
            warm.append(page.evaluate(READY_MARK) / 1000)
    median = statistics.median
    first_visit = "" if start is None else "; from a warm HTTP cache, not a first visit"
    return record("page_ready", columns, median(cold), engine="dashboard",
                  note=f"navigation to data-ready; default engine; median of {samples}"
                  + first_visit,
                  cold_s=median(cold), warm_s=median(warm), pyodide_s=median(pyodide),
                  cold_samples=cold, pyodide_samples=pyodide)


@contextmanager
def new_profile(playwright: Playwright, start: Path | None = None) -> Iterator[Page]:
    """A page of a browser with a new on-disk profile (a copy of ``start`` if given):
    empty storage and HTTP cache, and a disk cache that a reload can use (a plain
    context's in-memory cache skips files as large as pyodide.asm.wasm)."""
    with tempfile.TemporaryDirectory() as folder:
        profile = Path(folder) / "profile"
        if start is not None:
            shutil.copytree(start, profile)
        # no service worker (web/sw.js): the warm reload measures the HTTP cache, and
        # nothing caches in the background (bench_offline.py measures the worker)
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=chromium_executable(), args=chromium_args(),
            service_workers="block")
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def dashboard_records(context: BrowserContext, url: str, redraws: tuple[int, ...],
                      repeats: int, longtasks: tuple[int, int]) -> list[dict]:
    """dashboard_redraw at each size of ``redraws`` (``repeats`` each) and longtasks
    during a batch (``longtasks``: columns, batch size), each on a new page of context."""
    records = []
    for n in redraws:
        page = dashboard(context, url, n, "bench-redraw")
        ready_s = page.evaluate(READY_MARK) / 1000
        times = page.evaluate(REDRAW_JS, repeats)
        burst = min(BURST, n // 2)
        cycles = burst_refreshes(page, burst)
        page.close()
        total = [t["total"] for t in times]
        records.append(record(
            "dashboard_redraw", n, sum(total) / 1000, len(times), engine="dashboard",
            note="allocate to the frame after the grid showed it",
            p50_ms=statistics.median(total), max_ms=max(total),
            grid_update_ms=statistics.median(t["grid"] for t in times),
            acknowledged_ms=statistics.median(t["acknowledged"] for t in times),
            ready_s=ready_s, burst_calls=burst, burst_refreshes=cycles))
    columns, batch = longtasks
    page = dashboard(context, url, columns, "bench-longtasks")
    page.evaluate(LONGTASKS_JS)
    page.get_by_test_id("batch-input").fill(str(batch))
    started = time.perf_counter()
    page.get_by_test_id("batch-allocate-button").click()
    page.wait_for_selector("[data-testid=batch-status][data-state=done]")
    seconds = time.perf_counter() - started
    page.wait_for_selector(f"[data-testid=column-grid][data-allocated='{batch}']")
    page.wait_for_selector("#dashboard[data-refresh=idle]")
    tasks = page.evaluate(LONGTASKS_SEEN_JS)
    page.close()
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


def dashboard(context: BrowserContext, url: str, columns: int, name: str) -> Page:
    """The dashboard of a new engine of columns columns, booted, in a new page of context."""
    page = context.new_page()
    page.set_default_timeout(600_000)
    App(page).load(lambda: page.goto(f"{url}?columns={columns}&name={name}-{columns}"))
    page.wait_for_selector(f"[data-testid=column-grid][data-columns='{columns}']")
    return page
