// One engine made durable, inside the worker: the Python engine (cortexkg.session.Session)
// plus its IndexedDB database. This module coordinates; each job has its own:
//
// - writer-lock.js: one writer per database. Only the holder of the lock writes, and every
//   path to "writer" goes through the lock. Another tab opens read-only, follows the
//   writer's commits through a BroadcastChannel (here), and takes over when the writer
//   closes.
// - group-commit.js: the journal's writes, strict or relaxed, and what a failed write
//   does (strict: the engine is rolled back here, to the state in the database).
// - compaction.js: a snapshot replaces the journal, as background work.
// - replacement.js: an import or a reset, stored atomically before the engine takes it.
// - Stored data that cannot be used (corrupt, foreign, newer) is never written to: the
//   engine opens "failed" and offers the raw data for export and an explicit reset, which
//   only the lock holder can make; the other tabs follow the state it stores.

import { blobOf, Compaction } from "./compaction.js";
import { durabilityOf, GroupCommit } from "./group-commit.js";
import { databaseName, dumpDatabase, openDatabase, StoredStateError } from "./persistence.js";
import { progressMessage } from "./protocol.js";
import { fromPython, packRuns, statsOf } from "./python-calls.js";
import { rawJson } from "./raw-json.js";
import { replacementOptions, storeReplacement } from "./replacement.js";
import { messageOf, TypedError } from "./worker-errors.js";
import { WriterLock } from "./writer-lock.js";

const ignore = () => {};

