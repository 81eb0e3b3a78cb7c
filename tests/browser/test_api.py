"""The JavaScript API (web/cortexkg.js) against the real worker and Pyodide, method by method.

The tests run in web/api.html, a same-origin page without the dashboard, so each
engine they create is the only Python running; `window.api` is the imported module.
"""

from __future__ import annotations

import pytest
from harness import Server
from playwright.sync_api import BrowserContext, Page

pytestmark = pytest.mark.browser

BAD_IDS = ['"7"', "-1", "2 ** 32", "1.5", "NaN", "null"]
# what the message must name for each bad id
NAMED = {'"7"': "'7'", "-1": "-1", "2 ** 32": "4294967296", "1.5": "1.5", "NaN": "nan",
         "null": "None"}
ID_METHODS = [
    "kg.allocateConcept(BAD)",
    "kg.deallocateConcept(BAD)",
    "kg.activateConcept(BAD)",
    "kg.getAllocationInfo(BAD)",
    "kg.allocateBatch([1, BAD])",
    "kg.deallocateBatch(new Array(3).fill(0).concat([BAD]))",
]


@pytest.fixture(scope="module")
def api_page(api_page: Page) -> Page:
    """The shared API page with the API imported as window.api and an engine as window.kg."""
    api_page.evaluate("""async () => {
        window.api = await import('./cortexkg.js');
        window.kg = await api.CortexKG.create({name: 'api', columns: 64});
    }""")
    return api_page


def run(page: Page, body: str):
    """Evaluate an async function body with `api` and `kg` in scope."""
    return page.evaluate(f"async () => {{ const api = window.api, kg = window.kg; {body} }}")


def snapshot_js() -> str:
    """JavaScript that captures everything observable about kg."""
    return """(async () => JSON.stringify([
        await kg.getStats(), await kg.getAllocationHistory(),
        Object.values(await kg.getColumnStates()).map((a) => Array.from(a))]))()"""


def test_allocate_is_idempotent_and_first_fit(api_page: Page) -> None:
    assert run(api_page, """
        const a = await kg.allocateConcept(1000), b = await kg.allocateConcept(1000);
        const info = await kg.getAllocationInfo(1000), none = await kg.getAllocationInfo(999999);
        await kg.deallocateConcept(1000);
        return [a === b, info === a, none, await kg.deallocateConcept(1000)];
    """) == [True, True, None, False]


def test_batches_accept_arrays_and_typed_arrays_and_resolve_per_item(api_page: Page) -> None:
    out = run(api_page, """
        const plain = await kg.allocateBatch([2001, 2002, 2001]);
        const typed = await kg.allocateBatch(new Uint32Array([2003]));
        const floats = await kg.allocateBatch(new Float64Array([2004]));
        const released = await kg.deallocateBatch(Int32Array.from([2001, 2002, 2003, 2004, 2005]));
        return {plain, typed, floats, released};
    """)
    assert [r["conceptId"] for r in out["plain"]] == [2001, 2002, 2001]
    assert all(r["success"] for r in out["plain"] + out["typed"] + out["floats"])
    assert out["plain"][0]["columnId"] == out["plain"][2]["columnId"]
    assert out["released"][-1] == {"conceptId": 2005, "success": False,
                                   "error": "Concept 2005 is not allocated"}
    assert [r["success"] for r in out["released"][:4]] == [True] * 4


def test_columnar_batches_resolve_to_typed_arrays(api_page: Page) -> None:
    out = run(api_page, """
        const fresh = await api.CortexKG.create({name: 'columnar', columns: 3});
        const a = await fresh.allocateBatch([7, 8, 9, 10], {columnar: true});
        const d = await fresh.deallocateBatch([8, 11], {columnar: true});
        fresh.close();
        const types = (r) => [r.conceptIds.constructor.name, r.columnIds.constructor.name];
        return {a: [types(a), Array.from(a.columnIds), a.errors],
                d: [types(d), Array.from(d.columnIds), d.errors]};
    """)
    assert out["a"] == [["Uint32Array", "Int32Array"], [0, 1, 2, -1], ["No free columns available"]]
    assert out["d"] == [["Uint32Array", "Int32Array"], [1, -1], ["Concept 11 is not allocated"]]


