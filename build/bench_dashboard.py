"""The dashboard's measurements in Chromium, part of build/bench_browser.py.

``page_ready``: the dashboard's ready mark in a new profile (cold) and after a reload
(warm), and loadPyodide() alone (web/bench/) in another new profile (the smoke's plan:
all in one page of the run's browser, see one_browser_records). ``dashboard_redraw``:
one allocation to the frame after the grid shows it, and the refreshes of a burst.
``longtasks``: main-thread long tasks (PerformanceObserver) during a batch made with the
controls.
"""

from __future__ import annotations

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

# The observer, proven to work first: a 60 ms task of its own it must report (a batch's
# count of 0 could as well be an observer that sees nothing), then only what follows
# counts.
LONGTASKS_JS = """async () => {
    window.benchLongTasks = [];
    window.benchObserver = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) window.benchLongTasks.push(entry.duration);
    });
    benchObserver.observe({type: "longtask"});
    setTimeout(() => { const until = performance.now() + 60; while (performance.now() < until); });
    const deadline = performance.now() + 10_000;
    while (!benchLongTasks.some((ms) => ms > 50)) {
        benchLongTasks.push(...benchObserver.takeRecords().map((entry) => entry.duration));
        if (performance.now() > deadline) throw new Error("no long task reported for a 60 ms task in 10 s");
        await new Promise((resolve) => setTimeout(resolve, 10));
    }
    window.benchLongTasks = [];
}"""
# The long tasks so far: those delivered, and those queued for a delivery yet to come
# (an entry is queued when its task ends, and delivered in a later task).
LONGTASKS_SEEN_JS = """() => [...benchLongTasks,
    ...benchObserver.takeRecords().map((entry) => entry.duration)]"""


def page_ready(playwright: Playwright, url: str, samples: int) -> dict:
    """The dashboard's ready mark in a new profile (cold) and after a reload (warm), and
    loadPyodide() alone (web/bench/) in another new profile, each in a new browser: the
    medians of ``samples`` alternating runs (one cold load varies by a few hundred ms on a
    busy machine)."""
    cold, warm, pyodide = [], [], []
    for _ in range(samples):
        with new_profile(playwright) as page:
            pyodide.append(pyodide_seconds(page, url))
        with new_profile(playwright) as page:
            marks = ready_marks(page, url)
            cold.append(marks["cold"])
            warm.append(marks["warm"])
    return ready_record(marks["columns"], cold, warm, pyodide, "default engine")


def one_browser_records(context: BrowserContext, url: str, redraws: tuple[int, ...],
                        repeats: int, longtasks: tuple[int, int]) -> list[dict]:
    """What dashboard_records and page_ready measure, in one new page of the run's
    browser (context), on as few boots as that allows (the smoke's plan; one sample
    each): loadPyodide() alone; then the first load (cold) and a reload (warm) of the
    dashboard of a new engine of ``redraws[0]`` columns, which then serves
    dashboard_redraw at that size, and longtasks if at that size too. Its page_ready is
    not a first visit: the run's HTTP cache holds the runtime, compiled."""
    columns = redraws[0]
    page = context.new_page()
    page.set_default_timeout(600_000)
    pyodide = pyodide_seconds(page, url)
    marks = ready_marks(page, f"{url}?columns={columns}&name=bench-redraw-{columns}")
    page.wait_for_selector(f"[data-testid=column-grid][data-columns='{columns}']")
    ready = ready_record(columns, [marks["cold"]], [marks["warm"]], [pyodide],
                         f"a new engine of {columns:,} columns; from a warm HTTP cache, not a"
                         " first visit")
    return [*dashboard_records(context, url, redraws, repeats, longtasks, {columns: page}),
            ready]


def pyodide_seconds(page: Page, url: str) -> float:
    """loadPyodide() alone, in a worker of the bench page (web/bench/) opened in page."""
    page.goto(url + "bench/index.html")
    return page.evaluate("bench.pyodide()")["seconds"]


def ready_marks(page: Page, url: str) -> dict:
    """The dashboard at url opened in page (cold) and reloaded (warm): their ready marks
    in seconds, and its engine's column count."""
    app = App(page)
    app.load(lambda: page.goto(url))
    cold = page.evaluate(READY_MARK) / 1000
    columns = page.evaluate("window.cortexkg.config.columns")
    app.load(page.reload)
    return {"cold": cold, "warm": page.evaluate(READY_MARK) / 1000, "columns": columns}