export class DurableEngine {
  #session; // the Python cortexkg.session.Session
  // its methods called on every call, bound once: each attribute read of a PyProxy makes
  // a new proxy of the bound method
  #callOne;
  #callMany;
  #statsUpdate;
  #config = null; // the engine's options, as stored (durability is not among them)
  #channel = null;
  #lock;
  #writer;
  #compaction;
  #lastSeq = 0; // the last record applied to the engine
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
    this.#callOne = session.call_one;
    this.#callMany = session.call_many;
    this.#statsUpdate = session.stats_update;
    this.name = name;
    this.#notify = notify; // (event) -> posted to the page
    this.#lock = new WriterLock(databaseName(name));
    this.#writer = new GroupCommit(name, durability, {
      storage: () => this.storage,
      setStorage: (change) => this.#setStorage(change),
      // undefined arrives in Python as None (null would arrive as jsnull)
      setWriteError: (reason) => { this.#session.write_error = reason; },
      rollback: () => this.#rollback(),
      published: (records) => this.#channel?.postMessage({ type: "records", records }),
      held: (count) => this.#compaction.held(count),
    });
    this.#compaction = new Compaction({
      bytes: () => this.#session.snapshot(),
      lastSeq: () => this.#lastSeq,
      ready: () => this.storage.mode === "writer" && this.storage.saved,
      write: (snapshot) => this.#writer.commit([], snapshot),
      failed: (message) => this.#setStorage({ error: message }),
    });
  }

  /** The configuration as the page sees it: the engine's options and this tab's durability. */
  get config() {
    return { ...this.#config, durability: this.#writer.durability };
  }

  /** Create the Python engine, take the writer lock if free, recover the stored state. */
  static async open(pyodide, { durability, ...options }, notify) {
    durability = durabilityOf(durability);
    const { Session } = pyodide.pyimport("cortexkg.session");
    let session;
    try {
      session = Session(options, (id, done, total) => notify(progressMessage(id, done, total)));
    } finally {
      Session.destroy();
    }
    const durable = new DurableEngine(session, options.name, durability, notify);
    await durable.#open();
    return durable;
  }

  async #open() {
    this.#config = fromPython(await this.#session.open());
    await this.#lock.tryTake();
    this.#channel = new BroadcastChannel(databaseName(this.name));
    this.#channel.onmessage = ({ data }) => {
      if (!this.#lock.held) this.#follow(data);
    };
    let restored = null;
    try {
      const started = performance.now();
      const stored = await this.#loadStored();
      if (stored !== null) {
        restored = { ...this.#recover(stored), ms: performance.now() - started };
        this.#config = fromPython(this.#session.describe());
      }
      // the writer creates the database, or upgrades data just accepted; a reader reads
      if (this.#lock.held) this.#writer.db = await this.#openDatabase();
    } catch (error) {
      // the stored data is refused: keep the empty engine in memory and write nothing;
      // the lock stays with this tab if it has it, so that only it can reset
      const message = error instanceof StoredStateError
        ? error.message : `The stored data of "${this.name}" cannot be loaded: ${messageOf(error)}.`;
      this.#refuse(message);
      this.storage = { ...this.storage, restored: null };
      if (!this.#lock.held) this.#waitForLock();
      return;
    }
    this.storage = {
      mode: this.#lock.held ? "writer" : "reader", saved: true, error: null, restored, snapshot: null, unsaved: 0,
    };
    if (!this.#lock.held) {
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
    const restored = fromPython(this.#session.recover(stored.snapshot, stored.records, stored.meta?.config));
    this.#lastSeq = this.#writer.lastWritten = stored.meta?.lastSeq ?? 0;
    this.#compaction.sinceSnapshot = stored.records.length;
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

  // --- the other tabs: follow the writer, take over when it closes ---

  #waitForLock() {
    this.#lock.wait(() => this.#takeOver(), () => this.#closed);
  }

  async #takeOver() {
    try {
      const stored = await this.#loadStored();
      if (stored !== null) this.#recover(stored);
      this.#writer.db ??= await this.#openDatabase();
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
        fromPython(this.#session.apply(records));
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
    this.#writer.db = null;
    this.#refuse("A newer version of CortexKG opened this database: reload the page.");
    this.#lock.release(); // this tab can no longer write: let a tab of the newer version
  }

  // --- calls ---

  /**
   * Run a group of API calls [[method, id, args], ...] in one Python call, each as if it
   * came alone (Session.call_many answers flat, a GroupAnswer tuple: values, failures,
   * logs, records as [method, args, readings]; the answer and record objects are built
   * here). Returns {answers, mutations, acknowledged, stats}: answers (one per call)
   * are ready at once; mutations are the indices of the calls whose changes the written
   * records hold (a run of calls is one record: see packRuns); acknowledged is null when
   * the answers may be given now (no mutation; relaxed mutations), else a promise: it
   * resolves when they may be given (strict: the group's records, committed in one
   * transaction, are durable; relaxed: older changes are) and rejects with StorageError
   * when the changes cannot be made durable (strict: the engine is then rolled back, and
   * the mutations' answers must not be given); stats: the counters when they changed
   * (Session.stats_update), else null.
   */
  callMany(calls) {
    const [values, failures, logs, ran, mutations, compact, stats] = fromPython(calls.length === 1
      ? this.#callOne(calls[0][0], calls[0][1], ...calls[0][2])
      : this.#callMany(packRuns(calls)));
    // logs only on the calls that logged: an empty array per answer costs a clone each
    const answers = values.map((value) => ({ ok: true, value }));
    for (const [index, type, message, traceback] of failures) {  // traceback: internal errors only
      answers[index] = { ok: false, error: traceback === undefined ? { type, message } : { type, message, traceback } };
    }
    for (const [index, lines] of logs) answers[index].logs = lines;
    if (ran.length === 0) return { answers, mutations, acknowledged: null, stats: statsOf(stats) };
    const records = ran.map(([method, args, readings]) => ({ seq: ++this.#lastSeq, method, args, readings }));
    const snapshot = this.#compaction.journaled(records.length, compact);
    const acknowledged = this.#writer.write(records, snapshot);
    return { answers, mutations, acknowledged, stats: statsOf(stats) };
  }

  /** The counters when they changed since last published (Session.stats_update), else null. */
  statsUpdate() {
    return statsOf(fromPython(this.#statsUpdate()));
  }

  /** The keys of the counters, {numbers, others} (Session.stats_layout). */
  statsLayout() {
    return fromPython(this.#session.stats_layout());
  }

  // A strict write failed: the engine goes back to the database's state (the last durable
  // one), and calls wait behind the gate until it has.
  async #rollback() {
    let rolledBack;
    this.gate = new Promise((resolve) => { rolledBack = resolve; });
    try {
      const stored = await this.#loadStored();
      if (stored !== null) {
        this.#recover(stored);
      } else {
        fromPython(this.#session.prepare_replace("reset", this.#config));
        fromPython(this.#session.commit_replace());
        this.#lastSeq = this.#writer.lastWritten = 0;
        this.#compaction.sinceSnapshot = 0;
      }
    } catch (reloadError) {
      this.#refuse(`The engine could not be rolled back to its stored state: ${messageOf(reloadError)}.`);
    } finally {
      this.gate = null;
      rolledBack();
    }
  }

  /** Resolve once everything acknowledged is written; retries a failed store at once.
   *  Rejects with StorageError while acknowledged (relaxed) changes cannot be written. */
  flush() {
    return this.#writer.flush();
  }

  /** Replace the whole state by an import or a new engine, stored atomically first; a
   *  reset's options may also change this tab's durability. */
  async replace(kind, given) {
    const { payload, durability } = replacementOptions(kind, given, this.#writer.durability);
    if (this.storage.mode === "reader") throw new TypedError("StateError", this.#session.read_only);
    if (!this.#lock.held) {
      throw new TypedError("StateError",
        `Another tab holds "${this.name}" for writing: only it can ${kind === "reset" ? "reset" : "import into"} `
        + "the engine; this tab follows the state it stores.");
    }
    // relaxed changes that cannot be written now are replaced too, if the new state can be
    if (this.storage.mode === "writer") await this.flush().catch(ignore);
    const bytes = blobOf(this.#session.prepare_replace(kind, payload));
    this.#writer.cancelRetry(); // no retried write between this one and its outcome
    this.#compaction.cancel(); // a compaction would snapshot the state being replaced
    this.#lastSeq = await storeReplacement(this.#writer, bytes, {
      name: this.name,
      kind,
      reopen: () => this.#openDatabase(),
      waiting: (message) => this.#setStorage({ error: message }),
      saved: () => this.storage.saved,
    });
    this.#compaction.sinceSnapshot = 0;
    this.#channel.postMessage({ type: "replaced" });
    this.#config = fromPython(this.#session.commit_replace());
    this.#writer.db.config = this.#config;
    this.#writer.durability = durability;
    this.#session.read_only = undefined; // None (null would arrive as jsnull)
    this.#session.write_error = undefined;
    this.#setStorage({ mode: "writer", saved: true, error: null, unsaved: 0 });
    return this.config;
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
    this.#compaction.cancel();
    this.#channel?.close();
    this.#writer.close();
    this.#lock.release();
  }
}
