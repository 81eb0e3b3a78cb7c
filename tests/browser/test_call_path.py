"""The call path (issue 12): calls issued in one task travel, run and come back as one
message each way, with the answers and errors of the same calls sent one by one; kg.stats
reads the counters synchronously; the error classes agree with Python's.

Messages are counted with a wrapper around Worker.prototype.postMessage and a listener
on the engine's worker, both installed by the page before the engine is created: they
observe the real traffic without changing it, and the API exposes nothing for tests.
"""

from __future__ import annotations

import pytest
from harness import Server
from playwright.sync_api import Browser, Page

import cortexkg.errors

pytestmark = pytest.mark.browser

# Count page -> worker posts and worker -> page answer messages (not events or progress),
# and note whether the engine was opened with a shared stats buffer.
COUNT_JS = """() => {
    window.traffic = {posted: 0, answered: 0, sharedStats: false};
    const post = Worker.prototype.postMessage, seen = new WeakSet();
    Worker.prototype.postMessage = function (...args) {
        window.traffic.posted += 1;
        if (!seen.has(this)) {
            seen.add(this);
            this.addEventListener('message', ({data}) => {
                if (data.type !== 'answers' && data.type !== 'unreadable') return;
                window.traffic.answered += 1;
                const buffer = data.answers?.[0]?.value?.stats?.buffer;
                if (buffer instanceof SharedArrayBuffer) window.traffic.sharedStats = true;
            });
        }
        return post.apply(this, args);
    };
}"""

# Each call as [method, args] on an engine of 5 columns: failures in the middle, calls that
# depend on earlier ones (activate what was just allocated, allocate into a column just
# freed, a full engine refusing), reads between mutations, and a command (flush).
CORPUS = """[
    ['allocateConcept', [1]], ['allocateConcept', ['7']], ['activateConcept', [1, 0.5]],
    ['getAllocationInfo', [1]], ['deallocateConcept', [5]], ['allocateBatch', [[2, 3, 2]]],
    ['activateConcept', [9]], ['getFreeColumnCount', []], ['allocateConcept', [4]],
    ['allocateConcept', [-1]], ['allocateConcept', [6]], ['allocateConcept', [7]],
    ['getAllocatedCount', []], ['flush', []], ['deallocateConcept', [2]],
    ['allocateConcept', [8, {embedding: [1]}]], ['allocateConcept', [8]],
    ['getAllocationHistory', [{start: 1}]], ['optimizeAllocations', []], ['getColumn', [99]],
    ['deallocateBatch', [[1, 4, 11]]], ['getAllocationEfficiency', []], ['getFragmentation', []],
    ['getStats', []],
]"""

RUN_JS = """async ([name, together]) => {
    const kg = await window.api.CortexKG.create({name, columns: 5});
    const calls = """ + CORPUS + """;
    // clock readings: the same calls made later differ in them alone
    const timeless = (v) => JSON.parse(JSON.stringify(v ?? null,
        (k, x) => (k === 'timestamp' || k === 'average_time_ms' ? 'time' : x)));
    const settle = (p) => p.then((v) => ['ok', timeless(v)], (e) => [e.name, e.message]);
    const before = {...window.traffic};
    let results;
    if (together) results = await Promise.all(calls.map(([m, a]) => settle(kg[m](...a))));
    else {
        results = [];
        for (const [m, a] of calls) results.push(await settle(kg[m](...a)));
    }
    const traffic = {posted: window.traffic.posted - before.posted, answered: window.traffic.answered - before.answered};
    const columns = Object.entries(await kg.getColumnStates())
        .filter(([field]) => !['allocatedAt', 'activatedMs', 'refractoryLeftMs'].includes(field)); // clock readings
    const state = [timeless(await kg.getAllocationHistory()), columns.map(([field, a]) => [field, Array.from(a)])];
    await kg.reset();
    kg.close();
    return {results, traffic, state};
}"""


