"""Crash durability in real Chromium: no acknowledged operation is ever lost.

Each trial issues a random stream of mutations through the JavaScript API and crashes at
a random moment while calls are in flight: the renderer (CDP's Page.crash), the whole
browser (SIGKILL of its process group), or the renderer during a storage quota outage.
The page decides the crash point: once enough calls were acknowledged it issues a burst
more, reports exactly what it issued, saw acknowledged and saw rejected, and holds its
main thread, so nothing more is issued or acknowledged until the crash lands. After
reopening, the recovered state must be the state after an exact prefix of the issued
operations (the reference engine replays them) containing every acknowledged one.

A further test races three tabs to reset refused stored data: exactly one may write; then
it crashes the writer's renderer while its calls are in flight, and another tab takes
over. The last test kills the whole browser of a writer that won such a race.

Renderer crashes run in the session's ``crash_browser`` (see crashes.CrashBrowser); a
browser a test kills starts on a copy of its warmed profile.

Run with -s to see one line per trial and the totals.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
from dataclasses import dataclass
from pathlib import Path

import pytest
from harness import BOOT_TIMEOUT_MS, Recorder, Server, chromium_args, chromium_executable
from playwright.async_api import BrowserContext as AsyncContext
from playwright.async_api import Page as AsyncPage
from playwright.sync_api import BrowserContext, Page, Playwright

from crashes import (
    COLUMNS,
    DRIVER_JS,
    OBSERVE_JS,
    OPEN_JS,
    RESET_JS,
    CrashBrowser,
    as_state,
    browser_process,
    drive_and_crash,
    drive_and_kill,
    expected_states,
    open_engine,
    random_operations,
)

pytestmark = pytest.mark.browser

# Each trial fails unless its crash landed with calls in flight and acknowledged work
# behind it (judge()), so a few seeds prove the claim; more only repeat it (and cost a
# browser boot each).
RENDERER_TRIALS = 4
KILL_TRIALS = 2
@dataclass
class Trial:
    """One crash: what the page knew at the crash point, and what came back."""

    name: str
    acknowledged: int
    outstanding: int
    issued: int  # not counting the refused
    recovered: int  # issued operations in the recovered state (the longest prefix that matches)
    refused: int  # rejected as not storable (StorageError)

    def line(self) -> str:
        refused = f" ({self.refused} refused)" if self.refused else ""
        return (f"{self.name}: {self.acknowledged} acknowledged, {self.outstanding} outstanding "
                f"at crash, recovered {self.recovered} of {self.issued} issued{refused}")


def judge(name: str, ops: list[list], point: dict, recovered: tuple,
          columns: int = COLUMNS, refused: frozenset[int] = frozenset()) -> Trial:
    """Compare a recovered state with the stream as the page saw it at the crash point.

    ``refused`` operations were rejected as not storable: the engine must behave as if they
    were never issued. The others run in order; the recovered state must be the state
    after some prefix that holds every acknowledged operation and nothing never issued.
    """
    acked, rejected, issued = set(point["acked"]), point["rejected"], point["issued"]
    outstanding = issued - len(acked) - len(rejected)
    # the crash must have interrupted work in flight, with acknowledged work behind it
    assert acked and outstanding > 0, (
        f"{name}: the crash interrupted nothing: {len(acked)} acknowledged, {outstanding} outstanding")
    kept = [i for i in range(len(ops)) if i not in refused]
    states = expected_states([ops[i] for i in kept], columns)
    must = max(kept.index(i) for i in acked) + 1  # kept operations up to the last acknowledged
    could = sum(1 for i in kept if i < issued)
    prefixes = [k for k in range(must, could + 1) if states[k] == recovered]
    if not prefixes:
        # how many acknowledged operations are missing: the longest prefix that matches
        matching = [k for k, state in enumerate(states) if state == recovered]
        lost = len([i for i in acked if kept.index(i) >= max(matching)]) if matching else len(acked)
        pytest.fail(f"{name}: the recovered state is the state after no prefix of {must}..{could} "
                    f"of the issued operations (matching prefixes: {matching[:10]}); "
                    f"{lost} of {len(acked)} acknowledged operations lost")
    return Trial(name, len(acked), outstanding, could, max(prefixes), len(refused))


def report(kind: str, trials: list[Trial]) -> None:
    """The totals; judge() has failed the test on any lost acknowledged operation."""
    interrupted = sum(1 for t in trials if t.recovered < t.issued)
    print(f"{kind}: {len(trials)} trials, {sum(t.acknowledged for t in trials)} acknowledged "
          f"(0 lost), {sum(t.outstanding for t in trials)} outstanding at the crashes; "
          f"in {interrupted} the crash also cut off issued operations before they were stored")


# --- renderer crash ------------------------------------------------------------------


def random_plan(rng: random.Random, ops: list[list]) -> dict:
    return {"ops": ops, "width": rng.randint(1, 8), "ackTarget": rng.randint(5, 250),
            "rejectTarget": len(ops) + 1, "burst": rng.randint(1, 60), "pauseOnOutage": False}


async def renderer_crash_trials(context: AsyncContext, server: Server) -> list[Trial]:
    """RENDERER_TRIALS trials in one browser; each reopened page runs the next."""
    trials = []
    page = await open_engine(context, server, "crash")
    for trial in range(RENDERER_TRIALS):
        rng = random.Random(1000 + trial)
        ops = random_operations(rng, 400)
        point = await drive_and_crash(context, page, random_plan(rng, ops))
        page = await open_engine(context, server, "crash")
        recovered = as_state(await page.evaluate(OBSERVE_JS))
        trials.append(judge(f"trial {trial} (seed {1000 + trial})", ops, point, recovered))
        print(trials[-1].line())
        # the next trial starts from an empty engine, stored as a snapshot
        assert as_state(await page.evaluate(RESET_JS)) == expected_states([], COLUMNS)[0]
    return trials


def test_no_acknowledged_operation_is_lost_when_the_renderer_crashes(
    crash_browser: CrashBrowser, server: Server, recorder: Recorder
) -> None:
    trials = crash_browser.run_test(
        recorder, lambda context: renderer_crash_trials(context, server), 600)
    report("renderer crash", trials)
    assert recorder.problems() == []


# --- browser kill --------------------------------------------------------------------


def launch(playwright: Playwright, profile: Path, recorder: Recorder) -> BrowserContext:
    context = playwright.chromium.launch_persistent_context(
        profile, executable_path=chromium_executable(), args=chromium_args())
    recorder.attach(context)
    return context


def open_engine_sync(context: BrowserContext, server: Server, name: str) -> Page:
    page = context.pages[0] if context.pages else context.new_page()
    page.set_default_timeout(BOOT_TIMEOUT_MS)
    page.goto(server.url + "api.html")
    mode = page.evaluate(OPEN_JS, {"name": name, "columns": COLUMNS})
    assert mode == "writer", f"{name} opened as {mode}"
    page.evaluate(DRIVER_JS)
    return page


def test_no_acknowledged_operation_is_lost_when_the_browser_is_killed(
    playwright: Playwright, crash_browser: CrashBrowser, server: Server, tmp_path: Path
) -> None:
    profile = crash_browser.copy_profile(tmp_path / "profile")
    recorder = Recorder(origin=server.url)
    context = launch(playwright, profile, recorder)
    page = open_engine_sync(context, server, "kill")
    trials = []
    for trial in range(KILL_TRIALS):
        seed = 2000 + trial
        rng = random.Random(seed)
        ops = random_operations(rng, 400)
        point = drive_and_kill(context, page, profile, random_plan(rng, ops))
        context = launch(playwright, profile, recorder)
        page = open_engine_sync(context, server, "kill")
        recovered = as_state(page.evaluate(OBSERVE_JS))
        trials.append(judge(f"kill {trial} (seed {seed})", ops, point, recovered))
        print(trials[-1].line())
        assert as_state(page.evaluate(RESET_JS)) == expected_states([], COLUMNS)[0]
    context.close()
    report("browser kill", trials)
    assert recorder.problems() == []


# --- quota outage, then a crash --------------------------------------------------------

# The quota while the first operations are stored: what the store holds plus this.
ROOM = 128 * 1024
# ids of the batch that opens the outage: its journal record (4 bytes an id) alone needs
# more than ROOM
BIG_BATCH = 64_000

# Settle every call of ops at once; per call, null when acknowledged, else the error's name.
SETTLE_JS = """async (ops) => (await Promise.allSettled(ops.map(call)))
    .map((r) => r.status === 'fulfilled' ? null : r.reason.name)"""


async def quota_trial(context: AsyncContext, server: Server, trial: int, lift: bool) -> Trial:
    """Acknowledged operations, then an outage of the store that refuses every write; if
    lift, the quota comes back during the outage; then a crash with calls in flight."""
    seed = 3000 + trial
    rng = random.Random(seed)
    name = f"quota {trial} (seed {seed}, {'lifted' if lift else 'during the outage'})"
    page = await open_engine(context, server, "quota")
    cdp = await context.new_cdp_session(page)
    origin = server.url.rstrip("/")

    async def set_quota(size: int | None) -> None:
        await cdp.send("Storage.overrideQuotaForOrigin",
                       {"origin": origin} if size is None else {"origin": origin, "quotaSize": size})

    async def usage() -> int:
        return (await cdp.send("Storage.getUsageAndQuota", {"origin": origin}))["usage"]

    # Chromium grants writes from an allowance of the free quota that it caches for up to
    # 30 s (BucketContext::kBucketSpaceCacheTimeLimit) when a write first asks: a quota
    # with little room makes the allowance small enough for the big batch to exceed it,
    # and then Chromium asks again and learns the new quota.
    await set_quota(await usage() + ROOM)
    before = random_operations(rng, 40)
    answers = await page.evaluate(SETTLE_JS, before)
    assert set(answers) <= {None, "AllocationError"}, f"{name}: before the outage: {answers}"
    # a quota below what the store holds already: every write fails, however small
    await set_quota(await usage() // 4)
    during = [["allocateBatch", list(range(10_000, 10_000 + BIG_BATCH))],
              *random_operations(rng, 100)]
    plan = {"ops": during, "width": rng.randint(1, 8), "burst": rng.randint(1, 20),
            "ackTarget": rng.randint(5, 40) if lift else len(during) + 1,
            "rejectTarget": len(during) + 1 if lift else rng.randint(20, 60),
            "pauseOnOutage": lift}
    outages = []

    async def on_outage() -> None:
        outages.append(True)
        await set_quota(None)

    point = await drive_and_crash(context, page, plan, on_outage if lift else None)

    page = await context.new_page()
    await (await context.new_cdp_session(page)).send(
        "Storage.overrideQuotaForOrigin", {"origin": origin})
    page = await open_engine(context, server, "quota", page=page)
    recovered = as_state(await page.evaluate(OBSERVE_JS))
    await page.close()

    # the whole stream, as the page saw it
    offset = len(before)
    stream = {"issued": offset + point["issued"],
              "acked": [i for i, error in enumerate(answers) if error is None]
              + [offset + i for i in point["acked"]],
              "rejected": [[i, error] for i, error in enumerate(answers) if error is not None]
              + [[offset + i, error] for i, error in point["rejected"]]}
    refused = frozenset(i for i, error in stream["rejected"] if error == "StorageError")
    result = judge(name, before + during, stream, recovered, refused=refused)
    # the outage hit: the store said so and refused calls with StorageError
    assert {error for _, error in point["rejected"]} <= {"StorageError", "AllocationError"}, point
    assert refused, f"{name}: no call was refused with StorageError during the outage"
    if lift:
        assert outages and point["storage"]["saved"] is True, (outages, point["storage"])
    else:
        assert point["storage"]["saved"] is False, point["storage"]
        assert "quota" in point["storage"]["error"].lower(), point["storage"]
        # nothing could be stored, so nothing may have been acknowledged
        assert point["acked"] == [], f"{name}: acknowledged during the outage: {point['acked']}"
    return result


async def quota_trials(browser: CrashBrowser, context: AsyncContext, server: Server
                       ) -> list[Trial]:
    """One trial crashed during the outage, one after the quota was lifted; each on empty
    storage, so that Chromium's cached allowance starts afresh."""
    trials = []
    for trial, lift in enumerate([False, True]):
        await browser.empty_storage()
        trials.append(await quota_trial(context, server, trial, lift))
        print(trials[-1].line())
    return trials


