// One engine made durable: the Python session (cortexkg.session.Session) plus its
// IndexedDB database, inside the worker.
//
// - Strict durability (the default): a mutation is acknowledged only once its journal
//   record is committed. Records of calls that arrive while a transaction is in flight
//   share the next transaction (group commit), so pipelined calls do not pay one commit
//   each.
// - Relaxed durability: a mutation is acknowledged once the engine has applied it; its
//   record is written within RELAXED_DELAY_MS, together with every record acknowledged
//   meanwhile (one transaction). The bound: no mutation is acknowledged while a change
//   acknowledged more than RELAXED_WINDOW_MS earlier is not yet committed (it waits for
//   that commit instead), so a crash loses at most the changes acknowledged in the
//   RELAXED_WINDOW_MS before the last acknowledgment. Records are committed in order and
//   each call is one record, so what survives is always an exact prefix of them.
// - The durability is the opening tab's choice, not the stored engine's: both write the
//   same records, so a database written in one mode opens in the other.
// - A write that fails (quota, I/O), strict: it acknowledged nothing, so every mutation
//   whose record was in it or queued behind it rejects with StorageError, and the engine
//   is rolled back to the state in the database. Relaxed: the changes were acknowledged
//   already, so they stay applied and queued, storage says so (saved false, unsaved: how
//   many), and the write is retried. In both modes, until a write succeeds again
//   (retried in the background, or at flush) mutations are refused with StorageError;
//   reads keep working.
// - After an optimize that moved anything, and when the journal grows past
//   COMPACT_AFTER records or on idle, a snapshot replaces the journal (compaction, one
//   transaction). Compaction is background work: if it fails, calls go on and the failure
//   is reported in storage.error.
// - One writer per database (Web Locks): only the holder of the lock writes, and every
//   path to "writer" goes through the lock. Another tab opens read-only, follows the
//   writer's commits through a BroadcastChannel, and takes over when the writer closes.
// - Stored data that cannot be used (corrupt, foreign, newer) is never written to: the
//   engine opens "failed" and offers the raw data for export and an explicit reset, which
//   only the lock holder can make; the other tabs follow the state it stores.

import { DURABILITIES, RELAXED_WINDOW_MS } from "./cortexkg.js";
import { databaseName, dumpDatabase, openDatabase, StoredStateError } from "./persistence.js";
import { progressMessage } from "./protocol.js";
import { rawJson } from "./raw-json.js";
import { describeWriteError, messageOf, TypedError } from "./worker-errors.js";

const COMPACT_AFTER = 10_000; // journal records
const IDLE_COMPACT_MS = 5_000;
const RETRY_MS = 1_000;
// How long a relaxed record waits for others to share its transaction: the writes cost the
// worker's thread about 0.3 ms each, and the commit must fit in the rest of the window.
const RELAXED_DELAY_MS = 2;
// How long reset() waits for other tabs to close a database it must delete.
const DELETE_WAIT_MS = 30_000;

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

/** A durability option as given ("strict" when undefined); InvalidInputError otherwise. */
export function durabilityOf(value) {
  if (value === undefined) return "strict";
  if (!DURABILITIES.includes(value)) {
    const text = typeof value === "string" ? JSON.stringify(value.slice(0, 80))
      : value !== null && typeof value === "object" ? `a ${value.constructor?.name ?? "null-prototype"} object` : String(value);
    throw new TypedError("InvalidInputError", `Invalid durability ${text}: expected "strict" or "relaxed"`);
  }
  return value;
}

const ignore = () => {};

/** A Python result as JavaScript data; the proxy it came in is destroyed. */
function py(result) {
  if (result?.toJs === undefined) return result;
  try {
    return toJs(result);
  } finally {
    result.destroy();
  }
}

export class DurableSession {
  #session;
  #durability;
  #config = null; // the engine's options, as stored (durability is not among them)
  #db = null;
  #channel = null;
  #releaseLock = null; // set while this tab holds the writer lock
  #lastSeq = 0;
  #sinceSnapshot = 0;
  #queue = []; // {records, snapshot, resolve, reject}
  #writing = null; // the drain in flight
  #lastWritten = 0; // the last seq known to be in the database
  #unwritten = []; // relaxed: {seq, at} of acknowledged records not yet committed, oldest first
  #waiters = []; // relaxed: {seq, resolve} of acknowledgments waiting for seq's commit
  #writeTimer = 0;
  #retryTimer = 0;
  #idleTimer = 0;
  #closed = false;
  #notify;

