// The batch controls: allocate or release many concepts (a range, or the next N unused
// ids, or the N most recent allocations) with a progress bar, and what the batch did or
// why it failed beside them. One batch runs at a time; the bar describes it.

import { FieldError } from "./fields.js";
import { formatCount } from "./format.js";
import { InputError, nextUnusedIds, parseBatch, rangeIds } from "./ids.js";

// "Release the N most recent": the history is read in slices this long, so no single
// message from the worker carries more than this many objects.
const HISTORY_SLICE = 50_000;

export class BatchControls {
  /**
   * @param {(id: string) => HTMLElement} byId
   * @param {object} host Controls' host (kg, snapshot, settled, fail)
   * @param {Actions} actions the actions of every control (one running per control)
   */
  constructor(byId, host, actions) {
    this.host = host;
    this.actions = actions;
    this.el = {
      batch: byId("batch-input"),
      batchAllocate: byId("batch-allocate-button"),
      batchDeallocate: byId("batch-deallocate-button"),
      progress: byId("batch-progress"),
      batchStatus: byId("batch-status"),
    };
    this.error = new FieldError(byId("batch-error"), this.el.batch);
    byId("batch-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.batch("allocate");
    });
    this.el.batchDeallocate.addEventListener("click", () => this.batch("deallocate"));
  }

  /** A new engine: what the last batch said is old news. */
  forget() {
    this.error.clear();
    const { el } = this;
    el.batchStatus.dataset.state = "idle";
    el.batchStatus.textContent = "No batch running.";
    el.progress.max = 1;
    el.progress.value = 0;
  }

  batch(kind) {
    const button = kind === "allocate" ? this.el.batchAllocate : this.el.batchDeallocate;
    // One batch at a time: the progress bar describes one.
    if (this.actions.busy(this.el.batchAllocate) || this.actions.busy(this.el.batchDeallocate)) {
      this.el.batchStatus.textContent = "A batch is already running; wait for it to finish.";
      return;
    }
    return this.actions.run(button, async (kg) => {
      const { el } = this;
      for (const b of [el.batchAllocate, el.batchDeallocate]) {
        b.setAttribute("aria-disabled", "true");
      }
      try {
        return await this.runBatch(kg, kind);
      } finally {
        for (const b of [el.batchAllocate, el.batchDeallocate]) b.removeAttribute("aria-disabled");
      }
    }, this.error);
  }

  async runBatch(kg, kind) {
    const { el } = this;
    el.batchStatus.dataset.state = "running";
    el.batchStatus.textContent = "Preparing the batch…";
    el.progress.removeAttribute("value"); // indeterminate until the first report
    try {
      const spec = parseBatch(el.batch.value);
      const ids = await this.batchIds(kg, kind, spec);
      const verb = kind === "allocate" ? "Allocating" : "Releasing";
      const onProgress = (done, total) => {
        el.progress.max = Math.max(total, 1);
        el.progress.value = done;
        el.batchStatus.textContent =
          `${verb}… ${formatCount(done)} of ${formatCount(total)} (${Math.floor((done / Math.max(total, 1)) * 100)} %)`;
      };
      onProgress(0, ids.length);
      const started = performance.now();
      const result = kind === "allocate"
        ? await kg.allocateBatch(ids, { columnar: true, onProgress })
        : await kg.deallocateBatch(ids, { columnar: true, onProgress });
      const seconds = (performance.now() - started) / 1000;
      onProgress(ids.length, ids.length);
      return this.reportBatch(kind, ids.length, result.errors, seconds);
    } catch (error) {
      el.batchStatus.dataset.state = "failed";
      el.batchStatus.textContent = "The batch was rejected; nothing changed.";
      el.progress.max = 1;
      el.progress.value = 0;
      throw error;
    }
  }

  async batchIds(kg, kind, spec) {
    if (spec.kind === "range") return rangeIds(spec.first, spec.last);
    if (kind === "allocate") {
      await this.host.settled(); // the ids in use as of the latest change
      const snapshot = this.host.snapshot();
      const none = { state: new Uint8Array(0), concept: new Uint32Array(0) };
      return nextUnusedIds(snapshot ?? none, spec.count);
    }
    // The N most recent allocations, read from the end of the history in slices.
    const total = await kg.getAllocatedCount();
    const count = Math.min(spec.count, total);
    const ids = new Uint32Array(count);
    for (let done = 0; done < count; done += HISTORY_SLICE) {
      const start = total - count + done;
      const slice = await kg.getAllocationHistory({
        start, stop: Math.min(start + HISTORY_SLICE, total),
      });
      for (let i = 0; i < slice.length; i++) ids[done + i] = slice[i].conceptId;
    }
    return ids;
  }

  reportBatch(kind, total, errors, seconds) {
    const { el } = this;
    const failed = errors.length;
    const done = total - failed;
    const verb = kind === "allocate" ? "Allocated" : "Released";
    let text = `${verb} ${formatCount(done)} of ${formatCount(total)} in ${seconds.toFixed(2)} s.`;
    if (failed > 0) {
      const reasons = summarize(errors);
      text += ` ${formatCount(failed)} failed: ${reasons}`;
      // Running out of columns is an error worth the banner; releasing ids that were not
      // allocated is what a range over a sparse layout does, and the status says so.
      if (kind === "allocate") {
        const error = new InputError(`${formatCount(failed)} of ${formatCount(total)} concepts were not allocated: ${reasons}`);
        this.host.fail(error, this.error);
      }
    }
    el.batchStatus.dataset.state = failed > 0 ? "partial" : "done";
    el.batchStatus.textContent = text;
    return !(failed > 0 && kind === "allocate");
  }
}

// "No free columns available (1,000×)" from one message per failure.
function summarize(errors) {
  const counts = new Map();
  for (const message of errors) counts.set(message, (counts.get(message) ?? 0) + 1);
  const parts = [...counts].slice(0, 3).map(([message, n]) =>
    n > 1 ? `${message} (${formatCount(n)}×)` : message);
  if (counts.size > 3) parts.push(`and ${counts.size - 3} other reasons`);
  return parts.join("; ");
}