@pytest.fixture(scope="module")
def counted_page(api_page: Page) -> Page:
    api_page.evaluate(COUNT_JS)
    api_page.evaluate("async () => { window.api = await import('./cortexkg.js'); }")
    return api_page


def test_a_group_issued_in_one_task_answers_exactly_as_calls_awaited_one_by_one(
        counted_page: Page) -> None:
    together = counted_page.evaluate(RUN_JS, ["group", True])
    alone = counted_page.evaluate(RUN_JS, ["alone", False])
    assert together["results"] == alone["results"]
    assert together["state"] == alone["state"]
    kinds = [kind for kind, _ in together["results"]]
    # failures in the middle of the group, of each kind, and the calls after them went on
    assert kinds[1] == kinds[9] == kinds[15] == kinds[19] == "InvalidInputError"
    assert kinds[6] == kinds[11] == "AllocationError"  # not allocated; no free column
    assert kinds.count("ok") == 18
    # dependent calls saw the earlier ones: activated what was just allocated (else an
    # AllocationError), allocated into column 1, freed just before
    assert together["results"][2] == ["ok", 1] and together["results"][16] == ["ok", 1]
    # one message each way for the group (the command in it included)
    assert together["traffic"] == {"posted": 1, "answered": 1}
    # alone, the four counter getters are answered in the page (nothing in flight)
    assert alone["traffic"] == {"posted": 20, "answered": 20}


def test_each_mutation_of_a_group_resolves_only_once_its_record_is_committed(
        counted_page: Page) -> None:
    # The page holds a readwrite transaction on the engine's journal open (a chain of
    # requests), so the worker's commit waits behind it. A query issued after the group
    # runs after it and is answered at once: by then the group's answers would have come
    # too, had they not waited for the commit.
    out = counted_page.evaluate("""async () => {
        const kg = await window.api.CortexKG.create({name: 'strict-group', columns: 8});
        const db = await new Promise((ok) => { const r = indexedDB.open('cortexkg:strict-group'); r.onsuccess = () => ok(r.result); });
        let hold = true;
        const journal = db.transaction('journal', 'readwrite').objectStore('journal');
        const spin = () => { if (hold) journal.get(0).onsuccess = spin; };
        spin();
        const settled = [];
        const group = [kg.allocateConcept(1), kg.allocateConcept(-1), kg.allocateConcept(2),
            kg.getAllocatedCount()].map((call, index) => call.finally(() => settled.push(index)));
        await new Promise((resolve) => setTimeout(resolve)); // a later task: a group of its own
        const countWhileHeld = await kg.getAllocatedCount();
        const settledWhileHeld = [...settled];
        hold = false;
        const results = await Promise.allSettled(group);
        const stored = await new Promise((ok) => {
            const request = db.transaction('journal').objectStore('journal').getAllKeys();
            request.onsuccess = () => ok(request.result);
        });
        db.close();
        await kg.reset();
        kg.close();
        return {countWhileHeld, settledWhileHeld, results: results.map((r) => r.status), stored};
    }""")
    assert out["countWhileHeld"] == 2  # the group had run
    assert out["settledWhileHeld"] == []  # but none of it was answered before its commit
    assert out["results"] == ["fulfilled", "rejected", "fulfilled", "fulfilled"]
    assert out["stored"] == [1, 2]


