// The controls: one concept (allocate, deallocate, activate) and optimize here; batches
// with a progress bar (batch-controls.js) and a new engine (engine-form.js) beside them.
// Each action goes through the JavaScript API; what it did, or why it failed, shows next
// to the control (and in the log). Until the engine is ready every control is disabled
// and the boot line says so; a read-only tab (another tab writes) has them all disabled;
// an engine whose stored data was refused keeps only "Create new engine…", its way out.

import { Actions } from "./actions.js";
import { BatchControls } from "./batch-controls.js";
import { EngineForm } from "./engine-form.js";
import { FieldError } from "./fields.js";
import { formatCount, formatUnit } from "./format.js";
import { conceptIdFromText, InputError } from "./ids.js";

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
      optimize: byId("optimize-button"),
      optimizeResult: byId("optimize-result"),
    };
    this.errors = {
      concept: new FieldError(byId("concept-error"), this.el.concept),
      strength: new FieldError(byId("strength-error"), this.el.strength),
      optimize: new FieldError(byId("optimize-error"), this.el.optimize),
    };
    // The fieldsets that change the engine's state, and the one that replaces the engine.
    this.mutating = ["concept-fieldset", "batch-fieldset", "layout-fieldset"].map(byId);
    this.engineFieldset = byId("engine-fieldset");
    this.affinityHint = byId("optimize-affinity-hint");
    this.actions = new Actions(host);
    this.batches = new BatchControls(byId, host, this.actions);
    this.engineForm = new EngineForm(byId, host);
    this.config = null;

    byId("concept-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.actions.run(byId("allocate-button"), () => this.allocate(), this.errors.concept);
    });
    byId("deallocate-button").addEventListener("click",
      (event) => this.actions.run(event.currentTarget, () => this.deallocate(), this.errors.concept));
    byId("activate-button").addEventListener("click",
      (event) => this.actions.run(event.currentTarget, () => this.activate(), this.errors.concept));
    this.el.optimize.addEventListener("click",
      (event) => this.actions.run(event.currentTarget, () => this.optimize(), this.errors.optimize));
  }

  /** Show the configuration of the engine in use in the new-engine form. */
  fill(config) {
    this.config = config;
    this.affinityHint.hidden = config.strategy !== "affinity";
    this.engineForm.fill(config);
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
    this.batches.forget();
    this.engineForm.forget();
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

  /** Replace the engine by one of the form's configuration, once the user confirms;
   *  ask(config) may word the question differently (e.g. for refused stored data). */
  newEngine(ask = null) {
    this.engineForm.newEngine(ask);
  }
}
