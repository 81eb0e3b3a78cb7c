// kg.stats: the worker's counters (what getStats() returns) as the page last received them,
// read synchronously. When the page is cross-origin isolated the worker writes their
// numbers to a SharedArrayBuffer as it runs the calls (protocol.js's sequence lock);
// otherwise they come with the answers and stats messages (StatsUpdate).

import { readStats, statsSequence, statsView } from "./protocol.js";

export class StatsSnapshot {
  #layout = null; // {numbers, others}: the keys, in the order of an update
  #update = null; // the newest StatsUpdate received
  #shared = null; // the shared buffer's view, when cross-origin isolated
  #sharedNumbers = null;
  #sequence = -1; // the shared buffer's sequence number last read
  #object = null; // the object last built (rebuilt only when something changed)

  /** Start reading: stats is what the worker's "open" answered, {layout, update, buffer
   *  (or null)}. Updates received before are kept (the newest wins). */
  open({ layout, update, buffer }) {
    this.#layout = layout;
    this.receive(update);
    if (buffer !== null) {
      this.#shared = statsView(buffer);
      this.#sharedNumbers = new Float64Array(layout.numbers.length);
    }
  }

  /** The counters, as a new object each time; null before open(). */
  read() {
    if (this.#layout === null) return null;
    if (this.#shared !== null) {
      const sequence = statsSequence(this.#shared);
      if (sequence !== this.#sequence) {
        this.#sequence = readStats(this.#shared, this.#sharedNumbers);
        this.#object = null;
      }
    }
    this.#object ??= this.#build();
    return { ...this.#object };
  }

  /** Take an update (or null: none). The newest wins: answers and events may arrive in
   *  another order than the worker made them (a mutation's answer waits for its commit). */
  receive(update) {
    if (update === null || update === undefined) return;
    if (this.#update !== null && update.version <= this.#update.version) return;
    this.#update = update;
    this.#object = null;
  }

  #build() {
    const { numbers, others } = this.#layout;
    const values = this.#sharedNumbers ?? this.#update.numbers;
    const stats = {};
    numbers.forEach((key, index) => { stats[key] = values[index]; });
    others.forEach((key, index) => { stats[key] = this.#update.others[index]; });
    return stats;
  }
}
