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
  BootError, CortexKGError, errorOf, InvalidInputError, NotInitializedError,
} from "./errors.js";
import { groupMessage, readStats, statsSequence, statsView } from "./protocol.js";
import { ENGINE_DEFAULTS } from "./tables.js"; // generated from py/cortexkg/tables.py

export {
  AllocationError, BootError, CortexKGError, ERROR_CLASSES, InternalError, InvalidInputError, NotInitializedError,
  StateError, StorageError,
} from "./errors.js";

/** The most ids one batch takes (cortexkg.validation.MAX_BATCH_LENGTH): checked here
 *  too, so that a larger one is refused before it is copied to the worker. */
export const MAX_BATCH_LENGTH = 2 ** 23;

/** How long create() waits for the runtime to boot and the engine to open. */
export const BOOT_TIMEOUT_MS = 120_000;

/** The longest engine name: it names a database, a lock and a channel. */
export const MAX_NAME_LENGTH = 256;

/** The options of create() that configure the engine, and their defaults (those of the
 *  Python facade, and this instance's durability: "strict" or "relaxed"); create() also
 *  takes onProgress and assetsURL. */
export const DEFAULTS = Object.freeze({ ...ENGINE_DEFAULTS, durability: "strict" });

// This module's URL, out of the `new URL("...", import.meta.url)` form that bundlers
// rewrite into an asset of their own: only the worker's URL is meant for them.
const MODULE_URL = import.meta.url;

// Only create() holds it: a CortexKG made without it would have no engine.
const CREATE = Symbol("create");
/** The durability options: "strict" acknowledges a mutation once its record is committed,
 *  "relaxed" once it is applied (web/durable.js). */
export const DURABILITIES = Object.freeze(["strict", "relaxed"]);

/** Relaxed durability's bound: no mutation is acknowledged while a change acknowledged
 *  more than this many ms earlier is not committed, so a crash loses at most the changes
 *  acknowledged in this many ms before the last acknowledgment. */
export const RELAXED_WINDOW_MS = 8;