def test_no_acknowledged_operation_is_lost_when_the_renderer_crashes_in_a_quota_outage(
    crash_browser: CrashBrowser, server: Server
) -> None:
    recorder = Recorder(origin=server.url)
    trials = crash_browser.run_test(
        recorder, lambda context: quota_trials(crash_browser, context, server), 600)
    report("quota outage", trials)
    assert [p for p in recorder.problems() if "QuotaExceededError" not in p] == []


# --- several tabs reset refused data at once -------------------------------------------

# The last journal record of engine `name` disappears behind the engine's back, so that
# its stored data is refused ("truncated journal"); the keys left.
DAMAGE_JS = """async (name) => {
    const db = await new Promise((ok) => { const r = indexedDB.open('cortexkg:' + name); r.onsuccess = () => ok(r.result); });
    const tx = db.transaction('journal', 'readwrite');
    const store = tx.objectStore('journal');
    let keys;
    store.getAllKeys().onsuccess = ({target}) => {
        store.delete(target.result.at(-1));
        store.getAllKeys().onsuccess = (left) => { keys = left.target.result; };
    };
    await new Promise((ok) => { tx.oncomplete = ok; });
    db.close();
    return keys;
}"""

# Arm the page: on the next message of the BroadcastChannel "race" it calls the API
# (reset(), or allocateConcept(arg)); window.outcome settles with what that call did.
ARM_JS = """(arg) => {
    window.outcome = new Promise((resolve) => {
        const channel = new BroadcastChannel('race');
        channel.onmessage = ({data}) => {
            channel.close();
            (data === 'reset' ? kg.reset() : kg.allocateConcept(arg)).then(
                (value) => resolve({ok: true, value}),
                (e) => resolve({ok: false, error: e.name, message: e.message}));
        };
    });
}"""
FIRE_JS = "(what) => { const channel = new BroadcastChannel('race'); channel.postMessage(what); channel.close(); }"

