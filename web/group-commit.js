// Writing the journal: each call's records, committed in order, many calls per transaction.
//
// - Strict durability (the default): a mutation is acknowledged only once its journal
//   record is committed. Records of calls that arrive while a transaction is in flight
//   share the next transaction (group commit), so pipelined calls do not pay one commit
//   each.
// - Relaxed durability: a mutation is acknowledged once the engine has applied it; its
//   record is written RELAXED_DELAY_MS after it was acknowledged, together with every
//   record acknowledged meanwhile (one transaction). Records acknowledged while a
//   transaction is in flight also wait out their delay, not just for that transaction:
//   a page-worker message that crosses a transaction in flight is slowed several-fold
//   (docs/bench/notes.md, "Awaited calls"), and back-to-back transactions would leave
//   no awaited call uncrossed. The bound: no mutation is acknowledged while a change
//   acknowledged more than RELAXED_WINDOW_MS earlier is not yet committed (it waits for
//   that commit instead), so a crash loses at most the changes acknowledged in the
//   RELAXED_WINDOW_MS before the last acknowledgment. Records are committed in order and
//   each call is one record, so what survives is always an exact prefix of them.
// - The durability is the opening tab's choice, not the stored engine's: both write the
//   same records, so a database written in one mode opens in the other.
// - A write that fails (quota, I/O), strict: it acknowledged nothing, so every mutation
//   whose record was in it or queued behind it rejects with StorageError, and the engine
//   is rolled back to the state in the database (by the owner: host.rollback). Relaxed:
//   the changes were acknowledged already, so they stay applied and queued, storage says
//   so (saved false, unsaved: how many), and the write is retried. In both modes, until a
//   write succeeds again (retried in the background, or at flush) mutations are refused
//   with StorageError; reads keep working.

import { DURABILITIES, RELAXED_WINDOW_MS } from "./api-checks.js";
import { describeWriteError, TypedError } from "./worker-errors.js";

const RETRY_MS = 1_000;
// How long a relaxed record waits for others to share its transaction: the writes cost the
// worker's thread about 0.3 ms each, and the commit must fit in the rest of the window.
const RELAXED_DELAY_MS = 2;

const ignore = () => {};

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

export class GroupCommit {
  /** The open database (persistence.js), null while there is none to write to. */
  db = null;
  durability;
  lastWritten = 0; // the last seq known to be in the database
  #name;
  #host;
  #queue = []; // {records, snapshot, resolve, reject}
  #writing = null; // the drain in flight
  #unwritten = []; // relaxed: {seq, at} of acknowledged records not yet committed, oldest first
  #waiters = []; // relaxed: {seq, resolve} of acknowledgments waiting for seq's commit
  #writeTimer = 0;
  #retryTimer = 0;
  #urgent = 0; // flushes under way: relaxed records are written at once
  #closed = false;

  /**
   * host: what the writes change outside the journal: {storage() (the current storage
   * record), setStorage(change), setWriteError(reason or undefined: mutations refused
   * while set), rollback() (strict: back to the stored state), published(records) (a
   * commit, for the other tabs), held(count) (that many records are journaled only)}.
   */
  constructor(name, durability, host) {
    this.#name = name;
    this.durability = durability;
    this.#host = host;
  }

  /** How many acknowledged (relaxed) changes are not committed yet. */
  get unwritten() {
    return this.#unwritten.length;
  }

  /**
   * Records (and a superseding snapshot, or null) of one call group: null when the answers
   * may be given now, else a promise of when (see callMany in durable.js).
   */
  write(records, snapshot) {
    return this.durability === "strict" ? this.commit(records, snapshot) : this.#commitRelaxed(records, snapshot);
  }

