// The event log: allocations, releases, activations, batches, moves, optimizations (with
// the engine's own "Optimization completed in ..." line), new engines and errors. Newest
// first. Entries are written to the DOM at most once per frame and the list keeps the
// latest MAX_ENTRIES, so a script making 100,000 single calls cannot flood the page. The
// latest KEPT_ENTRIES are kept in sessionStorage, so a reload of the tab keeps its log.

import { formatClock, formatCount, formatUnit } from "./format.js";

export const MAX_ENTRIES = 500;
export const KEPT_ENTRIES = 200;
const STORAGE_KEY = "cortexkg-event-log";

export class EventLog {
  /** @param {HTMLOListElement} list @param {HTMLButtonElement} clearButton
   *  @param {Storage | null} storage where the latest entries outlive a reload */
  constructor(list, clearButton, storage = null) {
    this.list = list;
    this.queue = [];
    this.flushScheduled = false;
    this.storage = storage;
    this.kept = this.restore();
    if (this.kept.length > 0) {
      this.queue.push(...this.kept);
      this.scheduleFlush();
    }
    clearButton.addEventListener("click", () => {
      this.queue = [];
      this.kept = [];
      this.save();
      this.list.replaceChildren();
    });
  }

  restore() {
    try {
      const entries = JSON.parse(this.storage?.getItem(STORAGE_KEY) ?? "[]");
      return Array.isArray(entries) ? entries.filter((e) => typeof e?.text === "string") : [];
    } catch {
      return []; // unreadable: start a new log
    }
  }

  save() {
    try {
      this.storage?.setItem(STORAGE_KEY, JSON.stringify(this.kept));
    } catch {
      // storage full or refused: the log still shows, it only does not outlive a reload
    }
  }

  /** Add an entry; kind is a short category ("allocate", "error", ...). */
  add(kind, text) {
    const entry = { kind, text, time: Date.now() };
    this.kept.push(entry);
    if (this.kept.length > KEPT_ENTRIES) this.kept.splice(0, this.kept.length - KEPT_ENTRIES);
    this.queue.push(entry);
    if (this.queue.length > MAX_ENTRIES) this.queue.splice(0, this.queue.length - MAX_ENTRIES);
    this.scheduleFlush();
  }

  scheduleFlush() {
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      requestAnimationFrame(() => this.flush());
    }
  }

  flush() {
    this.flushScheduled = false;
    this.save();
    const entries = this.queue;
    this.queue = [];
    const fragment = document.createDocumentFragment();
    for (let i = entries.length - 1; i >= 0; i--) fragment.append(this.render(entries[i]));
    this.list.prepend(fragment);
    while (this.list.childElementCount > MAX_ENTRIES) this.list.lastElementChild.remove();
  }

  render({ kind, text, time }) {
    const item = document.createElement("li");
    item.dataset.kind = kind;
    const stamp = document.createElement("time");
    stamp.dateTime = new Date(time).toISOString();
    stamp.textContent = formatClock(time);
    const badge = document.createElement("span");
    badge.className = "kind";
    badge.textContent = kind;
    const message = document.createElement("span");
    message.className = "message";
    message.textContent = text;
    item.append(stamp, badge, message);
    return item;
  }

  /** A "change" event's detail, in words. */
  change(detail) {
    const entry = describeChange(detail);
    if (entry !== null) this.add(...entry);
  }
}

/** [kind, text] for a change event's detail (null: nothing worth a line). */
export function describeChange(detail) {
  const { kind } = detail;
  switch (kind) {
    case "allocate":
      return ["allocate", `Concept ${detail.conceptId} allocated to column ${formatCount(detail.columnId ?? detail.result)}`];
    case "deallocate":
      if (detail.result === false) return ["release", `Concept ${detail.conceptId} was not allocated`];
      return ["release", detail.columnId == null
        ? `Concept ${detail.conceptId} released`
        : `Concept ${detail.conceptId} released from column ${formatCount(detail.columnId)}`];
    case "activate":
      return ["activate", `Concept ${detail.conceptId} activated: activation ${formatUnit(detail.activation ?? detail.result)}`];
    case "allocate-batch":
      return ["batch", batchText("allocated", detail)];
    case "deallocate-batch":
      return ["batch", batchText("released", detail)];
    case "optimize": {
      const moved = detail.changes ?? detail.result ?? 0;
      return ["move", `Optimization moved ${formatCount(moved)} concept${moved === 1 ? "" : "s"}`];
    }
    case "reset":
      return ["engine", "The engine was replaced by a new, empty one"];
    case "import":
      return ["engine", "The engine's state was replaced by an imported one"];
    case "remote":
      return ["engine", "Another tab changed the engine"];
    default:
      return [kind ?? "change", JSON.stringify(detail)];
  }
}

function batchText(verb, { count = 0, failed = 0 }) {
  const done = count - failed;
  const text = `Batch: ${formatCount(done)} of ${formatCount(count)} concepts ${verb}`;
  return failed > 0 ? `${text}, ${formatCount(failed)} failed` : text;
}