# kg.storage.mode once it is `mode`, or after 10 s whatever it is then.
MODE_JS = """(mode) => new Promise((resolve) => {
    // the timer is cleared: fired after the test closed kg, it would be a page error
    const done = () => { clearTimeout(timer); kg.removeEventListener('storage', check); resolve(kg.storage.mode); };
    const check = () => { if (kg.storage.mode === mode) done(); };
    kg.addEventListener('storage', check);
    const timer = setTimeout(done, 10000);
    check();
})"""

# kg.getAllocationInfo(id) once it is column, or after 10 s whatever it is then.
FOLLOWS_JS = """([id, column]) => new Promise((resolve) => {
    // the timer is cleared: fired after the test closed kg, its call would reject unheard
    const done = async () => { clearTimeout(timer); kg.removeEventListener('change', check); resolve(await kg.getAllocationInfo(id)); };
    const check = async () => { if (await kg.getAllocationInfo(id) === column) done(); };
    kg.addEventListener('change', check);
    const timer = setTimeout(done, 10000);
    check();
})"""


async def new_tab(context: AsyncContext, server: Server) -> AsyncPage:
    page = await context.new_page()
    page.set_default_timeout(BOOT_TIMEOUT_MS)
    await page.goto(server.url + "api.html")
    return page


async def refused_tabs(context: AsyncContext, server: Server, name: str, count: int
                       ) -> list[AsyncPage]:
    """count tabs on engine name whose stored data is refused (its last journal record is
    gone): each has opened it and failed."""
    first = await new_tab(context, server)
    assert await first.evaluate(OPEN_JS, {"name": name, "columns": COLUMNS}) == "writer"
    await first.evaluate("async () => { for (const id of [1, 2, 3]) await kg.allocateConcept(id); kg.close(); }")
    # journal record 3 disappears behind the engine's back: the stored data is refused
    assert await first.evaluate(DAMAGE_JS, name) == [1, 2]
    tabs = [first] + [await new_tab(context, server) for _ in range(count - 1)]
    for tab in tabs:
        assert await tab.evaluate(OPEN_JS, {"name": name, "columns": COLUMNS}) == "failed"
        assert "truncated journal" in await tab.evaluate("() => kg.storage.error")
    return tabs


