"""The call path (issue 12): calls issued in one task travel, run and come back as one
message each way, with the answers and errors of the same calls sent one by one.

Messages are counted with a wrapper around Worker.prototype.postMessage and a listener
on the engine's worker, both installed by the page before the engine is created: they
observe the real traffic without changing it, and the API exposes nothing for tests.
"""

from __future__ import annotations

import pytest
from harness import Server
from playwright.sync_api import Browser, Page
from test_api import api_page as api_page  # noqa: F401  (the shared API page, window.kg)

pytestmark = pytest.mark.browser

# Count page -> worker posts and worker -> page answers (not events, not batch progress).
COUNT_JS = """() => {
    window.traffic = {posted: 0, answered: 0};
    const post = Worker.prototype.postMessage, seen = new WeakSet();
    Worker.prototype.postMessage = function (...args) {
        window.traffic.posted += 1;
        if (!seen.has(this)) {
            seen.add(this);
            this.addEventListener('message', ({data}) => { if (data.type === undefined && data.progress === undefined) window.traffic.answered += 1; });
        }
        return post.apply(this, args);
    };
}"""

# Each call as [method, args]; an error is reported as "<ErrorName>: <message>".
CORPUS = """[
    ['allocateConcept', [1]], ['allocateConcept', ['7']], ['getAllocationInfo', [1]],
    ['deallocateConcept', [5]], ['allocateBatch', [[2, 3, 2]]], ['activateConcept', [1, 0.5]],
    ['activateConcept', [9]], ['getFreeColumnCount', []], ['allocateConcept', [4]],
    ['allocateConcept', [-1]], ['allocateConcept', [6]], ['allocateConcept', [7]],
    ['getAllocatedCount', []], ['deallocateConcept', [2]], ['allocateConcept', [8, {embedding: [1]}]],
    ['getAllocationHistory', [{start: 1}]], ['optimizeAllocations', []], ['getColumn', [99]],
    ['deallocateBatch', [[1, 4, 11]]], ['getAllocationEfficiency', []], ['getFragmentation', []],
]"""

RUN_JS = """async ([name, together]) => {
    const kg = await window.api.CortexKG.create({name, columns: 5});
    const calls = """ + CORPUS + """;
    // timestamps are clock readings: the same calls made later differ in them alone
    const timeless = (v) => JSON.parse(JSON.stringify(v ?? null, (k, x) => (k === 'timestamp' ? 'time' : x)));
    const settle = (p) => p.then((v) => ['ok', timeless(v)], (e) => [e.name, e.message]);
    const before = {...window.traffic};
    let results;
    if (together) results = await Promise.all(calls.map(([m, a]) => settle(kg[m](...a))));
    else {
        results = [];
        for (const [m, a] of calls) results.push(await settle(kg[m](...a)));
    }
    const traffic = {posted: window.traffic.posted - before.posted, answered: window.traffic.answered - before.answered};
    const state = [timeless(await kg.getAllocationHistory()), Object.values(await kg.getColumnStates()).map((a) => Array.from(a))];
    await kg.reset();
    kg.close();
    return {results, traffic, state};
}"""


@pytest.fixture(scope="module")
def counted_page(api_page: Page) -> Page:  # noqa: F811
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
    # the corpus mixes successes and every kind of failure, mutations and queries
    assert {"ok", "InvalidInputError", "AllocationError"} <= set(kinds)
    assert kinds.count("ok") >= 10
    # one message each way for the group; one each way per call one by one
    assert together["traffic"] == {"posted": 1, "answered": 1}
    assert alone["traffic"] == {"posted": 21, "answered": 21}


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


def test_an_unreadable_group_fails_every_call_in_it_and_the_engine_goes_on(
        counted_page: Page) -> None:
    out = counted_page.evaluate("""async () => {
        const kg = await window.api.CortexKG.create({name: 'unreadable', columns: 4});
        const settle = (p) => p.then((v) => ['ok', v], (e) => [e.name, e.message]);
        let deep = [];
        for (let i = 0; i < 3000; i++) deep = [deep]; // posted, but too deep to read in the worker
        const failed = await Promise.all([kg.allocateConcept(1), kg.allocateBatch(deep),
            kg.getAllocatedCount()].map(settle));
        const after = await Promise.all([kg.allocateConcept(2), kg.getAllocatedCount()].map(settle));
        await kg.reset();
        kg.close();
        return {failed, after};
    }""")
    assert [kind for kind, _ in out["failed"]] == ["InvalidInputError"] * 3
    assert "could not be read" in out["failed"][0][1]
    assert out["after"] == [["ok", 0], ["ok", 1]]  # the unreadable group changed nothing


# A seeded random sequence of calls, each awaited; after each settles, kg.stats (read
# synchronously) must equal what getStats() then resolves to. Returns the checks made.
STATS_JS = """async (name) => {
    const kg = await window.api.CortexKG.create({name, columns: 12});
    let seed = 12;
    const random = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
    const canonical = (stats) => JSON.stringify(Object.keys(stats).sort().map((k) => [k, stats[k]]));
    const mismatches = [], allocated = new Set();
    const check = async (label) => {
        const synchronous = canonical(kg.stats), answered = canonical(await kg.getStats());
        if (synchronous !== answered) mismatches.push([label, synchronous, answered]);
        allocated.add(kg.stats.allocated);
    };
    await check('created');
    const calls = [
        () => kg.allocateConcept(random(20)), () => kg.deallocateConcept(random(20)),
        () => kg.allocateBatch([random(20), random(20), -1]), () => kg.deallocateBatch([random(20)]),
        () => kg.activateConcept(random(20), 0.5), () => kg.optimizeAllocations(),
        () => kg.getAllocationInfo(random(20)), () => kg.allocateConcept('bad'),
    ];
    for (let i = 0; i < 80; i++) {
        await calls[random(calls.length)]().catch(() => {});
        await check(`call ${i}`);
    }
    // a coalesced group too
    await Promise.allSettled(Array.from({length: 15}, (_, i) => kg.allocateConcept(100 + i)));
    await check('group');
    await kg.reset({columns: 3});
    await check('reset');
    kg.close();
    return {isolated: crossOriginIsolated, mismatches, allocated: allocated.size};
}"""


def test_stats_read_synchronously_equal_get_stats_after_every_settled_call(
        counted_page: Page) -> None:
    out = counted_page.evaluate(STATS_JS, "stats")
    assert out["isolated"] is True  # the shared-memory path
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

    context.route("**/*", strip)
    page = context.new_page()
    page.goto(server.url + "api.html")
    page.evaluate("async () => { window.api = await import('./cortexkg.js'); }")
    out = page.evaluate(STATS_JS, "fallback")
    context.close()
    assert out["isolated"] is False
    assert out["mismatches"] == []
    assert out["allocated"] >= 5
