// The new-engine form: it shows the configuration of the engine in use, and replaces the
// engine by one of its configuration once the user confirms; a value the engine would
// refuse is named beside its field instead.

import { FieldError } from "./fields.js";
import { formatCount } from "./format.js";

/** The most columns the new-engine form offers (the engine's own limit). */
const MAX_COLUMNS = 2 ** 28;

export class EngineForm {
  /**
   * @param {(id: string) => HTMLElement} byId
   * @param {object} host Controls' host (confirm, log, newEngine)
   */
  constructor(byId, host) {
    this.host = host;
    this.el = {
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
    this.error = new FieldError(byId("engine-error"), this.el.columns);
    this.config = null;
    this.el.engineForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.newEngine();
    });
  }

  /** Show the configuration of the engine in use. */
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
    // A backend the select does not list (a future one, or a typo in the URL) still shows.
    if (el.backend.value !== config.backend) {
      const option = new Option(config.backend, config.backend);
      el.backend.append(option);
      el.backend.value = config.backend;
    }
  }

  /** A new engine: what the form said of the last one is old news. */
  forget() {
    this.error.clear();
  }

  /** Replace the engine by one of the form's configuration, once the user confirms;
   *  ask(config) may word the question differently (e.g. for refused stored data). */
  newEngine(ask = null) {
    const { el } = this;
    this.error.clear();
    const problem = this.engineProblem();
    if (problem !== null) {
      this.error.show(problem.text, problem.control);
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