def ready_record(columns: int, cold: list[float], warm: list[float], pyodide: list[float],
                 loaded: str) -> dict:
    """The page_ready record of these samples (loaded: which dashboard, how)."""
    median = statistics.median
    return record("page_ready", columns, median(cold), engine="dashboard",
                  note=f"navigation to data-ready; {loaded}; median of {len(cold)}",
                  cold_s=median(cold), warm_s=median(warm), pyodide_s=median(pyodide),
                  cold_samples=cold, pyodide_samples=pyodide)


@contextmanager
def new_profile(playwright: Playwright) -> Iterator[Page]:
    """A page of a browser with a new on-disk profile: empty storage and HTTP cache, and
    a disk cache that a reload can use (a plain context's in-memory cache skips files as
    large as pyodide.asm.wasm)."""
    with tempfile.TemporaryDirectory() as folder:
        # no service worker (web/sw.js): the warm reload measures the HTTP cache, and
        # nothing caches in the background (bench_offline.py measures the worker)
        context = playwright.chromium.launch_persistent_context(
            Path(folder) / "profile", executable_path=chromium_executable(),
            args=chromium_args(), service_workers="block")
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def dashboard_records(context: BrowserContext, url: str, redraws: tuple[int, ...],
                      repeats: int, longtasks: tuple[int, int],
                      booted: dict[int, Page] | None = None) -> list[dict]:
    """dashboard_redraw at each size of ``redraws`` (``repeats`` each), on a new page of
    context (or the page of ``booted``, a dashboard of a new engine of that size, idle),
    and longtasks during a batch (``longtasks``: columns, batch size) on a new page too,
    or, when its columns are one of ``redraws``, on that size's page after its redraws
    (the smoke's plan: a boot fewer; its batch then starts from what they left)."""
    booted = dict(booted or {})
    records = []
    columns, batch = longtasks
    reused = None
    for n in redraws:
        page = booted.pop(n, None) or dashboard(context, url, n, "bench-redraw")
        ready_s = page.evaluate(READY_MARK) / 1000
        times = page.evaluate(REDRAW_JS, repeats)
        burst = min(BURST, n // 2)
        cycles = burst_refreshes(page, burst)
        if n == columns and reused is None:
            reused = page
        else:
            page.close()
        total = [t["total"] for t in times]
        records.append(record(
            "dashboard_redraw", n, sum(total) / 1000, len(times), engine="dashboard",
            note="allocate to the frame after the grid showed it",
            p50_ms=statistics.median(total), max_ms=max(total),
            grid_update_ms=statistics.median(t["grid"] for t in times),
            acknowledged_ms=statistics.median(t["acknowledged"] for t in times),
            ready_s=ready_s, burst_calls=burst, burst_refreshes=cycles))
    page = reused or dashboard(context, url, columns, "bench-longtasks")
    records.append(batch_longtasks(page, columns, batch))
    page.close()
    return records


def batch_longtasks(page: Page, columns: int, batch: int) -> dict:
    """The longtasks record of a batch of ``batch`` new ids made with the dashboard's
    controls in page (a dashboard of ``columns`` columns, idle)."""
    grid = "[data-testid=column-grid]"
    allocated = int(page.get_attribute(grid, "data-allocated"))
    page.evaluate(LONGTASKS_JS)
    page.get_by_test_id("batch-input").fill(str(batch))
    started = time.perf_counter()
    page.get_by_test_id("batch-allocate-button").click()
    page.wait_for_selector("[data-testid=batch-status][data-state=done]")
    seconds = time.perf_counter() - started
    page.wait_for_selector(f"{grid}[data-allocated='{allocated + batch}']")
    page.wait_for_selector("#dashboard[data-refresh=idle]")
    tasks = page.evaluate(LONGTASKS_SEEN_JS)
    return record("longtasks", batch, seconds, batch, engine="dashboard",
                  note=f"batch allocate on {columns:,} columns, click to done",
                  columns=columns, count=len(tasks),
                  over_50ms=sum(t > 50 for t in tasks), max_ms=max(tasks, default=0.0))


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
