// The benchmark page (build_site.py --with-bench): what build/bench_browser.py calls
// through Playwright. python() and pyodide() run in a new worker each (worker.js); the
// others go through the JavaScript API (api.js); sideBySide() puts the reference
// design's JavaScript port against ours (side.js). Progress lines go to the console.
import { durability, latency, recovery, snapshot } from "./api.js";
import { sideBySide } from "./side.js";

function inWorker(message) {
  const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  return new Promise((resolve, reject) => {
    worker.addEventListener("message", ({ data }) => {
      if (data.type === "progress") console.log(`bench: ${data.line}`);
      else if (data.type === "done") resolve(data.result);
      else reject(new Error(data.message));
    });
    worker.addEventListener("error", (event) => {
      reject(new Error(event.message || "worker.js failed"));
    });
    worker.postMessage(message);
  }).finally(() => worker.terminate());
}

window.bench = {
  /** The shared runner inside Pyodide and the wasm heap per engine; see worker.js. */
  async python({ sizes, budget }) {
    const result = await inWorker({ run: "engine", sizes, budget });
    return { ...result, jsHeapBytes: performance.memory?.usedJSHeapSize ?? null };
  },
  /** Seconds loadPyodide() takes alone, in a worker. */
  pyodide: () => inWorker({ run: "pyodide" }),
  latency, durability, snapshot, recovery, sideBySide,
};
