// The side-by-side benchmark (issue 12, item 7): the reference design ported to JavaScript
// (reference.js, called in the page) against ours as an app calls it: the synchronous
// engine (../engine.js, in the page's thread) and the async API (../cortexkg.js, its own
// worker) in each durability mode. Every implementation gets a new engine of n columns
// and the same ids: `sequential` single allocations, each called (or awaited) alone, then
// `pipelined` allocations issued together (async API only), then one batch of `batch`
// ids, then `getters` reads of the four stats getters, then `statsReads` reads of
// kg.stats (async API only, where it exists). Times in µs from performance.now()
// (5 µs resolution when cross-origin isolated: per-call samples are quantized, their
// mean is not biased). The reference stops each measurement once it has used budgetMs
// (O(n) per allocation makes it take minutes at 1M): done < planned then. The async
// API's engine is the page's one (instance.js), reset to each size and mode (see open()).
import { InvalidInputError } from "../cortexkg.js";
import { loadEngine } from "../engine.js";
import { close, engine } from "./instance.js";
import { ReferenceAllocationEngine } from "./reference.js";

const now = () => performance.now();
const REFERENCE_BATCH_CALL = 1000; // ids per allocateBatch call of the budgeted reference
const WARM_UP_CALLS = 100; // of each kind, before anything is timed
let sink = 0; // what the timed reads return goes here, so none is optimized away

const percentile = (xs, q) => {
  if (xs.length === 0) return null;
  const sorted = Float64Array.from(xs).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
const mean = (xs) => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);
const us = (ms) => (ms === null ? null : ms * 1000);
const range = (from, count) => Uint32Array.from({ length: count }, (_, i) => from + i);

function latencies(samplesMs, planned) {
  return {
    planned, done: samplesMs.length, mean_us: us(mean(samplesMs)),
    p50_us: us(percentile(samplesMs, 0.5)), p99_us: us(percentile(samplesMs, 0.99)),
  };
}

/** How many calls of each kind at n columns: all fit in the engine together. */
export function plan(n, { sequential, pipelined, batch, getters, statsReads }) {
  return {
    sequential: Math.min(sequential, Math.floor(n / 4)),
    pipelined: Math.min(pipelined, Math.floor(n / 2)),
    batch: Math.min(batch, Math.floor(n / 4)),
    getters, statsReads,
  };
}

// One engine called synchronously: the reference port or the synchronous engine.
function measureSync(engine, counts, budgetMs) {
  const deadline = (started) => budgetMs !== null && now() - started > budgetMs;
  const samples = [];
  let started = now();
  for (let i = 0; i < counts.sequential && !deadline(started); i++) {
    const t = now();
    engine.allocateConcept(i);
    samples.push(now() - t);
  }
  const ids = range(counts.sequential + counts.pipelined, counts.batch);
  let done = 0;
  started = now();
  if (budgetMs === null) {
    engine.allocateBatch(ids, { columnar: true });
    done = ids.length;
  } else {
    while (done < ids.length && !deadline(started)) {
      engine.allocateBatch(ids.subarray(done, done + REFERENCE_BATCH_CALL));
      done = Math.min(ids.length, done + REFERENCE_BATCH_CALL);
    }
  }
  const batchMs = now() - started;
  started = now();
  for (let i = 0; i < counts.getters; i++) {
    sink += engine.getFreeColumnCount() + engine.getAllocatedCount()
      + engine.getAverageTime() + engine.getAllocationEfficiency();
  }
  const gettersMs = now() - started;
  return {
    available: true,
    sequential: latencies(samples, counts.sequential),
    pipelined: null,
    batch: { planned: counts.batch, done, us_per_item: done ? us(batchMs) / done : null },
    getters: { planned: counts.getters, done: counts.getters, mean_us: us(gettersMs) / counts.getters },
    stats: null,
  };
}

// The page's engine (instance.js, shared with api.js) as a new one of n columns in one
// durability mode, or {unavailable: note} when create() or reset() refuses the mode
// (strict is the default: create() gets no option, which every build takes).
async function open(durability, n) {
  const mode = durability === "strict" ? {} : { durability };
  let kg;
  try {
    kg = await engine({ columns: n, ...mode }, { columns: n, durability });
  } catch (error) {
    if (error instanceof InvalidInputError) return { unavailable: `create() or reset() refused it: ${error.message}` };
    throw error;
  }
  const inForce = kg.config.durability ?? "strict";
  if (inForce === durability) return { kg };
  return { unavailable: `create() or reset() accepted it but config.durability is ${inForce}` };
}

