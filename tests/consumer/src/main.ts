// What an app does with the package: create an engine from where it serves the runtime
// assets (public/cortexkg/, copied there by copy-assets.mjs), allocate, batch, read, export
// and import, and catch the typed errors by class; and run the synchronous engine in a
// worker of its own (engine-worker.ts). The outcome is written into the page as JSON for
// tests/browser/test_consumer.py.
import {
  AllocationError, CortexKG, CortexKGError, InvalidInputError, NotInitializedError, StateError,
  type ChangeDetail,
} from "cortexkg";

/** How a rejected call failed: its class as instanceof sees it, and its name. */
interface Caught {
  name: string;
  constructorName: string;
  classes: string[];
  message: string;
}

function caught(error: unknown): Caught {
  const classes = Object.entries({ CortexKGError, AllocationError, InvalidInputError, NotInitializedError, StateError })
    .filter(([, type]) => error instanceof type)
    .map(([name]) => name);
  const { name, message, constructor } = error as Error;
  return { name, constructorName: constructor.name, classes, message };
}

async function failure(call: () => unknown): Promise<Caught | string> {
  try {
    await call();
  } catch (error) {
    return caught(error);
  }
  return "resolved";
}

async function run(): Promise<Record<string, unknown>> {
  const report: Record<string, unknown> = {};
  // the constructor is private in the declarations; JavaScript callers still reach it
  const Unchecked = CortexKG as unknown as new () => CortexKG;
  report.construct = await failure(() => new Unchecked());
  report.badAssetsURL = await failure(() => CortexKG.create({ assetsURL: "cortexkg" }));

  const kg = await CortexKG.create({ name: "consumer", columns: 8, assetsURL: "cortexkg/" });
  const changes: ChangeDetail["kind"][] = [];
  kg.addEventListener("change", (event) => changes.push(event.detail.kind), { once: true });

  const seven = await kg.allocateConcept(7);
  const rows = await kg.allocateBatch([1, 2, 3]);
  const columnar = location.search !== "?rows"; // a boolean the compiler cannot narrow
  const more = await kg.allocateBatch(new Uint32Array([4, 5]), { columnar });
  report.allocated = {
    seven,
    rows: rows.map((row) => (row.success ? row.columnId : row.error)),
    more: "columnIds" in more ? Array.from(more.columnIds) : "rows",
    info: await kg.getAllocationInfo(2),
    count: await kg.getAllocatedCount(),
    free: await kg.getFreeColumnCount(),
  };

  const file = new Blob([await kg.exportState()], { type: "application/octet-stream" });
  await kg.deallocateBatch([1, 2, 3, 4, 5, 7]);
  const emptied = await kg.getAllocatedCount();
  await kg.importState(new Uint8Array(await file.arrayBuffer()));
  report.imported = { bytes: file.size, emptied, count: await kg.getAllocatedCount(), seven: await kg.getAllocationInfo(7) };

  report.errors = {
    invalidId: await failure(() => kg.allocateConcept(-1)),
    notAllocated: await failure(() => kg.activateConcept(99)),
    badFile: await failure(() => kg.importState(new Uint8Array([1, 2, 3]))),
  };
  report.changes = changes; // once: only the first change reached the listener
  kg.close();
  report.closed = await failure(() => kg.getAllocatedCount());

  const worker = new Worker(new URL("./engine-worker.ts", import.meta.url), { type: "module" });
  report.engineWorker = await new Promise((resolve) => {
    worker.addEventListener("message", ({ data }) => resolve(data), { once: true });
    worker.postMessage({ assetsURL: new URL("cortexkg/", document.baseURI).href });
  });
  worker.terminate();
  return report;
}

const output = document.querySelector<HTMLElement>("[data-testid='report']")!;
run().then(
  (report) => { output.textContent = JSON.stringify(report); },
  (error: unknown) => { output.textContent = JSON.stringify({ failed: caught(error) }); },
).finally(() => { document.documentElement.dataset.done = "true"; });