  /**
   * While set, a rollback is under way: calls wait for it (the worker awaits it), so that
   * no call sees the state that is being rolled back.
   */
  gate = null;

  /** storage = {mode: "writer" | "reader" | "failed", saved, error, restored, snapshot,
   *  unsaved}; unsaved: acknowledged (relaxed) changes held in memory while writes fail */
  storage = { mode: "failed", saved: false, error: null, restored: null, snapshot: null, unsaved: 0 };

  constructor(session, name, durability, notify) {
    this.#session = session;
    this.name = name;
    this.#durability = durability;
    this.#notify = notify; // (event) -> posted to the page
  }

  /** The configuration as the page sees it: the engine's options and this tab's durability. */
  get config() {
    return { ...this.#config, durability: this.#durability };
  }

  /** Create the session, take the writer lock if free, recover the stored state. */
  static async open(pyodide, { durability, ...options }, notify) {
    durability = durabilityOf(durability);
    const { Session } = pyodide.pyimport("cortexkg.session");
    let session;
    try {
      session = Session(options, (id, done, total) => notify(progressMessage(id, done, total)));
    } finally {
      Session.destroy();
    }
    const durable = new DurableSession(session, options.name, durability, notify);
    await durable.#open();
    return durable;
  }

  get #holdsLock() {
    return this.#releaseLock !== null;
  }

  async #open() {
    this.#config = py(await this.#session.open());
    await this.#tryLock();
    this.#channel = new BroadcastChannel(databaseName(this.name));
    this.#channel.onmessage = ({ data }) => {
      if (!this.#holdsLock) this.#follow(data);
    };
    let restored = null;
    try {
      const started = performance.now();
      const stored = await this.#loadStored();
      if (stored !== null) {
        restored = { ...this.#recover(stored), ms: performance.now() - started };
        this.#config = py(this.#session.describe());
      }
      // the writer creates the database, or upgrades data just accepted; a reader reads
      if (this.#holdsLock) this.#db = await this.#openDatabase();
    } catch (error) {
      // the stored data is refused: keep the empty engine in memory and write nothing;
      // the lock stays with this tab if it has it, so that only it can reset
      const message = error instanceof StoredStateError
        ? error.message : `The stored data of "${this.name}" cannot be loaded: ${messageOf(error)}.`;
      this.#refuse(message);
      this.storage = { ...this.storage, restored: null };
      if (!this.#holdsLock) this.#waitForLock();
      return;
    }
    this.storage = {
      mode: this.#holdsLock ? "writer" : "reader", saved: true, error: null, restored, snapshot: null, unsaved: 0,
    };
    if (!this.#holdsLock) {
      this.#session.read_only = this.#readerReason();
      this.#waitForLock();
    }
  }

  /**
   * The stored state, read at the database's own version (nothing is upgraded before the
   * data was accepted); null when nothing is stored.
   */
  async #loadStored() {
    const db = await openDatabase(this.name, { upgrade: false });
    if (db === null) return null;
    try {
      const stored = await db.read();
      return stored.snapshot === undefined && stored.records.length === 0 ? null : stored;
    } finally {
      db.close();
    }
  }

  /** Replace the engine by the stored state (throws, changing nothing, when refused). */
  #recover(stored) {
    const restored = py(this.#session.recover(stored.snapshot, stored.records, stored.meta?.config));
    this.#lastSeq = this.#lastWritten = stored.meta?.lastSeq ?? 0;
    this.#sinceSnapshot = stored.records.length;
    return restored;
  }

  async #openDatabase() {
    const db = await openDatabase(this.name, { onVersionChange: () => this.#versionChanged() });
    db.config = this.#config; // the engine options recorded with every write
    return db;
  }

  #readerReason() {
    return `Read-only: another tab is writing to "${this.name}"; it takes over when that tab closes`;
  }

  #refuse(message) {
    this.#session.read_only = `${message} Export the raw data or reset the engine.`;
    this.#setStorage({ mode: "failed", saved: false, error: message });
  }

