// One engine made durable: the Python session (cortexkg.session.Session) plus its
// IndexedDB database, inside the worker.
//
// - A mutation is acknowledged only once its journal record is committed (strict
//   durability). Records of calls that arrive while a transaction is in flight share the
//   next transaction (group commit), so pipelined calls do not pay one commit each.
// - After an optimize that moved anything, and when the journal grows past
//   COMPACT_AFTER records or on idle, a snapshot replaces the journal (compaction, one
//   transaction).
// - One writer per database (Web Locks). Another tab opens read-only, follows the
//   writer's commits through a BroadcastChannel, and takes over when the writer closes.
// - A failed write (quota, I/O) keeps the engine working in memory, reports "unsaved"
//   and retries; an aborted transaction leaves nothing half-written behind.
// - Stored data that cannot be used (corrupt, foreign, newer) is never written to: the
//   engine opens "failed" and offers the raw data for export and an explicit reset.

import { databaseName, dumpDatabase, openDatabase, StoredStateError } from "./persistence.js";

const COMPACT_AFTER = 10_000; // journal records
const IDLE_COMPACT_MS = 5_000;
const RETRY_MS = 1_000;

const toJs = (proxy) => proxy.toJs({ dict_converter: Object.fromEntries, create_pyproxies: false });

// Python bytes as a Blob: one copy, straight out of the wasm heap (what IndexedDB stores).
function blobOf(bytes) {
  const buffer = bytes.getBuffer("u8");
  try {
    return new Blob([buffer.data]);
  } finally {
    buffer.release();
    bytes.destroy();
  }
}

/** Call a Python method, convert its result and destroy the proxy it returned. */
function py(result) {
  if (result?.toJs === undefined) return result;
  try {
    return toJs(result);
  } finally {
    result.destroy();
  }
}

export class DurableSession {
  #pyodide;
  #session;
  #db = null;
  #channel = null;
  #releaseLock = null;
  #lastSeq = 0;
  #sinceSnapshot = 0;
  #queue = []; // {records, snapshot, resolve}
  #writing = null; // the drain in flight
  #lastWritten = null; // the last seq known to be in the database
  #retryTimer = 0;
  #idleTimer = 0;
  #notify;

  /** storage = {mode: "writer" | "reader" | "failed" | "memory", saved, error, restored} */
  storage = { mode: "memory", saved: true, error: null, restored: null };

  constructor(pyodide, session, name, notify) {
    this.#pyodide = pyodide;
    this.#session = session;
    this.name = name;
    this.#notify = notify; // (event) -> posted to the page
  }

  /** Create the session, take the writer lock if free, recover the stored state. */
  static async open(pyodide, options, notify) {
    const { Session } = pyodide.pyimport("cortexkg.session");
    let session;
    try {
      session = Session(options, (id, done, total) => notify({ id, progress: [done, total] }));
    } finally {
      Session.destroy();
    }
    const durable = new DurableSession(pyodide, session, options.name, notify);
    await durable.#open();
    return durable;
  }

