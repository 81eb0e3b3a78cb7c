// The controls: one concept (allocate, deallocate, activate), batches with a progress
// bar, optimize, and a new engine. Each action goes through the JavaScript API; what it
// did, or why it failed, shows next to the control (and in the log). Until the engine
// is ready every control is disabled and the boot line says so; a read-only tab
// (another tab writes) has them all disabled; an engine whose stored data was refused
// keeps only "Create new engine…", its way out.

import { Actions } from "./actions.js";
import { FieldError } from "./fields.js";
import { formatCount, formatUnit } from "./format.js";
import { conceptIdFromText, InputError, nextUnusedIds, parseBatch, rangeIds } from "./ids.js";

/** The most columns the new-engine form offers (the engine's own limit). */
const MAX_COLUMNS = 2 ** 28;

// "Release the N most recent": the history is read in slices this long, so no single
// message from the worker carries more than this many objects.
const HISTORY_SLICE = 50_000;

export class Controls {
  /**
   * @param {Document} document
   * @param {object} host what the controls need from the page:
   *   kg()              the live API instance (null while an engine is being created)
   *   snapshot()        the grid's latest getColumnStates() (null before the first)
   *   settled()         resolves when the dashboard shows the latest state
   *   succeeded()       an action worked (the banner's old news goes)
   *   fail(error)       report a failure
   *   newEngine(config) replace the engine (the user has confirmed)
   *   confirm(question) ask the user; false cancels
   */
  constructor(document, host) {
    const byId = (id) => document.getElementById(id);
    this.host = host;
    this.el = {
      concept: byId("concept-input"),
      strength: byId("strength-input"),
      conceptResult: byId("concept-result"),
      batch: byId("batch-input"),
      batchAllocate: byId("batch-allocate-button"),
      batchDeallocate: byId("batch-deallocate-button"),
      progress: byId("batch-progress"),
      batchStatus: byId("batch-status"),
      optimize: byId("optimize-button"),
      optimizeResult: byId("optimize-result"),
      engineForm: byId("engine-form"),
      columns: byId("columns-input"),
      strategy: byId("strategy-select"),
      dim: byId("dim-input"),
      seed: byId("seed-input"),
      refractory: byId("refractory-input"),
      halfLife: byId("half-life-input"),
      backend: byId("backend-select"),
      durability: byId("durability-select"),
    };
    this.errors = {
      concept: new FieldError(byId("concept-error"), this.el.concept),
      strength: new FieldError(byId("strength-error"), this.el.strength),
      batch: new FieldError(byId("batch-error"), this.el.batch),
      optimize: new FieldError(byId("optimize-error"), this.el.optimize),
      engine: new FieldError(byId("engine-error"), this.el.columns),
    };
    // The fieldsets that change the engine's state, and the one that replaces the engine.
    this.mutating = ["concept-fieldset", "batch-fieldset", "layout-fieldset"].map(byId);
    this.engineFieldset = byId("engine-fieldset");
    this.affinityHint = byId("optimize-affinity-hint");
    this.actions = new Actions(host);
    this.config = null;

    byId("concept-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.actions.run(byId("allocate-button"), () => this.allocate(), this.errors.concept);
    });
    byId("deallocate-button").addEventListener("click",
      (event) => this.actions.run(event.currentTarget, () => this.deallocate(), this.errors.concept));
    byId("activate-button").addEventListener("click",
      (event) => this.actions.run(event.currentTarget, () => this.activate(), this.errors.concept));
    byId("batch-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.batch("allocate");
    });
    this.el.batchDeallocate.addEventListener("click", () => this.batch("deallocate"));
    this.el.optimize.addEventListener("click",
      (event) => this.actions.run(event.currentTarget, () => this.optimize(), this.errors.optimize));
    this.el.engineForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.newEngine();
    });
  }

  /** Show the configuration of the engine in use in the new-engine form. */
  fill(config) {
    this.config = config;
    const { el } = this;
    el.columns.value = String(config.columns);
    el.strategy.value = config.strategy;
    el.dim.value = String(config.dim);
    el.seed.value = String(config.seed);
    el.refractory.value = String(config.refractoryMs);
    el.halfLife.value = String(config.activationHalfLifeMs);
    el.backend.value = config.backend;
    el.durability.value = config.durability;
    this.affinityHint.hidden = config.strategy !== "affinity";
    // A backend the select does not list (a future one, or a typo in the URL) still shows.
    if (el.backend.value !== config.backend) {
      const option = new Option(config.backend, config.backend);
      el.backend.append(option);
      el.backend.value = config.backend;
    }
  }

  /** Enable what the mode allows: "booting" (nothing yet), or the storage mode
   *  ("writer", "reader", "failed", "memory"). */
  setMode(mode) {
    const readOnly = mode === "reader" || mode === "booting";
    for (const fieldset of this.mutating) fieldset.disabled = readOnly || mode === "failed";
    this.engineFieldset.disabled = readOnly;
  }

  /** A new engine: what the last one's controls said is old news. */
  forget() {
    for (const error of Object.values(this.errors)) error.clear();
    const { el } = this;
    el.conceptResult.textContent = "";
    el.optimizeResult.textContent = "";
    el.batchStatus.dataset.state = "idle";
    el.batchStatus.textContent = "No batch running.";
    el.progress.max = 1;
    el.progress.value = 0;
  }

  /** Put concept id into the concept field (a click on an allocated column). */
  fillConcept(id) {
    this.el.concept.value = String(id);
    this.errors.concept.clear();
  }

  conceptId() {
    return conceptIdFromText(this.el.concept.value);
  }

  // What the last concept action said is old news once another starts.
  startConceptAction() {
    this.el.conceptResult.textContent = "";
    this.errors.strength.clear();
  }

  // The strength field's value (NaN when empty: the API's default), refused outside 0..1:
  // the engine caps activation at 1, so a larger strength would be clamped silently.
  strength() {
    const { strength } = this.el;
    const value = strength.valueAsNumber;
    if (strength.value.trim() === "" ) return Number.NaN;
    if (Number.isNaN(value)) throw new InputError("The strength is not a number: enter a number from 0 to 1.");
    if (value > 1) throw new InputError(`A strength of ${value} is above 1: activation is capped at 1, so enter a number from 0 to 1.`);
    if (value < 0) throw new InputError(`A strength of ${value} is below 0: enter a number from 0 to 1.`);
    return value;
  }

  async allocate() {
    this.startConceptAction();
    const id = this.conceptId();
    const kg = this.host.kg();
    const column = await kg.allocateConcept(id);
    let text = `Concept ${id} is in column ${formatCount(column)}`;
    // Under affinity, the score that chose the column says how well it fits.
    if (this.config?.strategy === "affinity") {
      text += ` (affinity score ${formatUnit((await kg.getColumn(column)).confidence)})`;
    }
    this.el.conceptResult.textContent = `${text}.`;
  }

  async deallocate() {
    this.startConceptAction();
    const id = this.conceptId();
    const released = await this.host.kg().deallocateConcept(id);
    this.el.conceptResult.textContent = released
      ? `Concept ${id} released.`
      : `Concept ${id} was not allocated.`;
  }

  async activate() {
    this.startConceptAction();
    const id = this.conceptId();
    let strength;
    try {
      strength = this.strength();
    } catch (error) {
      this.errors.strength.show(error.message);
      this.host.log(error.message);
      return false;
    }
    // An empty strength field means the API's default (1).
    const activation = Number.isNaN(strength)
      ? await this.host.kg().activateConcept(id)
      : await this.host.kg().activateConcept(id, strength);
    this.el.conceptResult.textContent =
      `Concept ${id} activated: activation ${formatUnit(activation)}.`;
  }

  async optimize() {
    if (this.config?.strategy === "affinity" && !this.host.confirm(
      "Optimize moves every allocated concept to the lowest columns. Under affinity that " +
      "gives up the receptive-field layout: concepts leave the columns whose fields fit them " +
      "best. Optimize anyway?")) {
      this.el.optimizeResult.textContent = "Not optimized: the receptive-field layout is kept.";
      return;
    }
    this.el.optimizeResult.textContent = "Optimizing…";
    try {
      const moved = await this.host.kg().optimizeAllocations();
      this.el.optimizeResult.textContent =
        `Moved ${formatCount(moved)} concept${moved === 1 ? "" : "s"}.`;
    } catch (error) {
      this.el.optimizeResult.textContent = "";
      throw error;
    }
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
    }, this.errors.batch);
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
        this.host.fail(error, this.errors.batch);
      }
    }
    el.batchStatus.dataset.state = failed > 0 ? "partial" : "done";
    el.batchStatus.textContent = text;
    return !(failed > 0 && kind === "allocate");
  }

  /** Replace the engine by one of the form's configuration, once the user confirms;
   *  ask(config) may word the question differently (e.g. for refused stored data). */
  newEngine(ask = null) {
    const { el } = this;
    this.errors.engine.clear();
    const problem = this.engineProblem();
    if (problem !== null) {
      this.errors.engine.show(problem.text, problem.control);
      this.host.log(problem.text);
      return;
    }
    const number = (input) => input.valueAsNumber;
    const config = {
      ...(this.config ?? {}),
      columns: number(el.columns),
      strategy: el.strategy.value,
      dim: Number.isNaN(number(el.dim)) ? 0 : number(el.dim),
      seed: Number.isNaN(number(el.seed)) ? 0 : number(el.seed),
      refractoryMs: Number.isNaN(number(el.refractory)) ? 0 : number(el.refractory),
      activationHalfLifeMs: Number.isNaN(number(el.halfLife)) ? 0 : number(el.halfLife),
      backend: el.backend.value,
      durability: el.durability.value,
    };
    const question = ask?.(config) ??
      `Replace the engine with a new one of ${formatCount(config.columns)} columns ` +
      `(${config.strategy.replace("_", " ")})? Every current allocation is discarded.`;
    if (!this.host.confirm(question)) return;
    this.host.newEngine(config);
  }

  // What is wrong with the new-engine form, in plain words ({text, control}), or null.
  engineProblem() {
    const { el } = this;
    const columns = el.columns.valueAsNumber;
    const wrong = (text, control) => ({ text, control });
    if (el.columns.value.trim() === "" || Number.isNaN(columns)) {
      return wrong("Enter the number of columns: a whole number from 1 to 268,435,456.", el.columns);
    }
    if (!Number.isInteger(columns)) return wrong(`${columns} columns is not a whole number: enter one from 1 to 268,435,456.`, el.columns);
    if (columns < 1) return wrong(`An engine needs at least 1 column; ${columns} columns hold no concept.`, el.columns);
    if (columns > MAX_COLUMNS) return wrong(`${formatCount(columns)} columns is more than the 268,435,456 an engine can have.`, el.columns);
    const durations = [el.refractory, el.halfLife];
    for (const [input, name, max] of [[el.dim, "The field dimension", 4096], [el.seed, "The seed", 2 ** 53],
      [el.refractory, "The refractory time", Infinity], [el.halfLife, "The activation half-life", Infinity]]) {
      if (input.value.trim() === "") continue;
      const value = input.valueAsNumber;
      const duration = durations.includes(input);
      if (Number.isNaN(value) || value < 0 || value > max || (!duration && !Number.isInteger(value))) {
        return wrong(`${name} ${input.value} is not valid: enter ${duration ? "a number of milliseconds, 0 or more" : `a whole number from 0 to ${formatCount(max)}`}.`, input);
      }
    }
    return null;
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
