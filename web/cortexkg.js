// The JavaScript API of the CortexKG allocation engine.
//
//   const kg = await CortexKG.create({ columns: 4096 });
//   await kg.allocateConcept(42);        // -> 0
//
// Each instance owns a dedicated module worker running the Python engine in Pyodide; the
// main thread never runs Python. The state persists in IndexedDB under the engine's name:
// a mutation resolves only once it is durable (durability "strict", the default), or once
// it is applied, its record committed within RELAXED_WINDOW_MS (durability "relaxed"; see
// flush()); create() loads what is stored. Every method returns a promise; many calls may
// be in flight at once. Calls issued in the same task travel to the worker as one message,
// run in one Python call and are answered in one message, each exactly as if it had been
// sent alone. kg.stats reads the counters synchronously. Failures reject with the error
// classes exported below (errors.js), carrying the engine's message. After every change
// the instance dispatches a "change" event, and a "log" event per engine log line.
//
// Why a hand-written protocol rather than comlink: the worker must map Python errors to
// these classes, transfer typed arrays, coalesce calls and report per-call progress for
// long batches; with comlink each of these needs its own wrapper. The messages are
// declared in protocol.js.

import {
  BootError, CortexKGError, InvalidInputError, NotInitializedError,
} from "./errors.js";
import {
  assetsFolder, checkIds, checkProgress, DEFAULTS, describe, DURABILITIES, MAX_NAME_LENGTH, optionsOf,
} from "./api-checks.js";
import { StatsSnapshot } from "./stats-snapshot.js";
import { WorkerChannel } from "./worker-channel.js";

export {
  assetsFolder, checkIds, DEFAULTS, DURABILITIES, MAX_BATCH_LENGTH, MAX_NAME_LENGTH, RELAXED_WINDOW_MS,
} from "./api-checks.js";
export {
  AllocationError, BootError, CortexKGError, ERROR_CLASSES, InternalError, InvalidInputError, NotInitializedError,
  StateError, StorageError,
} from "./errors.js";

/** How long create() waits for the runtime to boot and the engine to open. */
export const BOOT_TIMEOUT_MS = 120_000;

// This module's URL, out of the `new URL("...", import.meta.url)` form that bundlers
// rewrite into an asset of their own: only the worker's URL is meant for them.
const MODULE_URL = import.meta.url;

// Only create() holds it: a CortexKG made without it would have no engine.
const CREATE = Symbol("create");

export class CortexKG extends EventTarget {
  #channel; // worker-channel.js: the calls to the worker and their answers
  #stats = new StatsSnapshot(); // kg.stats
  #closed = false;
  #closing = null; // close()'s promise
  #onHide = null; // relaxed: writes what was acknowledged when the page is hidden or left

  /** Versions and platform facts: {pyodide, python, cortexkg, crossOriginIsolated, ...}. */
  runtime;
  /** The engine's configuration: {name, columns, strategy, dim, seed, refractoryMs,
   * activationHalfLifeMs, backend, durability}. durability is this instance's ("strict" or
   * "relaxed"), not stored with the engine: another instance may open the same engine in
   * the other mode. */
  config;
  /**
   * Where the state lives: {mode: "writer" | "reader" | "failed", saved, error, restored,
   * ignored}. "reader": another tab writes, this one follows read-only; "failed": the
   * stored data could not be loaded (see error) and is left untouched. restored = {snapshot,
   * records, allocated, columns, ms} when a stored state was loaded (ms: reading and
   * replaying it); snapshot = {seq, bytes, ms} of the last snapshot saved (ms: from taking
   * it to its commit); ignored = the create()
   * options that a loaded state overrode. Changes dispatch a "storage" event.
   */
  storage;