  async #open() {
    this.config = py(await this.#session.open());
    const writer = await this.#tryLock();
    let restored = null;
    try {
      this.#db = await this.#openDatabase();
      const started = performance.now();
      const stored = await this.#db.read();
      if (stored.snapshot !== undefined || stored.records.length > 0) {
        restored = py(this.#session.recover(stored.snapshot, stored.records, stored.meta.config));
        restored.ms = performance.now() - started; // reading and replaying, not booting
        this.config = py(this.#session.describe());
        this.#db.config = this.config;
      }
      this.#lastSeq = stored.meta?.lastSeq ?? 0;
      this.#lastWritten = this.#lastSeq;
      this.#sinceSnapshot = stored.records.length;
    } catch (error) {
      // the stored data is refused: keep the empty engine in memory and write nothing
      if (writer) this.#unlock();
      const message = error instanceof StoredStateError
        ? error.message : `The stored data of "${this.name}" cannot be loaded: ${pythonMessage(error)}.`;
      this.#session.read_only = `${message} Export the raw data or reset the engine.`;
      this.storage = { mode: "failed", saved: false, error: message, restored: null, snapshot: null };
      return;
    }
    this.storage = { mode: writer ? "writer" : "reader", saved: true, error: null, restored, snapshot: null };
    this.#channel = new BroadcastChannel(databaseName(this.name));
    if (writer) return;
    this.#session.read_only = `Read-only: another tab is writing to "${this.name}"; it takes over when that tab closes`;
    this.#channel.onmessage = ({ data }) => this.#follow(data);
    this.#waitForLock();
  }

  async #openDatabase() {
    const db = await openDatabase(this.name, { onVersionChange: () => this.#versionChanged() });
    db.config = this.config; // the engine options recorded with every write
    return db;
  }

  // --- one writer per database ---

  #tryLock() {
    return new Promise((resolve) => {
      navigator.locks.request(databaseName(this.name), { ifAvailable: true }, (lock) => {
        resolve(lock !== null);
        return lock === null ? undefined : new Promise((release) => { this.#releaseLock = release; });
      });
    });
  }

  #waitForLock() {
    navigator.locks.request(databaseName(this.name), () => {
      const held = new Promise((release) => { this.#releaseLock = release; });
      this.#takeOver();
      return held;
    });
  }

  #unlock() {
    this.#releaseLock?.();
    this.#releaseLock = null;
  }

  async #takeOver() {
    try {
      await this.#reload();
      this.#session.read_only = undefined; // None (null would arrive as jsnull)
      this.#channel.onmessage = null;
      this.#setStorage({ mode: "writer", error: null });
    } catch (error) {
      this.#setStorage({ mode: "failed", saved: false, error: pythonMessage(error) });
    }
  }

  // A follower replays the writer's commits; after a gap, a reset or an import it reloads.
  async #follow(message) {
    try {
      const records = message.records ?? [];
      if (message.type === "records" && records.length > 0 && records[0].seq === this.#lastSeq + 1) {
        py(this.#session.apply(records));
        this.#lastSeq = records[records.length - 1].seq;
      } else {
        await this.#reload();
      }
      this.#notify({ type: "remote-change" });
    } catch (error) {
      this.#setStorage({ mode: "failed", saved: false, error: pythonMessage(error) });
    }
  }

  async #reload() {
    const stored = await this.#db.read();
    py(this.#session.recover(stored.snapshot, stored.records, stored.meta?.config));
    this.#lastSeq = stored.meta?.lastSeq ?? 0;
    this.#lastWritten = this.#lastSeq;
    this.#sinceSnapshot = stored.records.length;
  }

  #versionChanged() {
    this.#db = null;
    this.#session.read_only = "A newer version of CortexKG opened this database: reload the page";
    this.#setStorage({ mode: "failed", saved: false, error: this.#session.read_only });
  }

  // --- calls ---

  /**
   * Run one API call. Resolves to {answer, acknowledged}: answer is ready at once;
   * acknowledged resolves when a mutation's record is durable (or known unsaved).
   */
  call(id, method, args) {
    const answer = py(this.#session.call(method, id, ...args));
    const { record, compact, ...reply } = answer;
    if (record === undefined) return { answer: reply, acknowledged: null };
    record.seq = ++this.#lastSeq;
    this.#sinceSnapshot += 1;
    const snapshot = compact || this.#sinceSnapshot >= COMPACT_AFTER ? this.#snapshot() : null;
    this.#scheduleIdleCompaction();
    return { answer: reply, acknowledged: this.#commit([record], snapshot) };
  }

  #snapshot() {
    this.#sinceSnapshot = 0;
    const started = performance.now();
    const bytes = blobOf(this.#session.snapshot());
    return { seq: this.#lastSeq, bytes, takeMs: performance.now() - started };
  }

  #scheduleIdleCompaction() {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      if (this.#sinceSnapshot > 0 && this.storage.mode === "writer") this.#commit([], this.#snapshot());
    }, IDLE_COMPACT_MS);
  }

  /** Queue records (and a superseding snapshot) for the next transaction. */
  #commit(records, snapshot) {
    if (this.#db === null) return Promise.resolve();
    return new Promise((resolve) => {
      this.#queue.push({ records, snapshot, resolve });
      this.#kick();
    });
  }

  // Start writing the queue unless a transaction is already in flight (it drains the rest).
  #kick() {
    if (this.#writing !== null || this.#queue.length === 0) return;
    this.#writing = this.#drain().finally(() => { this.#writing = null; });
  }

  async #drain() {
    while (this.#queue.length > 0 && this.#db !== null) {
      const batch = this.#queue.splice(0);
      const records = batch.flatMap((entry) => entry.records);
      const snapshot = batch.reduce((last, entry) => entry.snapshot ?? last, null);
      const lastSeq = Math.max(snapshot?.seq ?? 0, ...records.map((r) => r.seq), this.#lastWritten ?? 0);
      try {
        const started = performance.now();
        await this.#db.write({ records, snapshot, lastSeq });
        this.#lastWritten = lastSeq;
        this.#channel?.postMessage({ type: "records", records });
        if (snapshot !== null) {
          const ms = snapshot.takeMs + performance.now() - started;
          this.#setStorage({ saved: true, error: null, snapshot: { seq: snapshot.seq, bytes: snapshot.bytes.size, ms } });
        } else if (!this.storage.saved) this.#setStorage({ saved: true, error: null });
      } catch (error) {
        // nothing of the transaction was written: keep the batch for the retry
        this.#queue.unshift(...batch.map((entry) => ({ ...entry, resolve: () => {} })));
        this.#setStorage({ saved: false, error: describeWriteError(error) });
        clearTimeout(this.#retryTimer);
        this.#retryTimer = setTimeout(() => this.#kick(), RETRY_MS);
        for (const entry of batch) entry.resolve();
        return;
      }
      for (const entry of batch) entry.resolve();
    }
  }

  /** Write whatever is still queued (pagehide, close). */
  async flush() {
    this.#kick();
    await this.#writing;
  }

  /** Replace the whole state by an import or a new engine, stored atomically first. */
  async replace(kind, payload) {
    if (this.storage.mode === "reader") {
      throw Object.assign(new Error(this.#session.read_only), { type: "StateError" });
    }
    await this.flush();
    const bytes = blobOf(this.#session.prepare_replace(kind, payload));
    if (this.#db === null && this.storage.mode === "failed") {
      // an explicit reset of a database this version cannot even open (newer schema)
      await deleted(databaseName(this.name));
      this.#db = await this.#openDatabase();
    }
    if (this.#db !== null) {
      // a failed write must not use up a sequence number (a gap would be refused on load)
      const seq = this.#lastSeq + 1;
      await this.#db.replace({ seq, bytes });
      this.#lastSeq = this.#lastWritten = seq;
      this.#sinceSnapshot = 0;
      // records still queued after a failed write are superseded by the new state
      for (const entry of this.#queue.splice(0)) entry.resolve();
      if (!this.storage.saved && this.storage.mode === "writer") this.#setStorage({ saved: true, error: null });
      this.#channel?.postMessage({ type: "replaced" });
    }
    const config = py(this.#session.commit_replace());
    this.config = config;
    if (this.#db !== null) this.#db.config = config;
    if (this.storage.mode === "failed" && this.#db !== null) {
      // an explicit reset of refused data: the database now holds a good state
      this.#session.read_only = undefined; // None (null would arrive as jsnull)
      this.#setStorage({ mode: "writer", saved: true, error: null });
    }
    return config;
  }

  /** Everything stored, as it is: for data that could not be loaded. */
  async dump() {
    return dumpDatabase(this.name);
  }

  #setStorage(change) {
    this.storage = { ...this.storage, ...change };
    this.#notify({ type: "storage", storage: this.storage });
  }

  close() {
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#idleTimer);
    this.#channel?.close();
    this.#db?.close();
    this.#unlock();
  }
}

function deleted(name) {
  return new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = () => resolve();
    request.onerror = () => reject(request.error);
  });
}

// Chromium's QuotaExceededError has an empty message: say what happened.
function describeWriteError(error) {
  const detail = error?.message || (error?.name === "QuotaExceededError"
    ? "the browser's storage quota for this site is full" : "the write failed");
  return `${error?.name ?? "Error"}: ${detail}`;
}

// The last line of a Python traceback ("StateError: ..."), or an Error's message.
export function pythonMessage(error) {
  if (error instanceof DOMException) return describeWriteError(error);
  const lines = String(error?.message ?? error).trim().split("\n");
  return lines[lines.length - 1].replace(/^[\w.]+: /, "");
}