def test_long_batches_report_progress_until_done(api_page: Page) -> None:
    out = run(api_page, """
        const fresh = await api.CortexKG.create({name: 'progress', columns: 200000});
        const seen = [];
        const result = await fresh.allocateBatch(
            Uint32Array.from({length: 200000}, (_, i) => i),
            {columnar: true, onProgress: (done, total) => seen.push([done, total])});
        const allocated = await fresh.getAllocatedCount();
        fresh.close();
        return {seen, allocated, failed: result.errors.length};
    """)
    assert out["allocated"] == 200000 and out["failed"] == 0
    assert len(out["seen"]) >= 3
    assert [done for done, _ in out["seen"]] == sorted(done for done, _ in out["seen"])
    assert out["seen"][-1] == [200000, 200000]


def test_activate_optimize_and_queries(api_page: Page) -> None:
    out = run(api_page, """
        const fresh = await api.CortexKG.create({name: 'queries', columns: 8});
        await fresh.allocateBatch([1, 2, 3, 4]);
        await fresh.deallocateBatch([1, 3]);
        const activation = await fresh.activateConcept(4, 0.5);
        const logs = [];
        fresh.addEventListener('log', (e) => logs.push(e.detail.message));
        const before = await fresh.getFragmentation();
        const moved = await fresh.optimizeAllocations();
        const r = {activation, moved, logs, before,
            after: await fresh.getFragmentation(),
            free: await fresh.getFreeColumnCount(), allocated: await fresh.getAllocatedCount(),
            efficiency: await fresh.getAllocationEfficiency(), average: await fresh.getAverageTime(),
            history: await fresh.getAllocationHistory(), last: await fresh.getAllocationHistory({start: -1}),
            times: await fresh.getAllocationTimes(), stats: await fresh.getStats(),
            column: await fresh.getColumn(0), free7: await fresh.getColumn(7),
            states: await fresh.getColumnStates(), valid: await fresh.validate()};
        r.timesType = r.times.constructor.name; r.times = Array.from(r.times);
        r.stateTypes = Object.fromEntries(Object.entries(r.states).map(([k, v]) => [k, v.constructor.name]));
        r.state = Array.from(r.states.state); delete r.states;
        fresh.close();
        return r;
    """)
    assert out["activation"] == 1.0
    assert out["moved"] == 1  # 4 (used once more) moves to column 0; 2 stays at 1
    assert len(out["logs"]) == 1
    assert out["logs"][0].startswith("Optimization completed in ") and out["logs"][0].endswith(
        "ms, 1 changes made")
    assert out["before"] > 0 and out["after"] == 0
    assert (out["free"], out["allocated"], out["efficiency"]) == (6, 2, 0.25)
    assert out["average"] > 0 and len(out["times"]) == 4 and out["timesType"] == "Float64Array"
    assert [(h["conceptId"], h["columnId"]) for h in out["history"]] == [(2, 1), (4, 0)]
    assert out["last"] == out["history"][-1:]
    assert out["stats"]["optimization_cycles"] == 1 and out["stats"]["usage_hits"] == 0
    assert out["column"]["conceptId"] == 4 and out["column"]["state"] == "allocated"
    assert out["free7"] == {"id": 7, "conceptId": None, "activation": 0, "state": "available",
                            "usage": 0, "confidence": None, "timestamp": None, "field": []}
    assert out["stateTypes"] == {"state": "Uint8Array", "concept": "Uint32Array",
                                 "activation": "Float32Array", "usage": "Uint32Array",
                                 "confidence": "Float32Array", "allocatedAt": "Float64Array",
                                 "activatedMs": "Float32Array", "refractoryLeftMs": "Float32Array"}
    assert out["state"] == [1, 1, 0, 0, 0, 0, 0, 0]
    assert out["valid"] is None


@pytest.mark.parametrize("bad", BAD_IDS)
@pytest.mark.parametrize("call", ID_METHODS)
def test_bad_ids_reject_with_invalid_input_naming_the_value_and_change_nothing(
    api_page: Page, call: str, bad: str
) -> None:
    out = run(api_page, f"""
        await kg.allocateBatch([0, 1, 2]);
        const before = await {snapshot_js()};
        let error = null;
        try {{ await {call.replace("BAD", bad)}; }} catch (e) {{ error = e; }}
        const after = await {snapshot_js()};
        return {{rejected: error !== null,
                 isInvalidInput: error instanceof api.InvalidInputError,
                 isBase: error instanceof api.CortexKGError, name: error?.name,
                 message: error?.message, unchanged: before === after}};
    """)
    assert out["rejected"] and out["isInvalidInput"] and out["isBase"], out
    assert out["name"] == "InvalidInputError"
    assert NAMED[bad] in out["message"]
    assert out["unchanged"]