  /** Queue records (and a superseding snapshot) for the next transaction. */
  commit(records, snapshot) {
    if (this.db === null) {
      return Promise.reject(new TypedError("StorageError", `"${this.#name}" has no database to write to`));
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ records, snapshot, resolve, reject });
      this.#kick();
    });
  }

  // Queue the records for a transaction RELAXED_DELAY_MS from now (shared with the records
  // acknowledged meanwhile); acknowledge at once, unless a change acknowledged more than
  // RELAXED_WINDOW_MS ago is still not committed: then once it is.
  #commitRelaxed(records, snapshot) {
    const now = performance.now();
    this.#queue.push({ records, snapshot, resolve: ignore, reject: ignore });
    for (const record of records) this.#unwritten.push({ seq: record.seq, at: now });
    if (this.#writing === null) this.#writeLater(); // else the transaction in flight does, after it
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

  // Relaxed: write the queue once its oldest record was acknowledged RELAXED_DELAY_MS ago
  // (at once if it was).
  #writeLater() {
    if (this.#writeTimer !== 0 || this.#queue.length === 0) return;
    const waited = this.#unwritten.length > 0 ? performance.now() - this.#unwritten[0].at : 0;
    this.#writeTimer = setTimeout(() => {
      this.#writeTimer = 0;
      this.#kick();
    }, Math.max(0, Math.ceil(RELAXED_DELAY_MS - waited))); // setTimeout truncates to whole ms
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
      const lastSeq = Math.max(snapshot?.seq ?? 0, ...records.map((r) => r.seq), this.lastWritten);
      try {
        if (this.db === null) throw new Error(`"${this.#name}" has no database to write to`);
        const started = performance.now();
        await this.db.write({ records, snapshot, lastSeq });
        this.lastWritten = lastSeq;
        this.#host.published(records);
        if (snapshot !== null) {
          const ms = snapshot.takeMs + performance.now() - started;
          this.#host.setStorage({ snapshot: { seq: snapshot.seq, bytes: snapshot.bytes.size, ms } });
        }
      } catch (error) {
        if (this.durability === "relaxed") this.#holdUnwritten(error, batch);
        else await this.#writeFailed(error, [...batch, ...this.#queue.splice(0)]);
        return;
      }
      this.#committed(lastSeq);
      for (const entry of batch) entry.resolve();
      if (this.#host.storage().unsaved > 0) this.#heldWritten();
      if (this.durability === "relaxed" && this.#urgent === 0 && this.#queue.length > 0) {
        this.#writeLater(); // what arrived meanwhile waits out its delay (see above)
        return;
      }
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
    this.#host.held(this.#unwritten.length);
    this.#queue.unshift(...held);
    const cause = describeWriteError(error);
    this.#host.setWriteError(`Changes cannot be saved now: ${cause}`);
    this.#host.setStorage({ saved: false, error: cause, unsaved: this.#unwritten.length });
    for (const waiter of this.#waiters.splice(0)) waiter.resolve();
    this.scheduleRetry();
  }

  // A write of held changes succeeded: fewer are unsaved, or none, and mutations are
  // accepted again.
  #heldWritten() {
    if (this.#queue.length > 0 || this.#unwritten.length > 0) {
      this.#host.setStorage({ unsaved: this.#unwritten.length });
      return;
    }
    this.#host.setWriteError(undefined);
    clearTimeout(this.#retryTimer);
    this.#host.setStorage({ saved: true, error: null, unsaved: 0 });
  }

  // Nothing of the failed transaction was written, so nothing in it or behind it is
  // acknowledged: each such mutation rejects, and the engine goes back to the database's
  // state (the last durable one). Mutations are refused until a write succeeds again.
  async #writeFailed(error, entries) {
    const cause = describeWriteError(error);
    this.#host.setWriteError(`Changes cannot be saved now: ${cause}`);
    this.#host.setStorage({ saved: false, error: cause });
    await this.#host.rollback();
    for (const entry of entries) entry.reject(new TypedError("StorageError", `The change was not saved: ${cause}`));
    this.scheduleRetry();
  }

  scheduleRetry() {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#probe(), RETRY_MS);
  }

  /** No retried write until the next failure (one that replaces the state is under way). */
  cancelRetry() {
    clearTimeout(this.#retryTimer);
  }

  // Relaxed: write the held changes again. Strict: a write that changes nothing but the
  // meta record: does the store take writes again?
  async #probe() {
    const storage = this.#host.storage();
    if (this.#closed || storage.saved || this.db === null || storage.mode !== "writer") return;
    if (this.#queue.length > 0) {
      this.#kick();
      await this.#writing; // a failure schedules the next retry
      return;
    }
    try {
      await this.db.write({ records: [], snapshot: null, lastSeq: this.lastWritten });
    } catch (error) {
      this.#host.setStorage({ error: describeWriteError(error) });
      this.scheduleRetry();
      return;
    }
    this.#host.setWriteError(undefined);
    this.#host.setStorage({ saved: true, error: null });
  }

  /** Resolve once everything acknowledged is written; retries a failed store at once.
   *  Rejects with StorageError while acknowledged (relaxed) changes cannot be written. */
  async flush() {
    clearTimeout(this.#writeTimer);
    this.#writeTimer = 0;
    this.#urgent += 1;
    try {
      if (!this.#host.storage().saved) {
        clearTimeout(this.#retryTimer);
        await this.#probe();
      } else {
        this.#kick();
        await this.#writing;
      }
    } finally {
      this.#urgent -= 1;
    }
    if (this.#unwritten.length > 0) {
      throw new TypedError("StorageError", `${this.#unwritten.length} acknowledged `
        + `change${this.#unwritten.length === 1 ? " is" : "s are"} not saved: ${this.#host.storage().error ?? "the write failed"}`);
    }
  }

  /** A replacement of the whole state was stored as seq: what is queued is superseded. */
  superseded(seq) {
    for (const entry of this.#queue.splice(0)) entry.resolve();
    this.#committed(Infinity);
    this.lastWritten = seq;
  }

  close() {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#writeTimer);
    this.db?.close();
  }
}
