// Where the engine's state lives (kg.storage): the status line, and a notice when the
// user must know something: a stored engine was loaded instead of the URL's parameters,
// another tab is the writer, or the state is not being saved.

export class StorageStatus {
  constructor(field, notice) {
    this.field = field;
    this.notice = notice;
  }

  /** Show kg.storage (absent: an API without persistence, everything in memory). */
  show(storage, name) {
    const { field } = this;
    if (!storage) {
      field.textContent = "In memory only";
      field.dataset.mode = "memory";
      return;
    }
    field.dataset.mode = storage.mode;
    field.dataset.saved = String(Boolean(storage.saved));
    const where = `IndexedDB "cortexkg:${name}"`;
    field.textContent = {
      writer: storage.saved ? `Saved in this browser (${where})` : `Saving to ${where}…`,
      reader: `Read-only: another tab is writing to ${where}`,
      failed: `Not saved: ${storage.error ?? "the stored data could not be used"}`,
      memory: "In memory only",
    }[storage.mode] ?? storage.mode;
    if (storage.mode === "writer" && !storage.saved && storage.error) {
      field.textContent = `Not saved yet: ${storage.error}`;
    }
  }

  /** The notice for a freshly opened engine: what was loaded, what was ignored. */
  opened(storage, name) {
    const lines = [];
    if (storage?.restored) {
      const ignored = storage.ignored ?? [];
      lines.push(`The engine "${name}" stored in this browser was loaded` +
        (ignored.length > 0 ? `; these URL parameters were ignored: ${ignored.join(", ")}.` : ".") +
        ' Use "Create new engine…" to replace it.');
    }
    if (storage?.mode === "reader") {
      lines.push(`Another tab is writing to "${name}": this one follows it read-only and takes over when that tab closes.`);
    }
    if (storage?.mode === "failed") {
      lines.push(`${storage.error} Nothing is saved until the engine is replaced ("Create new engine…").`);
    }
    this.say(lines.join(" "));
  }

  say(text) {
    this.notice.textContent = text;
    this.notice.hidden = text === "";
  }
}