  /**
   * Boot a worker and create an engine. onProgress(message, bytes) hears the boot steps
   * (bytes: {loaded, total} of the runtime's download while it lasts, else undefined); the
   * worker loads the runtime from assetsURL (default: this module's folder).
   * @returns {Promise<CortexKG>}
   */
  static async create(options = {}) {
    const { onProgress, assetsURL, ...rest } = optionsOf(options, "create");
    checkProgress(onProgress);
    const unknown = Object.keys(rest).filter((key) => !(key in DEFAULTS));
    if (unknown.length > 0) {
      throw new InvalidInputError(
        `Unknown option ${unknown.slice(0, 5).map(describe).join(", ")}${unknown.length > 5 ? " and more" : ""}: `
        + `expected some of ${[...Object.keys(DEFAULTS), "onProgress", "assetsURL"].join(", ")}`,
      );
    }
    const assets = assetsFolder(assetsURL, MODULE_URL);
    const settings = { ...DEFAULTS, ...rest };
    if (!DURABILITIES.includes(settings.durability)) {
      throw new InvalidInputError(`Invalid durability ${describe(settings.durability)}: expected "strict" or "relaxed"`);
    }
    if (typeof settings.name !== "string" || settings.name === "" || settings.name.length > MAX_NAME_LENGTH) {
      throw new InvalidInputError(
        `Invalid name ${describe(settings.name)}: expected a string of 1 to ${MAX_NAME_LENGTH} characters`);
    }
    let kg;
    try {
      kg = new CortexKG(CREATE, onProgress);
    } catch (error) {
      // e.g. a SecurityError: this module was loaded from another origin than the page's
      throw new BootError(`The engine's worker cannot start from ${new URL("./worker.js", MODULE_URL)}: ${error?.name ?? "Error"}: ${error?.message}`);
    }
    try {
      const { runtime, config, storage, stats } = await kg.#withTimeout(kg.#call("open", [settings, assets]));
      kg.#stats.open(stats);
      kg.runtime = runtime;
      kg.config = { name: settings.name, ...config };
      const ignored = storage.restored === null ? [] : Object.keys(rest).filter(
        (key) => key !== "name" && key !== "backend" && rest[key] !== undefined && rest[key] !== config[key]);
      kg.storage = { ...storage, ignored };
      kg.#flushWhenHidden();
      return kg;
    } catch (error) {
      kg.close();
      throw error;
    }
  }