  // --- one writer per database ---

  #lockName() {
    return databaseName(this.name);
  }

  /** Take the writer lock if it is free; resolves to whether this tab holds it. */
  #tryLock() {
    return new Promise((resolve) => {
      navigator.locks.request(this.#lockName(), { ifAvailable: true }, (lock) => {
        if (lock === null) {
          resolve(false);
          return undefined;
        }
        return new Promise((release) => {
          this.#releaseLock = release;
          resolve(true);
        });
      });
    });
  }

  // Queue for the lock; once granted (the writer closed), this tab takes over.
  #waitForLock() {
    navigator.locks.request(this.#lockName(), () => {
      if (this.#closed) return undefined;
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
      const stored = await this.#loadStored();
      if (stored !== null) this.#recover(stored);
      this.#db ??= await this.#openDatabase();
      this.#session.read_only = undefined; // None (null would arrive as jsnull)
      this.#setStorage({ mode: "writer", saved: true, error: null });
    } catch (error) {
      // refused data: this tab now holds the lock, so it alone may reset it
      this.#refuse(error instanceof StoredStateError ? error.message : messageOf(error));
    }
  }

  // A follower replays the writer's commits; after a gap, a reset or an import it reloads.
  // A tab whose own load was refused becomes a follower once the writer stored a good state.
  async #follow(message) {
    try {
      const records = message.records ?? [];
      if (this.storage.mode === "reader" && message.type === "records" && records.length > 0
          && records[0].seq === this.#lastSeq + 1) {
        py(this.#session.apply(records));
        this.#lastSeq = records[records.length - 1].seq;
      } else {
        const stored = await this.#loadStored();
        if (stored !== null) this.#recover(stored);
        if (this.storage.mode === "failed") {
          this.#session.read_only = this.#readerReason();
          this.#setStorage({ mode: "reader", saved: true, error: null });
        }
      }
      this.#notify({ type: "remote-change" });
    } catch (error) {
      if (this.storage.mode === "failed") return; // still refused: nothing new to say
      this.#refuse(error instanceof StoredStateError ? error.message : messageOf(error));
    }
  }

  #versionChanged() {
    this.#db = null;
    this.#refuse("A newer version of CortexKG opened this database: reload the page.");
    this.#unlock(); // this tab can no longer write: let a tab of the newer version
  }

  // --- calls ---

  /**
   * Run a group of API calls [[method, id, args], ...] in one Python call, each as if it
   * came alone (Session.call_many answers flat: values, failures, logs; the answer objects
   * are built here). Returns {answers, mutations, acknowledged, stats}: answers (one per call)
   * are ready at once; mutations are the indices of the calls whose records were
   * written; acknowledged is null when the answers may be given now (no mutation; relaxed
   * mutations), else a promise: it resolves when they may be given (strict: the group's
   * records, committed in one transaction, are durable; relaxed: older changes are) and
   * rejects with StorageError when the changes cannot be made durable (strict: the engine
   * is then rolled back, and the mutations' answers must not be given); stats: the
   * counters when they changed (Session.stats_update), else null.
   */
  callMany(calls) {
    const {
      values, failures, logs, records, mutations, compact, stats,
    } = py(calls.length === 1
      ? this.#session.call_one(calls[0][0], calls[0][1], ...calls[0][2])
      : this.#session.call_many(calls));
    const answers = values.map((value) => ({ ok: true, value, logs: [] }));
    for (const [index, type, message] of failures) answers[index] = { ok: false, error: { type, message } };
    for (const [index, lines] of logs) answers[index].logs = lines;
    if (records.length === 0) return { answers, mutations, acknowledged: null, stats: stats ?? null };
    for (const record of records) record.seq = ++this.#lastSeq;
    this.#sinceSnapshot += records.length;
    const snapshot = compact || this.#sinceSnapshot >= COMPACT_AFTER ? this.#snapshot() : null;
    this.#scheduleIdleCompaction();
    const acknowledged = this.#durability === "strict"
      ? this.#commit(records, snapshot) : this.#commitRelaxed(records, snapshot);
    return { answers, mutations, acknowledged, stats: stats ?? null };
  }

  /** The counters when they changed since last published (Session.stats_update), else null. */
  statsUpdate() {
    return py(this.#session.stats_update()) ?? null;
  }

  /** The keys of the counters, {numbers, others} (Session.stats_layout). */
  statsLayout() {
    return py(this.#session.stats_layout());
  }

  // Queue the records for a transaction RELAXED_DELAY_MS from now (shared with the records
  // acknowledged meanwhile); acknowledge at once, unless a change acknowledged more than
  // RELAXED_WINDOW_MS ago is still not committed: then once it is.
  #commitRelaxed(records, snapshot) {
    const now = performance.now();
    this.#queue.push({ records, snapshot, resolve: ignore, reject: ignore });
    for (const record of records) this.#unwritten.push({ seq: record.seq, at: now });
    if (this.#writeTimer === 0 && this.#writing === null) {
      this.#writeTimer = setTimeout(() => {
        this.#writeTimer = 0;
        this.#kick();
      }, RELAXED_DELAY_MS);
    }
    const since = now - RELAXED_WINDOW_MS;
    if (this.#unwritten[0].at >= since) return null;
    // the newest overdue record: waiting for it waits for all older ones (commits are in
    // order), and later acknowledgments wait at least as long, so answers stay in order
    let seq = 0;
    for (const entry of this.#unwritten) {
      if (entry.at >= since) break;
      seq = entry.seq;
    }
    return new Promise((resolve) => this.#waiters.push({ seq, resolve }));
  }

  // Records up to seq are committed: they leave the unwritten list, and acknowledgments
  // that waited for them are given.
  #committed(seq) {
    let written = 0;
    while (written < this.#unwritten.length && this.#unwritten[written].seq <= seq) written += 1;
    if (written > 0) this.#unwritten.splice(0, written);
    let ready = 0;
    while (ready < this.#waiters.length && this.#waiters[ready].seq <= seq) ready += 1;
    for (const waiter of this.#waiters.splice(0, ready)) waiter.resolve();
  }

  // A snapshot superseding the journal, or null when taking it failed (then the journal
  // just goes on growing: compaction is an optimization, durability does not need it).
  #snapshot() {
    const started = performance.now();
    let bytes;
    try {
      bytes = blobOf(this.#session.snapshot());
    } catch (error) {
      this.#setStorage({ error: `Compacting the journal failed (it keeps growing): ${messageOf(error)}` });
      return null;
    }
    this.#sinceSnapshot = 0;
    return { seq: this.#lastSeq, bytes, takeMs: performance.now() - started };
  }

  #scheduleIdleCompaction() {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      if (this.#sinceSnapshot === 0 || this.storage.mode !== "writer" || !this.storage.saved) return;
      const snapshot = this.#snapshot();
      // nothing waits for this write: a failure is reported through storage
      if (snapshot !== null) this.#commit([], snapshot).catch(ignore);
    }, IDLE_COMPACT_MS);
  }

  /** Queue records (and a superseding snapshot) for the next transaction. */
  #commit(records, snapshot) {
    if (this.#db === null) {
      return Promise.reject(new TypedError("StorageError", `"${this.name}" has no database to write to`));
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ records, snapshot, resolve, reject });
      this.#kick();
    });
  }

  // Start writing the queue unless a transaction is already in flight (it drains the rest).
  #kick() {
    if (this.#writing !== null || this.#queue.length === 0) return;
    this.#writing = this.#drain().finally(() => { this.#writing = null; });
  }

  async #drain() {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0);
      const records = batch.flatMap((entry) => entry.records);
      const snapshot = batch.reduce((last, entry) => entry.snapshot ?? last, null);
      const lastSeq = Math.max(snapshot?.seq ?? 0, ...records.map((r) => r.seq), this.#lastWritten);
      try {
        if (this.#db === null) throw new Error(`"${this.name}" has no database to write to`);
        const started = performance.now();
        await this.#db.write({ records, snapshot, lastSeq });
        this.#lastWritten = lastSeq;
        this.#channel?.postMessage({ type: "records", records });
        if (snapshot !== null) {
          const ms = snapshot.takeMs + performance.now() - started;
          this.#setStorage({ snapshot: { seq: snapshot.seq, bytes: snapshot.bytes.size, ms } });
        }
      } catch (error) {
        if (this.#durability === "relaxed") this.#holdUnwritten(error, batch);
        else await this.#writeFailed(error, [...batch, ...this.#queue.splice(0)]);
        return;
      }
      this.#committed(lastSeq);
      for (const entry of batch) entry.resolve();
      if (this.storage.unsaved > 0) this.#heldWritten();
    }
  }

  // Relaxed: the failed transaction's changes were acknowledged when they were applied.
  // They stay applied and queued (first), the write is retried, and until it succeeds
  // mutations are refused and storage says how many acknowledged changes a crash would
  // lose. Acknowledgments waiting for older commits are given: the outage is reported.
  // Compaction is optional: only the records are retried (a snapshot may be what no
  // longer fits); with none held, the retry probes the store as strict does.
  #holdUnwritten(error, batch) {
    const held = [];
    for (const entry of batch) {
      if (entry.records.length > 0) held.push({ ...entry, snapshot: null });
      else entry.reject(new TypedError("StorageError", `Compacting the journal failed: ${describeWriteError(error)}`));
    }
    this.#sinceSnapshot = Math.max(this.#sinceSnapshot, this.#unwritten.length);
    this.#queue.unshift(...held);
    const cause = describeWriteError(error);
    this.#session.write_error = `Changes cannot be saved now: ${cause}`;
    this.#setStorage({ saved: false, error: cause, unsaved: this.#unwritten.length });
    for (const waiter of this.#waiters.splice(0)) waiter.resolve();
    this.#scheduleRetry();
  }

  // A write of held changes succeeded: fewer are unsaved, or none, and mutations are
  // accepted again.
  #heldWritten() {
    if (this.#queue.length > 0 || this.#unwritten.length > 0) {
      this.#setStorage({ unsaved: this.#unwritten.length });
      return;
    }
    this.#session.write_error = undefined; // None
    clearTimeout(this.#retryTimer);
    this.#setStorage({ saved: true, error: null, unsaved: 0 });
  }

  // Nothing of the failed transaction was written, so nothing in it or behind it is
  // acknowledged: each such mutation rejects, and the engine goes back to the database's
  // state (the last durable one). Mutations are refused until a write succeeds again.
  async #writeFailed(error, entries) {
    const cause = describeWriteError(error);
    const message = `The change was not saved: ${cause}`;
    this.#session.write_error = `Changes cannot be saved now: ${cause}`;
    this.#setStorage({ saved: false, error: cause });
    let rollback;
    this.gate = new Promise((resolve) => { rollback = resolve; });
    try {
      const stored = await this.#loadStored();
      if (stored !== null) {
        this.#recover(stored);
      } else {
        py(this.#session.prepare_replace("reset", this.#config));
        py(this.#session.commit_replace());
        this.#lastSeq = this.#lastWritten = 0;
        this.#sinceSnapshot = 0;
      }
    } catch (reloadError) {
      this.#refuse(`The engine could not be rolled back to its stored state: ${messageOf(reloadError)}.`);
    } finally {
      this.gate = null;
      rollback();
    }
    for (const entry of entries) entry.reject(new TypedError("StorageError", message));
    this.#scheduleRetry();
  }

  #scheduleRetry() {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#probe(), RETRY_MS);
  }

  // Relaxed: write the held changes again. Strict: a write that changes nothing but the
  // meta record: does the store take writes again?
  async #probe() {
    if (this.#closed || this.storage.saved || this.#db === null || this.storage.mode !== "writer") return;
    if (this.#queue.length > 0) {
      this.#kick();
      await this.#writing; // a failure schedules the next retry
      return;
    }
    try {
      await this.#db.write({ records: [], snapshot: null, lastSeq: this.#lastWritten });
    } catch (error) {
      this.#setStorage({ error: describeWriteError(error) });
      this.#scheduleRetry();
      return;
    }
    this.#session.write_error = undefined; // None
    this.#setStorage({ saved: true, error: null });
  }

  /** Resolve once everything acknowledged is written; retries a failed store at once.
   *  Rejects with StorageError while acknowledged (relaxed) changes cannot be written. */
  async flush() {
    clearTimeout(this.#writeTimer);
    this.#writeTimer = 0;
    if (!this.storage.saved) {
      clearTimeout(this.#retryTimer);
      await this.#probe();
    } else {
      this.#kick();
      await this.#writing;
    }
    if (this.#unwritten.length > 0) {
      throw new TypedError("StorageError", `${this.#unwritten.length} acknowledged `
        + `change${this.#unwritten.length === 1 ? " is" : "s are"} not saved: ${this.storage.error ?? "the write failed"}`);
    }
  }

  /** Replace the whole state by an import or a new engine, stored atomically first; a
   *  reset's options may also change this tab's durability. */
  async replace(kind, payload) {
    let durability = this.#durability;
    if (kind === "reset" && payload?.constructor === Object) {
      const { durability: asked, ...options } = payload;
      if (asked !== undefined) durability = durabilityOf(asked);
      payload = options;
    }
    if (this.storage.mode === "reader") throw new TypedError("StateError", this.#session.read_only);
    if (!this.#holdsLock) {
      throw new TypedError("StateError",
        `Another tab holds "${this.name}" for writing: only it can ${kind === "reset" ? "reset" : "import into"} `
        + "the engine; this tab follows the state it stores.");
    }
    // relaxed changes that cannot be written now are replaced too, if the new state can be
    if (this.storage.mode === "writer") await this.flush().catch(ignore);
    const bytes = blobOf(this.#session.prepare_replace(kind, payload));
    clearTimeout(this.#retryTimer); // no retried write between this one and its outcome
    clearTimeout(this.#idleTimer); // a compaction would snapshot the state being replaced
    if (this.#db === null) {
      // an explicit reset of a database this version cannot even open (newer schema)
      await this.#deleteDatabase();
      this.#db = await this.#openDatabase();
    }
    // a failed write must not use up a sequence number (a gap would be refused on load)
    const seq = this.#lastWritten + 1;
    try {
      await this.#db.replace({ seq, bytes });
    } catch (error) {
      if (!this.storage.saved) this.#scheduleRetry();
      throw new TypedError("StorageError", `The ${kind} was not saved: ${describeWriteError(error)}`);
    }
    for (const entry of this.#queue.splice(0)) entry.resolve(); // superseded
    this.#committed(this.#lastSeq);
    this.#lastSeq = this.#lastWritten = seq;
    this.#sinceSnapshot = 0;
    this.#channel.postMessage({ type: "replaced" });
    this.#config = py(this.#session.commit_replace());
    this.#db.config = this.#config;
    this.#durability = durability;
    this.#session.read_only = undefined; // None (null would arrive as jsnull)
    this.#session.write_error = undefined;
    this.#setStorage({ mode: "writer", saved: true, error: null, unsaved: 0 });
    return this.config;
  }

  // deleteDatabase waits while another tab keeps a connection open (one that does not
  // close on versionchange); say so, and give up after DELETE_WAIT_MS.
  #deleteDatabase() {
    const name = databaseName(this.name);
    return new Promise((resolve, reject) => {
      const request = indexedDB.deleteDatabase(name);
      let timer = 0;
      request.onsuccess = () => { clearTimeout(timer); resolve(); };
      request.onerror = () => {
        clearTimeout(timer);
        reject(new TypedError("StorageError", `Deleting "${name}" failed: ${describeWriteError(request.error)}`));
      };
      request.onblocked = () => {
        this.#setStorage({ error: `Resetting "${this.name}" waits for another tab to close its database "${name}"` });
        timer = setTimeout(() => reject(new TypedError("StorageError",
          `Resetting "${this.name}" gave up after ${DELETE_WAIT_MS / 1000} s: another tab keeps its database `
          + `"${name}" open. Close the other tabs of this site and reset again.`)), DELETE_WAIT_MS);
      };
    });
  }

  /** Everything stored, as it is, as the bytes of a JSON file: for data that could not
   *  be loaded (whatever it holds: see raw-json.js). */
  async dump() {
    return new TextEncoder().encode(rawJson(await dumpDatabase(this.name)));
  }

  #setStorage(change) {
    this.storage = { ...this.storage, ...change };
    this.#notify({ type: "storage", storage: this.storage });
  }

  close() {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#writeTimer);
    this.#channel?.close();
    this.#db?.close();
    this.#unlock();
  }
}