export class CortexKG extends EventTarget {
  #worker;
  #pending = new Map(); // request id -> {resolve, reject, onProgress}
  #nextId = 1;
  #outbox = []; // calls issued in this task, [id, method, args], posted as one group
  #nextGroup = 1; // message number of the next group posted
  #groups = new Map(); // group number -> its calls, until answered
  // kg.stats: the keys, the newest update received, the shared buffer's view (when
  // cross-origin isolated), and the object last built from them (rebuilt when they change)
  #statsLayout = null;
  #statsUpdate = null;
  #shared = null;
  #sharedNumbers = null;
  #statsObject = null;
  #statsSequence = -1;
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
      kg.#statsLayout = stats.layout;
      kg.#receiveStats(stats.update);
      if (stats.buffer !== null) {
        kg.#shared = statsView(stats.buffer);
        kg.#sharedNumbers = new Float64Array(stats.layout.numbers.length);
      }
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
    this.#worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
    this.#worker.addEventListener("message", ({ data }) => {
      if (data.type === "boot") onBootProgress?.(data.message, data.bytes);
      else if (data.type === "storage") {
        this.storage = { ...this.storage, ...data.storage };
        this.dispatchEvent(new CustomEvent("storage", { detail: this.storage }));
      } else if (data.type === "remote-change") this.#changed({ kind: "remote" });
      else if (data.type === "stats") this.#receiveStats(data.stats);
      else if (data.type === "progress") this.#pending.get(data.id)?.onProgress?.(...data.progress);
      else this.#answer(data);
    });
    this.#worker.addEventListener("error", (event) => {
      event.preventDefault();
      // Before the engine opened, the worker could not be loaded: nothing would answer.
      // Afterwards an uncaught error leaves the worker running, and every call still gets
      // its own answer: it is reported, not turned into other calls' failures.
      if (this.runtime === undefined) {
        this.#failAll(new BootError(`The engine's worker failed: ${event.message || "it could not be loaded"}`));
      } else {
        this.dispatchEvent(new CustomEvent("log", { detail: { message: `Worker error: ${event.message}` } }));
      }
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
    const stats = this.#pending.size === 0 && !this.#closed && this.storage?.mode === "writer" ? this.stats : null;
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
    if (this.#statsLayout === null) return null;
    if (this.#shared !== null) {
      const sequence = statsSequence(this.#shared);
      if (sequence !== this.#statsSequence) {
        this.#statsSequence = readStats(this.#shared, this.#sharedNumbers);
        this.#statsObject = null;
      }
    }
    this.#statsObject ??= this.#buildStats();
    return { ...this.#statsObject };
  }

  #buildStats() {
    const { numbers, others } = this.#statsLayout;
    const values = this.#sharedNumbers ?? this.#statsUpdate.numbers;
    const stats = {};
    numbers.forEach((key, index) => { stats[key] = values[index]; });
    others.forEach((key, index) => { stats[key] = this.#statsUpdate.others[index]; });
    return stats;
  }

  // The newest update wins: answers and events may arrive in another order than the
  // worker made them (a mutation's answer waits for its commit).
  #receiveStats(update) {
    if (update === null || update === undefined) return;
    if (this.#statsUpdate !== null && update.version <= this.#statsUpdate.version) return;
    this.#statsUpdate = update;
    this.#statsObject = null;
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
    const stop = () => {
      this.#worker.terminate();
      this.#failAll(new NotInitializedError("CortexKG is closed"));
    };
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

  // Calls issued in the same task travel as one group message, posted in a microtask.
  #call(method, args, onProgress) {
    if (this.#closed) return Promise.reject(new NotInitializedError("CortexKG is closed"));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, onProgress });
      if (this.#outbox.length === 0) queueMicrotask(() => this.#flushOutbox());
      this.#outbox.push([id, method, args]);
    });
  }

  #flushOutbox() {
    // posted even once closed: a relaxed close() flushes first (a terminated worker
    // ignores what is posted to it)
    const calls = this.#outbox;
    this.#outbox = [];
    if (!this.#post(calls) && calls.length > 1) {
      // one call cannot be cloned (a function as an argument, say): post them one by one,
      // in order, so that only that call fails
      for (const call of calls) this.#post([call]);
    }
  }

  // Post one group; returns whether it was posted. The worker numbers the groups it
  // receives 1, 2, ..., so an unreadable one is still answered, by its number.
  #post(calls) {
    const group = this.#nextGroup;
    try {
      this.#worker.postMessage(groupMessage(group, calls));
    } catch (error) {
      if (calls.length === 1) {
        const [id, method, args] = calls[0];
        const name = method === "replace" ? { import: "importState", reset: "reset" }[args[0]] : method;
        this.#settle(id, { ok: false, error: { type: "InvalidInputError", message: `Invalid argument for ${name}: ${error.message}` } });
      }
      return false;
    }
    this.#nextGroup += 1;
    this.#groups.set(group, calls);
    return true;
  }

  #answer(data) {
    const calls = this.#groups.get(data.group);
    if (calls === undefined) return;
    this.#groups.delete(data.group);
    if (data.type === "answers") {
      this.#receiveStats(data.stats);
      for (let index = 0; index < calls.length; index += 1) this.#settle(calls[index][0], data.answers[index]);
    } else if (calls.length > 1 && data.group === this.#nextGroup - 1) {
      // the worker could not read the group (an argument nested too deeply) and ran none
      // of it; none posted since: send its calls one by one, so that only that one fails
      for (const call of calls) this.#post([call]);
    } else {
      for (const [id] of calls) this.#settle(id, data);
    }
  }

  #settle(id, { ok, value, error, logs }) {
    const request = this.#pending.get(id);
    if (request === undefined) return;
    this.#pending.delete(id);
    for (const message of logs ?? []) {
      this.dispatchEvent(new CustomEvent("log", { detail: { message } }));
    }
    if (ok) request.resolve(value);
    else request.reject(errorOf(error));
  }

  #failAll(error) {
    for (const { reject } of this.#pending.values()) reject(error);
    this.#pending.clear();
  }

  #changed(detail) {
    this.dispatchEvent(new CustomEvent("change", { detail }));
  }
}