# Runs of allocateConcept(id) / deallocateConcept(id) in a group run as one batch and one
# journal record (Session.call_many): bad ids in the middle of a run, a full engine, an
# idempotent hit, a duplicate, a deallocation of nothing.
RUNS_JS = """async ([name, together, durability]) => {
    const kg = await window.api.CortexKG.create({name, columns: 4, durability});
    const calls = [
        ['allocateConcept', [1]], ['allocateConcept', [2]], ['allocateConcept', [-1]],
        ['allocateConcept', ['3']], ['allocateConcept', [2.5]], ['allocateConcept', [3]],
        ['allocateConcept', [2 ** 32]], ['allocateConcept', [4, undefined]], ['allocateConcept', [5]],
        ['allocateConcept', [1]], ['allocateConcept', [6]], ['deallocateConcept', [2]],
        ['deallocateConcept', [2]], ['deallocateConcept', [-4]], ['deallocateConcept', [99]],
        ['deallocateConcept', [3]], ['deallocateConcept', [3]], ['allocateConcept', [7]],
        ['allocateConcept', [8]],
    ];
    const settle = (p) => p.then((v) => ['ok', v], (e) => [e.name, e.message]);
    let results;
    if (together) results = await Promise.all(calls.map(([m, a]) => settle(kg[m](...a))));
    else {
        results = [];
        for (const [m, a] of calls) results.push(await settle(kg[m](...a)));
    }
    const state = async (engine) => [
        (await engine.getAllocationHistory()).map((h) => [h.conceptId, h.columnId]),
        Array.from((await engine.getColumnStates()).state), (await engine.getStats()).usage_hits];
    const live = await state(kg);
    await kg.flush();
    const db = await new Promise((ok) => { const r = indexedDB.open(`cortexkg:${name}`); r.onsuccess = () => ok(r.result); });
    const stored = await new Promise((ok) => {
        const request = db.transaction('journal').objectStore('journal').getAll();
        request.onsuccess = () => ok(request.result.map((record) => record.method));
    });
    db.close();
    if (!together) {
        await kg.reset();
        kg.close();
        return {results, live, stored};
    }
    await kg.close();
    const reopened = await window.api.CortexKG.create({name, columns: 4});  // recovered from the journal
    const recovered = await state(reopened);
    await reopened.reset();
    reopened.close();
    return {results, live, recovered, stored};
}"""


@pytest.fixture(scope="module")
def runs_alone(counted_page: Page) -> dict:
    """RUNS_JS's calls awaited one by one: what a group's runs must answer and leave."""
    return counted_page.evaluate(RUNS_JS, ["runs-alone", False, "relaxed"])


@pytest.mark.parametrize("durability", ["strict", "relaxed"])
def test_runs_in_a_group_answer_each_call_as_alone_and_are_one_record_each(
        counted_page: Page, runs_alone: dict, durability: str) -> None:
    together = counted_page.evaluate(RUNS_JS, [f"runs-group-{durability}", True, durability])
    alone = runs_alone
    assert together["results"] == alone["results"]
    results = together["results"]
    assert [kind for kind, _ in results] == [
        "ok", "ok", "InvalidInputError", "InvalidInputError", "InvalidInputError", "ok",
        "InvalidInputError", "ok", "AllocationError", "ok", "AllocationError", "ok",
        "ok", "InvalidInputError", "ok", "ok", "ok", "ok", "ok"]
    assert [value for kind, value in results if kind == "ok"] == [
        0, 1, 2, 3, 0, True, False, False, True, False, 1, 2]
    assert "-1" in results[2][1] and "'3'" in results[3][1] and "2.5" in results[4][1]
    assert results[8][1] == results[10][1] == "No free columns available"
    # and the journal's runs replay to the same state
    assert together["live"] == alone["live"] == together["recovered"]
    # alone: a record per mutation that did not fail; together: one per run
    assert alone["stored"] == ["allocate_concept"] * 5 + ["deallocate_concept"] * 5 + ["allocate_concept"] * 2
    assert together["stored"] == ["allocate_batch", "allocate_concept", "allocate_batch",
                                  "deallocate_batch", "deallocate_batch", "allocate_batch"]


