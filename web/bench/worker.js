// The benchmark page's worker. {run: "engine"}: boots Python exactly as the app's worker
// does (../boot.js: the runtime, the wasm scan kernel, the cortexkg wheel), measures the
// wasm heap a filled engine of N columns takes, then runs the shared benchmark runner
// (cortexkg.bench.runner) inside Pyodide on the wasm backend, at the same sizes.
// {run: "pyodide"}: times loadPyodide() alone, from the runtime boot.js loads, for
// comparison with the dashboard's page ready.
//
// From the page: {run: "engine", sizes, budget} | {run: "pyodide"}
// To the page:   {type: "progress", line} | {type: "done", result} | {type: "error", message}
import { boot } from "../boot.js";

const PYTHON = `
import gc, json
from cortexkg import AllocationEngine
from cortexkg.bench.runner import run

# What booting and these imports made lives as long as the worker: frozen, it is left out
# of the runner's collection before each timing, which in Pyodide took ~70 ms over it
# (most of the runner's time at small sizes). The timings are as before: each runs with
# the collector off.
gc.collect()
gc.freeze()

def filled(n):
    engine = AllocationEngine(n, backend="wasm")
    for concept in range(1, n + 1):
        engine.allocate_concept(concept)
    return engine

def records(sizes, budget):
    return json.dumps(run(list(sizes), ["wasm"], budget))
`;

const progress = (line) => postMessage({ type: "progress", line });

async function engine({ sizes, budget }) {
  const { pyodide, runtime } = await boot(progress);
  pyodide.setStderr({ batched: progress }); // the runner's progress lines
  const namespace = pyodide.globals.get("dict")();
  pyodide.runPython(PYTHON, { globals: namespace });
  const call = (name, ...args) => {
    const fn = namespace.get(name);
    try { return fn(...args); } finally { fn.destroy(); }
  };
  const memory = sizes.map((n) => {
    pyodide.runPython("gc.collect()", { globals: namespace });
    const before = heapInUse(pyodide);
    const filled = call("filled", n);
    const after = heapInUse(pyodide);
    filled.destroy();
    progress(`memory N=${n.toLocaleString("en")}: ${after - before} bytes`);
    return { n, heapBytes: after - before, wasmBytes: pyodide._module.HEAP8.buffer.byteLength };
  });
  const records = JSON.parse(call("records", sizes, budget));
  namespace.destroy();
  return { runtime, memory, records };
}

// Bytes malloc has handed out on the wasm heap (mallinfo's uordblks): unlike the memory's
// size, it goes down again when an engine is freed.
function heapInUse(pyodide) {
  const module = pyodide._module;
  const info = module._malloc(64); // struct mallinfo: ten ints
  try {
    module._mallinfo(info);
    return module.HEAPU32[(info >>> 2) + 7];
  } finally {
    module._free(info);
  }
}

async function pyodideOnly() {
  const site = await (await fetch(new URL("../site.json", import.meta.url))).json();
  const indexURL = new URL(`../${site.indexURL}`, import.meta.url).href;
  const started = performance.now();
  const { loadPyodide } = await import(new URL("pyodide.mjs", indexURL).href);
  await loadPyodide({ indexURL });
  return { seconds: (performance.now() - started) / 1000 };
}

self.addEventListener("message", ({ data }) => {
  (data.run === "pyodide" ? pyodideOnly() : engine(data)).then(
    (result) => postMessage({ type: "done", result }),
    (error) => postMessage({ type: "error", message: error?.message ?? String(error) }),
  );
});
