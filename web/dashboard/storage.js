// Where the engine's state lives (kg.storage) and what the user must know about it:
// - the status line (data-saved="false" while writes fail, with the error),
// - what recovery restored on load (counts: allocated concepts, journal records replayed,
//   from a snapshot or not), and the notice naming URL parameters a stored engine overrode,
// - the read-only banner while another tab is the writer,
// - the unsaved alert (a write failed: changes are refused until a retry succeeds),
// - the refused-data alert (stored data that cannot be used: export it raw, or reset),
// - the answer of navigator.storage.persist().
// It only shows; the buttons in its alerts call back into the page (host).

import { formatCount, formatMs } from "./format.js";

export class StorageStatus {
  /**
   * @param {Document} document
   * @param {{retry: () => void, reset: () => void}} host "Retry now" and "Reset the
   *   engine…" (the raw export button in the same alert belongs to the exchange widget)
   */
  constructor(document, host) {
    const byId = (id) => document.getElementById(id);
    this.field = byId("status-storage");
    this.restored = byId("storage-restored");
    this.persisted = byId("storage-persisted");
    this.notice = byId("storage-notice");
    this.readonly = byId("readonly-banner");
    this.readonlyMessage = byId("readonly-message");
    this.unsaved = byId("storage-unsaved");
    this.unsavedMessage = byId("storage-unsaved-message");
    this.failed = byId("storage-failed");
    this.failedMessage = byId("storage-failed-message");
    this.retryButton = byId("storage-retry-button");
    this.resetButton = byId("storage-reset-button");
    this.retryButton.addEventListener("click", () => host.retry());
    this.resetButton.addEventListener("click", () => host.reset());
  }

  /** Show kg.storage (absent: an API without persistence, everything in memory). */
  show(storage, name) {
    const { field } = this;
    const mode = storage?.mode ?? "memory";
    const saved = storage ? Boolean(storage.saved) : true;
    const error = errorText(storage?.error);
    field.dataset.mode = mode;
    field.dataset.saved = String(saved);
    const where = `IndexedDB "cortexkg:${name}"`;
    let text = {
      writer: saved ? `Saved in this browser (${where})` : `Saving to ${where}…`,
      reader: `Read-only: another tab is writing to ${where}`,
      failed: `Not saved: ${error ?? "the stored data could not be used"}`,
      memory: "In memory only",
    }[mode] ?? mode;
    if (mode === "writer" && !saved && error) text = `Not saved: ${error}`;
    setText(field, text);

    this.readonly.hidden = mode !== "reader";
    setText(this.readonlyMessage, mode === "reader"
      ? `Read-only: another tab is writing to "${name}". This tab shows its changes as they ` +
        "happen, and takes over when that tab closes."
      : "");

    const unsaved = mode === "writer" && !saved && Boolean(error);
    this.unsaved.hidden = !unsaved;
    setText(this.unsavedMessage, unsaved
      ? `Changes cannot be saved: ${error}. Until this browser accepts writes again, every ` +
        "change is refused and the engine keeps its last saved state (nothing saved is lost). " +
        "Saving is retried every second; free some space in this browser, or retry now."
      : "");

    this.failed.hidden = mode !== "failed";
    setText(this.failedMessage, mode === "failed"
      ? `${error ?? "The stored data could not be used."} Export the raw data to keep ` +
        "a copy, then reset the engine to start afresh. Until then this tab saves nothing " +
        "and the stored data stays as it is."
      : "");
  }

  /** What a freshly opened engine restored, and which of the URL's parameters (given) it
   *  ignored: the dashboard's own defaults give way to a stored engine silently. */
  opened(storage, name, given = new Set()) {
    this.showRestored(storage);
    const restored = storage?.restored;
    if (!restored) {
      this.say("");
      return;
    }
    const ignored = (storage.ignored ?? []).filter((key) => given.has(key));
    const reader = storage.mode === "reader";
    this.say(`The engine "${name}" stored in this browser was loaded (${describeRestored(restored)})` +
      (ignored.length > 0 ? `; these URL parameters were ignored: ${ignored.join(", ")}.` : ".") +
      (ignored.length > 0
        ? ` To open a new engine with them beside this one, give it another name: ${suggestName(ignored)}.`
        : "") +
      (reader
        ? " The tab that writes to it can replace it with a new engine."
        : ' Use "Create new engine…" to replace it.'));
  }

  /** The "Restored on load" field: counts as text, and as data-* attributes. */
  showRestored(storage) {
    const { restored: field } = this;
    const restored = storage?.restored ?? null;
    for (const key of ["allocated", "records", "snapshot", "columns", "ms"]) delete field.dataset[key];
    if (restored) {
      field.dataset.restored = "true";
      field.dataset.allocated = String(restored.allocated);
      field.dataset.records = String(restored.records);
      field.dataset.snapshot = String(Boolean(restored.snapshot));
      field.dataset.columns = String(restored.columns);
      const timed = Number.isFinite(restored.ms);
      if (timed) field.dataset.ms = String(restored.ms);
      field.textContent = capitalize(describeRestored(restored)) +
        (timed ? ` in ${formatMs(restored.ms)}` : "");
    } else {
      field.dataset.restored = "false";
      field.textContent = storage?.mode === "failed"
        ? "Nothing: the stored data was refused"
        : storage ? "Nothing was stored: a new engine" : "Nothing: in memory only";
    }
  }

  /** The answer of navigator.storage.persist(): "granted", "not granted" or "unavailable". */
  showPersisted(answer) {
    this.persisted.dataset.state = answer;
    this.persisted.textContent = answer;
    this.persisted.title = {
      granted: "The browser keeps this site's data under storage pressure.",
      "not granted": "The browser may evict this site's data when space runs low.",
      unavailable: "This browser does not say whether it keeps this site's data.",
    }[answer] ?? "";
  }

  say(text) {
    this.notice.textContent = text;
    this.notice.hidden = text === "";
  }
}

// "?name=lab&columns=100000": a URL that opens a new engine with the ignored parameters.
function suggestName(ignored) {
  const asked = new URLSearchParams(globalThis.location?.search ?? "");
  const params = new URLSearchParams({ name: "lab" });
  for (const key of ignored) if (asked.has(key)) params.set(key, asked.get(key));
  return `?${params}`;
}

/** "12 allocated concepts of 300 columns: a snapshot and 3 journal records replayed" */
export function describeRestored({ allocated, columns, snapshot, records }) {
  const concepts = `${formatCount(allocated)} allocated concept${allocated === 1 ? "" : "s"}` +
    ` of ${formatCount(columns)} column${columns === 1 ? "" : "s"}`;
  const replayed = `${formatCount(records)} journal record${records === 1 ? "" : "s"} replayed`;
  return snapshot ? `${concepts}: a snapshot and ${replayed}` : `${concepts}: no snapshot, ${replayed}`;
}

/** Ask the browser once to keep this origin's data; resolves to the answer to show. */
export async function askPersistence(storageManager = globalThis.navigator?.storage) {
  if (typeof storageManager?.persist !== "function") return "unavailable";
  try {
    return (await storageManager.persist()) ? "granted" : "not granted";
  } catch {
    return "unavailable";
  }
}

/** A storage error as one clean phrase: Chromium's QuotaExceededError has an empty
 *  message, which arrives as "QuotaExceededError: ". null when there is none. */
export function errorText(error) {
  if (error == null) return null;
  return String(error).replace(/[\s:]+$/, "") || null;
}

// Failed writes are retried every second, each retry a "storage" event: text that did not
// change is left alone, so live regions (role=alert) are not announced again and again.
function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

function capitalize(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