def test_a_group_with_an_argument_that_cannot_be_sent_fails_that_call_only(
        counted_page: Page) -> None:
    out = counted_page.evaluate("""async () => {
        const kg = await window.api.CortexKG.create({name: 'clone', columns: 4});
        const settle = (p) => p.then((v) => ['ok', v], (e) => [e.name, e.message]);
        const results = await Promise.all([kg.allocateConcept(1), kg.allocateConcept(() => 2),
            kg.allocateConcept(3), kg.getAllocatedCount()].map(settle));
        await kg.reset();
        kg.close();
        return results;
    }""")
    assert out[0] == ["ok", 0] and out[2] == ["ok", 1] and out[3] == ["ok", 2]
    assert out[1][0] == "InvalidInputError" and "allocateConcept" in out[1][1]


def test_a_group_the_worker_cannot_read_fails_only_the_unreadable_call(
        counted_page: Page) -> None:
    out = counted_page.evaluate("""async () => {
        const kg = await window.api.CortexKG.create({name: 'unreadable', columns: 4});
        const settle = (p) => p.then((v) => ['ok', v], (e) => [e.name, e.message]);
        let deep = [];
        for (let i = 0; i < 3000; i++) deep = [deep]; // posted, but too deep to read in the worker
        const results = await Promise.all([kg.allocateConcept(1), kg.allocateBatch(deep),
            kg.getAllocatedCount()].map(settle));
        await kg.reset();
        kg.close();
        return results;
    }""")
    assert out[0] == ["ok", 0] and out[2] == ["ok", 1]
    assert out[1][0] == "InvalidInputError" and "could not be read" in out[1][1]


# A seeded random sequence of calls, each awaited, and groups of calls issued together;
# after each settles, kg.stats (read synchronously) must equal what getStats() then
# resolves to. Returns the mismatches and how far the counters moved.
STATS_JS = """async (name) => {
    const kg = await window.api.CortexKG.create({name, columns: 12});
    let seed = 12;
    const random = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
    const canonical = (stats) => JSON.stringify(Object.keys(stats).sort().map((k) => [k, stats[k]]));
    const mismatches = [], allocated = new Set();
    const check = async (label) => {
        // getStats() issued behind another call is the worker's answer (with no call in
        // flight the page answers it from kg.stats itself)
        const [, fromWorker] = await Promise.all([kg.getAllocationInfo(0), kg.getStats()]);
        const synchronous = canonical(kg.stats), answered = canonical(fromWorker);
        if (synchronous !== answered) mismatches.push([label, synchronous, answered]);
        allocated.add(kg.stats.allocated);
    };
    await check('created');
    const calls = [
        () => kg.allocateConcept(random(20)), () => kg.deallocateConcept(random(20)),
        () => kg.allocateBatch([random(20), random(20), -1]), () => kg.deallocateBatch([random(20)]),
        () => kg.activateConcept(random(20), 0.5), () => kg.optimizeAllocations(),
        () => kg.getAllocationInfo(random(20)), () => kg.allocateConcept('bad'),
        () => Promise.allSettled(Array.from({length: 1 + random(6)}, () => calls[random(7)]())),
    ];
    for (let i = 0; i < 80; i++) {
        await calls[random(calls.length)]().catch(() => {});
        await check(`call ${i}`);
    }
    await kg.reset({columns: 3, strategy: 'affinity'});
    await check('reset');
    kg.close();
    return {isolated: crossOriginIsolated, mismatches, allocated: allocated.size, shared: window.traffic?.sharedStats};
}"""


def test_stats_read_synchronously_equal_get_stats_after_every_settled_call(
        counted_page: Page) -> None:
    out = counted_page.evaluate(STATS_JS, "stats")
    assert out["isolated"] is True and out["shared"] is True  # the shared-memory path
    assert out["mismatches"] == []
    assert out["allocated"] >= 5  # the counters did move along the sequence