// Its worker's first calls: ids past the measured ones, allocated and released again.
async function warmUp(kg, counts) {
  const first = counts.sequential + counts.pipelined + counts.batch;
  for (let i = first; i < first + WARM_UP_CALLS; i++) await kg.allocateConcept(i);
  for (let i = first; i < first + WARM_UP_CALLS; i++) await kg.deallocateConcept(i);
  for (let i = 0; i < WARM_UP_CALLS; i++) await kg.getAllocatedCount();
}

// The async API, on the engine open() made.
async function measureAsync(kg, counts) {
  await warmUp(kg, counts);
  const samples = [];
  for (let i = 0; i < counts.sequential; i++) {
    const t = now();
    await kg.allocateConcept(i);
    samples.push(now() - t);
  }
  const issued = [], answered = [];
  let started = now();
  await Promise.all(Array.from({ length: counts.pipelined }, (_, i) => {
    issued.push(now());
    return kg.allocateConcept(counts.sequential + i).then(() => { answered[i] = now(); });
  }));
  const pipelinedMs = now() - started;
  const ids = range(counts.sequential + counts.pipelined, counts.batch);
  started = now();
  await kg.allocateBatch(ids, { columnar: true });
  const batchMs = now() - started;
  const getters = [];
  for (let i = 0; i < counts.getters; i++) {
    const t = now();
    await kg.getFreeColumnCount();
    await kg.getAllocatedCount();
    await kg.getAverageTime();
    await kg.getAllocationEfficiency();
    getters.push(now() - t);
  }
  return {
    available: true,
    sequential: latencies(samples, counts.sequential),
    pipelined: {
      ...latencies(answered.map((t, i) => t - issued[i]), counts.pipelined),
      us_per_call: counts.pipelined ? us(pipelinedMs) / counts.pipelined : null,
    },
    batch: { planned: counts.batch, done: counts.batch, us_per_item: us(batchMs) / counts.batch },
    getters: latencies(getters, counts.getters),
    stats: readStats(kg, counts.statsReads),
  };
}

// kg.stats, the synchronous snapshot, where this build has it.
function readStats(kg, reads) {
  if (kg.stats === undefined) return { available: false, note: "kg.stats is undefined in this build" };
  const started = now();
  for (let i = 0; i < reads; i++) if (kg.stats !== null) sink += 1;
  return { available: true, reads, mean_us: us(now() - started) / reads };
}

// The synchronous engines' first calls, on engines of their own.
function warmUpSync(engine) {
  for (let i = 0; i < WARM_UP_CALLS; i++) engine.allocateConcept(i);
  engine.allocateBatch(range(WARM_UP_CALLS, WARM_UP_CALLS), { columnar: true });
  for (let i = 0; i < WARM_UP_CALLS; i++) {
    sink += engine.getFreeColumnCount() + engine.getAllocatedCount() + engine.getAverageTime()
      + engine.getAllocationEfficiency();
  }
}

/**
 * Every implementation at every size: {records: [{engine, n, counts, ...measurements}]}.
 * engine: "reference" | "sync" | "strict" | "relaxed"; {available: false, note} for a
 * durability mode create() refuses. Progress goes to the console.
 */
export async function sideBySide({ sizes, counts, budgetMs }) {
  const records = [];
  const log = (n, what) => console.log(`bench: side by side N=${n.toLocaleString("en")}: ${what}`);
  // this thread boots the synchronous engine's Python while the shared engine's worker
  // boots its own, if it has not yet
  const [{ AllocationEngine }, firstStrict] = await Promise.all([
    loadEngine(), open("strict", sizes[0])]);
  warmUpSync(new ReferenceAllocationEngine(2 * WARM_UP_CALLS, true));
  const warm = new AllocationEngine(2 * WARM_UP_CALLS, true);
  warmUpSync(warm);
  warm.destroy();
  for (const n of sizes) {
    const c = plan(n, counts);
    log(n, "reference port");
    records.push({ engine: "reference", n, counts: c,
                   ...measureSync(new ReferenceAllocationEngine(n, true), c, budgetMs) });
    log(n, "synchronous engine");
    const engine = new AllocationEngine(n, true);
    try {
      records.push({ engine: "sync", n, counts: c, ...measureSync(engine, c, null) });
    } finally {
      engine.destroy();
    }
    for (const durability of ["strict", "relaxed"]) {
      log(n, `async API, ${durability}`);
      const { kg, unavailable } = n === sizes[0] && durability === "strict"
        ? firstStrict : await open(durability, n);
      records.push({ engine: durability, n, counts: c,
                     ...(kg ? await measureAsync(kg, c) : { available: false, note: unavailable }) });
    }
  }
  await close();
  return { records };
}
