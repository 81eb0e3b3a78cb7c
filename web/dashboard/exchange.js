// Export and import: the whole state as one file (kg.exportState(), versioned and
// checksummed) downloaded as cortexkg-<name>-<date>.ckg; a chosen file imported with
// kg.importState(), which validates all of it and either replaces the state or refuses
// with the reason and changes nothing; and, for stored data the engine refused, the raw
// database contents (kg.exportRawData()) downloaded as JSON.

import { Actions } from "./actions.js";
import { messageOf } from "./banner.js";
import { FieldError } from "./fields.js";
import { formatCount } from "./format.js";

export class Exchange {
  /**
   * @param {Document} document
   * @param {object} host what the widget needs from the page:
   *   kg()               the live API instance (null while none exists)
   *   confirm(question)  ask the user; false cancels
   *   succeeded()        an action worked (the banner's old news goes)
   *   fail(error)        report a failure (banner and log)
   *   log(kind, text)    add an event-log entry
   *   importing(flag)    an import starts (true) or has ended (false)
   *   imported(file)     an import succeeded (the "change" event refreshes the page)
   */
  constructor(document, host) {
    const byId = (id) => document.getElementById(id);
    this.document = document;
    this.host = host;
    this.exportButton = byId("export-button");
    this.input = byId("import-input");
    this.rawButton = byId("export-raw-button");
    this.result = byId("exchange-result");
    this.error = new FieldError(byId("exchange-error"), this.input);
    this.actions = new Actions(host);
    this.exportButton.addEventListener("click", () => this.actions.run(this.exportButton, () => this.exportState(), this.error));
    this.rawButton.addEventListener("click", () => this.actions.run(this.rawButton, () => this.exportRaw()));
    this.input.addEventListener("change", () => {
      const file = this.input.files?.[0];
      // cleared at once, so choosing the same file again is a change too
      this.input.value = "";
      if (file) this.actions.run(this.input, () => this.importFile(file), this.error);
    });
  }

  /** Which actions the storage mode allows: a reader cannot import, a refused engine
   *  has no state of its own worth exporting (its raw data is). */
  setMode(mode) {
    this.input.disabled = mode === "reader" || mode === "booting";
    this.exportButton.disabled = mode === "failed" || mode === "booting";
  }

  async exportState() {
    const kg = this.host.kg();
    this.result.textContent = "Exporting…";
    try {
      const bytes = await kg.exportState();
      const name = exportFileName(kg.config.name, new Date());
      saveFile(this.document, new Blob([bytes], { type: "application/octet-stream" }), name);
      this.result.textContent = `Exported ${name} (${formatBytes(bytes.byteLength)}).`;
      this.host.log("export", `The state was exported to ${name} (${formatBytes(bytes.byteLength)})`);
    } catch (error) {
      this.result.textContent = "";
      throw error;
    }
  }

  async importFile(file) {
    const kg = this.host.kg();
    const allocated = await kg.getAllocatedCount();
    if (allocated > 0 && !this.host.confirm(
      `Replace the engine's state (${formatCount(allocated)} allocated concept${allocated === 1 ? "" : "s"}) ` +
      `with the one in "${file.name}"? Export it first to keep it.`)) {
      return false;
    }
    this.result.textContent = `Importing ${file.name}…`;
    this.host.importing(true);
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      try {
        await kg.importState(bytes);
      } catch (error) {
        throw new Error(`The file "${file.name}" was not imported, nothing changed: ${messageOf(error)}`);
      }
      const count = await kg.getAllocatedCount();
      this.result.textContent = `Imported ${file.name}.`;
      this.host.log("import", `Imported "${file.name}" (${formatBytes(bytes.byteLength)}): ` +
        `${formatCount(count)} allocated concept${count === 1 ? "" : "s"} of ` +
        `${formatCount(kg.config.columns)} columns`);
      await this.host.imported(file);
    } catch (error) {
      this.result.textContent = "";
      throw error;
    } finally {
      this.host.importing(false);
    }
  }

  async exportRaw() {
    const kg = this.host.kg();
    const bytes = await kg.exportRawData();
    const name = rawFileName(kg.config.name, new Date());
    saveFile(this.document, new Blob([bytes], { type: "application/json" }), name);
    this.host.log("export", `The raw stored data was exported to ${name} (${formatBytes(bytes.length)})`);
  }
}

/** "cortexkg-<name>-2025-01-31-142501.ckg" (local time); the name made safe for a file. */
export function exportFileName(engineName, date) {
  return `cortexkg-${safeName(engineName)}-${stamp(date)}.ckg`;
}

export function rawFileName(engineName, date) {
  return `cortexkg-${safeName(engineName)}-raw-${stamp(date)}.json`;
}

function safeName(name) {
  return String(name).replace(/[^\w.-]+/g, "_").slice(0, 64) || "engine";
}

function stamp(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}-` +
    `${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
}

/** 1536 -> "1.5 kB". */
export function formatBytes(count) {
  if (count < 1000) return `${count} B`;
  const units = ["kB", "MB", "GB"];
  let value = count;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** Download blob as filename through a temporary <a download>. */
export function saveFile(document, blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // the download has read the blob long before; a large one may take a moment to start
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