async def race(tabs: list[AsyncPage], what: str, args: list) -> list[dict]:
    """Arm each tab with its arg, fire what in all of them at once; what each call did."""
    for tab, arg in zip(tabs, args):
        await tab.evaluate(ARM_JS, arg)
    await tabs[0].evaluate(FIRE_JS, what)
    return [await tab.evaluate("() => outcome") for tab in tabs]


async def reset_race(tabs: list[AsyncPage]) -> int:
    """The tabs reset their refused data at once: exactly one becomes the writer (its
    index), the others follow its reset, read-only."""
    resets = await race(tabs, "reset", [None] * len(tabs))
    writers = [i for i, outcome in enumerate(resets) if outcome["ok"]]
    assert len(writers) == 1, f"{len(writers)} tabs became the writer: {resets}"
    [writer] = writers
    for i, outcome in enumerate(resets):
        if i != writer:
            assert outcome["error"] == "StateError", outcome
    modes = ["writer" if i == writer else "reader" for i in range(len(tabs))]
    assert [await tab.evaluate(MODE_JS, mode) for tab, mode in zip(tabs, modes)] == modes
    return writer


# Concepts the three tabs try to allocate at once: outside random_operations' ids, so a
# refused one found stored would match no prefix of the stream that follows.
RACE_IDS = [1000, 2000, 3000]


