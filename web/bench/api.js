// Measurements through the JavaScript API (../cortexkg.js), as an app makes its calls:
// each mutation acknowledged only after its IndexedDB commit. Every function returns
// plain data in ms (performance.now, cross-origin isolated: about 5 us resolution).
//
// They share the page's one engine with side.js (instance.js), reset to each
// measurement's size in strict durability; snapshot and recovery reopen it.
import { engine as shared, reopen } from "./instance.js";

// The shared engine as a new, empty one of `columns` columns, durability strict (the
// default create() gets; a reset keeps the mode in force unless told).
const engine = (columns) => shared({ columns }, { columns, durability: "strict" });

const now = () => performance.now();
const range = (from, count, step = 1) =>
  Uint32Array.from({ length: count }, (_, i) => from + i * step);
const percentile = (xs, q) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};

/** allocateConcept one call at a time, then `count` calls issued at once (pipelined). */
export async function latency(count) {
  const kg = await engine(4 * count);
  const timed = async (call) => {
    const out = [];
    for (let i = 0; i < count; i++) {
      const started = now();
      await call(i);
      out.push(now() - started);
    }
    return out;
  };
  const sequential = await timed((i) => kg.allocateConcept(i));
  const query = await timed(() => kg.getAllocatedCount());
  const starts = [], ends = [];
  const started = now();
  await Promise.all(Array.from({ length: count }, (_, i) => {
    starts.push(now());
    return kg.allocateConcept(count + i).then(() => { ends[i] = now(); });
  }));
  const pipelinedMs = now() - started;
  const pipelined = ends.map((end, i) => end - starts[i]);
  const { backend } = await kg.getStats();
  return {
    backend, pipelinedMs,
    sequential: [percentile(sequential, 0.5), percentile(sequential, 0.99)],
    pipelined: [percentile(pipelined, 0.5), percentile(pipelined, 0.99)],
    query: [percentile(query, 0.5), percentile(query, 0.99)],
    engineMs: await kg.getAverageTime(),
  };
}

/** Raw IndexedDB puts of one journal-sized record per transaction, relaxed and strict,
 *  and `count` records in one strict transaction (what group commit does). */
export async function durability(count) {
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open("bench-durability", 1);
    request.onupgradeneeded = () => request.result.createObjectStore("s");
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const put = (durability, from, n) => new Promise((resolve, reject) => {
    const tx = db.transaction("s", "readwrite", { durability });
    for (let i = from; i < from + n; i++) {
      const record = { seq: i, method: "allocate_concept", args: [i], readings: [1, 2, 3] };
      tx.objectStore("s").put(record, i);
    }
    tx.oncomplete = resolve;
    tx.onabort = () => reject(tx.error);
  });
  const out = {};
  for (const durability of ["relaxed", "strict"]) {
    const started = now();
    for (let i = 0; i < count; i++) await put(durability, i, 1);
    out[durability] = now() - started;
  }
  const started = now();
  await put("strict", 0, count);
  out.grouped = now() - started;
  db.close();
  return out;
}

/**
 * The runner's chain on `columns` columns (allocate 1..N, release the odd ids, optimize,
 * allocate N/2 new ids in one batch), then the snapshot of that full engine the idle
 * compaction writes (kg.storage.snapshot: taking it to its commit), and its load in a
 * new instance (kg.storage.restored: reading and restoring it).
 */
export async function snapshot(columns) {
  const kg = await engine(columns);
  await kg.allocateBatch(range(1, columns), { columnar: true });
  await kg.deallocateBatch(range(1, Math.ceil(columns / 2), 2), { columnar: true });
  await kg.optimizeAllocations(); // moves every concept: compaction writes a snapshot
  await kg.flush();
  const optimized = kg.storage.snapshot;
  const idle = nextSnapshot(kg, optimized.seq);
  await kg.allocateBatch(range(columns + 1, Math.floor(columns / 2)), { columnar: true });
  const saved = await idle;
  return { saved, optimized, restored: await reopen() };
}

// The next snapshot saved after seq, as a "storage" event reports it.
function nextSnapshot(kg, seq) {
  return new Promise((resolve) => {
    const listener = () => {
      const saved = kg.storage.snapshot;
      if (saved !== null && saved.seq > seq) {
        kg.removeEventListener("storage", listener);
        resolve(saved);
      }
    };
    kg.addEventListener("storage", listener);
  });
}

/** Reopen the engine after `count` single allocations (pipelined 5,000 at a time), each
 *  its own journal record: the options object keeps them out of a run (a run of plain
 *  calls is one record), so the journal is what awaited calls one at a time would leave
 *  (after the reset's snapshot of the empty engine). */
export async function recovery(count) {
  const kg = await engine(count);
  for (let i = 0; i < count; i += 5000) {
    const chunk = Math.min(5000, count - i);
    await Promise.all(Array.from({ length: chunk }, (_, j) => kg.allocateConcept(i + j, {})));
  }
  return reopen();
}