/** Raw bytes are no ids: a Uint32Array's buffer would be read one byte per id. A hole or
 *  undefined is refused here, at once: the worker would first convert every index of the
 *  array (a sparse array's length can be 2**32 - 1). Throws InvalidInputError. */
export function checkIds(conceptIds) {
  if (conceptIds?.length > MAX_BATCH_LENGTH) {
    throw new InvalidInputError(
      `Invalid concept id batch of ${conceptIds.length} ids: expected at most ${MAX_BATCH_LENGTH}`);
  }
  if (conceptIds instanceof ArrayBuffer || conceptIds instanceof DataView
      || (typeof SharedArrayBuffer !== "undefined" && conceptIds instanceof SharedArrayBuffer)) {
    throw new InvalidInputError(
      `Invalid concept id batch ${conceptIds.constructor.name} of ${conceptIds.byteLength} bytes: expected an array or a typed array of ids (e.g. new Uint32Array(buffer))`);
  }
  if (Array.isArray(conceptIds) && conceptIds.includes(undefined)) {
    const index = conceptIds.findIndex((id) => id === undefined);
    throw new InvalidInputError(
      `Invalid concept id ${index in conceptIds ? "undefined" : "undefined (a hole)"} at batch index ${index} `
      + `of ${conceptIds.length}: expected an integer in 0..${2 ** 32 - 1}`);
  }
}

/**
 * The folder of the runtime assets (site.json, vendor/, ...) as an absolute URL string:
 * value (a string or URL, relative to the page or worker) or, when undefined, the folder
 * of moduleURL. Throws InvalidInputError for anything that is not a folder URL ending in "/".
 */
export function assetsFolder(value, moduleURL) {
  if (value === undefined) return new URL("./", moduleURL).href;
  let url = null;
  if (typeof value === "string" || value instanceof URL) {
    try {
      url = new URL(value, globalThis.document?.baseURI ?? globalThis.location?.href);
    } catch {
      // reported below, with what was expected
    }
  }
  if (url === null || !["http:", "https:"].includes(url.protocol) || !url.pathname.endsWith("/")
      || url.search !== "" || url.hash !== "") {
    throw new InvalidInputError(
      `Invalid assetsURL ${describe(value)}: expected the URL of the folder that serves site.json, ending in "/" (e.g. "/cortexkg/")`);
  }
  return url.href;
}

// A call's options: an object, or undefined (and, but for reset, which destroys the state,
// null) for none. Anything else would be read as no options (a number, a boxed value, a
// Date) or as its indices (a string, an array).
function optionsOf(options, method) {
  if (options === undefined || (options === null && method !== "reset")) return {};
  if (Object.prototype.toString.call(options) !== "[object Object]") {
    throw new InvalidInputError(`Invalid ${method} options ${describe(options)}: expected an object`);
  }
  return options;
}

function checkProgress(onProgress) {
  if (onProgress !== undefined && onProgress !== null && typeof onProgress !== "function") {
    throw new InvalidInputError(`Invalid onProgress ${describe(onProgress)}: expected a function`);
  }
}

// A value for a message: short, whatever it is.
function describe(value) {
  let text;
  try {
    if (ArrayBuffer.isView(value)) text = `${value.constructor.name} of ${value.byteLength} bytes`;
    else if (typeof value === "bigint") text = `${value}n`;
    else if (typeof value === "string" || Array.isArray(value)) text = JSON.stringify(value);
    else text = String(value);
  } catch {
    text = Object.prototype.toString.call(value); // e.g. an array nested too deep to print
  }
  return text.length > 80 ? `${text.slice(0, 77)}... (${text.length} characters)` : text;
}

// What a "change" event says about a batch: how many items, how many failed.
function batchSummary(result) {
  if (Array.isArray(result)) {
    return { count: result.length, failed: result.filter((item) => !item.success).length };
  }
  return { count: result.conceptIds.length, failed: result.errors.length };
}
