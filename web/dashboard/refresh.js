// Coalesced refreshes: widgets ask for a refresh as often as they like (every "change"
// event does), and at most one refresh cycle is in flight. Requests that arrive during a
// cycle are merged into one more cycle after it. A cycle fetches every part it was asked
// for at once (the API pipelines the calls), so it costs one round trip to the worker.

export class Refresher {
  /**
   * @param {Record<string, () => Promise<void>>} parts what a refresh of each part does
   * @param {(error) => void} onError told when a part fails (the others still run)
   * @param {HTMLElement} indicator gets data-refresh="busy" / "idle"
   */
  constructor(parts, onError, indicator) {
    this.parts = parts;
    this.onError = onError;
    this.indicator = indicator;
    this.dirty = new Set();
    this.running = null;
    this.cycles = 0;
  }

  /** Ask for a refresh of names (default: every part). */
  schedule(names = Object.keys(this.parts)) {
    for (const name of names) this.dirty.add(name);
    if (this.running === null) {
      this.indicator.dataset.refresh = "busy";
      this.running = this.run();
    }
  }

  async run() {
    try {
      // Let a burst of events from one task (or one message) join this cycle.
      await new Promise((resolve) => setTimeout(resolve, 0));
      while (this.dirty.size > 0) {
        const names = [...this.dirty];
        this.dirty.clear();
        await Promise.all(names.map((name) => this.parts[name]().catch(this.onError)));
        this.cycles += 1;
        this.indicator.dataset.refreshCycles = String(this.cycles);
      }
    } finally {
      this.running = null;
      this.indicator.dataset.refresh = "idle";
    }
  }

  /** Resolves when no refresh is in flight or asked for. */
  async settled() {
    while (this.running !== null) await this.running;
  }
}
