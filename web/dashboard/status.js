// Boot progress and the runtime panel: Pyodide and Python versions, the scan backend,
// cross-origin isolation and the worker's timer resolution.

// The steps the worker reports while booting (boot.js), plus creating the engine; the
// bar advances one step per message and never claims to be done before ready().
const EXPECTED_STEPS = 6;

export class StatusPanel {
  constructor(document) {
    const byId = (id) => document.getElementById(id);
    this.bootStatus = byId("boot-status");
    this.bootProgress = byId("boot-progress");
    this.fields = {
      engine: byId("status-engine"),
      backend: byId("status-backend"),
      pyodide: byId("status-pyodide"),
      python: byId("status-python"),
      cortexkg: byId("status-cortexkg"),
      isolated: byId("status-isolated"),
      timer: byId("status-timer"),
    };
    this.steps = 0;
  }

  /** A new boot (or engine) starts: the bar restarts. */
  starting(message) {
    this.steps = 0;
    this.bootProgress.hidden = false;
    this.bootProgress.max = EXPECTED_STEPS;
    this.bootProgress.value = 0;
    this.bootStatus.textContent = message;
  }

  /** One step of booting, as the worker describes it. */
  progress(message) {
    this.steps = Math.min(this.steps + 1, EXPECTED_STEPS - 1);
    this.bootProgress.value = this.steps;
    this.bootStatus.textContent = `${message}…`;
  }

  /** Booted: show the runtime of kg and how long it took. */
  ready(kg, seconds) {
    this.bootProgress.value = EXPECTED_STEPS;
    this.bootProgress.hidden = true;
    this.bootStatus.textContent = `Ready in ${seconds.toFixed(1)} s.`;
    this.showRuntime({ backend: kg.config.backend, ...kg.runtime });
    this.showConfig(kg.config);
  }

  /** Booting failed. */
  failed(message) {
    this.bootProgress.hidden = true;
    this.bootStatus.textContent = message;
  }

  showRuntime(runtime) {
    const { fields } = this;
    fields.backend.textContent = runtime.backend;
    fields.pyodide.textContent = runtime.pyodide;
    fields.python.textContent = runtime.python;
    fields.cortexkg.textContent = runtime.cortexkg;
    fields.isolated.textContent = runtime.crossOriginIsolated
      ? "Yes: allocation times are precise"
      : "No: performance.now() is coarsened, allocation times are rough";
    fields.timer.value = runtime.timerResolutionMs;
    fields.timer.textContent = `${(runtime.timerResolutionMs * 1000).toFixed(1)} µs`;
  }

  showConfig(config) {
    const parts = [
      `"${config.name}"`,
      `${Number(config.columns).toLocaleString("en-US")} columns`,
      config.strategy.replace("_", " "),
    ];
    if (config.dim) parts.push(`dim ${config.dim}`);
    parts.push(`seed ${config.seed}`);
    if (config.refractoryMs) parts.push(`refractory ${config.refractoryMs} ms`);
    if (config.durability === "relaxed") parts.push("relaxed durability");
    this.fields.engine.textContent = parts.join(" · ");
  }

  /** The engine's scan backend as its stats report it (it may differ from "auto"). */
  showBackend(backend) {
    this.fields.backend.textContent = backend;
  }
}