def test_stats_without_cross_origin_isolation_come_with_the_answers(
        browser: Browser, server: Server) -> None:
    # the same site served without COOP/COEP: no SharedArrayBuffer for the page
    context = browser.new_context()

    def strip(route):
        response = route.fetch()
        headers = {k: v for k, v in response.headers.items()
                   if k.lower() not in ("cross-origin-opener-policy", "cross-origin-embedder-policy")}
        route.fulfill(response=response, headers=headers)

    try:
        context.route("**/*", strip)
        page = context.new_page()
        page.goto(server.url + "api.html")
        page.evaluate(COUNT_JS)
        page.evaluate("async () => { window.api = await import('./cortexkg.js'); }")
        out = page.evaluate(STATS_JS, "fallback")
    finally:
        context.close()
    assert out["isolated"] is False and out["shared"] is False
    assert out["mismatches"] == []
    assert out["allocated"] >= 5


# The counter getters awaited with no call in flight (answered in the page) and issued
# behind another call (answered by the worker), after each step of a sequence; and the
# page -> worker posts each way made. With refractory columns the page cannot know when
# they expire: its getters must ask the worker.
GETTERS_JS = """async ([name, refractoryMs]) => {
    const kg = await window.api.CortexKG.create({name, columns: 16, refractoryMs});
    const getters = ['getStats', 'getFreeColumnCount', 'getAllocatedCount', 'getAverageTime',
                     'getAllocationEfficiency'];
    const canonical = (v) => JSON.stringify(typeof v === 'object' ? Object.keys(v).sort().map((k) => [k, v[k]]) : v);
    const mismatches = [];
    const posts = [];
    const steps = [() => kg.allocateBatch([1, 2, 3, 4, 5]), () => kg.deallocateConcept(2),
                   () => kg.allocateConcept(9), () => kg.activateConcept(1), () => kg.optimizeAllocations(),
                   () => kg.allocateConcept('bad').catch(() => {}), () => kg.deallocateBatch([1, 3])];
    for (const [index, step] of steps.entries()) {
        await step();
        posts.push(0);
        for (const getter of getters) {
            const before = window.traffic.posted;
            const local = await kg[getter]();
            posts[index] += window.traffic.posted - before;
            const [, worker] = await Promise.all([kg.getAllocationInfo(0), kg[getter]()]);
            if (canonical(local) !== canonical(worker)) mismatches.push([index, getter, local, worker]);
        }
    }
    await kg.reset();
    kg.close();
    return {mismatches, posts, getters: getters.length};
}"""


def test_counter_getters_answered_in_the_page_agree_with_the_workers_answers(
        counted_page: Page) -> None:
    out = counted_page.evaluate(GETTERS_JS, ["getters", 0])
    assert out["mismatches"] == []
    assert out["posts"] == [0] * 7  # none of them went to the worker


def test_counter_getters_ask_the_worker_while_refractory_columns_may_expire(
        counted_page: Page) -> None:
    out = counted_page.evaluate(GETTERS_JS, ["getters-refractory", 60_000])
    assert out["mismatches"] == []
    # from the first deallocation on (step 1), every one was a round trip
    assert out["posts"][1:] == [out["getters"]] * 6


def test_the_error_classes_of_the_page_agree_with_pythons(counted_page: Page) -> None:
    # every exception class cortexkg raises, and the built-ins it maps: the class the
    # worker names for it (errorType, from its Python class name) must be the one Python's
    # error_type names in the answers, and the page must have that class
    python = {cls.__name__: cortexkg.errors.error_type(cls("x"))
              for cls in [*vars(cortexkg.errors).values(), ValueError, TypeError, KeyError,
                          RuntimeError]
              if isinstance(cls, type) and issubclass(cls, Exception)}
    out = counted_page.evaluate("""async (names) => {
        const errors = await import('./errors.js');
        const api = window.api;
        return {
            types: Object.fromEntries(names.map((name) => [name, errors.errorType({type: name})])),
            classes: Object.keys(errors.ERROR_CLASSES).sort(),
            exported: Object.keys(errors.ERROR_CLASSES).every((name) => api[name] === errors.ERROR_CLASSES[name]),
        };
    }""", list(python))
    assert out["types"] == python
    assert out["classes"] == sorted({*python.values()} - {"Error"} | {"BootError"})
    assert out["exported"] is True
