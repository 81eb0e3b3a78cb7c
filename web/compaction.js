// Compaction: a snapshot replaces the journal (in the same transaction as the records it
// covers), after an optimize that moved anything, when the journal grows past COMPACT_AFTER
// records, or on idle. It keeps recovery short; durability does not need it, so it is
// background work: if it fails, calls go on and the failure is reported in storage.error.

import { messageOf } from "./worker-errors.js";

const COMPACT_AFTER = 10_000; // journal records
const IDLE_COMPACT_MS = 5_000;

const ignore = () => {};

/** Python bytes as a Blob: one copy, straight out of the wasm heap (what IndexedDB stores). */
export function blobOf(bytes) {
  const buffer = bytes.getBuffer("u8");
  try {
    return new Blob([buffer.data]);
  } finally {
    buffer.release();
    bytes.destroy();
  }
}

export class Compaction {
  /** Journal records since the last snapshot: what a recovery would replay. */
  sinceSnapshot = 0;
  #idleTimer = 0;
  #host;

  /**
   * host: {bytes() (the engine's snapshot: Session.snapshot), lastSeq() (the last record
   * applied: what the snapshot supersedes), ready() (whether an idle snapshot may be
   * written now), write(snapshot) (a promise of its commit), failed(message) (reports a
   * snapshot that could not be taken)}.
   */
  constructor(host) {
    this.#host = host;
  }

  /**
   * Count newly journaled records; the snapshot to commit with them when asked for (an
   * optimize moved something) or due, else null. Arms the idle compaction either way.
   */
  journaled(count, asked) {
    this.sinceSnapshot += count;
    const snapshot = asked || this.sinceSnapshot >= COMPACT_AFTER ? this.#snapshot() : null;
    this.#scheduleIdle();
    return snapshot;
  }

  /** Records written but whose snapshot was dropped: the journal holds at least count. */
  held(count) {
    this.sinceSnapshot = Math.max(this.sinceSnapshot, count);
  }

  // A snapshot superseding the journal, or null when taking it failed (then the journal
  // just goes on growing).
  #snapshot() {
    const started = performance.now();
    let bytes;
    try {
      bytes = blobOf(this.#host.bytes());
    } catch (error) {
      this.#host.failed(`Compacting the journal failed (it keeps growing): ${messageOf(error)}`);
      return null;
    }
    this.sinceSnapshot = 0;
    return { seq: this.#host.lastSeq(), bytes, takeMs: performance.now() - started };
  }

  #scheduleIdle() {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      if (this.sinceSnapshot === 0 || !this.#host.ready()) return;
      const snapshot = this.#snapshot();
      // nothing waits for this write: a failure is reported through storage
      if (snapshot !== null) this.#host.write(snapshot).catch(ignore);
    }, IDLE_COMPACT_MS);
  }

  /** No idle snapshot until the next records (the state is being replaced). */
  cancel() {
    clearTimeout(this.#idleTimer);
  }
}
