// An app's own module worker running the synchronous engine (web/engine.js): the app's
// logic runs here, next to the engine, and calls it without promises or message hops.
// This one allocates the ids the page sends, one call each, and answers with their
// columns, the engine's counters and the export file for the page to store:
//
//   const worker = new Worker(new URL("./engine-worker-example.js", import.meta.url), { type: "module" });
//   worker.onmessage = ({ data }) => data;   // {columnIds, stats, bytes} or {error: {name, message}}
//   worker.postMessage({ columns: 1024, ids: [1, 2, 3] });
import { loadEngine } from "./engine.js";

const loading = loadEngine(); // boots Python once, while the first message is on its way
loading.catch(() => {}); // reported with the message that awaits it

// Registered at once: messages that arrive while Python boots are not lost.
self.addEventListener("message", async ({ data: { columns, ids } }) => {
  let engine = null;
  try {
    const { AllocationEngine } = await loading;
    engine = new AllocationEngine(columns, true);
    const columnIds = ids.map((id) => engine.allocateConcept(id));
    const bytes = engine.exportState();
    postMessage({ columnIds, stats: engine.getStats(), bytes }, [bytes.buffer]);
  } catch (error) {
    postMessage({ error: { name: error.name, message: error.message } });
  } finally {
    engine?.destroy();
  }
});
