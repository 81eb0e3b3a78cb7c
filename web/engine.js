// The synchronous engine: the reference design's own shape, in the calling thread.
//
//   const { AllocationEngine } = await loadEngine();
//   const engine = new AllocationEngine(4096, true, { strategy: "first_fit" });
//   engine.allocateConcept(42);          // -> 0, no promise, no worker hop
//
// loadEngine() boots Pyodide, the scan kernel and the cortexkg wheel in this thread (meant
// for an app's own worker; the main thread works too, but a long call blocks the page),
// once however many engines follow. Every method is synchronous and gives the answers and
// throws the error classes of the async API (cortexkg.js), but nothing is persisted:
// exportState() gives the bytes to store and AllocationEngine.importState(bytes) makes an
// engine of them. destroy() frees the Python engine.
//
// The AllocationEngine class itself, and its hot path, is engine-class.js's.
import { boot } from "./boot.js";
import { assetsFolder } from "./cortexkg.js";
import { engineClass } from "./engine-class.js";
import { BootError, InvalidInputError } from "./errors.js";

const LOAD_OPTIONS = ["onProgress", "assetsURL"];

let loading = null; // this thread's boot, shared by every loadEngine()

/**
 * Boot Python in this thread (once) and resolve to {AllocationEngine, runtime}.
 * Options of the first call: onProgress(message, bytes), which hears each boot step
 * (bytes: {loaded, total} of the runtime's download while it lasts, else undefined), and
 * assetsURL, the folder of the runtime assets (default: this module's folder).
 * Rejects with BootError when the runtime cannot start (a later call tries again).
 */
export function loadEngine(options = {}) {
  const unknown = Object.keys(options ?? {}).filter((key) => !LOAD_OPTIONS.includes(key));
  if (unknown.length > 0) {
    return Promise.reject(new InvalidInputError(
      `Unknown option ${unknown.map((k) => JSON.stringify(k)).join(", ")}: expected some of ${LOAD_OPTIONS.join(", ")}`));
  }
  let assets;
  try {
    assets = assetsFolder(options?.assetsURL, import.meta.url);
  } catch (error) {
    return Promise.reject(error);
  }
  if (loading === null) {
    loading = load(options?.onProgress ?? (() => {}), assets);
    loading.catch(() => { loading = null; });
  }
  return loading;
}

async function load(onProgress, assets) {
  let pyodide, runtime;
  try {
    ({ pyodide, runtime } = await boot(onProgress, assets));
  } catch (error) {
    throw new BootError(`The Python runtime could not start: ${error?.message ?? error}`);
  }
  // lives as long as the thread: every engine of it calls through this module
  const python = pyodide.pyimport("cortexkg._sync_engine");
  python.without_tracebacks();
  return { AllocationEngine: engineClass(pyodide.ffi.PythonError, python), runtime };
}
