"""Relaxed durability in real Chromium: what it acknowledges, what a crash may lose.

Under ``durability: "relaxed"`` a mutation resolves once the engine applied it; its record
commits shortly after. No mutation is acknowledged while a change acknowledged more than
RELAXED_WINDOW_MS earlier is still uncommitted, so a crash loses at most the changes
acknowledged in that window before the last acknowledgment, and what survives is an exact
prefix of the operations. The crash trials (renderer crash, browser kill) drive random
streams with flush() calls mixed in and crash while acknowledged changes that no flush has
confirmed and unacknowledged calls are outstanding; the recovered state must be a prefix
holding every change a resolved flush() confirmed, and every acknowledged change lost must
satisfy the window bound in the page's own clock (see judge_relaxed).

Run with -s to see one line per trial and the loss measured.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

import pytest
from harness import BOOT_TIMEOUT_MS, Recorder, Server, chromium_args, chromium_executable
from playwright.async_api import BrowserContext as AsyncContext
from playwright.sync_api import BrowserContext, Page, Playwright
from crashes import (
    OBSERVE_JS,
    RESET_JS,
    CrashBrowser,
    as_state,
    drive_and_crash,
    drive_and_kill,
    expected_states,
    random_operations,
)

pytestmark = pytest.mark.browser

# Each trial fails unless its crash hit acknowledged changes no flush had confirmed and
# calls in flight (judge_relaxed()); two of each kind prove the window's bound.
RENDERER_TRIALS = 2
KILL_TRIALS = 2
COLUMNS = 96
WINDOW_MS = 8  # RELAXED_WINDOW_MS of web/cortexkg.js (checked against it below)
# performance.now() is exact to 5 µs when cross-origin isolated, 100 µs otherwise: two
# readings compared may each be off by that much
CLOCK_MS = 0.1

OPEN_JS = """async ({name, columns, durability}) => {
    window.api = await import('./cortexkg.js');
    window.kg = await api.CortexKG.create({name, columns, durability});
    return [kg.storage.mode, kg.config.durability, api.RELAXED_WINDOW_MS];
}"""

# window.drive(plan): issue plan.ops keeping plan.width calls in flight and a kg.flush()
# after every plan.flushEvery calls issued, recording when each call was issued and
# acknowledged (performance.now()) and the last op a resolved flush covered (every op
# acknowledged before that flush was called). Once plan.ackTarget calls were acknowledged
# and some acknowledged op is not covered by a resolved flush, it issues plan.burst more,
# logs "crash point {...}" and holds its main thread, as test_durability's driver does.
DRIVER_JS = """() => {
    const call = ([kind, arg]) => kind === 'allocate' ? kg.allocateConcept(arg)
        : kind === 'deallocate' ? kg.deallocateConcept(arg)
        : kind === 'allocateBatch' ? kg.allocateBatch(arg, {columnar: true})
        : kind === 'deallocateBatch' ? kg.deallocateBatch(arg, {columnar: true})
        : kind === 'activate' ? kg.activateConcept(arg) : kg.optimizeAllocations();
    window.drive = ({ops, width, ackTarget, burst, flushEvery}) => {
        const acked = [], rejected = [], issuedAt = [], ackedAt = {};
        let issued = 0, flushed = -1, wake = () => {};
        const issue = () => {
            const i = issued++;
            issuedAt[i] = performance.now();
            call(ops[i]).then(() => { ackedAt[i] = performance.now(); acked.push(i); },
                              (e) => rejected.push([i, e.name])).finally(() => wake());
            if (issued % flushEvery === 0) {
                const covered = acked.length > 0 ? Math.max(...acked) : -1;
                kg.flush().then(() => { flushed = Math.max(flushed, covered); });
            }
        };
        const settled = () => new Promise((resolve) => { wake = resolve; });
        const uncovered = () => acked.some((i) => i > flushed);
        (async () => {
            while (issued < ops.length && (acked.length < ackTarget || !uncovered())) {
                if (issued - acked.length - rejected.length >= width) { await settled(); continue; }
                issue();
            }
            for (let b = 0; b < burst && issued < ops.length; b++) issue();
            console.log('crash point ' + JSON.stringify({issued, acked, rejected, flushed, issuedAt, ackedAt}));
            for (const until = Date.now() + 120000; Date.now() < until;);
        })();
    };
}"""


@dataclass
class Loss:
    """One relaxed crash: what the page knew, what came back, what was lost."""

    name: str
    acknowledged: int
    unconfirmed: int  # acknowledged after the last op a resolved flush covered
    outstanding: int
    recovered: int
    issued: int
    lost: int  # acknowledged ops not recovered
    span_ms: float  # from the first lost op's acknowledgment to the last acknowledgment

    def line(self) -> str:
        return (f"{self.name}: {self.acknowledged} acknowledged ({self.unconfirmed} unconfirmed by a "
                f"flush), {self.outstanding} outstanding at crash, recovered {self.recovered} of "
                f"{self.issued} issued; lost {self.lost} acknowledged, spanning {self.span_ms:.2f} ms")


def judge_relaxed(name: str, ops: list[list], point: dict, recovered: tuple) -> Loss:
    """The recovered state against the stream as the page saw it at the crash point.

    It must be the state after an exact prefix of the issued operations (a batch is one
    operation: never partly there) that holds every op a resolved flush() covered. The
    window: the worker acknowledges op j no earlier than the page issued it (s_j), and by
    then every change acknowledged before s_j - WINDOW_MS is committed; the page learns of
    an acknowledgment (a_i) after the worker gave it. So a lost op i has
    a_i >= s_j - WINDOW_MS for every acknowledged j: a bound in the page's own clock,
    whatever the machine's speed.
    """
    acked_at = {int(i): t for i, t in point["ackedAt"].items()}
    issued, flushed = point["issued"], point["flushed"]
    outstanding = issued - len(acked_at) - len(point["rejected"])
    unconfirmed = [i for i in acked_at if i > flushed]
    # the crash hit acknowledged changes no flush had confirmed, and calls in flight
    assert unconfirmed and outstanding > 0, (
        f"{name}: the crash interrupted nothing: {len(unconfirmed)} unconfirmed, {outstanding} outstanding")
    states = expected_states(ops[:issued], COLUMNS)
    prefixes = [k for k in range(flushed + 1, issued + 1) if states[k] == recovered]
    if not prefixes:
        matching = [k for k, state in enumerate(states) if state == recovered]
        pytest.fail(f"{name}: the recovered state is the state after no prefix of {flushed + 1}..{issued} "
                    f"of the issued operations (matching prefixes: {matching[:10]}; a resolved flush "
                    f"covered ops 0..{flushed})")
    kept = max(prefixes)
    lost = sorted(i for i in acked_at if i >= kept)
    latest_issue = max(point["issuedAt"][j] for j in acked_at)
    for i in lost:
        assert acked_at[i] >= latest_issue - WINDOW_MS - 2 * CLOCK_MS, (
            f"{name}: op {i}, acknowledged at {acked_at[i]:.3f} ms, was lost, but op issued at "
            f"{latest_issue:.3f} ms was acknowledged later than {WINDOW_MS} ms after it")
    span = max(acked_at.values()) - acked_at[lost[0]] if lost else 0.0
    return Loss(name, len(acked_at), len(unconfirmed), outstanding, kept, issued, len(lost), span)


def random_plan(rng: random.Random, ops: list[list]) -> dict:
    return {"ops": ops, "width": rng.randint(1, 8), "ackTarget": rng.randint(5, 150),
            "burst": rng.randint(5, 80), "flushEvery": rng.randint(10, 60)}


def report(kind: str, trials: list[Loss]) -> None:
    lost = [t for t in trials if t.lost]
    print(f"{kind}: {len(trials)} trials, {sum(t.acknowledged for t in trials)} acknowledged, "
          f"{sum(t.lost for t in trials)} lost in {len(lost)} trials, longest span "
          f"{max((t.span_ms for t in trials), default=0):.2f} ms (bound {WINDOW_MS} ms)")


# --- renderer crash ------------------------------------------------------------------


async def open_relaxed(context, server: Server, name: str, page=None):
    page = page or await context.new_page()
    page.set_default_timeout(BOOT_TIMEOUT_MS)
    await page.goto(server.url + "api.html")
    opened = await page.evaluate(OPEN_JS, {"name": name, "columns": COLUMNS, "durability": "relaxed"})
    assert opened == ["writer", "relaxed", WINDOW_MS], opened
    await page.evaluate(DRIVER_JS)
    return page


async def renderer_crash_trials(context: AsyncContext, server: Server) -> list[Loss]:
    trials = []
    page = await open_relaxed(context, server, "relaxed-crash")
    for trial in range(RENDERER_TRIALS):
        seed = 5000 + trial
        rng = random.Random(seed)
        ops = random_operations(rng, 400)
        point = await drive_and_crash(context, page, random_plan(rng, ops))
        page = await open_relaxed(context, server, "relaxed-crash")
        recovered = as_state(await page.evaluate(OBSERVE_JS))
        trials.append(judge_relaxed(f"renderer crash {trial} (seed {seed})", ops, point, recovered))
        print(trials[-1].line())
        assert as_state(await page.evaluate(RESET_JS)) == expected_states([], COLUMNS)[0]
    return trials


def test_a_renderer_crash_keeps_an_exact_prefix_within_the_window(
    crash_browser: CrashBrowser, server: Server, recorder: Recorder
) -> None:
    trials = crash_browser.run_test(
        recorder, lambda context: renderer_crash_trials(context, server), 300)
    report("relaxed, renderer crash", trials)
    assert recorder.problems() == []


# --- browser kill --------------------------------------------------------------------


def launch(playwright: Playwright, server: Server, profile: Path, recorder: Recorder
           ) -> tuple[BrowserContext, Page]:
    """A browser on profile, its page open on the relaxed engine "relaxed-kill"."""
    context = playwright.chromium.launch_persistent_context(
        profile, executable_path=chromium_executable(), args=chromium_args())
    recorder.attach(context)
    page = context.pages[0] if context.pages else context.new_page()
    page.set_default_timeout(BOOT_TIMEOUT_MS)
    page.goto(server.url + "api.html")
    opened = page.evaluate(OPEN_JS, {"name": "relaxed-kill", "columns": COLUMNS, "durability": "relaxed"})
    assert opened == ["writer", "relaxed", WINDOW_MS], opened
    page.evaluate(DRIVER_JS)
    return context, page


def test_a_browser_kill_keeps_an_exact_prefix_within_the_window(
    playwright: Playwright, crash_browser: CrashBrowser, server: Server, tmp_path: Path
) -> None:
    profile = crash_browser.copy_profile(tmp_path / "profile")
    recorder = Recorder(origin=server.url)
    context, page = launch(playwright, server, profile, recorder)
    trials = []
    for trial in range(KILL_TRIALS):
        seed = 6000 + trial
        rng = random.Random(seed)
        ops = random_operations(rng, 400)
        point = drive_and_kill(context, page, profile, random_plan(rng, ops))
        context, page = launch(playwright, server, profile, recorder)
        recovered = as_state(page.evaluate(OBSERVE_JS))
        trials.append(judge_relaxed(f"browser kill {trial} (seed {seed})", ops, point, recovered))
        print(trials[-1].line())
        assert as_state(page.evaluate(RESET_JS)) == expected_states([], COLUMNS)[0]
    context.close()
    report("relaxed, browser kill", trials)
    assert recorder.problems() == []


# --- configuration, flush, close, hiding the page --------------------------------------

# What the database holds, read from the page behind the engine's back: the last
# acknowledged seq its meta record names and the journal's last key.
STORED_JS = """async (name) => {
    const db = await new Promise((ok, fail) => { const r = indexedDB.open('cortexkg:' + name); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
    const tx = db.transaction(['meta', 'journal']);
    const meta = tx.objectStore('meta').get('meta'), keys = tx.objectStore('journal').getAllKeys();
    await new Promise((ok) => { tx.oncomplete = ok; });
    db.close();
    return {lastSeq: meta.result.lastSeq, lastRecord: keys.result.at(-1) ?? null};
}"""

# How many times the page's kg.flush() is called when the page is hidden, shown again,
# left (pagehide), and hidden after kg.close().
HIDE_JS = """async () => {
    let calls = 0;
    const flush = kg.flush.bind(kg);
    kg.flush = () => { calls += 1; return flush(); };
    let visibility = 'visible';
    Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => visibility});
    const counted = async (dispatch) => { const before = calls; dispatch(); await kg.getAllocatedCount(); return calls - before; };
    const hide = (state) => () => { visibility = state; document.dispatchEvent(new Event('visibilitychange')); };
    const seen = {hidden: await counted(hide('hidden')), visible: await counted(hide('visible')),
                  pagehide: await counted(() => dispatchEvent(new PageTransitionEvent('pagehide')))};
    await kg.close();
    const before = calls;
    hide('hidden')();
    seen.closed = calls - before;
    delete document.visibilityState;
    return seen;
}"""


def open_page(context: BrowserContext, server: Server) -> Page:
    page = context.new_page()
    page.set_default_timeout(BOOT_TIMEOUT_MS)
    page.goto(server.url + "api.html")
    page.evaluate("async () => { window.api = await import('./cortexkg.js'); }")
    return page


def create(page: Page, **options) -> dict:
    """window.kg = CortexKG.create(options); its config and storage."""
    return page.evaluate("""async (options) => {
        window.kg = await api.CortexKG.create(options);
        return {config: kg.config, storage: kg.storage};
    }""", options)


def history(page: Page) -> list[int]:
    return page.evaluate("async () => (await kg.getAllocationHistory()).map((h) => h.conceptId)")


def refusal(page: Page, script: str) -> str:
    return page.evaluate(f"async () => {{ try {{ await {script}; return 'accepted'; }} "
                         "catch (e) { return e.name + ': ' + e.message; } }")


def test_durability_is_the_instances_choice_flush_and_close_write_what_was_acknowledged(
    context: BrowserContext, server: Server
) -> None:
    page = open_page(context, server)
    page.evaluate(f"() => {{ window.stored = {STORED_JS}; }}")
    assert page.evaluate("() => [api.DEFAULTS.durability, api.RELAXED_WINDOW_MS]") == ["strict", WINDOW_MS]
    for bad, named in [("'fast'", '"fast"'), ("1", "1"), ("null", "null")]:
        assert refusal(page, f"api.CortexKG.create({{name: 'never', durability: {bad}}})") == (
            f'InvalidInputError: Invalid durability {named}: expected "strict" or "relaxed"')

    strict = create(page, name="mode", columns=16)
    assert strict["config"]["durability"] == "strict"
    page.evaluate("async () => { await kg.allocateBatch([1, 2]); }")
    # hiding or leaving the page asks a strict engine for nothing: each change is stored
    assert page.evaluate(HIDE_JS) == {"hidden": 0, "visible": 0, "pagehide": 0, "closed": 0}

    # the engine written strictly, opened relaxed: the mode is not the stored engine's
    relaxed = create(page, name="mode", columns=16, durability="relaxed")
    assert relaxed["config"]["durability"] == "relaxed"
    assert relaxed["storage"]["ignored"] == [] and relaxed["storage"]["restored"]["allocated"] == 2
    page.evaluate("async () => { await kg.allocateConcept(3); }")
    assert refusal(page, "kg.reset({durability: 'never'})") == (
        'InvalidInputError: Invalid durability "never": expected "strict" or "relaxed"')
    assert page.evaluate("() => kg.config.durability") == "relaxed" and history(page) == [1, 2, 3]

    # flush() resolves once every acknowledged change is in the database; calls pending
    # when close() is called settle first, and close() writes them too
    page.evaluate("async () => { await kg.reset({columns: 4096}); }")
    first = page.evaluate("() => stored('mode')")["lastSeq"]  # the reset's snapshot
    written = page.evaluate("""async () => {
        await Promise.all(Array.from({length: 500}, (_, i) => kg.allocateConcept(i)));
        await kg.flush();
        const flushed = await stored('mode');
        window.pending = Array.from({length: 300}, (_, i) => kg.deallocateConcept(i).then(() => 'resolved', (e) => e.name));
        return flushed;
    }""")
    # the 500 calls issued together are one run of allocateConcept: one record
    assert written == {"lastSeq": first + 1, "lastRecord": first + 1}
    # a relaxed engine writes at once when the page is hidden or left (not when shown),
    # and no longer listens once closed
    assert page.evaluate(HIDE_JS) == {"hidden": 1, "visible": 0, "pagehide": 1, "closed": 0}
    closed = page.evaluate("async () => ({outcomes: [...new Set(await Promise.all(pending))], stored: await stored('mode')})")
    assert closed == {"outcomes": ["resolved"], "stored": {"lastSeq": first + 2, "lastRecord": first + 2}}

    again = create(page, name="mode")
    assert again["config"]["durability"] == "strict" and history(page) == list(range(300, 500))
    # reset() may change the instance's durability
    config = page.evaluate("async () => kg.reset({durability: 'relaxed', columns: 8})")
    assert config["durability"] == "relaxed" and config["columns"] == 8 and history(page) == []


# GroupCommit (web/group-commit.js) in the page over a database whose writes complete when
# the test says: record 1's transaction is in flight while record 2 is acknowledged.
BEHIND_JS = """async (flushing) => {
    const { GroupCommit } = await import('./group-commit.js');
    const writes = [];  // {seqs, at, commit()} per transaction placed
    let placed = null;
    const nextWrite = () => new Promise((resolve) => { placed = resolve; });
    const host = {storage: () => ({saved: true, unsaved: 0}), setStorage() {}, setWriteError() {},
                  rollback() {}, published() {}, held() {}};
    const writer = new GroupCommit('behind', 'relaxed', host);
    writer.db = {close() {}, write: ({records}) => new Promise((commit) => {
        writes.push({seqs: records.map((r) => r.seq), at: performance.now(), commit});
        placed();
    })};
    let next = nextWrite();
    writer.write([{seq: 1}], null);
    await next;  // record 1's transaction is in flight
    const acknowledged = performance.now();
    writer.write([{seq: 2}], null);
    next = nextWrite();
    const flushed = flushing ? writer.flush().then(() => 'flushed', (e) => e.name + ': ' + e.message) : null;
    writes[0].commit();
    await next;  // record 2's transaction
    writes[1].commit();
    return {seqs: writes.map((w) => w.seqs), waited: writes[1].at - acknowledged,
            flushed: await flushed, unwritten: writer.unwritten};
}"""


def test_a_record_acknowledged_during_a_transaction_waits_its_delay_unless_flushed(
    context: BrowserContext, server: Server
) -> None:
    page = open_page(context, server)
    # alone, record 2 waits behind record 1's transaction and then out its delay (2 ms):
    # transactions back to back would cross every awaited call's messages
    alone = page.evaluate(BEHIND_JS, False)
    assert alone["seqs"] == [[1], [2]] and alone["unwritten"] == 0
    assert alone["waited"] >= 1.95, alone  # (performance.now() is coarsened)
    # a flush writes it as soon as the transaction in flight is done, and resolves then
    flushed = page.evaluate(BEHIND_JS, True)
    assert flushed["seqs"] == [[1], [2]] and flushed["flushed"] == "flushed" and flushed["unwritten"] == 0


# --- write failures ----------------------------------------------------------------------

# Calls the page makes while the quota is exceeded; per call "resolved" or the error's name.
OUTAGE_JS = """async () => {
    const outcome = (p) => p.then(() => 'resolved', (e) => e.name);
    const saved = (wanted) => new Promise((resolve) => {
        const check = () => { if (kg.storage.saved === wanted) { kg.removeEventListener('storage', check); resolve(); } };
        kg.addEventListener('storage', check);
        check();
    });
    // the batch's record is larger than the quota's room: its write fails after the
    // batch (and whatever followed it at once) was acknowledged
    const first = await Promise.all([
        outcome(kg.allocateBatch(Uint32Array.from({length: 200000}, (_, i) => i + 10), {columnar: true})),
        outcome(kg.allocateConcept(7)), outcome(kg.deallocateConcept(1))]);
    await saved(false);
    const then = await Promise.all([outcome(kg.allocateConcept(8)), outcome(kg.deallocateBatch([2]))]);
    const flush = await kg.flush().then(() => 'resolved', (e) => e.name + ': ' + e.message);
    return {first, then, flush, storage: kg.storage, allocated: await kg.getAllocatedCount(),
            info: await Promise.all([1, 7, 10].map((id) => kg.getAllocationInfo(id)))};
}"""


def outage(context: BrowserContext, server: Server, name: str) -> tuple[Page, dict, int]:
    """A relaxed engine with concepts 1, 2, 3 stored, then acknowledged changes whose
    write exceeds the quota; the page, what the outage showed, and the seq stored before."""
    context.expected_errors.append("QuotaExceededError")  # Chromium may log the refused writes
    page = open_page(context, server)
    page.evaluate(f"() => {{ window.stored = {STORED_JS}; }}")
    create(page, name=name, columns=300_000, durability="relaxed")
    # Chromium grants writes an allowance for 30 s after one first asks for quota, so the
    # quota is set before the first write: small writes fit, the batch's record does not
    cdp = context.new_cdp_session(page)
    usage = page.evaluate("async () => (await navigator.storage.estimate()).usage")
    cdp.send("Storage.overrideQuotaForOrigin", {"origin": server.url.rstrip("/"), "quotaSize": usage + 128 * 1024})
    before = page.evaluate(f"async () => {{ await kg.allocateBatch([1, 2, 3]); await kg.flush(); return (await stored({json.dumps(name)})).lastSeq; }}")
    seen = page.evaluate(OUTAGE_JS)
    acknowledged = seen["first"].count("resolved")
    # the batch was acknowledged; whatever came after it was acknowledged until the write
    # failed, and refused with StorageError from then on
    assert seen["first"] == ["resolved"] * acknowledged + ["StorageError"] * (3 - acknowledged), seen["first"]
    assert seen["then"] == ["StorageError", "StorageError"]
    # the failure is not silent: storage says how many acknowledged changes are unsaved,
    # and so does flush(); the engine keeps them applied
    assert seen["storage"]["saved"] is False and "QuotaExceededError" in seen["storage"]["error"]
    assert seen["storage"]["unsaved"] == acknowledged
    plural = "change is" if acknowledged == 1 else "changes are"
    assert seen["flush"].startswith(f"StorageError: {acknowledged} acknowledged {plural} not saved: QuotaExceededError")
    applied = {1: 200_003, 2: 200_004, 3: 200_003}[acknowledged]
    assert seen["allocated"] == applied and seen["info"][2] is not None
    assert (seen["info"][1] is not None) == (acknowledged >= 2)
    assert (seen["info"][0] is None) == (acknowledged == 3)
    return page, seen, before


def test_relaxed_changes_a_write_failed_on_stay_applied_and_are_written_once_it_can(
    context: BrowserContext, server: Server
) -> None:
    page, seen, before = outage(context, server, "quota-lifted")
    acknowledged = seen["storage"]["unsaved"]
    context.new_cdp_session(page).send("Storage.overrideQuotaForOrigin", {"origin": server.url.rstrip("/")})
    after = page.evaluate("""async () => {
        await kg.flush();
        const storage = kg.storage;
        const column = await kg.allocateConcept(9);
        await kg.flush();
        return {storage: [storage.saved, storage.error, storage.unsaved], column, stored: await stored('quota-lifted')};
    }""")
    assert after["storage"] == [True, None, 0]
    # first fit: concept 1's column if its deallocation was acknowledged, else the next
    assert after["column"] == (0 if acknowledged == 3 else seen["allocated"])
    # the held changes were written in order, then the new one
    assert after["stored"]["lastSeq"] == before + acknowledged + 1


def test_relaxed_changes_a_write_failed_on_are_lost_when_the_engine_closes_and_it_says_so(
    context: BrowserContext, server: Server
) -> None:
    page, seen, before = outage(context, server, "quota-closed")
    acknowledged = seen["storage"]["unsaved"]
    closed = page.evaluate("async () => kg.close().then(() => 'resolved', (e) => e.name + ': ' + e.message)")
    plural = "change is" if acknowledged == 1 else "changes are"
    assert closed.startswith(f"StorageError: {acknowledged} acknowledged {plural} not saved")
    # what the database holds is the state before the outage, consistent and complete
    assert page.evaluate("() => stored('quota-closed')") == {"lastSeq": before, "lastRecord": before}
