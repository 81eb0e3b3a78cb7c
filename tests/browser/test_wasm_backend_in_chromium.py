"""The WebAssembly scan kernel in Chromium: Pyodide's own memory, the default backend, and
results identical to the reference scans.

Two engines run side by side in web/api.html, one per worker, created once for the module:
one with the default backend (which must be "wasm"), one with backend "reference". Each
random case resets both to its configuration (a reset builds a new engine from the
options, as create() does, in the same worker), the same random operation sequence goes
through the JavaScript API to both, and every answer, the column buffers, the learned
fields, the statistics and the history (timing and wall-clock values aside) must be
identical.
"""

from __future__ import annotations

import json
import random

import pytest
from harness import BOOT_TIMEOUT_MS, App
from playwright.sync_api import Page

pytestmark = pytest.mark.browser

# Create the module's two engines, window.engines: [default backend, "reference"]; what
# create() reported for the first.
CREATE_BOTH = """async () => {
    const api = await import('./cortexkg.js');
    const first = await api.CortexKG.create({name: 'parity-default', columns: 8});
    window.engines = [first, await api.CortexKG.create(
        {name: 'parity-reference', columns: 8, backend: 'reference'})];
    return {config: first.config, runtime: first.runtime, stats: await first.getStats()};
}"""

# a JavaScript function: reset both engines to configs, run the operations on each, then
# observe each
RUN_BOTH = """async ({configs, ops, sampleColumns}) => {
    for (const [i, config] of configs.entries()) await engines[i].reset(config);
    const answers = engines.map(() => []);
    for (const [name, ...args] of ops) {
        for (const [i, kg] of engines.entries()) {
            let answer;
            try {
                if (name === 'allocate') {
                    const [id, embedding] = args;
                    answer = await kg.allocateConcept(
                        id, embedding ? {embedding: Float32Array.from(embedding)} : undefined);
                } else if (name === 'allocateBatch') {
                    const [ids, embeddings] = args;
                    answer = await kg.allocateBatch(ids, embeddings ? {embeddings} : {});
                } else if (name === 'deallocate') answer = await kg.deallocateConcept(args[0]);
                else if (name === 'deallocateBatch') answer = await kg.deallocateBatch(args[0]);
                else if (name === 'activate') answer = await kg.activateConcept(...args);
                else if (name === 'optimize') answer = await kg.optimizeAllocations();
                else if (name === 'fragmentation') answer = await kg.getFragmentation();
                else throw new Error('unknown operation ' + name);
            } catch (error) {
                answer = {error: error.name + ': ' + error.message};
            }
            answers[i].push(answer);
        }
    }
    const observed = [];
    for (const kg of engines) {
        await kg.validate();
        const stats = await kg.getStats();
        const backend = stats.backend;
        delete stats.backend;
        delete stats.average_time_ms;  // a clock reading, different in each worker
        const states = await kg.getColumnStates();
        const history = (await kg.getAllocationHistory()).map(
            ({conceptId, columnId, confidence}) => [conceptId, columnId, confidence]);
        const fields = [];
        for (const c of sampleColumns) fields.push((await kg.getColumn(c)).field);
        observed.push({
            backend, stats, history, fields,
            fragmentation: await kg.getFragmentation(),
            // the instants: clock readings, different in each worker; whether there is one
            states: Object.fromEntries(Object.entries(states).map(([name, values]) =>
                [name, ['allocatedAt', 'refractoryLeftMs'].includes(name)
                    ? Array.from(values, (ms) => ms > 0) : Array.from(values)])),
        });
    }
    return {answers, observed};
}"""


def random_ops(seed: int, columns: int, dim: int, count: int) -> list:
    """A reproducible mix of every mutation, with ids that repeat and embeddings given
    now and then (as plain arrays, and in batches with gaps)."""
    rnd = random.Random(seed)
    ids = lambda: rnd.randrange(2 * columns)  # noqa: E731 - twice the columns: some fail

    def embedding():
        if not dim or rnd.random() < 0.6:
            return None
        pool = [[1.0] * dim, [-1.0] + [0.5] * (dim - 1)]  # shared ones make ties likely
        return rnd.choice(pool) if rnd.random() < 0.3 else [rnd.uniform(-2, 2) for _ in range(dim)]

    ops = []
    for _ in range(count):
        kind = rnd.choices(["allocate", "deallocate", "allocateBatch", "deallocateBatch",
                            "activate", "optimize", "fragmentation"],
                           [40, 15, 8, 5, 8, 3, 3])[0]
        if kind == "allocate":
            ops.append([kind, ids(), embedding()])
        elif kind == "allocateBatch":
            batch = [ids() for _ in range(rnd.randrange(1, 12))]
            embeddings = [embedding() for _ in batch] if dim and rnd.random() < 0.5 else None
            ops.append([kind, batch, embeddings])
        elif kind == "deallocateBatch":
            ops.append([kind, [ids() for _ in range(rnd.randrange(1, 12))]])
        elif kind == "activate":
            ops.append([kind, ids(), rnd.choice([0.25, 1.0])])
        elif kind in ("deallocate",):
            ops.append([kind, ids()])
        else:
            ops.append([kind])
    return ops


@pytest.fixture(scope="module")
def created(api_page: Page) -> dict:
    """The module's two engines, created in api_page (CREATE_BOTH): what create() reported
    for the one of the default backend."""
    return api_page.evaluate(CREATE_BOTH)


@pytest.mark.parametrize(("strategy", "columns", "dim", "seed"), [
    ("affinity", 1000, 16, 1),
    ("affinity", 37, 3, 2),
    ("affinity", 203, 64, 3),
    ("affinity", 50, 0, 4),
    ("first_fit", 300, 0, 5),
])
def test_wasm_and_reference_engines_agree_on_random_sequences(
        api_page: Page, created: dict, strategy: str, columns: int, dim: int, seed: int) -> None:
    config = {"columns": columns, "strategy": strategy, "dim": dim, "seed": seed}
    ops = random_ops(seed, columns, dim, 250)
    sample = sorted(random.Random(seed).sample(range(columns), min(columns, 12)))
    out = api_page.evaluate(RUN_BOTH, {"configs": [config, config], "ops": ops,
                                       "sampleColumns": sample})

    wasm, reference = out["observed"]
    assert (wasm["backend"], reference["backend"]) == ("wasm", "reference")
    for index, (a, b) in enumerate(zip(*out["answers"])):
        assert a == b, f"operation {index} {json.dumps(ops[index])[:200]}: {a!r} != {b!r}"
    del wasm["backend"], reference["backend"]
    assert wasm["states"] == reference["states"]
    assert wasm["history"] == reference["history"]
    assert wasm == reference
    assert wasm["stats"]["total_allocations"] > 0


def test_the_default_backend_in_chromium_is_wasm(created: dict) -> None:
    assert created["runtime"]["wasmSimd"] is True
    assert created["config"]["backend"] == created["stats"]["backend"] == "wasm"


def test_the_dashboard_reports_wasm_as_its_backend(app: App) -> None:
    backend = app.page.get_by_test_id("status-backend")  # folded into "About": attached, hidden
    backend.filter(has_text="wasm").wait_for(state="attached", timeout=BOOT_TIMEOUT_MS)
    assert app.status("status-backend").strip() == "wasm"