def test_allocation_and_lifecycle_errors_have_their_classes(api_page: Page) -> None:
    out = run(api_page, """
        const fresh = await api.CortexKG.create({name: 'errors', columns: 1});
        const errors = {};
        const attempt = async (key, promise) => {
            try { await promise; errors[key] = 'resolved'; }
            catch (e) { errors[key] = [e.constructor.name, e.message, e instanceof api.CortexKGError]; }
        };
        await fresh.allocateConcept(1);
        await attempt('full', fresh.allocateConcept(2));
        await attempt('inactive', fresh.activateConcept(3));
        await attempt('strength', fresh.activateConcept(1, -1));
        await attempt('embedding', fresh.allocateConcept(4, {embedding: [1, 2]}));
        await attempt('options', api.CortexKG.create({colums: 3}));
        await attempt('columns', api.CortexKG.create({columns: -1}));
        await attempt('clone', fresh.allocateConcept(() => 1));
        fresh.close();
        await attempt('closed', fresh.getStats());
        return errors;
    """)
    assert out["full"] == ["AllocationError", "No free columns available", True]
    assert out["inactive"] == ["AllocationError", "Concept 3 is not allocated", True]
    assert out["strength"][0] == "InvalidInputError" and "-1" in out["strength"][1]
    assert out["embedding"][0] == "InvalidInputError" and "length 2" in out["embedding"][1]
    assert out["options"][0] == "InvalidInputError" and '"colums"' in out["options"][1]
    assert out["columns"][0] == "InvalidInputError" and "-1" in out["columns"][1]
    assert out["clone"][0] == "InvalidInputError"
    assert out["closed"] == ["NotInitializedError", "CortexKG is closed", True]


def test_pipelined_calls_all_resolve_in_issue_order(api_page: Page) -> None:
    out = run(api_page, """
        const fresh = await api.CortexKG.create({name: 'pipeline', columns: 1000});
        const columns = await Promise.all(Array.from({length: 1000}, (_, i) => fresh.allocateConcept(5000 + i)));
        const info = await Promise.all([fresh.getAllocatedCount(), fresh.deallocateConcept(5000), fresh.getAllocatedCount()]);
        fresh.close();
        return {columns, info};
    """)
    assert out["columns"] == list(range(1000))
    assert out["info"] == [1000, True, 999]


def test_engines_with_different_names_are_independent(api_page: Page) -> None:
    out = run(api_page, """
        const [a, b] = await Promise.all([api.CortexKG.create({name: 'left', columns: 4}),
                                          api.CortexKG.create({name: 'right', columns: 9})]);
        await a.allocateBatch([1, 2, 3]);
        const r = [a.config.name, b.config.name, await a.getAllocatedCount(), await b.getAllocatedCount(),
                   (await b.getStats()).column_count];
        a.close(); b.close();
        return r;
    """)
    assert out == ["left", "right", 3, 0, 9]


def test_change_events_describe_every_mutation(api_page: Page) -> None:
    out = run(api_page, """
        const fresh = await api.CortexKG.create({name: 'events', columns: 4});
        const kinds = [];
        fresh.addEventListener('change', (e) => kinds.push(e.detail));
        await fresh.allocateConcept(9);
        await fresh.activateConcept(9);
        await fresh.allocateBatch([1, 2, 3, 4, 5]);
        await fresh.deallocateBatch([1]);
        await fresh.deallocateConcept(9);
        await fresh.optimizeAllocations();
        fresh.close();
        return kinds;
    """)
    assert out == [
        {"kind": "allocate", "conceptId": 9, "columnId": 0},
        {"kind": "activate", "conceptId": 9, "activation": 1},
        {"kind": "allocate-batch", "count": 5, "failed": 2},
        {"kind": "deallocate-batch", "count": 1, "failed": 0},
        {"kind": "deallocate", "conceptId": 9, "result": True},
        {"kind": "optimize", "changes": 2},
    ]


def test_calls_leave_no_python_objects_behind(api_page: Page) -> None:
    # Every answer is a PyProxy in the worker; one not destroyed keeps its Python objects.
    out = run(api_page, """
        const fresh = await api.CortexKG.create({name: 'leaks', columns: 2048});
        const round = async () => {
            for (let i = 0; i < 50; i++) {
                await fresh.allocateConcept(i); await fresh.getColumn(i);
                await fresh.getStats(); await fresh.getAllocationHistory({start: -5});
                await fresh.allocateBatch([i + 100, i + 200], {columnar: true});
                await fresh.getColumnStates();
                try { await fresh.allocateConcept(-1); } catch (e) {}
            }
            await fresh.deallocateBatch(Array.from({length: 300}, (_, i) => i));
            await fresh.optimizeAllocations();
        };
        await round();
        const before = (await fresh.__diagnostics()).pythonObjects;
        for (let r = 0; r < 4; r++) await round();
        const after = (await fresh.__diagnostics()).pythonObjects;
        fresh.close();
        return {before, after};
    """)
    assert out["after"] - out["before"] < 100, out


