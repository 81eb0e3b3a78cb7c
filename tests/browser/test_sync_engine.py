"""The synchronous engine (web/engine.js) against the async API (web/cortexkg.js).

One page (web/api.html) holds both: the synchronous engine booted on the main thread, and
one async CortexKG (its own worker), reset to each configuration in turn. The worker case
uses web/engine-worker-example.js: the site's CSP (worker-src 'self') refuses blob: workers.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

pytestmark = pytest.mark.browser

# Full configurations: kg.reset() keeps whatever an option leaves out. refractoryMs of an
# hour: released columns stay refractory throughout, so the run does not depend on time.
CONFIGS = [
    {"columns": 24, "strategy": "first_fit", "dim": 0, "seed": 1, "refractoryMs": 0},
    {"columns": 16, "strategy": "affinity", "dim": 4, "seed": 7, "refractoryMs": 0},
    {"columns": 20, "strategy": "first_fit", "dim": 0, "seed": 3, "refractoryMs": 3_600_000},
]
STEPS = 160

# Seeded random operation sequences, each run on both APIs; every answer is recorded as
# plain data (typed arrays tagged with their type), wall-clock and timing values replaced
# by their type.
DIFFERENTIAL_JS = """async ({configs, steps}) => {
    const {kg, AllocationEngine, api} = window;
    const random = (seed) => () => {  // mulberry32
        seed = (seed + 0x6D2B79F5) | 0;
        let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const BAD = [-1, 2 ** 32, 1.5, '7', null, NaN, undefined, {}, [3], true];
    const plain = (value) => {
        if (ArrayBuffer.isView(value)) return {[value.constructor.name]: Array.from(value)};
        if (Array.isArray(value)) return value.map(plain);
        if (value !== null && typeof value === 'object') {
            return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
        }
        return value === undefined ? '<undefined>' : value;
    };
    const untimed = (method, value) => {
        if (method === 'getAverageTime') return typeof value;
        if (method === 'getAllocationTimes') return [value.constructor.name, value.length];
        if (method === 'getStats') { const {average_time_ms, ...rest} = value; return rest; }
        if (method === 'getColumn') return {...value, timestamp: typeof value.timestamp};
        if (method === 'getColumnStates') {  // instants: only whether there is one
            const {allocatedAt, refractoryLeftMs, ...rest} = value;
            return {...rest, allocatedAt: Array.from(allocatedAt, (ms) => ms > 0),
                    refractoryLeftMs: Array.from(refractoryLeftMs, (ms) => ms > 0)};
        }
        if (method === 'getAllocationHistory') {
            return value.map(({timestamp, ...rest}) => ({...rest, timestamp: typeof timestamp}));
        }
        return value;
    };
    const failure = (error) => ({error: error.constructor.name, message: error.message,
                                 cortexKGError: error instanceof api.CortexKGError});

    function operations(config, seed) {
        const rand = random(seed);
        const int = (n) => Math.floor(rand() * n);
        const id = () => (rand() < 0.06 ? BAD[int(BAD.length)] : int(2 * config.columns));
        const embedding = () => Array.from({length: config.dim + (rand() < 0.1 ? 1 : 0)},
                                           () => 2 * rand() - 1);
        const batch = () => {
            const ids = Array.from({length: 1 + int(8)}, () => (rand() < 0.1 ? id() : int(2 * config.columns)));
            const valid = ids.every((i) => Number.isInteger(i) && i >= 0 && i < 2 ** 32);
            const pick = rand();
            if (valid && pick < 0.2) return Uint32Array.from(ids);
            if (valid && pick < 0.3) return Float64Array.from(ids);
            return ids;
        };
        const options = () => {
            const pick = rand();
            if (pick < 0.05) return {bogus: 1};
            return pick < 0.35 ? {columnar: true} : undefined;
        };
        const ops = [];
        for (let step = 0; step < steps; step++) {
            const r = rand();
            if (r < 0.30) {
                const args = [id()];
                if (rand() < 0.05) args.push({bogus: 1});
                else if (config.dim && rand() < 0.5) args.push({embedding: embedding()});
                ops.push(['allocateConcept', args]);
            } else if (r < 0.42) ops.push(['deallocateConcept', [id()]]);
            else if (r < 0.50) {
                const ids = batch();
                const opts = options() ?? {};
                if (config.dim && rand() < 0.5) {
                    opts.embeddings = Array.from(ids, () => (rand() < 0.3 ? null : embedding()));
                }
                ops.push(['allocateBatch', [ids, opts]]);
            } else if (r < 0.56) ops.push(['deallocateBatch', [batch(), options()]]);
            else if (r < 0.63) {
                const strength = rand() < 0.08 ? [-1, 'x', Infinity][int(3)] : 1.5 * rand();
                ops.push(['activateConcept', rand() < 0.2 ? [id()] : [id(), strength]]);
            } else if (r < 0.67) ops.push(['optimizeAllocations', []]);
            else {
                const queries = [
                    ['getAllocationInfo', [id()]], ['getFreeColumnCount', []],
                    ['getAllocatedCount', []], ['getAllocationEfficiency', []],
                    ['getFragmentation', []], ['getAverageTime', []], ['getAllocationTimes', []],
                    ['getAllocationHistory', [{start: int(9) - 4, stop: int(12) - 2}]],
                    ['getAllocationHistory', []], ['getStats', []], ['getColumnStates', []],
                    ['getColumn', [rand() < 0.1 ? [config.columns, -1, 'x'][int(3)] : int(config.columns)]],
                    ['validate', []],
                ];
                ops.push(queries[int(queries.length)]);
            }
        }
        return ops;
    }

    async function finalState(call) {
        const {average_time_ms, ...stats} = await call('getStats');
        const history = (await call('getAllocationHistory')).map((h) => [h.conceptId, h.columnId]);
        return plain({stats, history, columns: untimed('getColumnStates', await call('getColumnStates'))});
    }

    const runs = [];
    for (const [index, {columns, ...options}] of configs.entries()) {
        const ops = operations(configs[index], 1000 + index);
        const engine = new AllocationEngine(columns, true, {...options, backend: 'auto'});
        await kg.reset({columns, ...options});
        const sync = [], async_ = [];
        for (const [method, args] of ops) {
            try {
                sync.push({value: plain(untimed(method, engine[method](...args)))});
            } catch (error) {
                sync.push(failure(error));
            }
            try {
                async_.push({value: plain(untimed(method, await kg[method](...args)))});
            } catch (error) {
                async_.push(failure(error));
            }
        }
        const described = ops.map(([method, args]) => `${method}(${args.map((a) => {
            try { return JSON.stringify(plain(a)) ?? String(a); } catch { return String(a); }
        }).join(', ')})`);
        runs.push({ops: described, sync, async: async_,
                   syncFinal: await finalState((m) => engine[m]()),
                   asyncFinal: await finalState((m) => kg[m]())});
        engine.destroy();
    }
    return runs;
}"""


@pytest.fixture(scope="module")
def sync_page(api_page: Page) -> Page:
    """The shared API page with window.api (cortexkg.js), window.AllocationEngine (the
    synchronous engine, booted on the main thread) and window.kg (an async engine)."""
    api_page.evaluate("""async () => {
        window.api = await import('./cortexkg.js');
        const {loadEngine} = await import('./engine.js');
        const [loaded, kg] = await Promise.all([
            loadEngine(), api.CortexKG.create({name: 'sync-differential', columns: 8})]);
        window.loadEngine = loadEngine;
        window.AllocationEngine = loaded.AllocationEngine;
        window.kg = kg;
    }""")
    return api_page


def run(page: Page, body: str, arg=None):
    """Evaluate an async function body with api, kg, AllocationEngine and arg in scope."""
    return page.evaluate(f"""async (arg) => {{
        const {{api, kg, AllocationEngine}} = window; {body} }}""", arg)


def test_random_sequences_give_identical_answers_and_states(sync_page: Page) -> None:
    runs = sync_page.evaluate(DIFFERENTIAL_JS, {"configs": CONFIGS, "steps": STEPS})
    for config, result in zip(CONFIGS, runs):
        for op, sync, async_ in zip(result["ops"], result["sync"], result["async"]):
            assert sync == async_, f"{config}: {op}"
        assert result["syncFinal"] == result["asyncFinal"], config
    answers = [answer for result in runs for answer in result["sync"]]
    ops = [op for result in runs for op in result["ops"]]
    errors = {(a["error"], a["message"]) for a in answers if "error" in a}
    # the sequences reached what they are meant to compare
    assert ("AllocationError", "No free columns available") in errors
    assert any(kind == "AllocationError" and "is not allocated" in message for kind, message in errors)
    assert any(kind == "InvalidInputError" and "concept id" in message for kind, message in errors)
    assert any(kind == "InvalidInputError" and "unknown 'bogus'" in message for kind, message in errors)
    assert all(a["cortexKGError"] for a in answers if "error" in a)
    assert any(op.startswith("optimizeAllocations") and a.get("value", 0) > 0
               for op, a in zip(ops, answers))
    assert any(op.startswith("allocateBatch") and "Uint32Array" in str(a.get("value"))
               for op, a in zip(ops, answers))
    assert 2 in runs[2]["syncFinal"]["columns"]["state"]["Uint8Array"]  # refractory columns
    assert runs[1]["syncFinal"]["stats"]["strategy"] == "affinity"


def test_errors_are_the_async_apis_classes_and_change_nothing(sync_page: Page) -> None:
    out = run(sync_page, """
        const engine = new AllocationEngine(2, true);
        engine.allocateBatch([10, 11]);
        const observe = () => JSON.stringify([engine.getAllocationHistory(), engine.getStats().allocated,
            Array.from(engine.getColumnStates().usage)]);
        const before = observe();
        const cases = {
            full: () => engine.allocateConcept(12),
            notAllocated: () => engine.activateConcept(99),
            badId: () => engine.allocateConcept('7'),
            badBatch: () => engine.allocateBatch([12, -1]),
            rawBytes: () => engine.deallocateBatch(new ArrayBuffer(8)),
            badColumn: () => engine.getColumn(2),
            badOption: () => engine.allocateConcept(12, {bogus: 1}),
            badProgress: () => engine.allocateBatch([12], {onProgress: 5}),
            badConstructor: () => new AllocationEngine(-1),
            unknownOption: () => new AllocationEngine(4, true, {columns: 4}),
            badExport: () => AllocationEngine.importState(new Uint8Array(40)),
        };
        const classes = Object.fromEntries(Object.entries(cases).map(([name, call]) => {
            try {
                call();
                return [name, 'no error'];
            } catch (error) {
                const named = Object.entries(api).find(([, C]) => C === error.constructor)?.[0];
                return [name, [named, error instanceof api[named], error instanceof api.CortexKGError,
                               error.name, error.message]];
            }
        }));
        const after = observe();
        engine.destroy();
        return {classes, unchanged: before === after};
    """)
    classes = out["classes"]
    expected = {
        "full": "AllocationError", "notAllocated": "AllocationError", "badId": "InvalidInputError",
        "badBatch": "InvalidInputError", "rawBytes": "InvalidInputError",
        "badColumn": "InvalidInputError", "badOption": "InvalidInputError",
        "badProgress": "InvalidInputError", "badConstructor": "InvalidInputError",
        "unknownOption": "InvalidInputError", "badExport": "StateError",
    }
    for name, kind in expected.items():
        assert classes[name][:4] == [kind, True, True, kind], (name, classes[name])
    assert classes["full"][4] == "No free columns available"
    assert classes["badId"][4] == "Invalid concept id '7' (str): expected an integer in 0..4294967295"
    assert "-1" in classes["badBatch"][4] and "batch index 1" in classes["badBatch"][4]
    assert "unknown 'columns'" in classes["unknownOption"][4]
    assert "refractoryMs" in classes["unknownOption"][4]
    assert out["unchanged"]


def test_export_and_import_round_trip_and_match_the_async_format(sync_page: Page) -> None:
    out = run(sync_page, """
        const engine = new AllocationEngine(64, true, {strategy: 'affinity', dim: 8, seed: 5,
                                                       refractoryMs: 3600000});
        engine.allocateBatch(Array.from({length: 40}, (_, i) => i));
        engine.deallocateBatch([1, 3, 5, 7]);
        engine.activateConcept(20, 0.25);
        const moved = engine.optimizeAllocations();
        const observe = (e) => JSON.stringify([e.getStats(), e.getAllocationHistory(),
            Object.entries(e.getColumnStates()).map(([name, a]) =>  // time left runs down
                name === 'refractoryLeftMs' ? Array.from(a, (ms) => ms > 0) : Array.from(a)),
            e.getColumn(3),
            Array.from(e.getAllocationTimes())]);
        const bytes = engine.exportState();
        const copy = AllocationEngine.importState(bytes);
        const fromBuffer = AllocationEngine.importState(bytes.slice().buffer);
        const same = [observe(copy), observe(fromBuffer)].map((o) => o === observe(engine));
        const next = [engine.allocateConcept(100), copy.allocateConcept(100)];
        // the async API reads the synchronous engine's file, and the other way round
        await kg.importState(bytes);
        const asyncHistory = JSON.stringify(await kg.getAllocationHistory());
        const asyncBytes = await kg.exportState();
        const back = AllocationEngine.importState(asyncBytes);
        const corrupt = bytes.slice(); corrupt[corrupt.length >> 1] ^= 0xff;
        const refused = [corrupt, bytes.slice(0, bytes.length - 1)].map((b) => {
            try { AllocationEngine.importState(b); return 'accepted'; }
            catch (error) { return [error.constructor.name, error.message]; }
        });
        const result = {moved, same, next, bytesType: bytes.constructor.name,
            asyncSame: asyncHistory === JSON.stringify(fromBuffer.getAllocationHistory()),
            backSame: JSON.stringify(back.getAllocationHistory()) === asyncHistory,
            refused};
        for (const e of [engine, copy, fromBuffer, back]) e.destroy();
        return result;
    """)
    assert out["moved"] > 0
    assert out["bytesType"] == "Uint8Array"
    assert out["same"] == [True, True]
    assert out["next"][0] == out["next"][1]
    assert out["asyncSame"] and out["backSame"]
    for kind, message in out["refused"]:
        assert kind == "StateError" and message


def test_destroy_frees_the_python_engine_and_later_calls_throw(sync_page: Page) -> None:
    out = run(sync_page, """
        const calls = [['allocateConcept', [1]], ['allocateConcept', [1, {}]], ['deallocateConcept', [1]],
            ['allocateBatch', [[1]]], ['deallocateBatch', [[1]]], ['activateConcept', [1]],
            ['optimizeAllocations', []], ['getAllocationInfo', [1]], ['getFreeColumnCount', []],
            ['getAllocatedCount', []], ['getAverageTime', []], ['getAllocationEfficiency', []],
            ['getAllocationHistory', []], ['getAllocationTimes', []], ['getFragmentation', []],
            ['getStats', []], ['getColumnStates', []], ['getColumn', [0]], ['validate', []],
            ['exportState', []]];
        const base = AllocationEngine.__diagnostics().engines;
        const engines = [1, 2, 3].map(() => new AllocationEngine(100, true));
        // every call once on each engine, errors included
        for (const engine of engines) {
            for (const [method, args] of [...calls, ['allocateConcept', [-1]]]) {
                try { engine[method](...args); } catch {}
            }
        }
        const alive = AllocationEngine.__diagnostics().engines;
        for (const engine of engines) engine.destroy();
        engines[0].destroy();  // a second destroy does nothing
        const freed = AllocationEngine.__diagnostics().engines;
        const after = calls.map(([method, args]) => {
            try { engines[0][method](...args); return [method, 'no error']; }
            catch (error) { return [method, error instanceof api.NotInitializedError, error.message]; }
        });
        return {base, alive, freed, after};
    """)
    assert out["alive"] == out["base"] + 3
    assert out["freed"] == out["base"]
    for method, *error in out["after"]:
        assert error == [True, "AllocationEngine is destroyed"], method


def test_calls_leave_no_python_objects_behind(sync_page: Page) -> None:
    out = run(sync_page, """
        const engine = new AllocationEngine(400, true);
        const round = () => {
            for (let i = 0; i < 300; i++) {
                engine.allocateConcept(i); engine.getAllocationInfo(i); engine.getColumn(i);
            }
            for (let i = 0; i < 50; i++) {
                try { engine.allocateConcept(-i - 1); } catch {}
                try { engine.activateConcept(10000 + i); } catch {}
                try { engine.getColumn('x'); } catch {}
                engine.allocateConcept(i, {});
            }
            engine.allocateBatch([1, 2, 3], {columnar: true}); engine.getStats(); engine.getColumnStates();
            engine.getAllocationHistory({start: -5}); engine.exportState();
            engine.deallocateBatch(Array.from({length: 300}, (_, i) => i));
            engine.optimizeAllocations();
        };
        round();
        const before = AllocationEngine.__diagnostics().pythonObjects;
        for (let r = 0; r < 4; r++) round();
        const after = AllocationEngine.__diagnostics().pythonObjects;
        engine.destroy();
        return {before, after};
    """)
    assert out["after"] - out["before"] < 100, out


def test_batches_report_progress_per_chunk_and_callback_errors_stay_out(sync_page: Page) -> None:
    out = run(sync_page, """
        const engine = new AllocationEngine(140000, true);
        const seen = [];
        const reported = [];
        const onError = (event) => { event.preventDefault(); reported.push(event.message); };
        window.addEventListener('error', onError);
        const ids = Uint32Array.from({length: 140000}, (_, i) => i);
        const result = engine.allocateBatch(ids, {columnar: true, onProgress: (done, total) => {
            seen.push([done, total]);
            if (done === 65536) throw new Error('a broken progress bar');
        }});
        window.removeEventListener('error', onError);
        const allocated = engine.getAllocatedCount();
        engine.destroy();
        return {seen, reported, allocated, failed: result.errors.length};
    """)
    assert out["seen"] == [[65536, 140000], [131072, 140000], [140000, 140000]]
    assert out["allocated"] == 140000 and out["failed"] == 0
    assert len(out["reported"]) == 1 and "a broken progress bar" in out["reported"][0]


def test_load_engine_boots_once_and_refuses_unknown_options(sync_page: Page) -> None:
    out = run(sync_page, """
        const again = await window.loadEngine();
        let refused;
        try { await window.loadEngine({columns: 4}); } catch (error) { refused = [error.constructor.name, error.message]; }
        return {same: again.AllocationEngine === AllocationEngine, runtime: again.runtime, refused};
    """)
    assert out["same"]
    assert out["runtime"]["wasmSimd"] is True
    assert out["refused"][0] == "InvalidInputError" and "onProgress" in out["refused"][1]


def test_it_runs_in_an_apps_own_worker(sync_page: Page) -> None:
    out = run(sync_page, """
        const worker = new Worker('./engine-worker-example.js', {type: 'module'});
        const answers = [];
        const answered = new Promise((resolve) => worker.addEventListener('message', ({data}) => {
            if (answers.push(data) === 2) resolve();
        }));
        // both posted at once: they arrive while Python still boots in the worker
        worker.postMessage({columns: 4, ids: [5, 6, 5, 7]});
        worker.postMessage({columns: 1, ids: [1, 2]});
        await answered;
        worker.terminate();
        const [first, second] = answers;
        const here = AllocationEngine.importState(first.bytes);
        const history = here.getAllocationHistory().map((h) => [h.conceptId, h.columnId]);
        here.destroy();
        return {columnIds: first.columnIds, allocated: first.stats.allocated, history,
                bytesType: first.bytes.constructor.name, second};
    """)
    assert out["columnIds"] == [0, 1, 0, 2]
    assert out["allocated"] == 3
    assert out["history"] == [[5, 0], [6, 1], [7, 2]]
    assert out["bytesType"] == "Uint8Array"
    assert out["second"] == {"error": {"name": "AllocationError", "message": "No free columns available"}}