  /** @private Use CortexKG.create(); anything else throws NotInitializedError before a
   *  worker starts. */
  constructor(token, onBootProgress) {
    if (token !== CREATE) {
      throw new NotInitializedError("new CortexKG() makes no engine: use await CortexKG.create(options)");
    }
    super();
    // the literal new Worker(new URL(...)) is what bundlers find and bundle the worker by
    this.#channel = new WorkerChannel(new Worker(new URL("./worker.js", import.meta.url), { type: "module" }), {
      message: (data) => {
        if (data.type === "boot") onBootProgress?.(data.message, data.bytes);
        else if (data.type === "storage") {
          this.storage = { ...this.storage, ...data.storage };
          this.dispatchEvent(new CustomEvent("storage", { detail: this.storage }));
        } else if (data.type === "remote-change") this.#changed({ kind: "remote" });
        else if (data.type === "stats") this.#stats.receive(data.stats);
      },
      stats: (update) => this.#stats.receive(update),
      log: (message) => this.dispatchEvent(new CustomEvent("log", { detail: { message } })),
      error: (event) => {
        // Before the engine opened, the worker could not be loaded: nothing would answer.
        // Afterwards an uncaught error leaves the worker running, and every call still gets
        // its own answer: it is reported, not turned into other calls' failures.
        if (this.runtime === undefined) {
          this.#channel.failAll(new BootError(`The engine's worker failed: ${event.message || "it could not be loaded"}`));
        } else {
          this.dispatchEvent(new CustomEvent("log", { detail: { message: `Worker error: ${event.message}` } }));
        }
      },
    });
  }

  // --- mutations (each dispatches a "change" event when it succeeds) ---

  /** Allocate a concept; resolves to its column. Options: {embedding}. */
  async allocateConcept(conceptId, options) {
    optionsOf(options, "allocateConcept");
    const columnId = await this.#call("allocateConcept", [conceptId, options]);
    this.#changed({ kind: "allocate", conceptId, columnId });
    return columnId;
  }

  /** Release a concept; resolves to false when it was not allocated. */
  async deallocateConcept(conceptId) {
    const result = await this.#call("deallocateConcept", [conceptId]);
    this.#changed({ kind: "deallocate", conceptId, result });
    return result;
  }

  /**
   * Allocate many concepts (arrays or typed arrays). Resolves to one
   * {conceptId, columnId, success: true} | {conceptId, success: false, error} per id, or
   * with {columnar: true} to {conceptIds, columnIds (-1 = failed), errors}.
   * Options: {embeddings, columnar, onProgress(done, total)}.
   */
  async allocateBatch(conceptIds, options = {}) {
    checkIds(conceptIds);
    const { onProgress, ...rest } = optionsOf(options, "allocateBatch");
    checkProgress(onProgress);
    const result = await this.#call("allocateBatch", [conceptIds, rest], onProgress);
    this.#changed({ kind: "allocate-batch", ...batchSummary(result) });
    return result;
  }

  /** Release many concepts; same shapes as allocateBatch (columnIds: the released column). */
  async deallocateBatch(conceptIds, options = {}) {
    checkIds(conceptIds);
    const { onProgress, ...rest } = optionsOf(options, "deallocateBatch");
    checkProgress(onProgress);
    const result = await this.#call("deallocateBatch", [conceptIds, rest], onProgress);
    this.#changed({ kind: "deallocate-batch", ...batchSummary(result) });
    return result;
  }

  /** Raise a concept's activation by strength (capped at 1); resolves to the new value. */
  async activateConcept(conceptId, strength = 1) {
    const activation = await this.#call("activateConcept", [conceptId, strength]);
    this.#changed({ kind: "activate", conceptId, activation });
    return activation;
  }

  /** Defragment and rebalance; resolves to the number of concepts that moved. */
  async optimizeAllocations() {
    const changes = await this.#call("optimizeAllocations", []);
    this.#changed({ kind: "optimize", changes });
    return changes;
  }

  /**
   * Replace the whole state by an export file's (Uint8Array or ArrayBuffer), after
   * validating all of it; rejects with StateError naming the problem and changes nothing.
   */
  async importState(bytes) {
    if (!(bytes instanceof Uint8Array || bytes instanceof ArrayBuffer)) {
      throw new InvalidInputError(
        `Invalid export ${describe(bytes)}: expected the file's bytes as a Uint8Array or an ArrayBuffer`);
    }
    const { config } = await this.#call("replace", ["import", bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes]);
    this.config = { name: this.config.name, ...config };
    this.#changed({ kind: "import" });
    return this.config;
  }

  /** Replace the engine by a new, empty one (options as create(), defaulting to the
   *  current configuration); stored atomically. Also the way out of refused stored data. */
  async reset(options = {}) {
    const { name, ...current } = this.config;
    const { config, storage } = await this.#call("replace", ["reset", { ...current, ...optionsOf(options, "reset") }]);
    this.config = { name, ...config };
    this.storage = { ...this.storage, ...storage, restored: null, ignored: [] };
    this.#changed({ kind: "reset" });
    return this.config;
  }

  /**
   * Resolves once every change acknowledged so far is durable (relaxed durability: those
   * of the last few ms may not be yet); after a failed write, retries it at once. Rejects
   * with StorageError while acknowledged changes cannot be written (kg.storage.unsaved).
   */
  async flush() { await this.#call("flush", []); }

  // --- queries ---

  /** The whole state as one versioned, checksummed export file (Uint8Array). */
  exportState() { return this.#call("exportState", []); }
  /** Everything in the database as it is, whatever its schema or contents, as the bytes
   *  of a JSON file: {store: [[key, value], ...]} ({meta, snapshots, journal} for
   *  CortexKG's own), binary data as arrays of numbers. For stored data that could not be
   *  loaded. */
  exportRawData() { return this.#call("dump", []); }

  /** The concept's column, or null. */
  async getAllocationInfo(conceptId) {
    return (await this.#call("getAllocationInfo", [conceptId])) ?? null;
  }
  getFreeColumnCount() { return this.#read("getFreeColumnCount", "available"); }
  getAllocatedCount() { return this.#read("getAllocatedCount", "allocated"); }
  /** Mean of the last 1000 allocation times, in ms. */
  getAverageTime() { return this.#read("getAverageTime", "average_time_ms"); }
  /** Allocated / columns, a fraction in [0, 1]. */
  getAllocationEfficiency() { return this.#read("getAllocationEfficiency", "efficiency"); }
  /** Live allocations in allocation order; {start, stop} slice like Array.prototype.slice. */
  async getAllocationHistory(range = {}) {
    optionsOf(range, "getAllocationHistory");
    return this.#call("getAllocationHistory", [range]);
  }
  /** The last (up to 1000) allocation times in ms, oldest first (Float64Array). */
  getAllocationTimes() { return this.#call("getAllocationTimes", []); }
  /** What each of getAllocationTimes() is (Uint8Array): 0 a single call's own time, 1 a
   *  batch item's (its batch's mean), 2 unknown (restored from an older snapshot). */
  getAllocationTimeKinds() { return this.#call("getAllocationTimeKinds", []); }
  /** 1 - largest free run / free columns. */
  getFragmentation() { return this.#call("getFragmentation", []); }
  /** Every engine counter in one object. */
  getStats() { return this.#read("getStats", null); }

  // A counter getter (key: its getStats() key; null: all of them), answered from kg.stats
  // without a round trip when that is exactly what the worker would answer: no call in
  // flight (its change would not be there yet), this tab writes (a follower's counters
  // move with the writer's commits, announced after the fact), and no refractory column
  // whose time may have run out since (only a call expires it).
  #read(method, key) {
    const stats = this.#channel.pending === 0 && !this.#closed && this.storage?.mode === "writer" ? this.stats : null;
    if (stats === null || stats.refractory !== 0) return this.#call(method, []);
    return Promise.resolve(key === null ? stats : stats[key]);
  }

  /**
   * getStats() as of the engine's last change, synchronously (no round trip): equal to
   * what getStats() resolves to once every call made so far has settled. When the page is
   * cross-origin isolated the worker publishes the counters in shared memory as it runs
   * the calls (so they may show a change before its call settles); otherwise they come
   * with the answers. Refractory columns whose time ran out since the last call still
   * count as refractory here (a call expires them). null before create() resolved.
   */
  get stats() {
    return this.#stats.read();
  }

  /** Typed arrays, one per field: state (0 available, 1 allocated, 2 refractory), concept,
   *  activation, usage, confidence. */
  getColumnStates() { return this.#call("getColumnStates", []); }
  /** One column: {id, conceptId, activation, state, usage, confidence, timestamp, field}. */
  async getColumn(columnId) {
    const column = await this.#call("getColumn", [columnId]);
    for (const key of ["conceptId", "confidence", "timestamp"]) column[key] ??= null;
    return column;
  }
  /** Resolves when every engine invariant holds; rejects with StateError otherwise. */
  async validate() { await this.#call("validate", []); }
  // Worker-side facts, {pythonObjects}: a hook for the tests and benchmarks, not API, so
  // cortexkg.d.ts leaves it out.
  __diagnostics() { return this.#call("getDiagnostics", []); }

  /**
   * Stop the worker; later calls reject with NotInitializedError. Strict: at once, and
   * pending calls reject too. Relaxed: pending calls settle and what was acknowledged is
   * written first; the promise rejects with StorageError when that write fails.
   */
  close() {
    if (this.#closing !== null) return this.#closing;
    if (this.#onHide !== null) {
      removeEventListener("pagehide", this.#onHide);
      document.removeEventListener("visibilitychange", this.#onHide);
    }
    const stop = () => this.#channel.terminate(new NotInitializedError("CortexKG is closed"));
    if (this.config?.durability === "relaxed") {
      this.#closing = this.flush().finally(stop);
      this.#closed = true;
    } else {
      this.#closed = true;
      stop();
      this.#closing = Promise.resolve();
    }
    return this.#closing;
  }

  // Relaxed changes are written at once when the page is hidden or left: the browser may
  // end the worker soon after.
  #flushWhenHidden() {
    if (typeof document === "undefined") return; // in a worker of the app's own
    this.#onHide = (event) => {
      if (this.config.durability === "relaxed" && (event.type === "pagehide" || document.visibilityState === "hidden")) {
        this.flush().catch(() => {}); // a failure shows in kg.storage
      }
    };
    addEventListener("pagehide", this.#onHide);
    document.addEventListener("visibilitychange", this.#onHide);
  }

  // --- protocol ---

  // create() settles even when the runtime never answers (a worker stuck while booting).
  #withTimeout(promise) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new BootError(
        `The engine did not start within ${BOOT_TIMEOUT_MS / 1000} s: the runtime is not answering (see the browser console)`)),
      BOOT_TIMEOUT_MS);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  #call(method, args, onProgress) {
    if (this.#closed) return Promise.reject(new NotInitializedError("CortexKG is closed"));
    return this.#channel.call(method, args, onProgress);
  }

  #changed(detail) {
    this.dispatchEvent(new CustomEvent("change", { detail }));
  }
}

// What a "change" event says about a batch: how many items, how many failed.
function batchSummary(result) {
  if (Array.isArray(result)) {
    return { count: result.length, failed: result.filter((item) => !item.success).length };
  }
  return { count: result.conceptIds.length, failed: result.errors.length };
}
