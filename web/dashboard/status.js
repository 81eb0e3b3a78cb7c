// Boot progress and the About panel: Pyodide and Python versions, the scan backend,
// cross-origin isolation and the worker's timer resolution.
//
// The worker reports its boot steps (boot.js): "Loading Pyodide …", "Loading the scan
// kernel", "Installing cortexkg", "Importing cortexkg" (which ends once the engine is
// open); then the page shows the engine (its first refresh). Loading
// Pyodide is most of the wait, and the API reports no bytes for it, so during that step
// the bar is indeterminate (it claims no fraction) and the line counts the seconds; the
// steps after it each move the bar.

// The steps in order, matched by how the worker's message starts; the last one is ours.
const STEPS = ["Starting the Python worker", "Loading Pyodide", "Loading the scan kernel",
  "Installing cortexkg", "Importing cortexkg", "Showing the engine"];
const WAITING = "controls unlock when it is ready";

export class StatusPanel {
  constructor(document) {
    const byId = (id) => document.getElementById(id);
    this.bootStatus = byId("boot-status");
    this.bootProgress = byId("boot-progress");
    this.version = byId("about-version");
    this.fields = {
      engine: byId("status-engine"),
      backend: byId("status-backend"),
      pyodide: byId("status-pyodide"),
      python: byId("status-python"),
      cortexkg: byId("status-cortexkg"),
      isolated: byId("status-isolated"),
      timer: byId("status-timer"),
    };
    this.step = 0;
    this.message = "";
    this.clock = null;
  }

  /** A new boot (or engine) starts: the bar restarts. */
  starting(message) {
    this.step = 0;
    this.bootProgress.hidden = false;
    this.bootProgress.max = STEPS.length;
    this.bootProgress.value = 0;
    this.started = performance.now();
    this.show(message);
    this.clock ??= setInterval(() => this.show(this.message), 250);
  }

  /** One step of booting, as the worker describes it. */
  progress(message) {
    const index = STEPS.findIndex((step) => message.startsWith(step));
    if (index > this.step) this.step = index;
    this.show(message);
  }

  show(message) {
    this.message = message;
    const bar = this.bootProgress;
    const loadingPyodide = STEPS[this.step] === "Loading Pyodide";
    if (loadingPyodide) bar.removeAttribute("value");
    else bar.value = this.step;
    bar.dataset.step = String(this.step);
    const seconds = ((performance.now() - this.started) / 1000).toFixed(1);
    const text = `${message}… ${seconds} s (step ${this.step + 1} of ${STEPS.length}; ${WAITING})`;
    if (this.bootStatus.textContent !== text) this.bootStatus.textContent = text;
  }

  stopClock() {
    clearInterval(this.clock);
    this.clock = null;
  }

  /** Booted: show the runtime of kg and how long it took. */
  ready(kg, seconds) {
    this.stopClock();
    this.bootProgress.value = STEPS.length;
    this.bootProgress.hidden = true;
    this.bootStatus.textContent = `Ready in ${seconds.toFixed(1)} s.`;
    this.showRuntime({ backend: kg.config.backend, ...kg.runtime });
    this.showConfig(kg.config);
  }

  /** Booting failed. */
  failed(message) {
    this.stopClock();
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
    // "3.14.2 (main, ...) [Clang ...]": the version is the first word
    const python = String(runtime.python).split(" ")[0];
    this.version.textContent = `cortexkg ${runtime.cortexkg} · Pyodide ${runtime.pyodide} · Python ${python}`;
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