async def race_then_crash(context: AsyncContext, server: Server) -> Trial:
    tabs = await refused_tabs(context, server, "race", 3)
    writer = await reset_race(tabs)
    allocations = await race(tabs, "allocate", RACE_IDS)
    assert allocations[writer] == {"ok": True, "value": 0}, allocations
    for i, outcome in enumerate(allocations):
        if i != writer:
            assert outcome["error"] == "StateError" and "Read-only" in outcome["message"], outcome
            assert await tabs[i].evaluate(FOLLOWS_JS, [RACE_IDS[writer], 0]) == 0
    # one reader leaves; the writer's renderer crashes with calls in flight, and the other
    # reader takes the writer lock the crash released, from the stored data
    [leaving, other] = [tab for i, tab in enumerate(tabs) if i != writer]
    await leaving.evaluate("() => kg.close()")
    await tabs[writer].evaluate(DRIVER_JS)
    seed = 4000
    rng = random.Random(seed)
    ops = random_operations(rng, 400)
    point = await drive_and_crash(context, tabs[writer], random_plan(rng, ops))
    assert await other.evaluate(MODE_JS, "writer") == "writer"
    recovered = as_state(await other.evaluate(OBSERVE_JS))
    # the stream as stored: the raced allocation (acknowledged), then the driven calls;
    # the refused calls of the race never happened
    stream = {"issued": 1 + point["issued"], "acked": [0] + [1 + i for i in point["acked"]],
              "rejected": [[1 + i, error] for i, error in point["rejected"]]}
    return judge(f"refused, renderer (seed {seed})", [["allocate", RACE_IDS[writer]], *ops],
                 stream, recovered)


def test_after_refused_data_one_tab_of_three_resetting_at_once_becomes_the_writer(
    crash_browser: CrashBrowser, server: Server
) -> None:
    """...and when its renderer crashes with calls in flight, another tab takes over with
    every acknowledged call, the raced allocation included, and none of the refused."""
    recorder = Recorder(origin=server.url)
    trial = crash_browser.run_test(recorder, lambda context: race_then_crash(context, server), 600)
    print(trial.line())
    assert recorder.problems() == []


# --- a browser kill after a reset of refused data ------------------------------------------


async def kill_after_reset(browser: CrashBrowser, server: Server, recorder: Recorder,
                           profile: Path) -> Trial:
    """Two tabs reset refused data at once; the whole browser is killed while the
    writer's calls are in flight, and a new browser reopens the engine."""
    seed = 5000
    rng = random.Random(seed)
    ops = random_operations(rng, 400)
    context = await browser.launch(profile)
    recorder.attach(context)
    tabs = await refused_tabs(context, server, "refused", 2)
    writer = tabs[await reset_race(tabs)]
    await writer.evaluate(DRIVER_JS)
    messages: asyncio.Queue[str] = asyncio.Queue()
    writer.on("console", lambda message: messages.put_nowait(message.text))
    chromium = browser_process(profile)  # found first: the kill follows the crash point at once
    await writer.evaluate("(plan) => drive(plan)", random_plan(rng, ops))
    while not (text := await messages.get()).startswith("crash point "):
        pass
    async with context.expect_event("close"):  # Playwright saw the browser go
        os.killpg(chromium, signal.SIGKILL)
    context = await browser.launch(profile)
    recorder.attach(context)
    page = await open_engine(context, server, "refused")
    recovered = as_state(await page.evaluate(OBSERVE_JS))
    await context.close()
    point = json.loads(text.removeprefix("crash point "))
    return judge(f"refused, kill (seed {seed})", ops, point, recovered)


def test_no_acknowledged_operation_is_lost_when_the_browser_is_killed_after_a_reset_of_refused_data(
    crash_browser: CrashBrowser, server: Server, tmp_path: Path
) -> None:
    recorder = Recorder(origin=server.url)
    profile = crash_browser.copy_profile(tmp_path / "profile")
    trial = crash_browser.run(kill_after_reset(crash_browser, server, recorder, profile), 600)
    print(trial.line())
    assert recorder.problems() == []