def test_optimize_log_line_reaches_the_browser_console(api_page: Page) -> None:
    lines = []
    listen = lambda message: lines.append(message.text)  # noqa: E731
    api_page.on("console", listen)
    try:
        run(api_page, """
            const logging = await api.CortexKG.create({name: 'console', columns: 4});
            await logging.allocateBatch([1, 2]); await logging.deallocateConcept(1);
            await logging.optimizeAllocations();
            logging.close();
        """)
    finally:
        api_page.remove_listener("console", listen)
    assert any(line.startswith("Optimization completed in ") and line.endswith("ms, 1 changes made")
               for line in lines), lines


def test_activation_decays_with_a_half_life_and_the_half_life_is_stored(api_page: Page) -> None:
    """An engine with a 20 ms half-life: activation read after a wait has decayed by the
    wall clock the page sees, the column states give what the decay is computed from, and
    a reopened engine keeps the half-life and the last activations."""
    decayed, states, reopened = run(api_page, """
        const decaying = await api.CortexKG.create({name: 'decay', columns: 4, activationHalfLifeMs: 20});
        await decaying.allocateConcept(9);
        await new Promise((resolve) => setTimeout(resolve, 100));  // five half-lives at least
        const before = Date.now();
        const column = await decaying.getColumn(0);
        await decaying.activateConcept(9, 0.5);
        const states = await decaying.getColumnStates();
        decaying.close();
        const again = await api.CortexKG.create({name: 'decay'});
        const kept = [again.config.activationHalfLifeMs, (await again.getColumnStates()).activatedMs[0]];
        again.close();
        return [[column.activation, before], {
            allocatedAt: states.allocatedAt[0], activatedMs: states.activatedMs[0],
            activation: states.activation[0], types: [states.allocatedAt.constructor.name,
            states.activatedMs.constructor.name, states.refractoryLeftMs.constructor.name]}, kept];
    """)
    activation, before = decayed
    assert activation < 1 / 32, decayed  # at least five half-lives after the allocation
    assert states["types"] == ["Float64Array", "Float32Array", "Float32Array"]
    # allocated at least the wait before the reading; activated that long after it
    assert states["allocatedAt"] <= before - 99 and states["activatedMs"] >= 99, (states, before)
    assert 0.5 <= states["activation"] < 0.5 + 1 / 32
    assert reopened == [20, states["activatedMs"]]


def test_create_and_load_engine_boot_from_assets_url_and_refuse_what_is_no_folder(
    context: BrowserContext, server: Server
) -> None:
    context.expected_errors += ["404"]  # the browser reports the missing site.json
    page = context.new_page()
    page.goto(server.url + "api.html")
    out = page.evaluate("""async () => {
        const api = await import('./cortexkg.js');
        const {loadEngine} = await import('./engine.js');
        const outcome = (promise) => promise.then(() => 'resolved', (e) => `${e.name}: ${e.message}`);
        const bad = [5, 'cortexkg', '/cortexkg/site.json', '/cortexkg/?v=1', 'data:text/plain,x/'];
        return {
            create: await Promise.all(bad.map((assetsURL) => outcome(api.CortexKG.create({name: 'assets', assetsURL})))),
            load: await Promise.all(bad.map((assetsURL) => outcome(loadEngine({assetsURL})))),
            createMissing: await outcome(api.CortexKG.create({name: 'assets', assetsURL: 'missing/'})),
            loadMissing: await outcome(loadEngine({assetsURL: new URL('/missing/', location.href)})),
        };
    }""")
    for message in out["create"] + out["load"]:
        assert message.startswith("InvalidInputError: Invalid assetsURL "), message
    assert [message.split(":")[1] for message in out["create"][:2]] == [" Invalid assetsURL 5", ' Invalid assetsURL "cortexkg"']
    # relative to the page, and the worker (or this thread) fetched exactly there
    missing = f"{server.url}missing/site.json answered 404"
    assert out["createMissing"].startswith("BootError: ") and missing in out["createMissing"]
    assert out["loadMissing"].startswith("BootError: ") and missing in out["loadMissing"]
