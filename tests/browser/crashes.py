"""The crash-trial driver shared by the strict and relaxed durability tests.

A trial opens an engine through web/api.html (``open_engine``), drives a random stream of
mutations (``random_operations``) with ``window.drive`` (DRIVER_JS), and crashes at the
crash point the page reports: the renderer (``drive_and_crash``, CDP's Page.crash) or
the whole browser (``drive_and_kill``: SIGKILL of ``browser_process``'s group). ``expected_states`` replays a
stream on the reference engine, so a test can tell which prefix the recovered state
(``OBSERVE_JS``, ``as_state``) is. Each test judges a trial by its own durability rule.

Boots are what trials cost, and a boot on a new profile compiles the Pyodide runtime again
(about 2.5 s of CPU more than a boot on a profile whose cache holds it). So renderer
crashes run in ``CrashBrowser``, one browser for the session whose storage is emptied
between tests, and the browsers a test kills start on a copy of its warmed profile.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import signal
import threading
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

from harness import BOOT_TIMEOUT_MS, Recorder, Server, chromium_args, chromium_executable
from playwright.async_api import BrowserContext as AsyncContext
from playwright.async_api import Page as AsyncPage
from playwright.async_api import async_playwright
from playwright.sync_api import BrowserContext, Page

from cortexkg import AllocationEngine, AllocationError

COLUMNS = 96  # small enough that streams fill it and allocations fail, too

# Defines window.call(op), which makes the API call an operation names, and
# window.drive(plan): issue plan.ops keeping plan.width calls in flight. Once
# plan.ackTarget calls were acknowledged or plan.rejectTarget rejected (or the stream is
# exhausted), it issues plan.burst more, logs "crash point {issued, acked, rejected,
# storage}" and holds the main thread: what it logged is exactly what the page knew when
# the crash landed. With plan.pauseOnOutage it stops issuing while kg.storage.saved is
# false (after logging "outage" once) and goes on when a "storage" event says saved.
DRIVER_JS = """() => {
    const call = window.call = ([kind, arg]) => kind === 'allocate' ? kg.allocateConcept(arg)
        : kind === 'deallocate' ? kg.deallocateConcept(arg)
        : kind === 'allocateBatch' ? kg.allocateBatch(arg, {columnar: true})
        : kind === 'deallocateBatch' ? kg.deallocateBatch(arg, {columnar: true})
        : kind === 'activate' ? kg.activateConcept(arg) : kg.optimizeAllocations();
    const saved = () => new Promise((resolve) => {
        const listener = ({detail}) => { if (detail.saved) { kg.removeEventListener('storage', listener); resolve(); } };
        kg.addEventListener('storage', listener);
    });
    window.drive = ({ops, width, ackTarget, rejectTarget, burst, pauseOnOutage}) => {
        const acked = [], rejected = [];
        let issued = 0, wake = () => {};
        const issue = () => {
            const i = issued++;
            call(ops[i]).then(() => acked.push(i), (e) => rejected.push([i, e.name]))
                .finally(() => wake());
        };
        const settled = () => new Promise((resolve) => { wake = resolve; });
        (async () => {
            let outage = false;
            while (issued < ops.length && acked.length < ackTarget && rejected.length < rejectTarget) {
                if (issued - acked.length - rejected.length >= width) { await settled(); continue; }
                if (pauseOnOutage && !kg.storage.saved) {
                    if (!outage) console.log('outage');
                    outage = true;
                    await saved();
                    continue;
                }
                issue();
            }
            for (let b = 0; b < burst && issued < ops.length; b++) issue();
            console.log('crash point ' + JSON.stringify({issued, acked, rejected, storage: kg.storage}));
            // no task runs from here on: the crash lands on a page that issues and learns nothing
            for (const until = Date.now() + 120000; Date.now() < until;);
        })();
    };
}"""

OPEN_JS = """async ({name, columns}) => {
    window.api = await import('./cortexkg.js');
    window.kg = await api.CortexKG.create({name, columns});
    return kg.storage.mode;
}"""

# What the reference engine is compared on: the counters and the live allocations.
OBSERVE_JS = """async () => {
    await kg.validate();
    const stats = await kg.getStats();
    return [['allocated', 'total_allocations', 'total_deallocations', 'usage_hits', 'activations',
             'optimization_cycles', 'moves_total'].map((k) => stats[k]),
            (await kg.getAllocationHistory()).map((h) => [h.conceptId, h.columnId])];
}"""

RESET_JS = "async () => { await kg.reset(); return (" + OBSERVE_JS + ")(); }"


def random_operations(rng: random.Random, count: int) -> list[list]:
    ops = []
    for _ in range(count):
        kind = rng.choices(["allocate", "deallocate", "allocateBatch", "deallocateBatch",
                            "activate", "optimize"], weights=[40, 20, 10, 8, 15, 3])[0]
        if kind in ("allocateBatch", "deallocateBatch"):
            ops.append([kind, [rng.randrange(200) for _ in range(rng.randrange(1, 40))]])
        elif kind == "optimize":
            ops.append([kind])
        else:
            ops.append([kind, rng.randrange(200)])
    return ops


def expected_states(ops: list[list], columns: int) -> list[tuple]:
    """The observable state after each prefix of ops (index k: after the first k)."""
    engine = AllocationEngine(columns, backend="reference")
    states = [observe(engine)]
    for op in ops:
        kind, *args = op
        try:
            if kind == "allocate":
                engine.allocate_concept(args[0])
            elif kind == "deallocate":
                engine.deallocate_concept(args[0])
            elif kind == "allocateBatch":
                engine.allocate_batch(args[0])
            elif kind == "deallocateBatch":
                engine.deallocate_batch(args[0])
            elif kind == "activate":
                engine.activate_concept(args[0])
            else:
                engine.optimize_allocations()
        except AllocationError:
            pass
        states.append(observe(engine))
    return states


def observe(engine) -> tuple:
    stats = engine.stats()
    counters = tuple(stats[k] for k in ("allocated", "total_allocations", "total_deallocations",
                                        "usage_hits", "activations", "optimization_cycles",
                                        "moves_total"))
    return counters, tuple((h["conceptId"], h["columnId"]) for h in engine.get_allocation_history())


def as_state(observed: list) -> tuple:
    """OBSERVE_JS's answer in observe()'s shape."""
    counters, history = observed
    return tuple(counters), tuple(tuple(pair) for pair in history)


class CrashBrowser:
    """Chromium on an on-disk profile, driven by Playwright's async API in a thread of its
    own, for the session's renderer crashes.

    CDP's Page.crash never answers, so it must be sent without waiting for the answer,
    which only the async API can; the test thread's event loop belongs to the sync API.
    A crashed renderer takes only its own tab: the browser and its HTTP cache, which keeps
    the compiled runtime once a boot compiled it, outlive every trial. A browser a test
    kills starts on a copy of its profile (``copy_profile``), warm too once a crash test
    ran.
    """

    def __init__(self, folder: Path, server: Server):
        self.server = server
        self.profile = folder / "profile"
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="crash-browser", daemon=True)
        self.thread.start()
        self.run(self.start(), BOOT_TIMEOUT_MS / 1000)

    def run(self, coroutine, timeout_s: float):
        """Run coroutine in the browser's thread; its result."""
        return asyncio.run_coroutine_threadsafe(asyncio.wait_for(coroutine, timeout_s), self.loop).result()

    async def start(self) -> None:
        self.playwright = await async_playwright().start()
        self.context = await self.launch(self.profile)
        self.blank = self.context.pages[0]  # stays open for the storage calls
        await self.empty_storage()

    async def launch(self, profile: Path) -> AsyncContext:
        return await self.playwright.chromium.launch_persistent_context(
            profile, executable_path=chromium_executable(), args=chromium_args(),
            service_workers="block")

    def run_test(self, recorder: Recorder, body, timeout_s: float):
        """body(context) run in the browser for one test (see ``use``); its result."""
        async def test():
            async with self.use(recorder) as context:
                return await body(context)
        return self.run(test(), timeout_s)

    def copy_profile(self, destination: Path) -> Path:
        """A new profile at destination with the browser's HTTP cache, between tests (its
        storage is empty then); not its lock, which would say the copy is in use."""
        shutil.copytree(self.profile, destination, ignore=shutil.ignore_patterns("Singleton*"))
        return destination

    async def empty_storage(self) -> None:
        """Delete what the site stored (a bucket deleted forgets Chromium's cached quota
        allowance too) and lift any quota override; the HTTP cache stays."""
        cdp = await self.context.new_cdp_session(self.blank)
        origin = self.server.url.rstrip("/")
        await cdp.send("Storage.clearDataForOrigin", {"origin": origin, "storageTypes": "all"})
        await cdp.send("Storage.overrideQuotaForOrigin", {"origin": origin})
        await cdp.detach()

    @asynccontextmanager
    async def use(self, recorder: Recorder) -> AsyncIterator[AsyncContext]:
        """The browser for one test: empty storage, recorded by recorder; the pages the test
        opened close afterwards and the storage is emptied again."""
        await self.empty_storage()
        recorder.attach(self.context)
        try:
            yield self.context
        finally:
            for page in self.context.pages:
                if page is not self.blank:
                    await page.close()
            recorder.detach(self.context)
            await self.empty_storage()

    def close(self) -> None:
        async def stop() -> None:
            await self.context.close()
            await self.playwright.stop()
        self.run(stop(), 60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


async def open_engine(context: AsyncContext, server: Server, name: str, columns: int = COLUMNS,
                      page: AsyncPage | None = None) -> AsyncPage:
    """window.kg open on engine name, and window.drive, in page (default: a new page)."""
    page = page or await context.new_page()
    page.set_default_timeout(BOOT_TIMEOUT_MS)
    await page.goto(server.url + "api.html")
    mode = await page.evaluate(OPEN_JS, {"name": name, "columns": columns})
    assert mode == "writer", f"{name} opened as {mode}"
    await page.evaluate(DRIVER_JS)
    return page


async def drive_and_crash(context: AsyncContext, page: AsyncPage, plan: dict,
                          on_outage=None) -> dict:
    """Run window.drive(plan), crash the renderer at its crash point; the point's report."""
    # attached before the page holds its main thread: attaching needs it
    cdp = await context.new_cdp_session(page)
    messages: asyncio.Queue[str] = asyncio.Queue()
    page.on("console", lambda message: messages.put_nowait(message.text))
    crashed = asyncio.get_running_loop().create_future()
    page.on("crash", lambda _: crashed.done() or crashed.set_result(True))
    await page.evaluate("(plan) => drive(plan)", plan)
    while not (text := await messages.get()).startswith("crash point "):
        if text == "outage" and on_outage is not None:
            await on_outage()
    crash = asyncio.ensure_future(cdp.send("Page.crash"))  # a crashed page never answers
    crash.add_done_callback(lambda future: future.cancelled() or future.exception())
    await asyncio.wait_for(crashed, 30)
    return json.loads(text.removeprefix("crash point "))


def drive_and_kill(context: BrowserContext, page: Page, profile: Path, plan: dict) -> dict:
    """Run window.drive(plan) in page, SIGKILL the whole browser of context (on profile)
    at its crash point; the point's report."""
    browser = browser_process(profile)  # found first: the kill follows the crash point at once
    with page.expect_console_message(
        lambda message: message.text.startswith("crash point "), timeout=BOOT_TIMEOUT_MS
    ) as message:
        page.evaluate("(plan) => drive(plan)", plan)
    with context.expect_event("close"):  # Playwright saw the browser go
        os.killpg(browser, signal.SIGKILL)
    return json.loads(message.value.text.removeprefix("crash point "))


def browser_process(profile: Path) -> int:
    """The pid of the Chromium browser using profile: the leader of its process group.

    Playwright starts Chromium as a process group leader; its renderers, zygotes and
    utility processes are in that group.
    """
    marker = f"--user-data-dir={profile}".encode()
    leaders = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
            pgid = os.getpgid(int(entry))
        except (OSError, ProcessLookupError):
            continue
        if marker in command and pgid == int(entry):
            leaders.append(int(entry))
    assert len(leaders) == 1, f"expected one Chromium browser on {profile}, found {leaders}"
    return leaders[0]
